"""Finding and reading brief files: the only place feeder reads content from disk.

`scan_content` lists the brief files (sorted, hidden ones skipped, links that leave the
content folder refused) with their size and modification time, so that a cache can skip the
files that did not change; `read_source` reads one of them as text.
"""

from __future__ import annotations

import os
import stat
from collections.abc import Iterable
from pathlib import Path
from typing import BinaryIO, NamedTuple

from feeder.attachments import BRIEF_SUFFIXES
from feeder.errors import OutputError, Problem
from feeder.images import ImageInfo, image_info, media_type
from feeder.text import Source


class FileInfo(NamedTuple):
    """A brief file found in the content folder. (A named tuple: a scan makes one for each
    brief file, on every build, a no-op included.)"""

    rel: str
    """POSIX path relative to the content folder."""
    folder: str
    """The content folder, as given (one string shared by every file of a scan)."""
    shown: str
    """The content folder for messages ("." when it is the project folder): shared too."""
    size: int
    mtime_ns: int
    ctime_ns: int = 0
    ino: int = 0
    """With the size and modification time, what tells the build cache a file is unchanged."""

    @property
    def path(self) -> str:
        """POSIX path for messages, relative to the project folder when inside it."""
        return self.rel if self.shown == "." else f"{self.shown}/{self.rel}"

    @property
    def abspath(self) -> str:
        """Where to read the file (made when asked: a scan of 100,000 files keeps little)."""
        return os.path.join(self.folder, *self.rel.split("/"))  # noqa: PTH118


def scan_content(
    content_dir: Path, display_root: Path, max_bytes: int, assets: list[FileInfo] | None = None
) -> tuple[tuple[FileInfo, ...], tuple[Problem, ...]]:
    """Every brief file under `content_dir`, sorted by relative path, and the problems found;
    the other files (see feeder.attachments) are added to `assets` when given.

    Hidden files and folders (names starting with `.`) are skipped. A symbolic link is
    followed only when its target is inside `content_dir`; one that points outside is an
    error, so a pull request cannot publish `/etc/passwd`. Files over `max_bytes` are errors.
    """
    root = content_dir.resolve()
    found: list[FileInfo] = []
    problems: list[Problem] = []

    def display(path: str) -> str:
        try:
            return Path(path).relative_to(display_root).as_posix()
        except ValueError:
            return Path(path).as_posix()

    base = display(str(content_dir))

    def walk(folder: str, rel: str, seen: frozenset[str]) -> None:
        try:
            entries = sorted(os.scandir(folder), key=lambda e: e.name)
        except OSError as exc:
            problems.append(Problem(display(folder), None, f"cannot list folder: {exc.strerror}"))
            return
        for entry in entries:
            name = entry.name
            if name.startswith("."):
                continue
            entry_rel = rel + name
            if entry.is_symlink():
                target = Path(entry.path).resolve()
                if not target.is_relative_to(root):
                    problems.append(Problem(display(entry.path), None,
                                            "symbolic link points outside the content folder; "
                                            "refusing to read it"))
                    continue
            try:
                info = entry.stat()
            except OSError as exc:
                problems.append(Problem(display(entry.path), None,
                                        f"cannot read: {exc.strerror or exc}"))
                continue
            if stat.S_ISDIR(info.st_mode):
                real = os.path.realpath(entry.path)
                if real not in seen:  # a link to a folder above itself would loop
                    walk(entry.path, entry_rel + "/", seen | {real})
                continue
            if not stat.S_ISREG(info.st_mode):
                continue
            if not name.endswith(BRIEF_SUFFIXES):
                if assets is not None:
                    assets.append(FileInfo(entry_rel, top, base, info.st_size, info.st_mtime_ns,
                                           info.st_ctime_ns, info.st_ino))
                continue
            if info.st_size > max_bytes:
                problems.append(Problem(display(entry.path), None,
                                        f"file is {info.st_size:,} bytes, over the limit of "
                                        f"{max_bytes:,} (setting max_brief_bytes)"))
                continue
            found.append(FileInfo(entry_rel, top, base, info.st_size, info.st_mtime_ns,
                                  info.st_ctime_ns, info.st_ino))

    top = str(content_dir)
    walk(top, "", frozenset({str(root)}))
    return tuple(found), tuple(problems)


def decode(data: bytes, path: str, rel: str) -> Source | Problem:
    """Decode a brief's bytes as UTF-8 (a BOM is dropped, CRLF and CR become LF)."""
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        line = data.count(b"\n", 0, exc.start) + 1
        return Problem(path, line, f"not valid UTF-8 (byte 0x{data[exc.start]:02x} at offset "
                                   f"{exc.start}); save the file as UTF-8")
    if "\r" in text:
        text = text.replace("\r\n", "\n").replace("\r", "\n")
    return Source(path, rel, text)


def read_bytes(info: FileInfo) -> bytes | Problem:
    """The bytes of one brief file, or the problem that stopped it being read."""
    try:
        with open(info.abspath, "rb", buffering=0) as handle:  # noqa: PTH123 - one read
            return handle.readall()
    except OSError as exc:
        return Problem(info.path, None, f"cannot read: {exc.strerror or exc}")


def read_source(info: FileInfo) -> Source | Problem:
    """The text of one brief file, or the problem that stopped it being read."""
    data = read_bytes(info)
    return data if isinstance(data, Problem) else decode(data, info.path, info.rel)


def read_named(path: Path, content_dir: Path, shown: str) -> Source | Problem:
    """The text of a brief file named on the command line (`feeder check --explain`), with
    its path relative to the content folder when inside it, else its name."""
    try:
        rel = path.resolve().relative_to(content_dir.resolve()).as_posix()
    except (ValueError, OSError):
        rel = path.name
    try:
        return decode(path.read_bytes(), shown, rel)
    except OSError as exc:
        return Problem(shown, None, f"cannot read: {exc.strerror or exc}")


def begins_with(info: FileInfo, prefix: bytes) -> bool:
    """Whether a brief file starts with `prefix` (after a byte order mark); reads only that."""
    try:
        with open(info.abspath, "rb") as handle:  # noqa: PTH123 - one short read
            return handle.read(len(prefix) + 3).removeprefix(b"\xef\xbb\xbf").startswith(prefix)
    except OSError:
        return False
def read_image_infos(infos: Iterable[FileInfo]) -> dict[str, ImageInfo | None]:
    """The header (media type, width, height) of each picture among `infos`, by path in the
    content folder: a few bytes of each, read where feeder.images asks (None: not a PNG,
    JPEG, GIF or WebP, or unreadable)."""
    found: dict[str, ImageInfo | None] = {}
    for info in infos:
        kind = media_type(info.rel)
        if kind is None or not kind.startswith("image/"):
            continue
        try:
            with open(info.abspath, "rb") as handle:  # noqa: PTH123

                def read(offset: int, count: int, handle: BinaryIO = handle) -> bytes:
                    handle.seek(offset)
                    return handle.read(count)

                found[info.rel] = image_info(read)
        except OSError:
            found[info.rel] = None
    return found


def read_asset(info: FileInfo) -> bytes:
    """The bytes of a file a brief brings, to copy into the output folder."""
    data = read_bytes(info)
    if isinstance(data, Problem):
        raise OutputError([data])
    return data
