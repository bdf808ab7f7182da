"""Using every core for the expensive stages: parsing and rendering briefs, rendering outputs.

Work goes to worker *processes*, never threads: the libraries feeder uses are not all safe
to share between threads (feedgen formats RFC 822 dates by switching the process-wide
locale), and Python runs one thread at a time anyway. Workers are forked, so they start at
once and see the parent's data without copying it; where forking is not safe (another
thread is running, or not Linux) or the job is small, everything runs in this process.
Results come back in the order of the input, so the output never depends on timing.
"""

from __future__ import annotations

import contextlib
import os
from collections.abc import Callable, Generator, Iterable, Iterator, Mapping, Sequence
from functools import cache, partial
from typing import TYPE_CHECKING, Any, Protocol

from feeder.body import StoredBody
from feeder.cache import (
    BodyStore,
    BuildCache,
    Child,
    Deferred,
    Parsed,
    Progress,
    fork_child,
    parse_file,
)
from feeder.errors import FeederError
from feeder.output import Staged, can_fork, cores, stage_each, stage_file
from feeder.sources import FileInfo

if TYPE_CHECKING:
    from multiprocessing.pool import Pool
    from multiprocessing.synchronize import Event

    from feeder.config import Config
    from feeder.feeds import EntriesToWrite
    from feeder.site import Feed

MIN_JOBS = 200
"""Fewer brief files or outputs than this are not worth starting processes for."""
PROGRESS_MIN = 200
"""Fewer than this go by too fast for a progress bar."""
_CHUNK = 16


def workers_for(jobs: int) -> int:
    """How many worker processes `jobs` tasks deserve (0: work in this process)."""
    if jobs < max(MIN_JOBS, 1) or not can_fork():
        return 0
    cpus = cores()
    return min(cpus, jobs) if cpus > 1 else 0


def _pool(workers: int) -> Pool:
    import multiprocessing  # here: a build with nothing to do starts no process

    return _quiet_pool()(workers, context=multiprocessing.get_context("fork"))


@cache
def _quiet_pool() -> type[Pool]:
    from multiprocessing.pool import Pool

    class QuietPool(Pool):
        """multiprocessing's Pool, with a worker-handling thread that sleeps until there is
        something for it to do: a worker exited, or the pool was closed or emptied.

        CPython's (3.8 to 3.13) also wakes it whenever a result waits to be read, which is
        the result-handling thread's job: while the workers send results, it spins, taking a
        quarter of a core (1.2 s of CPU in a cold build of 10,000 briefs on two cores; see
        docs/PERFORMANCE.md). Only Python's private `_get_sentinels` is replaced: should it
        change, the pool works as before.
        """

        def _get_sentinels(self) -> list[Any]:
            return [self._change_notifier._reader]  # type: ignore[attr-defined]

    return QuietPool


# --- briefs -----------------------------------------------------------------------------------

_CONFIG: Config | None = None
_BODIES: BodyStore | None = None


_HAND_OVER = False
"""Whether the workers send the HTML they render and store along (see BodyStore.hold)."""


def _parse_in_worker(info: FileInfo) -> Parsed:
    if _CONFIG is None:  # pragma: no cover - set before the workers are forked
        raise RuntimeError("worker started without a configuration")
    return _parse_for_parent(info, _CONFIG, _BODIES, hand_over=_HAND_OVER)


def _parse_for_parent(info: FileInfo, config: Config, bodies: BodyStore | None, *,
                      hand_over: bool) -> Parsed:
    """A brief file parsed in a process of its own (`hand_over`: with the HTML it stored)."""
    parsed = parse_file(info, config, bodies=bodies)
    if hand_over and isinstance(parsed.rendered, StoredBody) and bodies is not None:
        return parsed._replace(html=bodies.load(parsed.rendered))
    return parsed


FEW_IN_A_CHILD = True
"""Whether fewer brief files than MIN_JOBS are parsed by one forked child process (see
read_briefs), rather than by this one..."""
CHILD_MAX_FILES = 20_000
"""...in a site of at most this many brief files. A fork costs this process a page fault
for each page it writes afterwards (copied while the child lives): at 10,000 briefs about
6,000, less than the imports the child saves (0.02 to 0.03 s); at 100,000 about 54,000,
which cost more (0.2 to 0.4 s of a 5.5 s rebuild). See docs/PERFORMANCE.md."""


class ParsedBriefs(Iterator[Parsed], Protocol):
    """What read_briefs gives: the briefs in order, and `close` for what is left of them."""

    def close(self) -> None: ...


