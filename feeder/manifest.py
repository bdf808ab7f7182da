"""The record of what feeder wrote and published, kept with the build state (feeder.cache), not
in the output folder (where a plain `rsync public/` would publish it).

Each file written: its SHA-256, the key of what it was made from and the stamp feeder left it
with; only those files are replaced or removed without `build --overwrite`. Each entry
published: its brief file, title and URL (for feeder.stability).
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import re
import sqlite3
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import NamedTuple

from feeder.errors import ConfigError, Problem
from feeder.stability import EntryRecord

LEGACY_MANIFEST = ".feeder-manifest.json"
"""Where feeder kept the record before: in the output folder. Read once, then removed."""
_SURROGATE = re.compile("[\ud800-\udfff]")


class Written(NamedTuple):
    """What the record keeps about one output file."""

    sha: str
    key: bytes | None
    """The key of what it was made from (None: unknown, so it is made again)."""
    stamp: tuple[int, int, int] | None


class Record(NamedTuple):
    files: dict[str, Written]
    entries: dict[str, EntryRecord]


def read_record(db: sqlite3.Connection) -> Record:
    """The record as the last build left it (rows of the wrong shape are left out)."""
    files = {}
    for path, sha, key, size, mtime_ns, ino in db.execute("SELECT * FROM files"):
        if type(path) is str and type(sha) is str and "\0" not in path:
            stamp = (size, mtime_ns, ino) if all(
                type(n) is int for n in (size, mtime_ns, ino)) else None
            files[path] = Written(sha, key if type(key) is bytes else None, stamp)
    entries = {entry_id: EntryRecord(path, title, url if type(url) is str else None)
               for entry_id, path, title, url in db.execute("SELECT * FROM published")
               if type(entry_id) is str and type(path) is str and type(title) is str}
    return Record(files, entries)


def recorded(db: sqlite3.Connection) -> tuple[list[tuple[str, int, int, int]], str] | None:
    """Each file of the record, sorted by path, with its stamp (nothing checked: cheaper
    than read_record), and the digest of them all; None when they cannot be read."""
    try:
        rows = db.execute("SELECT path, size, mtime_ns, ino FROM files ORDER BY path").fetchall()
    except sqlite3.Error:
        return None
    return rows, hashlib.sha256(repr(rows).encode("utf-8", "surrogatepass")).hexdigest()


def save_files(db: sqlite3.Connection, changed: Mapping[str, Written],
               removed: Iterable[str]) -> None:
    with db:
        db.executemany("DELETE FROM files WHERE path = ?", [(path,) for path in removed])
        db.executemany("INSERT OR REPLACE INTO files VALUES (?, ?, ?, ?, ?, ?)",
                       [(path, w.sha, w.key, *(w.stamp or (None, None, None)))
                        for path, w in changed.items()])


def save_entries(db: sqlite3.Connection, before: Mapping[str, object],
                 after: Mapping[str, EntryRecord]) -> None:
    """Record the published entries `after`, writing only what differs from `before`."""
    changed = []
    for entry_id, record in after.items():
        row = _row(record)
        if row is not None and _row(before.get(entry_id)) != row:
            changed.append((entry_id, *row))
    with db:
        db.executemany("DELETE FROM published WHERE id = ?",
                       [(entry_id,) for entry_id in before.keys() - after.keys()])
        db.executemany("INSERT OR REPLACE INTO published VALUES (?, ?, ?, ?)", changed)


def _row(record: object) -> tuple[object, object, object] | None:
    if isinstance(record, EntryRecord):
        return record.path, record.title, record.url
    if isinstance(record, Mapping):
        return record.get("path"), record.get("title"), record.get("url")
    return None


def _legacy_files(data: object) -> dict[str, str] | None:
    if not isinstance(data, dict) or data.get("version") != 1:
        return None
    files = data.get("files")
    if not isinstance(files, dict) or not all(
            isinstance(text, str) and text.isprintable() and not _SURROGATE.search(text)
            for item in files.items() for text in item):
        return None
    return dict(files)


def read_legacy(output_dir: Path) -> tuple[Record | None, tuple[Problem, ...]]:
    """The record an earlier feeder kept in the output folder, if there is one."""
    path = output_dir / LEGACY_MANIFEST
    try:
        if not path.is_file() or path.is_symlink():
            return None, ()
        data = json.loads(path.read_bytes())
        files = _legacy_files(data)
        if files is None:
            raise ValueError("not a feeder manifest")
    except (OSError, ValueError, RecursionError) as exc:
        return None, (Problem(path.as_posix(), None, f"ignoring unreadable manifest ({exc})",
                              "warning"),)
    entries = {}
    for entry_id, value in data["entries"].items() if isinstance(data["entries"], dict) else ():
        record = EntryRecord.of(value) if isinstance(value, dict) else None
        if isinstance(record, EntryRecord):
            entries[str(entry_id)] = record
    files[LEGACY_MANIFEST] = ""
    return Record({rel: Written(sha, None, None) for rel, sha in files.items()}, entries), ()


def read_file_hashes(path: Path, display: str) -> dict[str, str] | None:
    """The files (path -> SHA-256) of a saved copy of the record: the build cache's database
    (or the folder holding it), or an older feeder's `.feeder-manifest.json`. None when it
    does not exist; ConfigError when it is not one of those."""
    from feeder.cache import FILE_NAME

    if path.is_dir():
        path = path / FILE_NAME
    if path.exists() and not path.is_file():
        raise ConfigError([Problem(display, None, "not a regular file")])
    try:
        with path.open("rb") as handle:
            head = handle.read(16)
    except FileNotFoundError:
        return None
    except OSError as exc:
        raise ConfigError([Problem(display, None, f"cannot read: {exc.strerror}")]) from None
    try:
        if head == b"SQLite format 3\0":
            with contextlib.closing(sqlite3.connect(f"{path.resolve().as_uri()}?mode=ro",
                                                    uri=True)) as db:
                return {rel: w.sha for rel, w in read_record(db).files.items()}
        files = _legacy_files(json.loads(path.read_bytes()))
    except (OSError, ValueError, RecursionError, sqlite3.Error):
        files = None
    if files is None:
        raise ConfigError([Problem(display, None, "not a copy of feeder's build record "
                                   f"(.feeder-cache/{FILE_NAME})")])
    return files
