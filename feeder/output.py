"""Writing the planned files into the output folder: atomically, and only what changed.

Each file goes to a temporary file in its own folder, is flushed to disk and renamed over
the old one, so a reader (or a build killed at any moment) sees the complete old file or
the complete new one. Files whose bytes are unchanged are not touched, so their
modification time stays. The manifest lists what feeder wrote; only those files are ever
removed, so `CNAME`, `robots.txt` or images placed in the folder by hand are safe. While
files are staged a marker is in the folder: a build that finds it (the last one was killed
while staging) sweeps the temporary files left behind, and no other build looks through the
whole folder. A rebuild's cost is that of the files it writes: files the caller knows to be
unchanged are not read, and their paths are checked as strings only.
"""

from __future__ import annotations

import contextlib
import errno
import hashlib
import json
import os
import stat
import sys
import threading
from collections.abc import Callable, Collection, Generator, Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from itertools import chain
from json.encoder import encode_basestring
from pathlib import Path, PurePosixPath
from typing import Any

from feeder.errors import OutputError, Problem, Stopped
from feeder.stability import EntryRecord

MANIFEST = ".feeder-manifest.json"
MANIFEST_VERSION = 1


@dataclass(frozen=True, slots=True)
class Manifest:
    """What feeder wrote last time: file paths with their SHA-256, and the entries published."""

    files: Mapping[str, str] = field(default_factory=dict)
    entries: Mapping[str, Mapping[str, str]] = field(default_factory=dict)
    """Entry id -> {"path": brief file, "title": ..., "url": ...}."""

    def to_bytes(self) -> bytes:
        return b"".join(_manifest_chunks(self.entries, self.files))


# The manifest is JSON with one file or entry a line, keys sorted: valid for any JSON reader,
# readable and diffable. It is made by hand rather than with json.dumps(indent=...), whose
# pure-Python encoder took a quarter of a second for 10,000 briefs; each key and value is
# encoded by json's C string encoder.
_string = encode_basestring  # json's C encoder of a string, without ensure_ascii


def _json(value: object) -> str:
    if type(value) is str:
        return _string(value)
    return json.dumps(value, sort_keys=True, ensure_ascii=False)  # a manifest edited by hand


def _entry_json(value: Any) -> str:
    """An entry ({"path": ..., "title": ..., "url": ...}) on one line, keys sorted."""
    if type(value) is EntryRecord:
        return value.json()
    try:
        return "{" + ", ".join([f"{_string(k)}: {_string(v)}"
                                for k, v in sorted(value.items())]) + "}"
    except (AttributeError, TypeError):  # not a mapping of strings: a manifest edited by hand
        return _json(dict(value) if isinstance(value, Mapping) else value)


_BATCH = 2048
"""Lines of the manifest encoded at a time (it is held as a list of such chunks)."""


def _section(mapping: Mapping[str, Any], encode: Callable[[Any], str]) -> Iterator[bytes]:
    """The items of `mapping`, sorted, as lines of a JSON object (the last without comma),
    encoded a batch at a time."""
    if not mapping:
        yield b"{}"
        return
    keys = sorted(mapping)
    yield b"{\n"
    for start in range(0, len(keys), _BATCH):
        batch = keys[start:start + _BATCH]
        end = ",\n" if start + _BATCH < len(keys) else "\n }"
        yield (",\n".join([f"  {_string(key)}: {encode(mapping[key])}" for key in batch])
               + end).encode()


def _manifest_chunks(entries: Mapping[str, Any], files: Mapping[str, Any]) -> Iterator[bytes]:
    """The manifest's bytes, a batch of lines at a time (at 100,000 briefs it is tens of MB:
    it is never held whole)."""
    yield b'{\n "entries": '
    yield from _section(entries, _entry_json)
    yield b',\n "files": '
    yield from _section(files, _json)
    yield f',\n "version": {MANIFEST_VERSION}\n}}\n'.encode()