def read_briefs(config: Config, infos: Sequence[FileInfo], cache: BuildCache | None, *,
                progress: Progress | None = None) -> ParsedBriefs:
    """Every brief file parsed and rendered, in the order of `infos`: from the cache when
    unchanged, otherwise read, parsed and rendered, each given as soon as it is there, so
    that the caller's work on it overlaps the parsing. The cache learns each as it comes.
    Close it when done (contextlib.closing), even before the last brief.

    Many files go to worker processes as they are asked for. A few (a rebuild after an
    edit) go at once to one forked child, which parses them (importing Markdown, nh3 and
    PyYAML, which this process then does without) while the caller goes on (see
    pipeline._parse_all), unless the site is large (CHILD_MAX_FILES); where forking is not
    safe, or the child fails, this process parses them when they are asked for."""
    bodies = cache.bodies if cache is not None else None
    found = [cache.lookup(info) if cache is not None else None for info in infos]
    missing = [infos[index] for index, parsed in enumerate(found) if parsed is None]
    workers = workers_for(len(missing))
    if workers:
        return _read_by_workers(config, found, missing, workers, cache, progress)
    apart = missing and FEW_IN_A_CHILD and \
        (cache is None or len(cache.scan()[0]) <= CHILD_MAX_FILES)
    child = fork_child(partial(_parsed_apart, config, bodies, missing)) if apart else None
    return _ReadApart(config, found, missing, child, cache)


def _parsed_apart(config: Config, bodies: BodyStore | None, infos: Sequence[FileInfo]
                  ) -> bytes | None:
    """In the child of read_briefs: the briefs of `infos`, pickled (None: an error of the
    publisher's, left for the parent to find and report)."""
    import pickle

    try:
        return pickle.dumps([_parse_for_parent(info, config, bodies, hand_over=True)
                             for info in infos])
    except FeederError:
        return None


class _ReadApart(Iterator[Parsed]):
    """The briefs of read_briefs, those not found parsed by one child process (`child`;
    None: by this one)."""

    def __init__(self, config: Config, found: Sequence[Parsed | None],
                 missing: Sequence[FileInfo], child: Child | None,
                 cache: BuildCache | None) -> None:
        self._config, self._missing, self._child, self._cache = config, missing, child, cache
        self._found = found
        self._briefs: Iterator[Parsed] | None = None

    def __next__(self) -> Parsed:
        if self._briefs is None:
            self._briefs = _remembered(self._found, self._fresh(), self._cache, None)
        return next(self._briefs)

    def _fresh(self) -> Iterable[Parsed]:
        child, self._child = self._child, None
        if child is not None:
            answered, answer = child.wait()
            if answered and isinstance(answer, bytes):
                import pickle

                fresh: list[Parsed] = pickle.loads(answer)  # noqa: S301 - from our child
                # the file's own FileInfo, not a copy of it (as from the workers)
                return [parsed._replace(info=info)
                        for info, parsed in zip(self._missing, fresh, strict=True)]
        bodies = self._cache.bodies if self._cache is not None else None
        return (parse_file(info, self._config, bodies=bodies) for info in self._missing)

    def close(self) -> None:
        child, self._child = self._child, None
        if child is not None:  # not asked for: not needed
            child.wait(stop=True)


def _read_by_workers(config: Config, found: Sequence[Parsed | None],
                     missing: Sequence[FileInfo], workers: int, cache: BuildCache | None,
                     progress: Progress | None) -> Generator[Parsed, None, None]:
    global _CONFIG, _BODIES, _HAND_OVER
    bodies = cache.bodies if cache is not None else None
    if progress is not None and len(missing) >= PROGRESS_MIN:
        progress.start("reading briefs", len(missing))
    else:
        progress = None
    try:
        _CONFIG, _BODIES = config, bodies
        if bodies is not None:  # many at a time: into one pack per worker
            bodies.packing = True
            # and their HTML kept here, if it all may be: not read back later
            _HAND_OVER = bodies.may_hold(sum(info.size for info in missing))
        with _pool(workers) as pool:
            fresh = pool.imap(_parse_in_worker, missing, _CHUNK)
            # the file's own FileInfo, not the worker's copy of it (memory)
            yield from _remembered(found, (parsed._replace(info=info) for info, parsed
                                           in zip(missing, fresh, strict=True)),
                                   cache, progress)
    finally:
        _CONFIG = _BODIES = None
        _HAND_OVER = False
        if bodies is not None:
            bodies.packing = False
        if progress is not None:
            progress.finish()


def _remembered(found: Sequence[Parsed | None], fresh: Iterable[Parsed],
                cache: BuildCache | None, progress: Progress | None) -> Iterator[Parsed]:
    """`found` with each None filled from `fresh` in turn, the cache told of each."""
    fresh = iter(fresh)
    for parsed in found:
        if parsed is None:
            parsed = next(fresh)
            if cache is not None:
                cache.remember(parsed)
                if parsed.html is not None:
                    cache.bodies.hold(parsed.rendered, parsed.html)
                    parsed = parsed._replace(html=None)
            if progress is not None:
                progress.advance()
        yield parsed


# --- feed entries -----------------------------------------------------------------------------

_ENTRIES: Sequence[EntriesToWrite] = ()
_ENTRY_CHUNK = 64
"""Entries a worker writes at a time (feedgen writes them as one document, for Atom and RSS
alike: see feeds)."""


def _entries_in_worker(index: int) -> list[list[bytes]]:
    from feeder.feeds import write_entries  # imported already: by the parent, before the fork

    return write_entries(_ENTRIES[index])


