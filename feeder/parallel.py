"""Using every core for the expensive stages: parsing and rendering briefs, rendering outputs.

Work goes to worker *processes*, never threads: the libraries feeder uses are not all safe
to share between threads (feedgen formats RFC 822 dates by switching the process-wide
locale), and Python runs one thread at a time anyway. Workers are forked, so they start at
once and see the parent's data without copying it; where forking is not safe (another
thread is running, or not Linux) or the job is small, everything runs in this process.
Results come back in the order of the input, so the output never depends on timing.
"""

from __future__ import annotations

import os
import sys
import threading
from collections import deque
from collections.abc import Iterator, Mapping, Sequence
from typing import TYPE_CHECKING

from feeder.cache import BodyStore, BuildCache, Deferred, Parsed, Progress, parse_file
from feeder.sources import FileInfo

if TYPE_CHECKING:
    from multiprocessing.pool import AsyncResult, Pool

    from feeder.config import Config

MIN_JOBS = 200
"""Fewer brief files or outputs than this are not worth starting processes for."""
PROGRESS_MIN = 200
"""Fewer than this go by too fast for a progress bar."""
_CHUNK = 16
_WINDOW = 4
"""Outputs rendered ahead per worker: bounds the memory held by rendered files."""


def workers_for(jobs: int) -> int:
    """How many worker processes `jobs` tasks deserve (0: work in this process)."""
    if jobs < max(MIN_JOBS, 1) or sys.platform != "linux" or threading.active_count() > 1:
        return 0
    try:
        cpus = len(os.sched_getaffinity(0))
    except (AttributeError, OSError):  # pragma: no cover - Linux has sched_getaffinity
        cpus = os.cpu_count() or 1
    return min(cpus, jobs) if cpus > 1 else 0


def _pool(workers: int) -> Pool:
    import multiprocessing  # here: a build with nothing to do starts no process

    return multiprocessing.get_context("fork").Pool(workers)


# --- briefs -----------------------------------------------------------------------------------

_CONFIG: Config | None = None
_BODIES: BodyStore | None = None


def _parse_in_worker(info: FileInfo) -> Parsed:
    if _CONFIG is None:  # pragma: no cover - set before the workers are forked
        raise RuntimeError("worker started without a configuration")
    return parse_file(info, _CONFIG, bodies=_BODIES)


def read_briefs(config: Config, infos: Sequence[FileInfo], cache: BuildCache | None, *,
                progress: Progress | None = None) -> list[Parsed]:
    """Every brief file parsed and rendered, in the order of `infos`: from the cache when
    unchanged, otherwise read, parsed and rendered (in worker processes when there are
    many)."""
    global _CONFIG, _BODIES
    bodies = cache.bodies if cache is not None else None
    results: list[Parsed | None] = []
    missing: list[int] = []
    for index, info in enumerate(infos):
        found = cache.lookup(info) if cache is not None else None
        results.append(found)
        if found is None:
            missing.append(index)
    workers = workers_for(len(missing))
    if progress is not None and len(missing) >= PROGRESS_MIN:
        progress.start("reading briefs", len(missing))
    else:
        progress = None
    try:
        if workers:
            _CONFIG, _BODIES = config, bodies
            with _pool(workers) as pool:
                done = pool.imap(_parse_in_worker, [infos[i] for i in missing], _CHUNK)
                for index, parsed in zip(missing, done, strict=True):
                    # the file's own FileInfo, not the worker's copy of it (memory)
                    results[index] = parsed._replace(info=infos[index])
                    if progress is not None:
                        progress.advance()
        else:
            for index in missing:
                results[index] = parse_file(infos[index], config, bodies=bodies)
                if progress is not None:
                    progress.advance()
    finally:
        _CONFIG = _BODIES = None
        if progress is not None:
            progress.finish()
    final = [parsed for parsed in results if parsed is not None]
    if cache is not None:
        for index in missing:
            cache.remember(final[index])
    return final


# --- outputs ----------------------------------------------------------------------------------

_PLAN: Mapping[str, Deferred] | None = None


def _make_in_worker(rel: str) -> bytes:
    if _PLAN is None:  # pragma: no cover - set before the workers are forked
        raise RuntimeError("worker started without a plan")
    return _PLAN[rel].make()


class LazyPlan(Mapping[str, bytes]):
    """The planned output files, made only when `write_plan` asks for them.

    Files in `known` (path -> SHA-256) are on disk already and are never made. The others
    are made in worker processes, in the order `write_plan` takes them (sorted), a few
    ahead, so that only a handful of files are in memory at once.
    """

    def __init__(self, plan: Mapping[str, Deferred], known: Mapping[str, str], *,
                 progress: Progress | None = None) -> None:
        self._plan = plan
        self._todo = [rel for rel in sorted(plan) if rel not in known]
        self._progress = progress if len(self._todo) >= PROGRESS_MIN else None
        self._workers = workers_for(len(self._todo))
        self._pool: Pool | None = None
        self._ahead: deque[tuple[str, AsyncResult[bytes]]] = deque()
        self._next = 0

    def __enter__(self) -> LazyPlan:
        global _PLAN
        if self._progress is not None:
            self._progress.start("writing files", len(self._todo))
        if self._workers:
            _PLAN = self._plan
            try:
                self._pool = _pool(self._workers)
            finally:
                _PLAN = None
            self._fill()
        return self

    def __exit__(self, *exc: object) -> None:
        if self._pool is not None:
            self._pool.terminate()
            self._pool.join()
            self._pool = None
        if self._progress is not None:
            self._progress.finish()

    def _fill(self) -> None:
        pool = self._pool
        while pool is not None and len(self._ahead) < self._workers * _WINDOW \
                and self._next < len(self._todo):
            rel = self._todo[self._next]
            self._ahead.append((rel, pool.apply_async(_make_in_worker, (rel,))))
            self._next += 1

    def __getitem__(self, rel: str) -> bytes:
        if self._ahead and self._ahead[0][0] == rel:
            data = self._ahead.popleft()[1].get()
            self._fill()
        else:
            data = self._plan[rel].make()
        if self._progress is not None:
            self._progress.advance()
        return data

    def __iter__(self) -> Iterator[str]:
        return iter(self._plan)

    def __len__(self) -> int:
        return len(self._plan)

    def __contains__(self, rel: object) -> bool:
        return rel in self._plan

    def output_keys(self) -> dict[str, bytes | None]:
        """Every output with the key of its inputs."""
        return {rel: deferred.key for rel, deferred in self._plan.items()}
