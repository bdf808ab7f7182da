"""Reading the project from disk: the brief files and the other files of the content folder,
the page templates and the settings file. The only place feeder reads content from disk.
"""

from __future__ import annotations

import errno
import os
import re
import stat
import sys
import unicodedata
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import Any, BinaryIO, NamedTuple

from feeder.attachments import BRIEF_SUFFIXES
from feeder.errors import ConfigError, OutputError, Problem
from feeder.images import ImageInfo, image_info, media_type
from feeder.text import Source

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover - exercised on Python 3.10 only
    import tomli as tomllib

TEMPLATES_FOLDER = "templates"
"""The project's folder of page templates, which replace the package's of the same name."""


def _joined(folder: str, rel: str) -> str:
    """`rel` inside the folder shown as `folder`, for messages."""
    if not rel:
        return folder
    return rel if folder == "." else f"{folder}/{rel}"


class FileInfo(NamedTuple):
    """A file found in the content folder. (A named tuple: a scan makes one for each file, on
    every build, a no-op included.)"""

    rel: str
    """POSIX path relative to the content folder."""
    folder: str
    """The content folder, as given (one string shared by every file of a scan)."""
    shown: str
    """The content folder for messages ("." when it is the project folder): shared too."""
    size: int
    mtime_ns: int
    ino: int = 0
    """With the size and modification time, what tells the build cache a file is unchanged."""

    @property
    def path(self) -> str:
        """POSIX path for messages, relative to the project folder when inside it."""
        return _joined(self.shown, self.rel)

    @property
    def abspath(self) -> str:
        return os.path.join(self.folder, *self.rel.split("/"))  # noqa: PTH118


def _walk(top: str, shown: str, kind: str) -> Iterator[tuple[str, str, os.stat_result | str]]:
    """Every file under the `kind` folder `top` (shown as `shown`), sorted by path, as its path
    for messages, its path relative to `top`, and its status or why it cannot be read.

    Hidden files and folders (names starting with `.`) are skipped. A symbolic link that loops
    or leads out of `top` is refused, so a pull request cannot publish `/etc/passwd`; so is a
    name that is not printable UTF-8 (in the content folder: of a brief file or a folder).
    """
    root = os.path.realpath(top)
    unreadable = "cannot read" if kind == "content" else "cannot read template"

    def walk(folder: str, rel: str, seen: frozenset[str]) -> Iterator[
            tuple[str, str, os.stat_result | str]]:
        try:
            entries = sorted(os.scandir(folder), key=lambda e: e.name)
        except OSError as exc:
            yield (_joined(shown, rel.rstrip("/")), rel,
                   f"cannot list folder: {exc.strerror or exc}")
            return
        for entry in entries:
            if entry.name.startswith("."):
                continue
            entry_rel = rel + entry.name
            refused = _refuse_link(entry, root, kind)
            if refused is None and (kind != "content" or entry.name.endswith(BRIEF_SUFFIXES)
                                    or _is_dir(entry)):
                refused = name_problem(entry.name)
            if refused is None:
                try:
                    info = entry.stat()
                except OSError as exc:
                    refused = f"{unreadable}: {exc.strerror or exc}"
            if refused is not None:
                yield _joined(shown, entry_rel), entry_rel, refused
            elif stat.S_ISDIR(info.st_mode):
                real = os.path.realpath(entry.path)
                if real not in seen:  # a link to a folder above itself would loop
                    yield from walk(entry.path, entry_rel + "/", seen | {real})
            else:
                yield _joined(shown, entry_rel), entry_rel, info

    yield from walk(top, "", frozenset({root}))


def scan_content(content_dir: Path, shown: str, max_bytes: int
                 ) -> tuple[tuple[FileInfo, ...], tuple[Problem, ...], list[FileInfo]]:
    """Every brief file under `content_dir` (shown as `shown` in messages), sorted by relative
    path; the problems found (see `_walk`; a brief file over `max_bytes` is one); and the
    other files (see feeder.attachments)."""
    top = str(content_dir)
    found: list[FileInfo] = []
    problems: list[Problem] = []
    others: list[FileInfo] = []
    for path, rel, info in _walk(top, shown, "content"):
        if isinstance(info, str):
            problems.append(Problem(path, None, info))
        elif not stat.S_ISREG(info.st_mode):
            continue
        elif not rel.endswith(BRIEF_SUFFIXES):
            others.append(FileInfo(rel, top, shown, info.st_size, info.st_mtime_ns, info.st_ino))
        elif info.st_size > max_bytes:
            problems.append(Problem(path, None, f"file is {info.st_size:,} bytes, over the "
                                                f"limit of {max_bytes:,} "
                                                "(setting max_brief_bytes)"))
        else:
            found.append(FileInfo(rel, top, shown, info.st_size, info.st_mtime_ns, info.st_ino))
    return tuple(found), tuple(problems), others


def _is_dir(entry: os.DirEntry[str]) -> bool:
    try:
        return entry.is_dir()
    except OSError:
        return False


def _refuse_link(entry: os.DirEntry[str], root: str, kind: str) -> str | None:
    """Why the symbolic link `entry` of the `kind` folder (whose real path is `root`) must not
    be read (it loops, or leads out of the folder), or None."""
    if not entry.is_symlink():
        return None
    try:
        os.stat(entry.path)  # noqa: PTH116 - the entry's own path
    except OSError as exc:
        if exc.errno == errno.ELOOP:
            return ("symbolic link loop (it leads back to itself through links); "
                    "remove it or point it at a file")
    if not Path(os.path.realpath(entry.path)).is_relative_to(root):
        return f"symbolic link points outside the {kind} folder; refusing to read it"
    return None


