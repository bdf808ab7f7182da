"""Writing the planned files into the output folder: atomically, and only what changed.

Each file goes to a temporary file in its own folder, is flushed to disk and renamed over
the old one, so a reader (or a build killed at any moment) sees the complete old file or
the complete new one. Files whose bytes are unchanged are not touched, so their
modification time stays. The manifest lists what feeder wrote; only those files are ever
removed, so `CNAME`, `robots.txt` or images placed in the folder by hand are safe.
"""

from __future__ import annotations

import contextlib
import errno
import hashlib
import json
import os
import sys
import tempfile
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath
from typing import Any

from feeder.errors import OutputError, Problem

MANIFEST = ".feeder-manifest.json"
MANIFEST_VERSION = 1


@dataclass(frozen=True, slots=True)
class Manifest:
    """What feeder wrote last time: file paths with their SHA-256, and the entries published."""

    files: Mapping[str, str] = field(default_factory=dict)
    entries: Mapping[str, Mapping[str, str]] = field(default_factory=dict)
    """Entry id -> {"path": brief file, "title": ..., "url": ...}."""

    def to_bytes(self) -> bytes:
        data = {"version": MANIFEST_VERSION, "files": dict(self.files),
                "entries": {k: dict(v) for k, v in self.entries.items()}}
        return (json.dumps(data, indent=1, sort_keys=True, ensure_ascii=False) + "\n").encode()


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
        data: Any = json.loads(path.read_bytes())
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


def _target(output_dir: Path, resolved_root: Path, rel: str,
            resolved: dict[Path, Path] | None = None) -> Path:
    """The path of `rel` in the output folder; OutputError if it would land outside.

    `resolved` remembers the folders resolved so far (a build resolves each folder once).
    """
    pure = PurePosixPath(rel)
    if pure.is_absolute() or not pure.parts or any(p in ("", ".", "..") for p in pure.parts):
        raise OutputError(f"refusing to write outside the output folder: {rel!r}")
    target = output_dir.joinpath(*pure.parts)
    memo = {output_dir: resolved_root} if resolved is None else resolved
    memo.setdefault(output_dir, resolved_root)
    if not _resolved(target.parent, memo).joinpath(target.name).is_relative_to(resolved_root):
        raise OutputError(f"refusing to write outside the output folder: {rel!r}")
    return target


def _resolved(folder: Path, memo: dict[Path, Path]) -> Path:
    """`folder.resolve()` for a folder under one in `memo`: each folder on the way is looked
    at once (a symbolic link is resolved in full; anything else is its resolved parent's
    child, as resolve() would make it), instead of every folder of every file."""
    found = memo.get(folder)
    if found is None:
        if folder.parent == folder:  # not under the output folder after all
            return folder.resolve()
        candidate = _resolved(folder.parent, memo) / folder.name
        found = candidate.resolve() if candidate.is_symlink() else candidate
        memo[folder] = found
    return found


TEMP_SUFFIX = ".feeder-tmp"


def _stage(path: Path, data: bytes, *, sync: bool = True, make_folder: bool = True) -> Path:
    """Write `data` to a new temporary file next to `path` (flushed to disk, unless `sync`
    is False: then the caller flushes it with _sync_staged); return it."""
    if make_folder:
        path.parent.mkdir(parents=True, exist_ok=True)
    fd, temp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=TEMP_SUFFIX)
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
            handle.flush()
            if sync:
                os.fsync(handle.fileno())
        os.chmod(temp, 0o644)  # noqa: PTH101 - mkstemp creates files 0600
    except BaseException:
        _discard([Path(temp)])
        raise
    return Path(temp)


def _sync_staged(temps: list[Path]) -> None:
    """Flush staged files to disk before any of them is renamed into place.

    On Linux one syncfs(2) per file system does it for every file at once: one journal
    commit rather than one per file (an fsync costs milliseconds, so thousands of them
    took most of a cold build). Elsewhere each file is fsynced.
    """
    if not temps:
        return
    if sys.platform == "linux":
        import ctypes

        syncfs = getattr(ctypes.CDLL(None, use_errno=True), "syncfs", None)
        if syncfs is not None:
            folders = {temp.parent.stat().st_dev: temp.parent for temp in temps}
            for folder in folders.values():
                fd = os.open(folder, os.O_RDONLY)
                try:
                    if syncfs(fd) != 0:
                        error = ctypes.get_errno()
                        raise OSError(error, os.strerror(error), str(folder))
                finally:
                    os.close(fd)
            return
    for temp in temps:  # pragma: no cover - Linux has syncfs
        fd = os.open(temp, os.O_RDONLY)
        try:
            os.fsync(fd)
        finally:
            os.close(fd)


def _discard(temps: list[Path]) -> None:
    for temp in temps:
        with contextlib.suppress(OSError):
            temp.unlink()


def write_atomic(path: Path, data: bytes) -> None:
    """Replace `path` with `data`: a temporary file in the same folder, flushed, then renamed."""
    temp = _stage(path, data)
    try:
        os.replace(temp, path)  # noqa: PTH105 - the ban on os.replace is what makes it visible
    except BaseException:
        _discard([temp])
        raise


