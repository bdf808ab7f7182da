"""The build state: one SQLite database in the cache folder (`cache_dir`), used by the
pipeline alone. For each brief file: its stamp, hash, parsed record, problems and HTML (which
is sanitised again on its way out); the record of the outputs (feeder.manifest). A database
that cannot be used is made anew, with one warning; a folder that cannot be written only
makes the build slower.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import sqlite3
import stat
import time
from collections.abc import Sequence
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any, NamedTuple

from feeder.config import Config
from feeder.errors import Problem

if TYPE_CHECKING:  # imported when first needed: a rebuild that changed nothing needs none
    from feeder.brief import Brief
    from feeder.render import Rendered
    from feeder.site import Body
    from feeder.sources import FileInfo

FILE_NAME = "feeder.sqlite"
SCHEMA = 4
APPLICATION = "feeder build cache"

_TABLES = {
    "meta": "name TEXT PRIMARY KEY, value TEXT NOT NULL",
    "briefs": "rel TEXT PRIMARY KEY, size INTEGER, mtime_ns INTEGER, ino INTEGER, "
              "seen_ns INTEGER, sha BLOB, record TEXT",
    # A table of its own, so that reading every brief's stamp and record reads no HTML.
    "html": "rel TEXT PRIMARY KEY, summary_html TEXT, summary_text TEXT, content_html TEXT",
    "files": "path TEXT PRIMARY KEY, sha TEXT NOT NULL, key BLOB, size INTEGER, "
             "mtime_ns INTEGER, ino INTEGER",
    "published": "id TEXT PRIMARY KEY, path TEXT NOT NULL, title TEXT NOT NULL, url TEXT",
}
_MEMO = ("DELETE FROM briefs", "DELETE FROM html", "UPDATE files SET key = NULL")
"""What depends on the settings and the versions of feeder and its libraries."""


class CacheUnusable(Exception):
    """The database is not one this version of feeder made."""


def _files(path: Path) -> list[Path]:
    """The database, its WAL and its shared memory."""
    return [path, Path(f"{path}-wal"), Path(f"{path}-shm")]


def _odd_files(path: Path) -> list[Path]:
    """The database's files that exist but are not regular files: a folder, a FIFO (which
    would block the open), a link."""
    odd = []
    for candidate in _files(path):
        with contextlib.suppress(OSError):
            if not stat.S_ISREG(os.lstat(candidate).st_mode):
                odd.append(candidate)
    return odd


def _remove(paths: list[Path]) -> bool:
    """Remove the database's files; False when one cannot be (a folder that is not empty)."""
    done = True
    for path in paths:
        try:
            if path.is_dir() and not path.is_symlink():
                path.rmdir()
            else:
                path.unlink()
        except FileNotFoundError:
            pass
        except OSError:
            done = False
    return done


def _made_with(db: sqlite3.Connection) -> str | None:
    """The settings and versions (see `environment`) this feeder made `db` with; None when
    it is empty; CacheUnusable when it is not this feeder's."""
    tables = {row[0] for row in db.execute("SELECT name FROM sqlite_master")}
    if not tables:
        return None
    meta = dict(db.execute("SELECT name, value FROM meta")) if "meta" in tables else {}
    if meta.get("application") != APPLICATION:
        raise CacheUnusable("not a feeder build cache")
    if meta.get("schema") != str(SCHEMA) or any(
            [row[1] for row in db.execute(f"PRAGMA table_info({table})")]
            != [column.split()[0] for column in columns.split(", ")]
            for table, columns in _TABLES.items() if table in tables):
        raise CacheUnusable(f"made by another version of feeder (schema {meta.get('schema')})")
    return meta.get("environment")


def _connect(path: Path | str, environment: str) -> sqlite3.Connection:
    # (The default isolation level: each `with db:` block is one transaction.)
    db = sqlite3.connect(path, timeout=10, check_same_thread=False)
    try:
        db.execute("PRAGMA journal_mode = WAL")
        db.execute("PRAGMA synchronous = NORMAL")
        made_with = _made_with(db)
        for table, columns in _TABLES.items():
            db.execute(f"CREATE TABLE IF NOT EXISTS {table} ({columns})")
        with db:
            if made_with != environment:  # made with other settings or versions
                for statement in _MEMO:
                    db.execute(statement)
            db.executemany("INSERT OR REPLACE INTO meta VALUES (?, ?)",
                           [("application", APPLICATION), ("schema", str(SCHEMA)),
                            ("environment", environment)])
    except BaseException:
        db.close()
        raise
    return db