def write_entries_ahead(files: Iterable[tuple[Feed, str]], *,
                        progress: Progress | None = None) -> None:
    """Write the XML of every entry of the feed files `files` (a feed, the name of its file)
    in worker processes, each entry once, and keep it in this process, so that the workers
    which then make the feeds (forked later) copy it: each of them would otherwise write most
    entries again, being handed feeds that share them. Nothing is done when there are too
    few feed files for worker processes to make them (a rebuild after an edit, say), or
    when this process may not keep every entry (see feeds.keep_room_for): then each feed
    writes its entries as it needs them."""
    global _ENTRIES
    from feeder.feeds import entries_to_write, keep_written

    files = list(files)
    workers = workers_for(len(files))
    if not workers:
        return
    todo = entries_to_write(files)
    count = sum(len(group.entries) for group in todo)
    tasks = [chunk for group in todo for chunk in group.chunks(_ENTRY_CHUNK)]
    if not tasks:
        return
    if progress is not None and count >= PROGRESS_MIN:
        progress.start("writing feed entries", len(tasks))
    else:
        progress = None
    _ENTRIES = tasks
    try:
        with _pool(workers) as pool:
            for task, written in zip(tasks, pool.imap(_entries_in_worker, range(len(tasks))),
                                     strict=True):
                keep_written(task, written)
                if progress is not None:
                    progress.advance()
    finally:
        _ENTRIES = ()
        if progress is not None:
            progress.finish()


# --- outputs ----------------------------------------------------------------------------------

_PLAN: Mapping[str, Deferred] | None = None
_STOP: Event | None = None
_FOLDERS: set[str] = set()
"""In a worker: the output folders it knows to exist."""


def _stage_in_worker(item: tuple[str, str, str]) -> Staged | None:
    """Make one output and stage it (see output.stage_file); None once the build stops."""
    if _PLAN is None or _STOP is None:  # pragma: no cover - set before the workers are forked
        raise RuntimeError("worker started without a plan")
    if _STOP.is_set():
        return None
    rel, target, token = item
    return stage_file(target, _PLAN[rel].make(), token, _FOLDERS)


class LazyPlan(Mapping[str, bytes]):
    """The planned output files, made only when `write_plan` asks for them.

    Files in `known` (path -> SHA-256) are on disk already and are never made. When there
    are many others, `stage` makes them in worker processes, each of which also writes the
    files it makes to their temporary files (see output.Stager): the bytes never travel
    between processes, and the slow file-system calls run on every core.
    """

    def __init__(self, plan: Mapping[str, Deferred], known: Mapping[str, str], *,
                 progress: Progress | None = None) -> None:
        self._plan = plan
        todo = self._todo = sum(1 for rel in plan if rel not in known)
        self._progress = progress if todo >= PROGRESS_MIN else None
        self._workers = workers_for(todo)
        self._pool: Pool | None = None
        self._stop: Event | None = None

    def __enter__(self) -> LazyPlan:
        global _PLAN, _STOP, _FOLDERS
        if self._progress is not None:
            self._progress.start("writing files", self._todo)
        if self._workers:
            import multiprocessing

            self._stop = multiprocessing.get_context("fork").Event()
            _PLAN, _STOP, _FOLDERS = self._plan, self._stop, set()
            try:
                self._pool = _pool(self._workers)
            finally:
                _PLAN = _STOP = None
        return self

    def __exit__(self, *exc: object) -> None:
        if self._pool is not None:
            self._pool.terminate()
            self._pool.join()
            self._pool = None
        if self._progress is not None:
            self._progress.finish()

    def stage(self, items: Iterable[tuple[str, str]], token: str, mark: Callable[[], None],
              orphans: list[str]) -> Generator[Staged, None, None]:
        """An output.Stager: in the worker processes when there are any."""
        pool, stop = self._pool, self._stop
        if pool is None or stop is None:
            yield from stage_each(self)(items, token, mark, orphans)
            return
        try:
            mark()  # before any worker may make a folder or a temporary file
        except OSError:  # a read-only output folder: fine here if nothing in it changes
            yield from stage_each(self)(items, token, mark, orphans)
            return
        results = pool.imap(_stage_in_worker, ((rel, target, token) for rel, target in items),
                            _CHUNK)
        finished = False
        try:
            for staged in results:
                if staged is None:  # pragma: no cover - only once stopped
                    raise RuntimeError("a worker stopped staging files")
                if self._progress is not None:
                    self._progress.advance()
                yield staged
            finished = True
        finally:
            if not finished:  # the workers stop; what they staged meanwhile is removed
                stop.set()
                while True:
                    try:
                        staged = next(results)
                    except StopIteration:
                        break
                    except Exception:  # noqa: S112 - the build fails already
                        continue
                    if staged is not None:
                        if staged.temp is not None:
                            with contextlib.suppress(OSError):
                                os.unlink(staged.temp)  # noqa: PTH108
                        orphans.extend(staged.created)

    def __getitem__(self, rel: str) -> bytes:
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