def _stage_if_changed(path: str, chunks: Iterator[bytes], before: Callable[[], None]) -> str | None:
    """Stage `chunks` as the new version of `path` (calling `before` first), unless the file
    holds them already: then None. Compared as they come; on the first difference, the part
    that matched is copied from the file itself, so nothing is held whole."""
    try:
        handle = open(path, "rb")  # noqa: PTH123, SIM115 - closed below
    except (FileNotFoundError, NotADirectoryError, IsADirectoryError):
        before()
        return _stage(path, chunks, sync=False, make_folder=False)
    with handle:
        matched = 0
        for chunk in chunks:
            if handle.read(len(chunk)) == chunk:
                matched += len(chunk)
                continue
            before()
            return _stage(path, chain(_prefix(handle, matched), [chunk], chunks), sync=False,
                          make_folder=False)
        if not handle.read(1):
            return None
        before()
        return _stage(path, _prefix(handle, matched), sync=False, make_folder=False)


def _prefix(handle: Any, size: int) -> Iterator[bytes]:
    """The first `size` bytes of the open file `handle`, a block at a time."""
    handle.seek(0)
    while size > 0:
        block = handle.read(min(size, 1 << 20))
        if not block:
            raise OSError(errno.EIO, "the manifest changed while it was read")
        size -= len(block)
        yield block


class _Overlay(Mapping[str, Any]):
    """`new` over `old`, without copying either (a manifest can hold 100,000 items)."""

    def __init__(self, new: Mapping[str, Any], old: Mapping[str, Any]) -> None:
        self.new, self.old = new, old

    def __getitem__(self, key: str) -> Any:
        return self.new[key] if key in self.new else self.old[key]

    def __iter__(self) -> Iterator[str]:
        yield from self.new
        yield from (key for key in self.old if key not in self.new)

    def __len__(self) -> int:
        return len(self.new) + sum(1 for key in self.old if key not in self.new)


@dataclass(frozen=True, slots=True)
class WriteReport:
    written: tuple[str, ...]
    removed: tuple[str, ...]
    unchanged: tuple[str, ...]


def sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def read_manifest(output_dir: Path) -> tuple[Manifest, tuple[Problem, ...]]:
    """The manifest of the last build, or an empty one (with a warning when it is unreadable)."""
    path = output_dir / MANIFEST
    try:
        data: Any = json.loads(path.read_bytes(), object_hook=EntryRecord.of)
        if not isinstance(data, dict) or data.get("version") != MANIFEST_VERSION:
            raise ValueError("unknown manifest version")
        files, entries = data["files"], data["entries"]
        if not (isinstance(files, dict) and isinstance(entries, dict)):
            raise ValueError("bad manifest")
        return Manifest(files, entries), ()
    except FileNotFoundError:
        return Manifest(), ()
    except (OSError, ValueError, KeyError, TypeError) as exc:
        display = path.as_posix()
        return Manifest(), (Problem(display, None, f"ignoring unreadable manifest ({exc}); files "
                                                   "from earlier builds will not be removed",
                                    "warning"),)


def _parts(rel: str) -> list[str]:
    """The folders and name of `rel`, a relative POSIX path; OutputError if it is absolute,
    empty or climbs out (a `..`). Only string operations: every planned path is checked,
    and nearly all are plain (`tags/x/atom.xml`); the others are judged as PurePosixPath
    sees them (which makes `a//b` and `a/./b` the file `a/b`)."""
    parts = rel.split("/")
    if "" in parts or "." in parts or ".." in parts:
        pure = PurePosixPath(rel)
        if pure.is_absolute() or not pure.parts or ".." in pure.parts:
            raise OutputError(f"refusing to write outside the output folder: {rel!r}")
        return list(pure.parts)
    return parts


def _target(output_dir: Path, resolved_root: Path, rel: str,
            resolved: dict[str, tuple[str, bool]] | None = None) -> Path:
    """The path of `rel` in the output folder; OutputError if it would land outside.

    `resolved` remembers the folders resolved so far (see _check_target)."""
    parts = _check_target(resolved_root, rel, {} if resolved is None else resolved)
    return output_dir.joinpath(*parts)