def open_cache(folder: Path | None, display: str, environment: str
               ) -> tuple[sqlite3.Connection, tuple[Problem, ...]]:
    """The build state in `folder` (named `display` in messages), made anew when it cannot
    be used (with one warning), or kept in memory when the folder cannot be written (or
    is None: no cache)."""
    if folder is None:
        return _connect(":memory:", environment), ()
    path = folder / FILE_NAME
    shown = f"{display}/{FILE_NAME}"
    reason = None
    try:
        odd = _odd_files(path)
        if odd:
            reason = "it is not a regular file"
            if not _remove(odd):
                raise OSError(reason)
        folder.mkdir(parents=True, exist_ok=True)
        try:
            return _connect(path, environment), () if reason is None else \
                (_warning(shown, reason, "made anew"),)
        except (sqlite3.DatabaseError, CacheUnusable) as exc:
            if isinstance(exc, sqlite3.OperationalError) and not path.is_file():
                raise OSError(str(exc)) from None
            reason = reason or str(exc)
            _remove(_files(path))
            return _connect(path, environment), (_warning(shown, reason, "made anew"),)
    except (OSError, sqlite3.Error) as exc:
        return _connect(":memory:", environment), (
            _warning(shown, reason or str(exc), "kept in memory"),)


def forget_all(db: sqlite3.Connection, display: str, exc: Exception) -> Problem:
    """Empty a database found unreadable while it was read; the warning that says so."""
    with contextlib.suppress(sqlite3.Error), db:
        for table in _TABLES.keys() - {"meta"}:
            db.execute(f"DELETE FROM {table}")  # noqa: S608 - a table of this module
    return _warning(f"{display}/{FILE_NAME}", str(exc), "made anew")


def _warning(shown: str, reason: str, outcome: str) -> Problem:
    text = " ".join(reason.split())
    return Problem(shown, None, f"ignoring the build cache ({text}); {outcome} for this "
                                "build: it only makes rebuilds faster", "warning")


# --- brief files ------------------------------------------------------------------------------

class Stored(NamedTuple):
    """A brief file as the cache remembers it (its HTML apart: see `stored_html`)."""

    stamp: tuple[int, int, int]
    seen_ns: int
    """When the stamp was taken: a file changed less than RACY_NS before is hashed again."""
    sha: bytes
    brief: Brief | None
    problems: tuple[Problem, ...]
    body: Body | None


RACY_NS = 2_000_000_000

_NONE = type(None)
_BRIEF = ((str,), (str,), (str,), (str, _NONE), (list,), (str,), (str, _NONE), (int, _NONE),
          (str, _NONE), (bool,), (str,), (int,), (int,), (list,), (list, _NONE))
"""The types of a brief's record as `_record` writes it (path, title, date, updated, tags,
slug, id, id_line, author, draft, body digest, body sizes, links, lead image)."""
_PROBLEM = ((str,), (int, _NONE), (str,), (str,))
_LINK = ((str,), (int,), (bool,), (str,))


def _typed(value: object, shape: tuple[tuple[type, ...], ...]) -> list[Any]:
    """`value`, when it is a list of items of the types of `shape`; else TypeError."""
    if type(value) is not list or len(value) != len(shape) or not all(
            type(item) in types for item, types in zip(value, shape, strict=True)):
        raise TypeError("not what this module writes")
    return value


def _moment(value: str) -> datetime:
    moment = datetime.fromisoformat(value)
    if moment.tzinfo is None:
        raise ValueError("a date without zone")
    return moment


def _problems(items: list[Any]) -> tuple[Problem, ...]:
    return tuple(Problem(path, line, message, "warning" if severity == "warning" else "error")
                 for path, line, message, severity in (_typed(item, _PROBLEM) for item in items))


def _problem_rows(problems: Sequence[Problem]) -> list[list[object]]:
    return [[p.path, p.line, p.message, p.severity] for p in problems]


