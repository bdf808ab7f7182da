"""Reading brief files through the build cache: a file whose stamp or hash did not change is
not read again; the others are read, hashed, parsed and rendered, for a large cold build among
worker processes (the only parallel work in feeder, set up by the pool's initializer).
"""

from __future__ import annotations

import contextlib
import hashlib
import os
import signal
import sqlite3
import threading
import time
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from concurrent.futures import ProcessPoolExecutor
from contextlib import AbstractContextManager
from dataclasses import dataclass, replace
from functools import cached_property, partial
from pathlib import Path
from typing import Any, NamedTuple, TypeVar

from feeder import cache
from feeder.attachments import published_url
from feeder.brief import Brief, parse_brief
from feeder.config import Config
from feeder.errors import Problem
from feeder.render import Rendered, render, sanitise
from feeder.site import Body, brief_url
from feeder.sources import FileInfo, decode, read_bytes
from feeder.text import strip_xml_forbidden

MIN_FILES = 200
"""Files to read from which worker processes share the work."""


class Read(NamedTuple):
    """One brief file, read: its brief (None with errors; without its Markdown, which is
    rendered already), its problems and its HTML."""

    info: FileInfo
    sha: bytes | None
    """None when the file could not be read."""
    brief: Brief | None
    problems: tuple[Problem, ...]
    html: Rendered | None


def read_brief(info: FileInfo, config: Config) -> Read:
    """Read, hash, decode, parse and (when it is valid) render one brief file."""
    data = read_bytes(info)
    if isinstance(data, Problem):
        return Read(info, None, None, (data,), None)
    sha = hashlib.sha256(data).digest()
    source = decode(data, info.path, info.rel)
    if isinstance(source, Problem):
        return Read(info, sha, None, (source,), None)
    brief, problems = parse_brief(source, config)
    if brief is None:
        return Read(info, sha, None, problems, None)
    url = brief_url(config, brief)  # relative links lead to the files they name
    html = render(brief.summary, brief.content, url, allow_raw_html=config.allow_raw_html,
                  links=partial(published_url, brief.rel, url, config.base_url))
    return Read(info, sha, replace(brief, summary="", content=""), problems, html)


_CONFIG: list[Config] = []
"""The settings, in a worker process."""


def _start_worker(config: Config) -> None:
    # The stop is the parent's (see cli.main): Ctrl-C reaches the whole process group, so a
    # worker ignores it; SIGTERM, which a pool sends its workers when it is shut down, ends it.
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    signal.signal(signal.SIGTERM, signal.SIG_DFL)
    _CONFIG.append(config)


def _read_in_worker(info: FileInfo) -> Read:
    return read_brief(info, _CONFIG[0])


def _cores() -> int:
    try:
        return len(os.sched_getaffinity(0))
    except (AttributeError, OSError):  # pragma: no cover - not Linux
        return os.cpu_count() or 1


def read_briefs(infos: Sequence[FileInfo], config: Config) -> Iterator[Read]:
    """Each of `infos`, read (see read_brief), in order."""
    workers = min(_cores(), 8)
    # Starting workers costs more than reading a few files. They are forked: only from a
    # process with no other thread running (a lock another thread held would stay taken).
    if len(infos) < MIN_FILES or workers < 2 or threading.active_count() > 1:
        yield from (read_brief(info, config) for info in infos)
        return
    with ProcessPoolExecutor(workers, initializer=_start_worker, initargs=(config,)) as pool:
        yield from pool.map(_read_in_worker, infos, chunksize=32)


Progress = Callable[[Iterable[Any], str, int], AbstractContextManager[Iterable[Any]]]
"""Shows how far the long stages of a build are (the CLI's progress bar): given the items, a
label and their number, a context whose iterator yields the items."""
_T = TypeVar("_T")


def counted(items: Iterable[_T], progress: Progress | None, label: str,
             total: int) -> Iterator[_T]:
    """`items`, through `progress` when there are many."""
    if progress is None or total < 200:
        yield from items
        return
    with progress(items, label, total) as shown:
        yield from shown


@dataclass
class Briefs:
    """Every brief file of the content folder, as read (through the cache)."""

    files: list[tuple[FileInfo, cache.Stored]]
    """In the order of the content folder."""
    problems: list[Problem]
    html: dict[bytes, Rendered]
    """The HTML rendered by this build and not saved in the cache yet, by body digest."""
    changed: list[tuple[str, cache.Stored, Rendered | None]]
    """What the cache is to remember (see cache.save_briefs) and was not saved yet."""
    gone: list[str]
    """Brief files the cache knows and that are gone."""
    assets: list[FileInfo]
    """The other files of the content folder (see feeder.attachments)."""
    rendered: set[bytes]
    """The body digests of the HTML this build rendered and saved in the cache: read back
    with the same digest, it is what this build made, and needs no sanitising again."""

    @cached_property
    def by_digest(self) -> dict[bytes, tuple[FileInfo, Brief | None]]:
        """The valid brief files by the digest of their HTML."""
        return {stored.body.digest: (info, stored.brief) for info, stored in self.files
                if stored.body is not None}