def _sweep_leftovers(root: Path) -> None:
    """Remove temporary files left anywhere in `root` by a build killed before renaming them,
    and the folders that only such a build had created (left empty by the sweep)."""
    for folder, dirs, names in os.walk(root, topdown=False):
        swept = False
        for name in names:
            if name.startswith(".") and name.endswith(TEMP_SUFFIX):
                with contextlib.suppress(OSError):
                    os.unlink(os.path.join(folder, name))  # noqa: PTH108, PTH118
                    swept = True
        if swept and not dirs and Path(folder) != root:
            with contextlib.suppress(OSError):
                os.rmdir(folder)  # noqa: PTH106 - fails, as it should, unless empty


def _make_folder(folder: Path, created: list[Path], known: set[Path] | None = None) -> None:
    """Create `folder` and its missing parents, noting each created (to undo on failure).

    `known` holds folders known to exist (a build checks each folder once)."""
    if known is not None and folder in known:
        return
    missing = [folder, *folder.parents]
    missing = list(reversed(missing[:next(i for i, p in enumerate(missing) if p.is_dir())]))
    for path in missing:
        path.mkdir()
        created.append(path)
    if known is not None:
        known.add(folder)


_REASONS = {errno.ENOSPC: "the disk is full", errno.EDQUOT: "the disk quota is exceeded",
            errno.EROFS: "the file system is read-only"}


def _same(path: Path, data: bytes) -> bool:
    try:
        if path.stat().st_size != len(data):
            return False
        return path.read_bytes() == data
    except (FileNotFoundError, NotADirectoryError, IsADirectoryError):
        return False


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
) -> WriteReport:
    """Write `plan` (relative POSIX path -> bytes) into `output_dir`.

    Unchanged files are left alone; files listed in `manifest` but no longer planned are
    removed; the new manifest (with `entries`, the published entry ids) is written last.
    `display` names the folder in messages. `known` maps planned paths to the SHA-256 of
    the bytes the caller knows they already hold (the build cache): those are counted
    unchanged without being read, and their bytes are never asked of `plan`, which is read
    once per file otherwise (so it may make each file on demand). Raises OutputError when
    the folder cannot be written; when that happens before the first rename, the folder is
    left as it was.
    """
    known = known or {}
    display = display or output_dir.as_posix()
    staged: list[tuple[Path, Path]] = []
    created: list[Path] = []
    final: Path | None = None
    renamed = 0
    removed: list[str] = []
    current = output_dir  # what was being written, for the error message
    try:
        _make_folder(output_dir, created)
        root = output_dir.resolve()
        resolved = {output_dir: root}
        targets = {rel: _target(output_dir, root, rel, resolved) for rel in sorted(plan)}
        stale: dict[str, Path] = {}
        for rel in sorted(set(manifest.files) - set(plan)):
            with contextlib.suppress(OutputError):  # a tampered manifest cannot reach outside
                stale[rel] = _target(output_dir, root, rel, resolved)
        folders: set[Path] = set()
        _sweep_leftovers(output_dir)
        written: list[str] = []
        unchanged: list[str] = []
        files: dict[str, str] = {}
        # Phase 1: every changed file is staged next to its target. A full disk or a
        # read-only folder fails here, before anything in the folder has changed.
        for rel, target in targets.items():
            if rel in known:
                files[rel] = known[rel]
                unchanged.append(rel)
                continue
            data = plan[rel]
            files[rel] = sha256(data)
            if _same(target, data):
                unchanged.append(rel)
            else:
                current = target
                _make_folder(target.parent, created, folders)
                staged.append((_stage(target, data, sync=False, make_folder=False), target))
                written.append(rel)
        manifest_bytes = Manifest(files, entries).to_bytes()
        current = output_dir / MANIFEST
        if not _same(current, manifest_bytes):
            if set(plan) - set(manifest.files):
                # Claim the new files before they appear: a build killed among the renames
                # then leaves no file that a later build would not know it may remove.
                interim = Manifest({**manifest.files, **files}, {**manifest.entries, **entries})
                staged.insert(0, (_stage(current, interim.to_bytes(), sync=False), current))
            final = _stage(current, manifest_bytes, sync=False)
        _sync_staged([temp for temp, _ in staged] + ([final] if final else []))
        # Phase 2: renames (which need no space), removals, and the manifest last.
        for temp, target in staged:
            current = target
            os.replace(temp, target)  # noqa: PTH105
            renamed += 1
        for rel, target in stale.items():
            current = target
            if target.is_file():
                target.unlink()
                removed.append(rel)
                _remove_empty_parents(target, root)
        if final is not None:
            current = output_dir / MANIFEST
            os.replace(final, current)  # noqa: PTH105
    except OSError as exc:
        _discard([temp for temp, _ in staged[renamed:]] + ([final] if final else []))
        shown = display if current == output_dir else \
            f"{display}/{current.relative_to(output_dir).as_posix()}"
        reason = exc.strerror or str(exc)
        if exc.errno in _REASONS:
            reason = f"{_REASONS[exc.errno]} ({reason})"
        if renamed or removed:
            outcome = f"{display} may be partly updated; build again once this is fixed"
        else:
            for folder in reversed(created):
                with contextlib.suppress(OSError):
                    folder.rmdir()
            outcome = f"{display} was left as it was"
        raise OutputError([Problem(shown, None, f"cannot write: {reason}; {outcome}")]) from None
    return WriteReport(tuple(written), tuple(removed), tuple(unchanged))
