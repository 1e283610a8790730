"""The relay's Prometheus metrics, in a registry of its own so several relays can coexist."""

from __future__ import annotations

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram, generate_latest

#: Buckets in seconds, from sub-millisecond fan-out to slow disks.
_LATENCY = (0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5)


class Metrics:
    """Every metric the relay reports at ``/metrics``."""

    def __init__(self) -> None:
        self.registry = CollectorRegistry(auto_describe=True)
        r = self.registry
        self.connections = Gauge(
            "accord_connections", "Open websocket connections that said hello.", registry=r
        )
        self.unwelcomed = Gauge(
            "accord_connections_unwelcomed",
            "Open websocket connections that have not been welcomed yet (no hello answered).",
            registry=r,
        )
        self.sessions = Gauge(
            "accord_sessions_loaded", "Sessions held in memory by this relay.", registry=r
        )
        self.sessions_stored = Gauge(
            "accord_sessions_stored", "Sessions in the data dir, as last counted.", registry=r
        )
        self.commands = Counter(
            "accord_commands",
            "Commands handled, by result (accepted, duplicate, rejected) and error code.",
            ["result", "code"],
            registry=r,
        )
        self.events = Counter(
            "accord_events_fanned_out", "Events committed and sent to members.", registry=r
        )
        self.frames = Counter(
            "accord_frames_sent", "Event frames written to connections.", registry=r
        )
        self.fanout_seconds = Histogram(
            "accord_fanout_seconds",
            "Time to project, encode and write one event to every connection.",
            buckets=_LATENCY,
            registry=r,
        )
        self.commit_seconds = Histogram(
            "accord_storage_commit_seconds",
            "Time to commit one group of events to storage.",
            buckets=_LATENCY,
            registry=r,
        )
        self.commit_batch = Histogram(
            "accord_storage_commit_batch_events",
            "Events written per storage commit.",
            buckets=(1, 2, 4, 8, 16, 32, 64, 128, 256),
            registry=r,
        )
        self.resumes = Counter(
            "accord_resumes",
            "Reconnects by how they were brought up to date (replay or snapshot).",
            ["mode"],
            registry=r,
        )
        self.joins = Counter("accord_joins", "Members who joined with a code.", registry=r)
        self.created = Counter("accord_sessions_created", "Sessions created.", registry=r)
        self.expired = Counter(
            "accord_sessions_expired",
            "Sessions deleted after expire_after_days without an event.",
            registry=r,
        )
        self.rejected = Counter(
            "accord_connections_rejected",
            "Connections refused before or at hello, by reason.",
            ["reason"],
            registry=r,
        )
        self.bad_frames = Counter(
            "accord_bad_frames", "Frames refused by the codec, by error code.", ["code"], registry=r
        )
        self.closes = Counter(
            "accord_closes", "Connections the relay closed, by close code.", ["code"], registry=r
        )
        self.epochs_renewed = Counter(
            "accord_epochs_renewed",
            "Sessions given a new epoch because the store had gone back or lost them.",
            registry=r,
        )
        self.store_conflicts = Counter(
            "accord_store_conflicts",
            "Appends refused because another relay wrote to the session first.",
            registry=r,
        )
        self.commit_wait_seconds = Histogram(
            "accord_storage_commit_wait_seconds",
            "Time an append waited for the commit before it (the group commit's queue).",
            buckets=_LATENCY,
            registry=r,
        )
        self.queue_wait_seconds = Histogram(
            "accord_session_queue_seconds",
            "Time a command waited in its session's queue before the session took it.",
            buckets=_LATENCY,
            registry=r,
        )
        # Children bound once: ``labels()`` costs a lock and a dict lookup on every call,
        # and these run once per command (docs/performance.md).
        self.accepted = self.commands.labels("accepted", "")
        self.duplicates = self.commands.labels("duplicate", "")
        self.replays = self.resumes.labels("replay")
        self.snapshots = self.resumes.labels("snapshot")

    def render(self) -> bytes:
        """The text exposition format for a scrape."""
        return generate_latest(self.registry)
