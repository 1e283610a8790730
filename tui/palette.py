"""The command palette's accord commands: every key of the board, found by name."""

from __future__ import annotations

from collections.abc import Callable
from functools import partial
from typing import Any

from textual.command import DiscoveryHit, Hit, Hits, Provider

Entry = tuple[str, str, Callable[[], Any]]


class BoardCommands(Provider):
    """Offers each binding active on the board (as your role and phase allow) by name."""

    def _entries(self) -> list[Entry]:
        entries: list[Entry] = []
        seen: set[str] = set()
        for key, active in self.screen.active_bindings.items():
            binding = active.binding
            name = binding.action.split("(")[0]
            if name in ("move", "lane", "cancel_merge", "command_palette") or not active.enabled:
                continue
            label = binding.description
            if not label or binding.action in seen:
                continue
            seen.add(binding.action)
            display = binding.key_display or key
            help_text = f"{binding.tooltip} [{display}]" if binding.tooltip else f"[{display}]"
            entries.append(
                (label, help_text, partial(self.app.run_action, binding.action, active.node))
            )
        return entries

    async def discover(self) -> Hits:
        """List every board command when nothing is typed yet."""
        for label, help_text, callback in self._entries():
            yield DiscoveryHit(label, callback, help=help_text)

    async def search(self, query: str) -> Hits:
        """Fuzzy-match board commands by name."""
        matcher = self.matcher(query)
        for label, help_text, callback in self._entries():
            score = matcher.match(f"{label} {help_text}")
            if score > 0:
                yield Hit(score, matcher.highlight(label), callback, help=help_text)
