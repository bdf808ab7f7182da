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


def _target(output_dir: Path, resolved_root: Path, rel: str) -> Path:
    pure = PurePosixPath(rel)
    if pure.is_absolute() or not pure.parts or any(p in ("", ".", "..") for p in pure.parts):
        raise OutputError(f"refusing to write outside the output folder: {rel!r}")
    target = output_dir.joinpath(*pure.parts)
    if not target.parent.resolve().joinpath(target.name).is_relative_to(resolved_root):
        raise OutputError(f"refusing to write outside the output folder: {rel!r}")
    return target


TEMP_SUFFIX = ".feeder-tmp"


def _stage(path: Path, data: bytes) -> Path:
    """Write `data` to a new temporary file next to `path` (flushed to disk); return it."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, temp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=TEMP_SUFFIX)
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
            handle.flush()
            os.fsync(handle.fileno())
        os.chmod(temp, 0o644)  # noqa: PTH101 - mkstemp creates files 0600
    except BaseException:
        _discard([Path(temp)])
        raise
    return Path(temp)


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


def _sweep_leftovers(folders: set[Path]) -> None:
    """Remove temporary files left by a build that was killed before renaming them."""
    for folder in folders:
        with contextlib.suppress(OSError):
            for entry in os.scandir(folder):
                if entry.name.startswith(".") and entry.name.endswith(TEMP_SUFFIX):
                    with contextlib.suppress(OSError):
                        os.unlink(entry.path)  # noqa: PTH108


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
) -> WriteReport:
    """Write `plan` (relative POSIX path -> bytes) into `output_dir`.

    Unchanged files are left alone; files listed in `manifest` but no longer planned are
    removed; the new manifest (with `entries`, the published entry ids) is written last.
    Raises OutputError when the folder cannot be written.
    """
    display = output_dir.as_posix()
    staged: list[tuple[Path, Path]] = []
    renamed = 0
    try:
        output_dir.mkdir(parents=True, exist_ok=True)
        root = output_dir.resolve()
        targets = {rel: _target(output_dir, root, rel) for rel in sorted(plan)}
        _sweep_leftovers({target.parent for target in targets.values()} | {output_dir})
        written: list[str] = []
        unchanged: list[str] = []
        # Phase 1: every changed file is staged next to its target. A full disk or a
        # read-only folder fails here, before anything in the folder has changed.
        for rel, target in targets.items():
            data = plan[rel]
            if _same(target, data):
                unchanged.append(rel)
            else:
                staged.append((_stage(target, data), target))
                written.append(rel)
        new_manifest = Manifest({rel: sha256(plan[rel]) for rel in targets}, entries)
        manifest_bytes = new_manifest.to_bytes()
        if not _same(output_dir / MANIFEST, manifest_bytes):
            staged.append((_stage(output_dir / MANIFEST, manifest_bytes), output_dir / MANIFEST))
        # Phase 2: renames, which need no space; the manifest goes last.
        for temp, target in staged:
            os.replace(temp, target)  # noqa: PTH105
            renamed += 1
        removed: list[str] = []
        for rel in sorted(set(manifest.files) - set(plan)):
            try:
                target = _target(output_dir, root, rel)
            except OutputError:
                continue  # a tampered manifest cannot make feeder delete outside the folder
            if target.is_file():
                target.unlink()
                removed.append(rel)
                _remove_empty_parents(target, root)
    except OSError as exc:
        _discard([temp for temp, _ in staged[renamed:]])
        where = exc.filename if isinstance(exc.filename, str) else display
        reason = "the disk is full" if exc.errno == errno.ENOSPC else exc.strerror or str(exc)
        raise OutputError([Problem(where, None, f"cannot write: {reason}")]) from None
    return WriteReport(tuple(written), tuple(removed), tuple(unchanged))