def _check_target(resolved_root: Path, rel: str,
                  resolved: dict[str, tuple[str, bool]]) -> list[str]:
    """The parts of `rel`, once checked to land in the output folder (OutputError if not):
    its folder, resolved as `Path.resolve` would (a symbolic link on the way leading out is
    refused), must be the resolved output folder or under it.

    `resolved` maps folders under the output folder ("a/b") to their resolved paths and
    whether they exist: each folder on the way is looked at once (a symbolic link is
    resolved in full; anything else is its resolved parent's child; nothing under a folder
    that does not exist is looked at), instead of every folder of every file. Strings, not
    Paths: a cold build checks every file it writes (13,000 at 10,000 briefs) before any."""
    parts = _parts(rel)
    root = os.fspath(resolved_root)
    folder = _resolved_folder("/".join(parts[:-1]), root, resolved)[0]
    path = os.path.join(folder, parts[-1])  # noqa: PTH118
    if path != root and not path.startswith(os.path.join(root, "")):  # noqa: PTH118
        raise OutputError(f"refusing to write outside the output folder: {rel!r}")
    return parts


def _resolved_folder(folder: str, root: str,
                     memo: dict[str, tuple[str, bool]]) -> tuple[str, bool]:
    """The resolved path of `folder` (POSIX, under the output folder, whose resolved path
    is `root`), and whether it exists."""
    if not folder:
        return root, True
    found = memo.get(folder)
    if found is None:
        parent, _, name = folder.rpartition("/")
        above, exists = _resolved_folder(parent, root, memo)
        candidate = os.path.join(above, name)  # noqa: PTH118
        found = (candidate, False)  # under a folder that is not there: not there either
        if exists:
            try:
                is_link = stat.S_ISLNK(os.lstat(candidate).st_mode)
            except (FileNotFoundError, NotADirectoryError):
                pass
            except OSError:  # as os.path.islink sees it
                found = (candidate, True)
            else:
                found = (os.path.realpath(candidate) if is_link else candidate, True)
        memo[folder] = found
    return found


TEMP_SUFFIX = ".feeder-tmp"


def _temp_path(path: str, token: str) -> str:
    """The temporary file next to `path` of the build whose token is `token`."""
    if os.sep == "/" and "//" not in path:  # as os.path.split and join make it (3 calls a file)
        cut = path.rfind("/") + 1
        return f"{path[:cut]}.{path[cut:]}.{token}{TEMP_SUFFIX}"
    folder, name = os.path.split(path)
    return os.path.join(folder, f".{name}.{token}{TEMP_SUFFIX}")  # noqa: PTH118


def temp_file(folder: str, prefix: str, suffix: str) -> tuple[int, str]:
    """A new file `folder/<prefix><random><suffix>`, open for writing, readable by its
    owner only: tempfile.mkstemp's, without importing tempfile (and shutil and random with
    it: 4 ms of every build's start)."""
    for _ in range(100):
        path = os.path.join(folder, f"{prefix}{os.urandom(6).hex()}{suffix}")  # noqa: PTH118
        try:
            return os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL |
                           getattr(os, "O_BINARY", 0), 0o600), path
        except FileExistsError:
            continue
    raise FileExistsError(errno.EEXIST, "no free name for a temporary file", folder)


def _stage(path: str | Path, data: bytes | Iterable[bytes], *, sync: bool = True,
           make_folder: bool = True, token: str | None = None) -> str:
    """Write `data` (bytes, or chunks of them) to a new temporary file next to `path`
    (flushed to disk, unless `sync` is False: then the caller flushes it with
    _sync_staged); return its path: `_temp_path(path, token)` when a `token` is given
    and that name is free, else a name of its own.

    Paths are strings here and in write_plan: a cold build of 100,000 briefs stages over
    100,000 files, and a Path object costs several times the memory of its string (and
    with a token, write_plan keeps no temporary path at all)."""
    folder, name = os.path.split(path)
    if make_folder:
        os.makedirs(folder, exist_ok=True)  # noqa: PTH103
    try:
        if token is None:
            raise FileExistsError
        temp = _temp_path(os.fspath(path), token)
        fd = os.open(temp, os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_BINARY", 0),
                     0o600)
    except FileExistsError:
        fd, temp = temp_file(folder, f".{name}.", TEMP_SUFFIX)
    try:
        if isinstance(data, bytes):  # one file of a build: no file object (13,000 a build)
            _write_all(fd, data)
            if sync:
                os.fsync(fd)
        else:
            with os.fdopen(fd, "wb", closefd=False) as handle:
                handle.writelines(data)
                handle.flush()
                if sync:
                    os.fsync(handle.fileno())
        os.fchmod(fd, 0o644)  # mkstemp creates files 0600
    except BaseException:
        os.close(fd)
        _discard([temp])
        raise
    os.close(fd)
    return temp


