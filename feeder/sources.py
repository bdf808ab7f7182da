"""Finding and reading brief files (and the page templates): the only place feeder reads
content from disk.

`scan_content` lists the brief files (sorted, hidden ones skipped, links that leave the
content folder refused) with their size and modification time, so that a cache can skip the
files that did not change; `read_source` reads one of them as text.
"""

from __future__ import annotations

import errno
import os
import re
import stat
import sys
import unicodedata
from collections.abc import Callable, Iterable
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
"""The folder of the project whose files replace the package's page templates of the same name
(here, not in pages.py, so that reading it does not import Jinja2)."""


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
            refused = refuse_entry(entry, root, "content") or (
                name_problem(name) if name.endswith(BRIEF_SUFFIXES) or _is_dir(entry) else None)
            if refused is not None:
                problems.append(Problem(display(entry.path), None, refused))
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
            elif stat.S_ISREG(info.st_mode):
                record = FileInfo(entry_rel, top, base, info.st_size, info.st_mtime_ns,
                                  info.st_ino)
                refused = _take(record, max_bytes, found, assets)
                if refused is not None:
                    problems.append(Problem(display(entry.path), None, refused))

    walk(top := str(content_dir), "", frozenset({str(root)}))
    return tuple(found), tuple(problems)


def _take(record: FileInfo, max_bytes: int, found: list[FileInfo],
          assets: list[FileInfo] | None) -> str | None:
    """Add a regular file of the content folder to the brief files `found` or to `assets`;
    why it is refused, or None."""
    if not record.rel.endswith(BRIEF_SUFFIXES):
        if assets is not None:
            assets.append(record)
        return None
    if record.size > max_bytes:
        return (f"file is {record.size:,} bytes, over the limit of {max_bytes:,} "
                "(setting max_brief_bytes)")
    found.append(record)
    return None


def _is_dir(entry: os.DirEntry[str]) -> bool:
    try:
        return entry.is_dir()
    except OSError:
        return False


def refuse_entry(entry: os.DirEntry[str], root: Path, folder: str) -> str | None:
    """Why the file or folder `entry` of the `folder` folder (whose real path is `root`)
    must not be read, or None: a symbolic link that loops, or that leads out of the folder."""
    if not entry.is_symlink():
        return None
    try:
        os.stat(entry.path)  # noqa: PTH116 - the entry's own path
    except OSError as exc:
        if exc.errno == errno.ELOOP:
            return ("symbolic link loop (it leads back to itself through links); "
                    "remove it or point it at a file")
    if not Path(os.path.realpath(entry.path)).is_relative_to(root):
        return f"symbolic link points outside the {folder} folder; refusing to read it"
    return None


def name_problem(name: str) -> str | None:
    """Why the file or folder name `name` cannot be published, or None: it is not valid
    UTF-8 (os.fsdecode keeps such bytes as lone surrogates), or holds a control character
    (a newline, a tab, an escape)."""
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


def read_templates(root: Path) -> dict[str, str]:
    """The publisher's page templates: every file in `templates/` of the project folder,
    by its path in the folder.

    `root` is the project folder. `templates/` obeys the rules of the content folder:
    hidden files are skipped; a symbolic link that loops or leads out of the folder, a FIFO,
    a device or a name that is not printable UTF-8 is an error naming it. Raises ConfigError
    listing every such file, and every file that cannot be read as UTF-8 text.
    """
    folder = root / TEMPLATES_FOLDER
    if not folder.is_dir():
        return {}
    root = Path(os.path.realpath(folder))
    templates: dict[str, str] = {}
    problems: list[Problem] = []

    def walk(path: str, rel: str, seen: frozenset[str]) -> None:
        try:
            entries = sorted(os.scandir(path), key=lambda e: e.name)
        except OSError as exc:
            problems.append(Problem(f"{TEMPLATES_FOLDER}/{rel}".rstrip("/"), None,
                                    f"cannot list folder: {exc.strerror or exc}"))
            return
        for entry in entries:
            name, shown = entry.name, f"{TEMPLATES_FOLDER}/{rel}{entry.name}"
            if name.startswith("."):
                continue
            refused = refuse_entry(entry, root, "templates") or name_problem(name)
            if refused is None:
                refused = _read(entry, rel + name, templates, walk, seen)
            if refused is not None:
                problems.append(Problem(shown, None, refused))

    walk(str(folder), "", frozenset({str(root)}))
    if problems:
        raise ConfigError(problems)
    return templates


def _read(entry: os.DirEntry[str], name: str, templates: dict[str, str],
          walk: Callable[[str, str, frozenset[str]], None], seen: frozenset[str]) -> str | None:
    """Read the template (or the folder of templates) `entry`; why not, or None."""
    try:
        mode = entry.stat().st_mode
        if stat.S_ISDIR(mode):
            real = os.path.realpath(entry.path)
            if real not in seen:
                walk(entry.path, name + "/", seen | {real})
            return None
        if not stat.S_ISREG(mode):
            return "not a regular file (a FIFO, socket or device); a template must be a file"
        with open(entry.path, encoding="utf-8-sig") as handle:  # noqa: PTH123
            templates[name] = handle.read()
    except UnicodeDecodeError as exc:
        return f"cannot read template: not valid UTF-8 ({exc.reason} at byte {exc.start})"
    except OSError as exc:
        return f"cannot read template: {exc.strerror or exc}"
    return None


def folders_problem(root: Path, content: Path, output: Path, cache: Path | None) -> str | None:
    """Why the output folder (or the cache folder) cannot be where the settings put it, or
    None: a build replaces what it finds in those, so neither may hold the project's files."""
    def real(path: Path) -> Path:
        return Path(os.path.realpath(path))  # a loop of links raises nothing here

    root, content, output = real(root), real(content), real(output)
    cache = real(cache) if cache else None
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
    if cache is not None and (cache.is_relative_to(output) or output.is_relative_to(cache)):
        return ("cache_dir and output_dir must not be inside one another (the cache would be "
                "published, or the output taken for the cache)")
    return None


def settings_file_exists(path: Path, display: str) -> bool:
    """Whether the settings file `path` exists; ConfigError when something that is not a
    file is there (a folder, a FIFO, a link to nothing): never a silent fall-back to the
    defaults, nor a wait on a FIFO."""
    if path.is_file():
        return True
    if os.path.lexists(path):
        raise ConfigError([Problem(display, None, "is not a regular file; feeder reads its "
                                                  "settings from this file: make it one, or "
                                                  "remove it")])
    return False


def read_toml(path: Path, display: str) -> tuple[dict[str, Any], str]:
    """A TOML settings file, parsed, and its text; ConfigError with the line of a mistake."""
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
