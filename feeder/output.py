"""Writing files into the output folder: atomically, only what changed, nothing foreign.

Each file is staged as a temporary file beside its place and renamed over it once every file
is staged and flushed to disk: a reader, or a build killed at any moment, sees the whole old
file or the whole new one. Only files in feeder's record are replaced or removed, unless
`overwrite`. A marker is in the folder while files are staged: a build that finds it (the last
one was killed) sweeps the temporary files left behind.
"""

from __future__ import annotations

import contextlib
import errno
import os
import stat
import tempfile
from collections.abc import Collection
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath

from feeder.errors import OutputError, Problem

TEMP_SUFFIX = ".feeder-tmp"
STAGING = f".feeder-staging{TEMP_SUFFIX}"
"""Present in the output folder while a build has files staged in it."""
_REASONS = {errno.ENOSPC: "the disk is full", errno.EDQUOT: "the disk quota is exceeded",
            errno.EROFS: "the file system is read-only"}


@dataclass(frozen=True, slots=True)
class WriteReport:
    written: tuple[str, ...]
    removed: tuple[str, ...]
    unchanged: tuple[str, ...]


def stamp_of(path: Path | str) -> tuple[int, int, int] | None:
    """Size, modification time (ns) and inode of a regular file; None otherwise."""
    try:
        info = os.lstat(path)
    except OSError:
        return None
    return (info.st_size, info.st_mtime_ns, info.st_ino) if stat.S_ISREG(info.st_mode) else None


def _same(path: Path, data: bytes) -> bool:
    try:
        return os.lstat(path).st_size == len(data) and path.read_bytes() == data
    except OSError:
        return False


def _sync(folder: Path) -> None:
    """Flush the file system of `folder` to disk: syncfs(2) on Linux, else sync(2)."""
    import ctypes

    syncfs = getattr(ctypes.CDLL(None, use_errno=True), "syncfs", None)
    if syncfs is None:  # pragma: no cover - Linux has syncfs
        os.sync()
        return
    fd = os.open(folder, os.O_RDONLY)
    try:
        if syncfs(fd) != 0:
            code = ctypes.get_errno()
            raise OSError(code, os.strerror(code))
    finally:
        os.close(fd)


def _sweep(root: Path) -> None:
    """Remove the temporary files a killed build left anywhere in `root`."""
    for folder, _dirs, names in os.walk(root):
        for name in names:
            if name.startswith(".") and name.endswith(TEMP_SUFFIX) and name != STAGING:
                with contextlib.suppress(OSError):
                    Path(folder, name).unlink()


