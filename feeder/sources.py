"""Finding and reading brief files (and the page templates): the only place feeder reads
content from disk.

`scan_content` lists the brief files (sorted, hidden ones skipped, links that leave the
content folder refused) with their size and modification time, so that a cache can skip the
files that did not change; `read_source` reads one of them as text.
"""

from __future__ import annotations

import errno
import os
import stat
import unicodedata
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import NamedTuple

from feeder.errors import ConfigError, Problem

BRIEF_SUFFIXES = (".md", ".markdown", ".txt")
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


@dataclass(frozen=True, slots=True)
class Source:
    """The text of one brief file: UTF-8 decoded, BOM removed, line endings made `\\n`."""

    path: str
    rel: str
    text: str


def scan_content(
    content_dir: Path, display_root: Path, max_bytes: int
) -> tuple[tuple[FileInfo, ...], tuple[Problem, ...]]:
    """Every brief file under `content_dir`, sorted by relative path, and the problems found.

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
                continue
            if not stat.S_ISREG(info.st_mode) or not name.endswith(BRIEF_SUFFIXES):
                continue
            if info.st_size > max_bytes:
                problems.append(Problem(display(entry.path), None,
                                        f"file is {info.st_size:,} bytes, over the limit of "
                                        f"{max_bytes:,} (setting max_brief_bytes)"))
                continue
            found.append(FileInfo(entry_rel, top, base, info.st_size, info.st_mtime_ns,
                                  info.st_ctime_ns, info.st_ino))

    walk(top := str(content_dir), "", frozenset({str(root)}))
    return tuple(found), tuple(problems)


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