def name_problem(name: str) -> str | None:
    """Why the file or folder name `name` cannot be published, or None: it is not valid
    UTF-8 (os.fsdecode keeps such bytes as lone surrogates), or holds a control character."""
    if name.isprintable():
        return None
    if any(0xD800 <= ord(char) <= 0xDFFF for char in name):
        return "the name is not valid UTF-8; rename it (feeds and URLs need UTF-8 names)"
    if any(unicodedata.category(char) == "Cc" for char in name):
        return ("the name holds a control character (such as a newline or a tab); "
                "rename it")
    return None


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
    try:
        with open(info.abspath, "rb", buffering=0) as handle:  # noqa: PTH123 - one read
            return handle.readall()
    except OSError as exc:
        return Problem(info.path, None, f"cannot read: {exc.strerror or exc}")


def read_source(info: FileInfo) -> Source | Problem:
    data = read_bytes(info)
    return data if isinstance(data, Problem) else decode(data, info.path, info.rel)


def read_named(path: Path, content_dir: Path, shown: str) -> Source | Problem:
    """A brief file named on the command line (`feeder check --explain`), with its path
    relative to the content folder when inside it, else its name."""
    try:
        rel = path.resolve().relative_to(content_dir.resolve()).as_posix()
    except (ValueError, OSError):
        rel = path.name
    try:
        return decode(path.read_bytes(), shown, rel)
    except OSError as exc:
        return Problem(shown, None, f"cannot read: {exc.strerror or exc}")


def read_image_infos(infos: Iterable[FileInfo]) -> dict[str, ImageInfo | None]:
    """The header of each picture among `infos` by its path in the content folder, reading
    only the bytes feeder.images asks for (None: not a picture it knows, or unreadable)."""
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


def read_templates(root: Path) -> dict[str, str]:
    """The publisher's page templates, by path in `templates/` of the project folder `root`.

    `templates/` obeys the rules of the content folder (see `_walk`), and a FIFO or a device
    there is an error too. Raises ConfigError listing every file that cannot be read as UTF-8.
    """
    folder = root / TEMPLATES_FOLDER
    if not folder.is_dir():
        return {}
    templates: dict[str, str] = {}
    problems: list[Problem] = []
    for shown, rel, info in _walk(str(folder), TEMPLATES_FOLDER, "templates"):
        if isinstance(info, str):
            refused = info
        elif not stat.S_ISREG(info.st_mode):
            refused = "not a regular file (a FIFO, socket or device); a template must be a file"
        else:
            try:
                templates[rel] = (folder / rel).read_text(encoding="utf-8-sig")
                continue
            except UnicodeDecodeError as exc:
                refused = (f"cannot read template: not valid UTF-8 ({exc.reason} at byte "
                           f"{exc.start})")
            except OSError as exc:
                refused = f"cannot read template: {exc.strerror or exc}"
        problems.append(Problem(shown, None, refused))
    if problems:
        raise ConfigError(problems)
    return templates


def folders_problem(root: Path, content: Path, output: Path, cache: Path) -> str | None:
    """Why the output folder (or the cache folder) cannot be where the settings put it, or
    None: a build replaces what it finds in those, so neither may hold the project's files."""
    def real(path: Path) -> Path:
        return Path(os.path.realpath(path))  # a loop of links raises nothing here

    root, content, output, cache = real(root), real(content), real(output), real(cache)
    if output == content:
        return "content_dir and output_dir must be different folders"
    home = Path("~").expanduser()
    names = {Path(output.anchor): "the file system root", real(home): "your home folder",
             root: "the project folder"}
    if output in names:
        return (f"output_dir is {names[output]} ({output.as_posix()}); a build replaces the "
                "files of its output folder: name a folder of its own, such as public")
    if root.is_relative_to(output):
        return (f"output_dir {output.as_posix()} holds the project folder; a build replaces "
                "the files of its output folder: name a folder of its own, such as public")
    if content.is_relative_to(output) or output.is_relative_to(content):
        return "output_dir and content_dir must not be inside one another"
    if cache.is_relative_to(output) or output.is_relative_to(cache):
        return ("cache_dir and output_dir must not be inside one another (the cache would be "
                "published, or the output taken for the cache)")
    return None


def read_toml(path: Path, display: str) -> tuple[dict[str, Any], str] | None:
    """A TOML settings file, parsed, and its text; None when there is none. ConfigError with
    the line of a mistake, or when something that is not a file is there (a folder, a FIFO, a
    link to nothing): never a silent fall-back to the defaults, nor a wait on a FIFO."""
    if not path.is_file():
        if os.path.lexists(path):
            raise ConfigError([Problem(display, None, "is not a regular file; feeder reads its "
                                                      "settings from this file: make it one, "
                                                      "or remove it")])
        return None
    try:
        text = path.read_text(encoding="utf-8-sig")
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigError([Problem(display, None, f"cannot read settings: {exc}")]) from None
    try:
        return tomllib.loads(text), text
    except RecursionError:
        raise ConfigError([Problem(display, None, "invalid TOML: nested too deeply")]) from None
    except tomllib.TOMLDecodeError as exc:
        match = re.search(r"\(at line (\d+), column \d+\)", str(exc))
        line = int(match.group(1)) if match else None
        message = re.sub(r"\s*\(at line \d+, column \d+\)", "", str(exc))
        raise ConfigError([Problem(display, line, f"invalid TOML: {message}")]) from None