def _syncfs() -> Callable[[int], int] | None:
    """syncfs(2) (Linux), or None."""
    if sys.platform != "linux":
        return None
    import ctypes

    found: Callable[[int], int] | None = getattr(ctypes.CDLL(None, use_errno=True),
                                                "syncfs", None)
    return found


def _sync_folder_fs(folder: str, syncfs: Callable[[int], int]) -> None:
    """Flush the file system that holds `folder` to disk."""
    import ctypes

    fd = os.open(folder, os.O_RDONLY)
    try:
        if syncfs(fd) != 0:
            error = ctypes.get_errno()
            raise OSError(error, os.strerror(error), str(folder))
    finally:
        os.close(fd)


def _sync_staged(temps: Iterable[str], made: Collection[str] = ()) -> None:
    """Flush staged files to disk before any of them is renamed into place.

    On Linux one syncfs(2) per file system does it for every file at once: one journal
    commit rather than one per file (an fsync costs milliseconds, so thousands of them
    took most of a cold build). Elsewhere each file is fsynced. `made` are folders made by
    this build: each is on the file system of the folder it was made in (only a folder
    that was there already can be a mount point), so that folder is looked at instead (a
    cold build looks at one folder, not one per brief).
    """
    syncfs = _syncfs()
    if syncfs is not None:
        made = set(made)
        dirname = os.path.dirname
        folders = {folder for folder in {dirname(temp) for temp in temps}
                   if folder not in made}
        folders.update(parent for folder in made if (parent := dirname(folder)) not in made)
        devices = {os.stat(folder).st_dev: folder for folder in folders}  # noqa: PTH116
        for folder in devices.values():
            _sync_folder_fs(folder, syncfs)
        return
    for temp in temps:  # pragma: no cover - Linux has syncfs
        fd = os.open(temp, os.O_RDONLY)
        try:
            os.fsync(fd)
        finally:
            os.close(fd)


class _EarlySync:
    """Flushes the output folder's file system in a background thread while files are still
    being staged (at most one flush at a time), so that the flush before the renames, which
    waits for every byte staged, finds little left to write: at 10,000 briefs (300 MB) it
    waited half a second on this project's machine. Only an optimisation: its errors are
    left to that last flush."""

    EVERY = 1024
    """Files staged between two flushes."""

    def __init__(self, folder: str) -> None:
        self.folder = folder
        self.syncfs = _syncfs()
        self.thread: threading.Thread | None = None
        self.staged = 0

    def staged_one(self) -> None:
        self.staged += 1
        if self.syncfs is None or self.staged % self.EVERY or \
                (self.thread is not None and self.thread.is_alive()):
            return
        self.thread = threading.Thread(target=self._run, args=(self.syncfs,), daemon=True,
                                       name="feeder-early-sync")
        self.thread.start()

    def _run(self, syncfs: Callable[[int], int]) -> None:
        with contextlib.suppress(OSError):
            _sync_folder_fs(self.folder, syncfs)

    def wait(self) -> None:
        if self.thread is not None:
            self.thread.join()
            self.thread = None


def can_fork() -> bool:
    """Whether this process may fork workers that go on running its code: on Linux, and
    while no other thread runs (a fork copies only the forking thread, and any lock another
    held stays taken in the child)."""
    return sys.platform == "linux" and threading.active_count() == 1


def cores() -> int:
    """How many cores this process may run on."""
    try:
        return len(os.sched_getaffinity(0))
    except (AttributeError, OSError):  # pragma: no cover - Linux has sched_getaffinity
        return os.cpu_count() or 1