@dataclass
class Staging:
    """One build's changes to the output folder: staged with `stage`, made visible with
    `commit`, or dropped (on any error, by leaving the `with` block)."""

    root: Path
    display: str
    recorded: Collection[str]
    """The files feeder wrote before (its record): they may be replaced or removed."""
    overwrite: bool = False
    temps: dict[str, str] = field(default_factory=dict)
    """Path in the folder -> its staged temporary file."""
    unchanged: list[str] = field(default_factory=list)
    foreign: list[str] = field(default_factory=list)
    created: list[Path] = field(default_factory=list)
    marked: bool = False
    staging_in: Path | None = None
    """The folder of the file being staged: a stop (SIGTERM) between the making of its
    temporary file and its entry in `temps` leaves one that `discard` must find there."""

    def __enter__(self) -> Staging:
        try:
            self._make_folder(self.root)
            if (self.root / STAGING).exists():  # a build was killed while staging
                _sweep(self.root)
                self.marked = True
        except OSError as exc:
            raise self._error(exc, self.root, changed=False) from None
        return self

    def __exit__(self, kind: object, *_: object) -> None:
        if kind is not None:
            self.discard()

    def _make_folder(self, folder: Path) -> None:
        missing = []
        while not folder.is_dir():
            missing.append(folder)
            folder = folder.parent
        for made in reversed(missing):
            made.mkdir()
            self.created.append(made)

    def _target(self, rel: str) -> Path:
        """Where `rel` goes; OutputError unless it is a plain relative POSIX path that
        stays in the folder."""
        pure = PurePosixPath(rel)
        target = self.root.joinpath(*pure.parts)
        if pure.is_absolute() or not pure.parts or ".." in pure.parts or \
                rel != pure.as_posix() or \
                not target.parent.resolve().is_relative_to(self.root.resolve()):
            raise OutputError(f"refusing to write outside the output folder: {rel!r}")
        return target

    def stage(self, rel: str, data: bytes) -> None:
        """Stage `data` as the new file `rel`, unless it holds those bytes already."""
        target = self._target(rel)
        try:
            if _same(target, data):
                self.unchanged.append(rel)
                return
            if os.path.lexists(target) and rel not in self.recorded and not self.overwrite:
                self.foreign.append(rel)
                return
            if not self.marked:
                self.marked = True
                (self.root / STAGING).write_bytes(b"a feeder build is staging files here\n")
            self._make_folder(target.parent)
            self.staging_in = target.parent
            fd, temp = tempfile.mkstemp(prefix=f".{target.name}.", suffix=TEMP_SUFFIX,
                                        dir=target.parent)
            self.temps[rel] = temp
            self.staging_in = None
            with os.fdopen(fd, "wb") as handle:
                os.fchmod(fd, 0o644)  # mkstemp makes files only their owner can read
                handle.write(data)
        except OSError as exc:
            raise self._error(exc, target, changed=False) from None

    def flush(self) -> None:
        """Once every file is staged: an OutputError naming each file in the way that feeder
        did not write; else the staged files flushed to disk."""
        if self.foreign:
            raise OutputError([Problem(f"{self.display}/{rel}", None,
                                       "not written by feeder, and a build would replace it; "
                                       "move it away, or build with --overwrite")
                               for rel in sorted(self.foreign)])
        try:
            if self.temps:
                _sync(self.root)
        except OSError as exc:
            raise self._error(exc, self.root, changed=False) from None

    def commit(self, stale: Collection[str]) -> WriteReport:
        """Rename every staged file into place, then remove the files of `stale` (recorded
        files no longer made) and the folders they leave empty."""
        done: list[str] = []
        removed: list[str] = []
        current = self.root
        try:
            for rel, temp in sorted(self.temps.items()):
                current = self._target(rel)
                os.replace(temp, current)  # noqa: PTH105
                done.append(rel)
            for rel in sorted(stale):
                with contextlib.suppress(OutputError):
                    current = self._target(rel)
                    if current.is_file() and not current.is_symlink():
                        current.unlink()
                        removed.append(rel)
                        self._remove_empty(current.parent)
        except OSError as exc:
            for rel in done:
                del self.temps[rel]
            raise self._error(exc, current, changed=True) from None
        self.temps.clear()
        self._unmark()
        return WriteReport(tuple(done), tuple(removed), tuple(sorted(self.unchanged)))

    def _remove_empty(self, folder: Path) -> None:
        while folder != self.root and folder.is_relative_to(self.root):
            try:
                folder.rmdir()
            except OSError:
                return
            folder = folder.parent

    def _unmark(self) -> None:
        if self.marked:
            with contextlib.suppress(OSError):
                (self.root / STAGING).unlink()

    def discard(self) -> None:
        """Remove the staged files and the folders made for them."""
        for temp in self.temps.values():
            with contextlib.suppress(OSError):
                Path(temp).unlink()
        self.temps.clear()
        if self.staging_in is not None:  # one build at a time: its temporary files are ours
            _sweep(self.staging_in)
        for folder in reversed(self.created):
            with contextlib.suppress(OSError):
                folder.rmdir()
        self._unmark()

    def _error(self, exc: OSError, where: Path, *, changed: bool) -> OutputError:
        shown = self.display if where == self.root else \
            f"{self.display}/{where.relative_to(self.root).as_posix()}"
        reason = exc.strerror or str(exc)
        if exc.errno in _REASONS:
            reason = f"{_REASONS[exc.errno]} ({reason})"
        outcome = f"{self.display} may be partly updated; build again once this is fixed" \
            if changed else f"{self.display} was left as it was"
        return OutputError([Problem(shown, None, f"cannot write: {reason}; {outcome}")])
