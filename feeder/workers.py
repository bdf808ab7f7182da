"""Reading brief files: each one read, hashed, parsed and rendered, here or, for a large cold
build, among worker processes (the only parallel work in feeder).

The workers get the settings through the pool's initializer and send back plain records; a
build that reads few files reads them in its own process (starting workers costs more).
"""

from __future__ import annotations

import hashlib
import os
from collections.abc import Iterator, Sequence
from concurrent.futures import ProcessPoolExecutor
from dataclasses import replace
from typing import NamedTuple

from feeder.brief import Brief, parse_brief
from feeder.config import Config
from feeder.errors import Problem
from feeder.render import Rendered, render
from feeder.site import brief_url
from feeder.sources import FileInfo, decode, read_bytes

MIN_FILES = 200
"""Files to read from which worker processes share the work."""


class Read(NamedTuple):
    """One brief file, read: its brief (None with errors; without its Markdown, which is
    rendered already), its problems and its HTML."""

    info: FileInfo
    sha: bytes | None
    """SHA-256 of its bytes (None when it could not be read)."""
    brief: Brief | None
    problems: tuple[Problem, ...]
    html: Rendered | None


def render_brief(config: Config, brief: Brief) -> Rendered:
    """The HTML of a parsed brief, for its page's URL."""
    return render(brief.summary, brief.content, brief_url(config, brief),
                  allow_raw_html=config.allow_raw_html)


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
    html = render_brief(config, brief)
    return Read(info, sha, replace(brief, summary="", content=""), problems, html)


_CONFIG: list[Config] = []
"""The settings, in a worker process (set by its initializer)."""


def _start_worker(config: Config) -> None:
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
    if len(infos) < MIN_FILES or workers < 2:
        yield from (read_brief(info, config) for info in infos)
        return
    with ProcessPoolExecutor(workers, initializer=_start_worker, initargs=(config,)) as pool:
        yield from pool.map(_read_in_worker, infos, chunksize=32)