MANY_RENAMES = 1024
"""Staged files from which renaming them into place is shared among threads."""


def _rename_all(files: list[str], paths: Callable[[str], tuple[str, str]]
                ) -> tuple[int, tuple[str, OSError] | None]:
    """Rename each of `files` from its temporary file to its target (`paths`); among a
    thread per core (at most 4) when there are many: a rename is a system call, made without
    holding the GIL, and on a disk file system each takes tens of microseconds. Returns how
    many were renamed, and the first failure (the target and the error), after which the
    others stop."""
    threads = min(4, cores())
    if len(files) < MANY_RENAMES or threads < 2:
        return _rename_each(files, paths, None)
    stop = threading.Event()
    size = -(-len(files) // threads)
    results: list[tuple[int, tuple[str, OSError] | None]] = []
    workers = [threading.Thread(
        target=lambda part: results.append(_rename_each(part, paths, stop)),
        args=(files[at:at + size],), name="feeder-rename") for at in range(0, len(files), size)]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join()
    return (sum(done for done, _failed in results),
            next((failed for _done, failed in results if failed is not None), None))


def _rename_each(files: list[str], paths: Callable[[str], tuple[str, str]],
                 stop: threading.Event | None) -> tuple[int, tuple[str, OSError] | None]:
    done = 0
    for rel in files:
        if stop is not None and stop.is_set():
            break
        temp, target = paths(rel)
        try:
            os.replace(temp, target)  # noqa: PTH105
        except OSError as exc:
            if stop is not None:
                stop.set()
            return done, (target, exc)
        done += 1
    return done, None


def _discard(temps: list[str]) -> bool:
    """Remove staged files; False if one could not be removed."""
    done = True
    for temp in temps:
        try:
            os.unlink(temp)  # noqa: PTH108
        except FileNotFoundError:
            pass
        except OSError:
            done = False
    return done


STAGING = f".feeder-staging{TEMP_SUFFIX}"
"""Present in the output folder while a build has files staged in it: created (and flushed
to disk) before the first temporary file, removed once the last is renamed or discarded.
A build that finds it was preceded by one killed while staging, and sweeps its leftovers;
other builds do not look through the whole folder. Named like the temporary files, whose
kind it is (a reader of the folder tells them all apart by one rule)."""


def _mark(marker: Path) -> None:
    """Create the staging marker and flush it, and its name in the folder, to disk: it must
    be there for the next build whenever a temporary file is."""
    fd = os.open(marker, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o644)
    try:
        os.write(fd, b"a feeder build is staging files in this folder\n")
        os.fsync(fd)
    finally:
        os.close(fd)
    if os.name == "posix":  # a folder cannot be opened for fsync elsewhere
        fd = os.open(marker.parent, os.O_RDONLY)
        try:
            os.fsync(fd)
        finally:
            os.close(fd)


def _sweep_leftovers(root: Path) -> bool:
    """Remove temporary files left anywhere in `root` by a build killed before renaming them,
    and the folders that only such a build had created (left empty by the sweep).

    Leaves the staging marker; returns False if a leftover could not be removed."""
    done = True
    top = os.fspath(root)
    for folder, dirs, names in os.walk(top, topdown=False):
        swept = False
        for name in names:
            if name.startswith(".") and name.endswith(TEMP_SUFFIX) and \
                    not (name == STAGING and folder == top):
                try:
                    os.unlink(os.path.join(folder, name))  # noqa: PTH108, PTH118
                    swept = True
                except FileNotFoundError:
                    pass
                except OSError:
                    done = False
        if swept and not dirs and folder != top:
            with contextlib.suppress(OSError):
                os.rmdir(folder)  # noqa: PTH106 - fails, as it should, unless empty
    return done


def _write_all(fd: int, data: bytes) -> None:
    view = memoryview(data)
    while view:
        view = view[os.write(fd, view):]


def _make_folder(folder: str, created: list[str], known: set[str] | None = None) -> None:
    """Create `folder` and its missing parents, noting each created (to undo on failure).

    `known` holds folders known to exist (a build checks each folder once)."""
    if known is not None and folder in known:
        return
    # Made at once when its parent exists (as for most folders of a build: one call), else
    # after its missing parents. A folder that exists (made meanwhile by another process of
    # this build, or a file in the way: then writing into it fails) is not noted.
    missing = []
    path = folder
    while True:
        try:
            os.mkdir(path)  # noqa: PTH102
        except FileExistsError:
            break
        except FileNotFoundError:
            parent = os.path.dirname(path)  # noqa: PTH120
            if parent == path:
                raise
            missing.append(path)
            path = parent
            continue
        created.append(path)
        break
    for path in reversed(missing):
        try:
            os.mkdir(path)  # noqa: PTH102
        except FileExistsError:
            continue
        created.append(path)
    if known is not None:
        known.add(folder)


_REASONS = {errno.ENOSPC: "the disk is full", errno.EDQUOT: "the disk quota is exceeded",
            errno.EROFS: "the file system is read-only"}


def _same(path: str | Path, data: bytes) -> bool:
    try:
        if os.stat(path).st_size != len(data):  # noqa: PTH116
            return False
        with open(path, "rb") as handle:  # noqa: PTH123
            return handle.read() == data
    except (FileNotFoundError, NotADirectoryError, IsADirectoryError):
        return False


@dataclass(frozen=True, slots=True)
class Staged:
    """What the first phase of a write did with one planned file."""

    sha: str
    """The SHA-256 of its bytes (empty when it was not made: see `error`)."""
    temp: str | None = None
    """Its temporary file, or None when the file already holds those bytes."""
    created: tuple[str, ...] = ()
    """Folders created for it, parents first."""
    error: tuple[int, str, str] | None = None
    """Why it could not be staged: (errno, message, path) of the OSError."""


Stager = Callable[[Iterable[tuple[str, str]], str, Callable[[], None], list[str]],
                 Generator[Staged, None, None]]
"""Stages planned files: given (relative path, target path) pairs in order, the build's
temporary-file token, `mark` (to call before the first folder or temporary file is made)
and a list, yields a `Staged` for each pair, in order. When it is closed early (an error),
it removes the temporary files it made but did not yield, and adds the folders it made for
them to the list (write_plan removes them with its own, deepest first: another file may
be in one of them until then)."""


def stage_file(target: str, data: bytes, token: str, folders: set[str],
               mark: Callable[[], None] | None = None) -> Staged:
    """Stage `data` as the new `target` unless the file holds it already (see write_plan),
    calling `mark` before any folder or file is made.

    `folders` holds the folders known to exist (and gains the ones created). An OSError is
    returned in `error`, not raised, so that a worker process can report it."""
    sha = sha256(data)
    created: list[str] = []
    try:
        folder = os.path.dirname(target)  # noqa: PTH120
        if folder in folders:
            if _same(target, data):
                return Staged(sha)
            if mark is not None:
                mark()
        else:
            try:
                if mark is not None:
                    mark()
            except OSError:  # a read-only output folder: fine if nothing in it changes
                if not os.path.isdir(folder) or not _same(target, data):  # noqa: PTH112
                    raise
                folders.add(folder)
                return Staged(sha)
            _make_folder(folder, created, folders)
            # In a folder made just now (as for each brief's page) the file cannot be.
            if not created and _same(target, data):
                return Staged(sha)
        temp = _stage(target, data, sync=False, make_folder=False, token=token)
    except OSError as exc:
        return Staged("", None, tuple(created),
                      (exc.errno or errno.EIO, exc.strerror or str(exc), target))
    return Staged(sha, temp, tuple(created))


def stage_each(plan: Mapping[str, bytes]) -> Stager:
    """The plain Stager: each file made (`plan[rel]`) and staged in turn, in this process."""

    def stage(items: Iterable[tuple[str, str]], token: str, mark: Callable[[], None],
              _orphans: list[str]) -> Generator[Staged, None, None]:
        folders: set[str] = set()  # nothing is staged but not yielded here
        for rel, target in items:
            yield stage_file(target, plan[rel], token, folders, mark)

    return stage


def _remove_empty_parents(path: Path, stop: Path) -> None:
    parent = path.parent
    while parent != stop and parent.is_relative_to(stop):
        try:
            parent.rmdir()
        except OSError:
            return
        parent = parent.parent


def write_plan(
    plan: Mapping[str, bytes],
    output_dir: Path,
    *,
    manifest: Manifest,
    entries: Mapping[str, Mapping[str, str]],
    display: str | None = None,
    known: Mapping[str, str] | None = None,
    stager: Stager | None = None,
) -> WriteReport:
    """Write `plan` (relative POSIX path -> bytes) into `output_dir`.

    Unchanged files are left alone; files listed in `manifest` but no longer planned are
    removed; the new manifest (with `entries`, the published entry ids) is written last.
    `display` names the folder in messages. `known` maps planned paths to the SHA-256 of
    the bytes the caller knows they already hold (the build cache): those are counted
    unchanged without being read, and their bytes are never asked of `plan`, which is read
    once per file otherwise (so it may make each file on demand), unless `stager` stages
    the files (see `Stager`: feeder.parallel's makes and stages them in worker processes).
    Raises OutputError when
    the folder cannot be written; when that happens before the first rename, the folder is
    left as it was.
    """
    known = known or {}
    display = display or output_dir.as_posix()
    written: list[str] = []
    """The files staged, then renamed: their temporary file is `temp_of(rel)` (at 100,000
    briefs, keeping two paths for each would cost tens of MB)."""
    odd: dict[str, str] = {}
    """Temporary files not named after the build's token (that name was taken)."""
    token = os.urandom(6).hex()
    top = os.fspath(output_dir)
    interim: str | None = None
    moved = 0  # files of `written` renamed into place
    created: list[str] = []
    final: str | None = None
    renamed = 0
    removed: list[str] = []
    marker = output_dir / STAGING
    marked = False  # the staging marker is there
    dirty = False  # it marks leftovers of an earlier build that could not be swept
    current: str | Path = output_dir  # what was being written, for the error message

    prefix = os.path.join(top, "")  # noqa: PTH118

    def target_of(rel: str) -> str:  # as _target makes it (os.path.join, on POSIX)
        return prefix + "/".join(_parts(rel)) if os.sep == "/" else \
            os.path.join(top, *_parts(rel))  # noqa: PTH118

    def temp_of(rel: str) -> str:
        return odd.get(rel) or _temp_path(target_of(rel), token)

    def mark() -> None:  # before the first temporary file (or folder for one) is made
        nonlocal marked
        if not marked:  # (when it cannot be made, nothing is staged without it)
            try:
                _mark(marker)
            except BaseException:  # a full disk, a read-only folder, a stop (SIGTERM)
                with contextlib.suppress(OSError):
                    marker.unlink()  # made, perhaps, but not written: it was not there before
                raise
            marked = True

    try:
        # Every path is checked before anything changes. Files in `known` are neither read
        # nor written (most of them, in a rebuild), so a look at the string is all they
        # cost; only the files compared or written, and the stale files to remove, are
        # also checked for a symbolic link leading out of the folder.
        order = sorted(plan)  # the order LazyPlan makes files in
        todo: list[str] = []
        files: dict[str, str] = {}
        for rel in order:
            _parts(rel)
            digest = known.get(rel)
            if digest is None:
                todo.append(rel)
            else:
                files[rel] = digest
        unchanged = list(files)
        _make_folder(os.fspath(output_dir), created)
        root = output_dir.resolve()
        resolved: dict[str, tuple[str, bool]] = {}
        for rel in todo:  # checked now; their paths are made again (as text) when written
            _check_target(root, rel, resolved)
        planned = set(order)
        stale: dict[str, Path] = {}
        for rel in sorted(rel for rel in manifest.files if rel not in planned):
            with contextlib.suppress(OutputError):  # a tampered manifest cannot reach outside
                stale[rel] = _target(output_dir, root, rel, resolved)
        new_files = any(rel not in manifest.files for rel in order)
        del resolved, planned, order  # a path per folder: MBs for a large site
        if os.path.lexists(marker):  # an earlier build was killed while staging
            marked = True
            dirty = not _sweep_leftovers(output_dir)
        same: list[str] = []
        # Phase 1: every changed file is staged next to its target. A full disk or a
        # read-only folder fails here, before anything in the folder has changed.
        items = ((rel, target_of(rel)) for rel in todo)
        early = _EarlySync(top)
        try:
            with contextlib.closing((stager or stage_each(plan))(items, token, mark,
                                                                 created)) as staged:
                for rel, result in zip(todo, staged, strict=True):
                    current = target_of(rel)
                    created.extend(result.created)
                    if result.error is not None:
                        raise OSError(*result.error)
                    files[rel] = result.sha
                    if result.temp is None:
                        same.append(rel)
                    else:
                        written.append(rel)
                        early.staged_one()
                        if result.temp != _temp_path(current, token):
                            odd[rel] = result.temp
        finally:
            early.wait()
        current = manifest_path = os.fspath(output_dir / MANIFEST)
        # Claim the new files before they appear: a build killed among the renames then
        # leaves no file that a later build would not know it may remove. When nothing is
        # removed and no earlier entry is forgotten, the new manifest is that claim: it goes
        # first. Otherwise an interim manifest, the old one and the new together, does.
        final_first = new_files and not stale and not manifest.entries
        if new_files and not final_first:
            claim = _manifest_chunks(_Overlay(entries, manifest.entries),
                                     _Overlay(files, manifest.files))
            mark()
            interim = _stage(manifest_path, claim, sync=False, make_folder=False)
        final = _stage_if_changed(manifest_path, _manifest_chunks(entries, files), mark)
        _sync_staged(chain(map(temp_of, written), filter(None, (interim, final))), created)
        # Phase 2: renames (which need no space), removals, and the manifest last.
        if final_first:
            interim, final = final, None
        if interim is not None:
            os.replace(interim, manifest_path)  # noqa: PTH105
            interim = None
            renamed += 1
        moved, failed = _rename_all(written, lambda rel: (temp_of(rel), target_of(rel)))
        renamed += moved
        if failed is not None:
            current = failed[0]
            raise failed[1]
        for rel, gone in stale.items():
            current = gone
            if gone.is_file():
                gone.unlink()
                removed.append(rel)
                _remove_empty_parents(gone, root)
        if final is not None:
            current = manifest_path
            os.replace(final, manifest_path)  # noqa: PTH105
        if marked and not dirty:  # nothing of this build, or of an earlier one, is left
            with contextlib.suppress(OSError):  # then the next build sweeps for nothing
                marker.unlink()
    except (OSError, KeyboardInterrupt, Stopped) as exc:
        # (a temporary file renamed already is not there: _discard passes over it)
        clean = _discard([*map(temp_of, written if moved < len(written) else ()),
                          *filter(None, (interim, final))])
        if marked and not dirty and clean:
            with contextlib.suppress(OSError):
                marker.unlink()
        if not isinstance(exc, OSError):  # stopped (Ctrl-C, SIGTERM): nothing to report
            for folder in sorted(created, key=lambda path: path.count(os.sep), reverse=True):
                with contextlib.suppress(OSError):
                    os.rmdir(folder)  # noqa: PTH106 - only the empty ones go
            raise
        shown = display if Path(current) == output_dir else \
            f"{display}/{Path(current).relative_to(output_dir).as_posix()}"
        reason = exc.strerror or str(exc)
        if exc.errno in _REASONS:
            reason = f"{_REASONS[exc.errno]} ({reason})"
        if renamed or removed:
            outcome = f"{display} may be partly updated; build again once this is fixed"
        else:
            # Deepest first: folders made by worker processes come in any order.
            for folder in sorted(created, key=lambda path: path.count(os.sep), reverse=True):
                with contextlib.suppress(OSError):
                    os.rmdir(folder)  # noqa: PTH106
            outcome = f"{display} was left as it was"
        raise OutputError([Problem(shown, None, f"cannot write: {reason}; {outcome}")]) from None
    unchanged = sorted([*unchanged, *same])  # two sorted runs: merged in one pass
    return WriteReport(tuple(written), tuple(removed), tuple(unchanged))
