"""The build state: one SQLite database in the cache folder (`cache_dir`).

It remembers, for each brief file, its stamp (size, modification time, inode) and SHA-256,
its parsed brief and problems, and its HTML; for each output file, the key of what it was
made from and the stamp feeder left it with; and the record of what feeder wrote and
published (feeder.manifest). Only the pipeline uses it, to skip the work whose inputs did
not change; nothing in it is ever executed, and its HTML is sanitised again on its way out.

A database that cannot be used (corrupt, foreign, of another version, or not a regular
file) is set aside with one warning and a new one is made; a cache folder that cannot be
written makes the build slower, never failing.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import sqlite3
import stat
from collections.abc import Iterator, Sequence
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any, NamedTuple, cast

from feeder.config import Config
from feeder.errors import Problem

if TYPE_CHECKING:  # imported when first needed: a rebuild that changed nothing needs none
    from feeder.attachments import Link
    from feeder.brief import Brief
    from feeder.render import Rendered
    from feeder.site import Body
    from feeder.sources import FileInfo

FILE_NAME = "feeder.sqlite"
SCHEMA = 3
APPLICATION = "feeder build cache"

_TABLES = """
CREATE TABLE IF NOT EXISTS meta (name TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS briefs (
    rel TEXT PRIMARY KEY, size INTEGER, mtime_ns INTEGER, ino INTEGER, seen_ns INTEGER,
    sha BLOB, problems TEXT, path TEXT, title TEXT, date TEXT, updated TEXT, tags TEXT,
    slug TEXT, id TEXT, id_line INTEGER, author TEXT, draft INTEGER, digest BLOB,
    xml_size INTEGER, json_size INTEGER, links TEXT);
CREATE TABLE IF NOT EXISTS html (
    rel TEXT PRIMARY KEY, summary_html TEXT, summary_text TEXT, content_html TEXT);
CREATE TABLE IF NOT EXISTS files (
    path TEXT PRIMARY KEY, sha TEXT NOT NULL, key BLOB, size INTEGER, mtime_ns INTEGER,
    ino INTEGER);
CREATE TABLE IF NOT EXISTS published (
    id TEXT PRIMARY KEY, path TEXT NOT NULL, title TEXT NOT NULL, url TEXT);
"""
_MEMO = ("DELETE FROM briefs", "DELETE FROM html", "UPDATE files SET key = NULL")
"""What depends on the settings and the versions of feeder and its libraries."""

_COLUMNS = {
    "files": ("path", "sha", "key", "size", "mtime_ns", "ino"),
    "published": ("id", "path", "title", "url"),
}
"""The columns of the tables (besides `briefs` and `html`)."""
BRIEF_COLUMNS = ("rel", "size", "mtime_ns", "ino", "seen_ns", "sha", "problems", "path",
                 "title", "date", "updated", "tags", "slug", "id", "id_line", "author",
                 "draft", "digest", "xml_size", "json_size", "links")
HTML_COLUMNS = ("summary_html", "summary_text", "content_html")
_COLUMNS["briefs"] = BRIEF_COLUMNS
_COLUMNS["html"] = ("rel", *HTML_COLUMNS)
"""A brief's HTML is kept in a table of its own, so that reading every brief's stamp and
record reads none of it."""


class CacheUnusable(Exception):
    """The database is not one this version of feeder made (or cannot be read)."""


def _odd_files(path: Path) -> list[Path]:
    """The database's files (itself, its WAL and shared memory) that exist but are not
    regular files: a folder, a FIFO (which would block the open), a link."""
    odd = []
    for candidate in (path, Path(f"{path}-wal"), Path(f"{path}-shm")):
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


def _check(db: sqlite3.Connection, environment: str) -> None:
    """Raise CacheUnusable unless `db` is empty or this feeder's; forget the memo when it
    was made with other settings or versions."""
    tables = {row[0] for row in db.execute("SELECT name FROM sqlite_master")}
    if not tables:
        return
    if "meta" not in tables:
        raise CacheUnusable("not a feeder build cache")
    meta = dict(db.execute("SELECT name, value FROM meta").fetchall())
    if meta.get("application") != APPLICATION:
        raise CacheUnusable("not a feeder build cache")
    if meta.get("schema") != str(SCHEMA) or any(
            [row[1] for row in db.execute(f"PRAGMA table_info({table})")] != list(columns)
            for table, columns in _COLUMNS.items() if table in tables):
        raise CacheUnusable(f"made by another version of feeder (schema {meta.get('schema')})")
    if meta.get("environment") != environment:
        with db:
            for statement in _MEMO:
                db.execute(statement)
            db.execute("UPDATE meta SET value = ? WHERE name = 'environment'", (environment,))


def _connect(path: Path, environment: str) -> sqlite3.Connection:
    # (The default isolation level: each `with db:` block is one transaction.)
    db = sqlite3.connect(path, timeout=10, check_same_thread=False)
    try:
        db.execute("PRAGMA journal_mode = WAL")
        db.execute("PRAGMA synchronous = NORMAL")
        _check(db, environment)
        db.executescript(_TABLES)
        with db:
            db.executemany("INSERT OR IGNORE INTO meta VALUES (?, ?)",
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
        return _in_memory(environment), ()
    path = folder / FILE_NAME
    shown = f"{display}/{FILE_NAME}"
    reason = None
    odd = _odd_files(path)
    if odd:
        reason = "it is not a regular file"
        if not _remove(odd):
            return _in_memory(environment), (_warning(shown, reason, "kept in memory"),)
    try:
        folder.mkdir(parents=True, exist_ok=True)
        try:
            return _connect(path, environment), () if reason is None else \
                (_warning(shown, reason, "made anew"),)
        except (sqlite3.DatabaseError, CacheUnusable) as exc:
            if isinstance(exc, sqlite3.OperationalError) and not path.is_file():
                raise OSError(str(exc)) from None
            reason = reason or str(exc)
            _remove([path, Path(f"{path}-wal"), Path(f"{path}-shm")])
            return _connect(path, environment), (_warning(shown, reason, "made anew"),)
    except (OSError, sqlite3.Error) as exc:
        return _in_memory(environment), (_warning(shown, reason or str(exc), "kept in memory"),)


def forget_all(db: sqlite3.Connection, display: str, exc: Exception) -> Problem:
    """Empty a database found unreadable while it was read; the warning that says so."""
    with contextlib.suppress(sqlite3.Error), db:
        for table in _COLUMNS:
            db.execute(f"DELETE FROM {table}")  # noqa: S608 - a table of this module
    return _warning(f"{display}/{FILE_NAME}", str(exc), "made anew")


def _in_memory(environment: str) -> sqlite3.Connection:
    return _connect(Path(":memory:"), environment)


def _warning(shown: str, reason: str, outcome: str) -> Problem:
    text = " ".join(reason.split())
    return Problem(shown, None, f"ignoring the build cache ({text}); {outcome} for this "
                                "build: it only makes rebuilds faster", "warning")


def rows(db: sqlite3.Connection, query: str, keys: list[str],
         chunk: int = 500) -> Iterator[tuple[object, ...]]:
    """The rows of `query` (which ends with `IN ({})`) for each of `keys`, a chunk at a time
    (an indexed look-up each)."""
    for start in range(0, len(keys), chunk):
        part = keys[start:start + chunk]
        yield from db.execute(query.format(", ".join("?" * len(part))), part)


# --- brief files ------------------------------------------------------------------------------

class Stored(NamedTuple):
    """A brief file as the cache remembers it (its HTML apart: see `stored_html`)."""

    stamp: tuple[int, int, int]
    """Size, modification time (ns) and inode."""
    seen_ns: int
    """When the stamp was taken: a file changed less than RACY_NS before is hashed again."""
    sha: bytes
    brief: Brief | None
    problems: tuple[Problem, ...]
    body: Body | None


RACY_NS = 2_000_000_000


_WELL_TYPED = """
typeof(rel) = 'text' AND typeof(size) = 'integer' AND typeof(mtime_ns) = 'integer'
AND typeof(ino) = 'integer' AND typeof(seen_ns) = 'integer' AND typeof(sha) = 'blob'
AND typeof(problems) IN ('text', 'null') AND (title IS NULL OR (
    typeof(title) = 'text' AND typeof(path) = 'text' AND typeof(date) = 'text'
    AND typeof(updated) IN ('text', 'null') AND typeof(tags) = 'text'
    AND typeof(slug) = 'text' AND typeof(id) IN ('text', 'null')
    AND typeof(id_line) IN ('integer', 'null') AND typeof(author) IN ('text', 'null')
    AND typeof(draft) = 'integer' AND typeof(digest) = 'blob'
    AND typeof(xml_size) = 'integer' AND typeof(json_size) = 'integer'
    AND typeof(links) = 'text'))
"""
"""The rows of `briefs` whose every column has the type this module writes (SQLite checks
them; what is left to check here are the texts' contents)."""


def _moment(value: str) -> datetime:
    moment = datetime.fromisoformat(value)
    if moment.tzinfo is None:
        raise ValueError("a date without zone")
    return moment


def _texts(value: str) -> tuple[str, ...]:
    items = json.loads(value)
    if type(items) is not list or not all(type(item) is str for item in items):
        raise TypeError("not a list of texts")
    return tuple(items)


def _problems(value: str | None) -> tuple[Problem, ...]:
    if value is None:
        return ()
    problems = []
    for path, line, message, severity in json.loads(value):
        if type(path) is not str or type(message) is not str:
            raise TypeError("not a problem")
        problems.append(Problem(path, line if type(line) is int else None, message,
                                "warning" if severity == "warning" else "error"))
    return tuple(problems)


def _links(value: str) -> tuple[tuple[Link, ...], Link | None]:
    """A brief's links and lead image, from the JSON `_links_json` wrote."""
    from feeder.attachments import Link

    links, lead = json.loads(value)
    made = [Link(target, line, image, alt) for target, line, image, alt
            in [*links, *([lead] if lead else [])]]
    if not all(type(link.target) is str and type(link.line) is int and type(link.image) is bool
               and type(link.alt) is str for link in made):
        raise TypeError("not a link")
    return tuple(made[:len(links)]), made[-1] if lead else None


def _links_json(brief: Brief) -> str:
    def row(link: Link) -> list[object]:
        return [link.target, link.line, link.image, link.alt]

    lead = brief.lead
    return json.dumps([[row(link) for link in brief.links], row(lead) if lead else None],
                      ensure_ascii=False)


def _decode(row: Any) -> tuple[str, Stored]:
    """A well-typed row of `briefs` (BRIEF_COLUMNS); ValueError or TypeError when its texts
    are not what this module writes."""
    from feeder.brief import Brief
    from feeder.site import Body

    (rel, size, mtime_ns, ino, seen_ns, sha, problems, path, title, date, updated, tags,
     slug, entry_id, id_line, author, draft, digest, xml_size, json_size, links) = row
    brief = body = None
    if title is not None:
        brief = Brief(path, rel, title, _moment(date),
                      None if updated is None else _moment(updated), _texts(tags), slug,
                      entry_id, id_line, author, bool(draft), "", "", *_links(links))
        body = Body(digest, (xml_size, json_size))
    return rel, Stored((size, mtime_ns, ino), seen_ns, sha, brief, _problems(problems), body)


def stored_briefs(db: sqlite3.Connection) -> dict[str, Stored]:
    """Every brief file the cache remembers, by path in the content folder (rows whose texts
    are not what this module writes are left out: those files are parsed again)."""
    found = {}
    query = f"SELECT {', '.join(BRIEF_COLUMNS)} FROM briefs WHERE {_WELL_TYPED}"  # noqa: S608
    for row in db.execute(query):
        with contextlib.suppress(ValueError, TypeError, RecursionError):
            rel, stored = _decode(row)
            found[rel] = stored
    return found


def briefs_as_left(db: sqlite3.Connection, infos: Sequence[FileInfo]) -> bool:
    """Whether the brief files `infos` are those the cache remembers, each with the stamp
    it was seen with, and, when it was seen less than RACY_NS after it last changed (the
    stamp cannot tell), with the same hash."""
    with contextlib.suppress(sqlite3.Error, OSError):
        if db.execute("SELECT count(*) FROM briefs").fetchone()[0] != len(infos):
            return False
        stored = {row[0]: row[1:] for row in db.execute(
            "SELECT rel, size, mtime_ns, ino, seen_ns - ?, sha FROM briefs", (RACY_NS,))}
        return len(stored) == len(infos) and all(
            (info.size, info.mtime_ns, info.ino) == (row := stored.get(info.rel, ()))[:3]
            and (info.mtime_ns < row[3] or hashlib.sha256(
                Path(info.abspath).read_bytes()).digest() == row[4]) for info in infos)
    return False


def brief_row(rel: str, stored: Stored, html: Rendered | None) -> tuple[object, ...]:
    """The row of `briefs` for a brief file (BRIEF_COLUMNS, then HTML_COLUMNS)."""
    problems = json.dumps([[p.path, p.line, p.message, p.severity]
                           for p in stored.problems]) if stored.problems else None
    head = (rel, *stored.stamp, stored.seen_ns, stored.sha, problems)
    brief, body = stored.brief, stored.body
    if brief is None or body is None:
        return (*head, *([None] * (len(BRIEF_COLUMNS) - len(head) + len(HTML_COLUMNS))))
    texts = (html.summary_html, html.summary_text, html.content_html) if html else (None,) * 3
    return (*head, brief.path, brief.title, brief.date.isoformat(),
            None if brief.updated is None else brief.updated.isoformat(),
            json.dumps(brief.tags), brief.slug, brief.id, brief.id_line, brief.author,
            int(brief.draft), body.digest, *body.sizes, _links_json(brief), *texts)


def save_briefs(db: sqlite3.Connection, rows_: list[tuple[object, ...]],
                gone: list[str]) -> None:
    """Remember the brief files of `rows_` (see brief_row) and forget those of `gone`."""
    marks = ", ".join("?" * len(BRIEF_COLUMNS))
    size = len(BRIEF_COLUMNS)
    with db:
        title = BRIEF_COLUMNS.index("title")  # no brief: its HTML goes; restamped: it stays
        for table in ("briefs", "html"):
            db.executemany(f"DELETE FROM {table} WHERE rel = ?",  # noqa: S608 - this module's
                           [(rel,) for rel in gone] + [(row[0],) for row in rows_
                                                       if table == "html" and row[title] is None])
        db.executemany(f"INSERT OR REPLACE INTO briefs VALUES ({marks})",  # noqa: S608
                       [row[:size] for row in rows_])
        db.executemany("INSERT OR REPLACE INTO html VALUES (?, ?, ?, ?)",
                       [(row[0], *row[size:]) for row in rows_ if row[-1] is not None])


def stored_html(db: sqlite3.Connection, rels: list[str]) -> dict[str, Rendered]:
    """The HTML the cache keeps of the brief files `rels` (as it was stored: the caller
    sanitises it again)."""
    from feeder.render import Rendered

    found = {}
    query = f"SELECT rel, {', '.join(HTML_COLUMNS)} FROM html WHERE rel IN ({{}})"  # noqa: S608
    for rel, summary_html, summary_text, content_html in rows(db, query, rels):
        if all(type(text) is str for text in (rel, summary_html, summary_text, content_html)):
            found[cast(str, rel)] = Rendered(cast(str, summary_html), cast(str, summary_text),
                                             cast(str, content_html))
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
                 [[p.path, p.line, p.message, p.severity] for p in summary.problems]]),))


def read_summary(db: sqlite3.Connection) -> Summary | None:
    """The summary of the last complete build, if it left one (and it can be read)."""
    with contextlib.suppress(sqlite3.Error, ValueError, TypeError):
        for (value,) in db.execute("SELECT value FROM meta WHERE name = 'summary'"):
            inputs, record, due, briefs, held, feeds, problems = json.loads(value)
            if type(inputs) is str and type(record) is str and type(due) in (
                    float, type(None)) and all(type(n) is int for n in (briefs, held, feeds)):
                return Summary(inputs, record, due, _problems(json.dumps(problems)),
                               (briefs, held, feeds))
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
    try:
        meta = dict(db.execute("SELECT name, value FROM meta").fetchall())
        if meta.get("application") == APPLICATION and meta.get("schema") == str(SCHEMA) and \
                environment in (None, meta.get("environment")):
            return db
    except sqlite3.Error:
        pass
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
