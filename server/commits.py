"""Group commit: every append that is ready at the same moment shares one transaction."""

from __future__ import annotations

import asyncio
import contextlib
import time

from .metrics import Metrics
from .store import Append, Store


class Committer:
    """Collects appends from every session host and commits them in batches.

    While one transaction is on disk, new appends queue up; the next
    transaction takes all of them. Durability then costs one fsync per
    batch, not one per command.
    """

    def __init__(self, store: Store, metrics: Metrics, max_batch: int = 512) -> None:
        self._store = store
        self._metrics = metrics
        self._max_batch = max_batch
        self._queue: asyncio.Queue[tuple[Append, asyncio.Future[bool], float]] = asyncio.Queue()
        self._task: asyncio.Task[None] | None = None
        #: Transactions committed so far (a cheap sign of activity, for the GC policy).
        self.commits = 0

    @property
    def store(self) -> Store:
        """The store commits go to (hosts read from it after losing a race)."""
        return self._store

    def start(self) -> None:
        """Start the commit loop."""
        self._task = asyncio.create_task(self._run(), name="accord-committer")

    async def commit(self, append: Append) -> bool:
        """Commit ``append`` durably; False if its expected seq was stale.

        Raises:
            StoreError: if the transaction failed.
        """
        future: asyncio.Future[bool] = asyncio.get_running_loop().create_future()
        self._queue.put_nowait((append, future, time.perf_counter()))
        return await future

    async def _run(self) -> None:
        while True:
            batch = [await self._queue.get()]
            while not self._queue.empty() and len(batch) < self._max_batch:
                batch.append(self._queue.get_nowait())
            started = time.perf_counter()
            for _, _, queued in batch:
                self._metrics.commit_wait_seconds.observe(started - queued)
            try:
                results = await self._store.append([a for a, _, _ in batch])
            except Exception as exc:  # hand every failure to the waiting hosts
                for _, future, _ in batch:
                    if not future.done():
                        future.set_exception(exc)
                continue
            finally:
                for _ in batch:
                    self._queue.task_done()
            self.commits += 1
            self._metrics.commit_seconds.observe(time.perf_counter() - started)
            self._metrics.commit_batch.observe(sum(len(a.events) for a, _, _ in batch))
            for (_, future, _), ok in zip(batch, results, strict=True):
                if not future.done():
                    future.set_result(ok)

    async def stop(self) -> None:
        """Finish the appends already queued, then stop the loop."""
        if self._task is None:
            return
        await self._queue.join()
        self._task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await self._task
        self._task = None