def _record(stored: Stored) -> str:
    """A brief file's problems and (when it is valid) its brief and body, as JSON."""
    brief, body, fields = stored.brief, stored.body, None
    if brief is not None and body is not None:
        links = [[link.target, link.line, link.image, link.alt]
                 for link in (*brief.links, *([brief.lead] if brief.lead else []))]
        fields = [brief.path, brief.title, brief.date.isoformat(),
                  brief.updated.isoformat() if brief.updated else None, list(brief.tags),
                  brief.slug, brief.id, brief.id_line, brief.author, brief.draft,
                  body.digest.hex(), *body.sizes, links[:len(brief.links)],
                  links[-1] if brief.lead else None]
    return json.dumps([_problem_rows(stored.problems), fields], ensure_ascii=False)


def _decode(rel: str, record: str) -> tuple[Brief | None, tuple[Problem, ...], Body | None]:
    """What `_record` wrote; ValueError or TypeError when it is not that."""
    from feeder.attachments import Link
    from feeder.brief import Brief
    from feeder.site import Body

    problems, fields = _typed(json.loads(record), ((list,), (list, _NONE)))
    if fields is None:
        return None, _problems(problems), None
    (path, title, date, updated, tags, slug, entry_id, id_line, author, draft, digest,
     xml_size, json_size, links, lead) = _typed(fields, _BRIEF)
    if not all(type(tag) is str for tag in tags):
        raise TypeError("not a list of texts")
    brief = Brief(path, rel, title, _moment(date), None if updated is None else _moment(updated),
                  tuple(tags), slug, entry_id, id_line, author, draft, "", "",
                  tuple(Link(*_typed(link, _LINK)) for link in links),
                  None if lead is None else Link(*_typed(lead, _LINK)))
    return brief, _problems(problems), Body(bytes.fromhex(digest), (xml_size, json_size))


def stored_briefs(db: sqlite3.Connection) -> dict[str, Stored]:
    """Every brief file the cache remembers, by path in the content folder (rows that are
    not what this module writes are left out: those files are parsed again)."""
    found = {}
    for rel, size, mtime_ns, ino, seen_ns, sha, record in db.execute("SELECT * FROM briefs"):
        if type(rel) is str and type(sha) is bytes and type(record) is str and all(
                type(n) is int for n in (size, mtime_ns, ino, seen_ns)):
            with contextlib.suppress(ValueError, TypeError, RecursionError):
                brief, problems, body = _decode(rel, record)
                found[rel] = Stored((size, mtime_ns, ino), seen_ns, sha, brief, problems, body)
    return found


def briefs_as_left(db: sqlite3.Connection, infos: Sequence[FileInfo]) -> bool:
    """Whether the brief files `infos` are those the cache remembers, each with the stamp
    it was seen with, and, when it was seen less than RACY_NS after it last changed (the
    stamp cannot tell), with the same hash. Those hashed are seen again now: once their
    change is RACY_NS old, the stamp tells."""
    seen_ns = time.time_ns()
    with contextlib.suppress(sqlite3.Error, OSError):
        if db.execute("SELECT count(*) FROM briefs").fetchone()[0] != len(infos):
            return False
        stored = {row[0]: row[1:] for row in db.execute(
            "SELECT rel, size, mtime_ns, ino, seen_ns - ?, sha FROM briefs", (RACY_NS,))}
        if len(stored) != len(infos) or not all(
                (info.size, info.mtime_ns, info.ino) == stored.get(info.rel, ())[:3]
                for info in infos):
            return False
        racy = [info for info in infos if info.mtime_ns >= stored[info.rel][3]]
        if any(hashlib.sha256(Path(info.abspath).read_bytes()).digest() != stored[info.rel][4]
               for info in racy):
            return False
        with db:
            db.executemany("UPDATE briefs SET seen_ns = ? WHERE rel = ?",
                           [(seen_ns, info.rel) for info in racy])
        return True
    return False