def stamp(info: FileInfo) -> tuple[int, int, int]:
    return info.size, info.mtime_ns, info.ino


def _unchanged(info: FileInfo, old: cache.Stored) -> bool:
    """Whether the file has the stamp it was seen with, long enough after it changed for the
    stamp to tell, or else the same hash."""
    if old.stamp == stamp(info) and info.mtime_ns + cache.RACY_NS < old.seen_ns:
        return True
    try:
        return hashlib.sha256(Path(info.abspath).read_bytes()).digest() == old.sha
    except OSError:
        return False


def read_all(config: Config, stored: Mapping[str, cache.Stored],
             scanned: tuple[Sequence[FileInfo], Sequence[Problem], list[FileInfo]],
             progress: Progress | None = None, db: sqlite3.Connection | None = None) -> Briefs:
    """Read the brief files `scanned` (the brief files, the problems, the other files), but
    not those `stored` (by the cache) with the same stamp or hash. With `db`, what is read
    is saved there as it comes (so a large build does not hold every brief's HTML)."""
    infos, scan_problems, others = scanned
    seen_ns = time.time_ns()
    found: dict[str, cache.Stored] = {}
    todo: list[FileInfo] = []
    changed: list[tuple[str, cache.Stored, Rendered | None]] = []
    for info in infos:
        old = stored.get(info.rel)
        if old is not None and _unchanged(info, old):
            if old.stamp != stamp(info) or old.seen_ns <= info.mtime_ns + cache.RACY_NS:
                old = old._replace(stamp=stamp(info), seen_ns=seen_ns)
                changed.append((info.rel, old, None))
            found[info.rel] = old
        else:
            todo.append(info)
    html: dict[bytes, Rendered] = {}
    saved: set[bytes] = set()
    save_to = None if config.allow_raw_html else db  # (with raw HTML the cache keeps none)
    for read in counted(read_briefs(todo, config), progress, "reading briefs", len(todo)):
        body = Body(read.html.digest, read.html.sizes) if read.html is not None else None
        new = cache.Stored(stamp(read.info), seen_ns, read.sha or b"", read.brief,
                           read.problems, body)
        if read.sha is not None:
            keep = read.html if not config.allow_raw_html else None
            changed.append((read.info.rel, new, keep))
        if body is not None and read.html is not None:
            if save_to is not None:
                saved.add(body.digest)
            else:
                html[body.digest] = read.html
        found[read.info.rel] = new
        if save_to is not None and len(changed) >= 500:
            cache.save_briefs(save_to, changed, [])
            changed = []
    files = [(info, found[info.rel]) for info in infos]
    gone = sorted(stored.keys() - found.keys())
    return Briefs(files, list(scan_problems), html, changed, gone, others, saved)


def load_html(config: Config, db: sqlite3.Connection | None, read: Briefs,
              digests: Iterable[bytes]) -> dict[bytes, Rendered]:
    """The HTML of the briefs whose body digests are `digests`: rendered by this build, or
    kept by the cache (and sanitised again: the cache is never trusted to be safe), or read
    and rendered again."""
    wanted = set(digests)
    html = {digest: read.html[digest] for digest in wanted if digest in read.html}
    where = {digest: read.by_digest[digest] for digest in wanted - html.keys()
             if digest in read.by_digest}
    kept: dict[str, Rendered] = {}
    if db is not None and not config.allow_raw_html:
        with contextlib.suppress(sqlite3.Error):  # unreadable: rendered again
            kept = cache.stored_html(db, [info.rel for info, _ in where.values()])
    for digest, (info, brief) in where.items():
        found = kept.get(info.rel)
        if found is not None and digest in read.rendered and found.digest == digest:
            html[digest] = found
        elif found is not None and brief is not None:
            base = brief_url(config, brief)
            html[digest] = Rendered(strip_xml_forbidden(sanitise(found.summary_html, base)),
                                    strip_xml_forbidden(found.summary_text),
                                    strip_xml_forbidden(sanitise(found.content_html, base)))
        else:
            again = read_brief(info, config).html
            if again is not None:
                html[digest] = again
    return html