def save_briefs(db: sqlite3.Connection, changed: list[tuple[str, Stored, Rendered | None]],
                gone: list[str]) -> None:
    """Remember the brief files of `changed` (with their HTML, when given: a file restamped
    keeps the HTML remembered) and forget those of `gone`."""
    with db:
        db.executemany("DELETE FROM briefs WHERE rel = ?", [(rel,) for rel in gone])
        db.executemany("DELETE FROM html WHERE rel = ?", [(rel,) for rel in gone] + [
            (rel,) for rel, stored, _ in changed if stored.brief is None])
        db.executemany("INSERT OR REPLACE INTO briefs VALUES (?, ?, ?, ?, ?, ?, ?)",
                       [(rel, *stored.stamp, stored.seen_ns, stored.sha, _record(stored))
                        for rel, stored, _ in changed])
        db.executemany("INSERT OR REPLACE INTO html VALUES (?, ?, ?, ?)",
                       [(rel, html.summary_html, html.summary_text, html.content_html)
                        for rel, _, html in changed if html is not None])


def stored_html(db: sqlite3.Connection, rels: list[str]) -> dict[str, Rendered]:
    """The HTML the cache keeps of the brief files `rels` (as it was stored: the caller
    sanitises it again)."""
    from feeder.render import Rendered

    found = {}
    for start in range(0, len(rels), 500):  # an indexed look-up each, 500 at a time
        part = rels[start:start + 500]
        for rel, *texts in db.execute("SELECT * FROM html WHERE rel IN "  # noqa: S608
                                      f"({', '.join('?' * len(part))})", part):
            if all(type(text) is str for text in (rel, *texts)):
                found[rel] = Rendered(*texts)
    return found


class Summary(NamedTuple):
    """What the last complete build found, kept so that a rebuild whose inputs and outputs
    are all as that build left them can return it without reading any brief again."""

    inputs: str
    """The digest of the options, templates and static files it was made with."""
    record: str
    """The digest of the record of the files it wrote (manifest.recorded)."""
    due: float | None
    """When its oldest brief dated in the future gets published (a POSIX time)."""
    problems: tuple[Problem, ...]
    counts: tuple[int, int, int]
    """Briefs read, briefs held back, feeds published."""


def save_summary(db: sqlite3.Connection, summary: Summary | None) -> None:
    """Remember `summary` (None: forget it, while a build changes the state)."""
    with db:
        db.execute("DELETE FROM meta WHERE name = 'summary'")
        if summary is not None:
            db.execute("INSERT INTO meta VALUES ('summary', ?)", (json.dumps(
                [summary.inputs, summary.record, summary.due, *summary.counts,
                 _problem_rows(summary.problems)]),))


def read_summary(db: sqlite3.Connection) -> Summary | None:
    """The summary of the last complete build, if it left one (and it can be read)."""
    with contextlib.suppress(sqlite3.Error, ValueError, TypeError):
        for (value,) in db.execute("SELECT value FROM meta WHERE name = 'summary'"):
            inputs, record, due, briefs, held, feeds, problems = _typed(json.loads(value), (
                (str,), (str,), (float, _NONE), (int,), (int,), (int,), (list,)))
            return Summary(inputs, record, due, _problems(problems), (briefs, held, feeds))
    return None


def open_readonly(folder: Path | None, environment: str | None) -> sqlite3.Connection | None:
    """The build state in `folder` to read only (`feeder check`): None when there is none
    this feeder can use with these settings (`environment`; None: with any)."""
    if folder is None:
        return None
    path = folder / FILE_NAME
    if not path.is_file() or _odd_files(path):
        return None
    try:
        db = sqlite3.connect(f"{path.resolve().as_uri()}?mode=ro", uri=True,
                             check_same_thread=False)
    except sqlite3.Error:
        return None
    with contextlib.suppress(sqlite3.Error, CacheUnusable):
        made_with = _made_with(db)
        if made_with is not None and environment in (None, made_with):
            return db
    db.close()
    return None


def environment(config: Config) -> str:
    """What the cache's memo depends on besides the files: feeder, its libraries, the
    settings."""
    from importlib.metadata import PackageNotFoundError, version

    from feeder import __version__

    versions = []
    for name in ("markdown", "nh3", "feedgen", "lxml", "jinja2", "PyYAML", "python-dateutil"):
        try:
            versions.append(version(name))
        except PackageNotFoundError:
            versions.append("")
    return hashlib.sha256(repr((__version__, versions, config)).encode(
        "utf-8", "surrogatepass")).hexdigest()
