"""The build cache: what a rebuild may skip, and why skipping cannot change the output.

It lives in `cache_dir` (default `.feeder-cache/` in the project folder) and remembers:

- `parsed/NN`: each brief file parsed (the `Brief` without its Markdown, and its problems),
  keyed by its path and the SHA-256 of its bytes, under the settings it was parsed with;
- `bodies/XX/<key>`: each brief's rendered HTML in a file of its own, keyed by everything
  `render()` reads: the Markdown, the brief's URL and `allow_raw_html` (so it survives a
  change of title or feed size). Entries carry only the key (feeder.body.StoredBody): an
  output reads the HTML when it is made, so a build holds in memory only what it renders,
  and a rebuild reads only the HTML of the outputs that changed;
- `known` and `known-changes`: every valid brief (`site.Candidate`: with its id, URL, tags
  as spelled, the key of its HTML and the digest of its entry) as a build had it, by file
  with the SHA-256 of its bytes, and the changes since; a rebuild takes the brief of every
  unchanged file from there, without looking it up among the parsed briefs or decoding it
  (`BuildCache.known`), and writes only what changed (`BuildCache.keep_briefs`);
- `state`: the last build: the size, times and inode of every brief file (so that an
  unchanged file is not even read), the window of `now` in which the same briefs are
  published, the problems reported, and every output file as it was left, with the key of
  what it was made from (so that an output whose inputs did not change is not rendered and
  not read). A build that finds all of that unchanged, `now` in the same window, and the
  manifest as the last build left it (which had left it as it found it) would do exactly
  what the last one did: it replays its result without parsing, planning or importing
  anything that renders (`BuildCache.replay`).

Every file starts with a header naming the format, the environment (a digest of feeder's own
source files, of Python and of the versions of the libraries that shape the output, so that
any code change invalidates it even without a version bump) and, for `state`, `parsed` and
`known`, a digest of the settings; then the SHA-256 of its payload, which is `marshal`led
plain data (no pickle: nothing read from the cache can run code). Anything that does not match is
ignored and rewritten, never trusted. Files are replaced atomically.

Skipping is safe because everything cached is a pure function of its key: parsing reads the
file and the settings, rendering its Markdown and URL, and an output file its `Feed` and the
settings. A brief file counts as unchanged when its size, modification and change times and
inode are those recorded, unless it was modified within `RACY_NS` of the build that recorded
it (then its bytes are hashed again, as git does for "racily clean" files).
"""

from __future__ import annotations

import contextlib
import errno
import hashlib
import marshal
import os
import re
import signal
import struct
import sys
import weakref
from collections import OrderedDict
from collections.abc import Callable, Collection, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, fields, replace
from datetime import datetime, timedelta, timezone, tzinfo
from functools import cache, lru_cache
from itertools import islice, product
from operator import attrgetter
from pathlib import Path
from types import CodeType
from typing import TYPE_CHECKING, Any, BinaryIO, NamedTuple, Protocol

from feeder.body import Rendered, StoredBody, register_store
from feeder.errors import ContentError, Problem
from feeder.output import MANIFEST, can_fork, temp_file
from feeder.sources import FileInfo, decode, read_bytes, scan_content

if TYPE_CHECKING:
    from feeder.body import Body, Sizes
    from feeder.brief import Brief
    from feeder.config import Config
    from feeder.site import Candidate, Dated, Entry, Feed

FORMAT = 5
_MAGIC = b"feeder-cache"
SHARDS = 64
"""Parsed briefs are spread over this many files, so that a rebuild after one
edit rewrites two or three small files rather than one large one."""
RACY_NS = 2_000_000_000
"""A file modified this close to (or after) the start of the build that recorded it is
hashed again next time: its timestamp could hide a second edit in the same clock tick
(file systems keep times in ticks of up to 2 s)."""
KNOWN = "known"
"""The file of the valid briefs of a build (see BuildCache.known)..."""
KNOWN_CHANGES = "known-changes"
"""...and the changes since (BuildCache.keep_briefs)."""
KNOWN_REWRITE = 8
"""The file of known briefs is written whole again once the changes since hold more than
one record for this many in it."""
ENTRIES = "entries"
"""The XML and JSON of the entries of the feeds the last build wrote (see
feeds.kept_entries): most of what a rebuild writes again."""
ENTRIES_BYTES = 8 << 20
"""...at most this much of it (a rebuild's few feeds; of a cold build's every feed, the
newest entries)."""
OUTPUT_LIBRARIES = ("markdown", "nh3", "feedgen", "PyYAML", "python-dateutil", "lxml",
                    "Jinja2", "MarkupSafe", "tzdata")
"""Libraries whose version can change feeder's output."""


class Progress(Protocol):
    """Hears how far a long stage of the build is (the CLI shows a progress bar)."""

    def start(self, label: str, total: int) -> None: ...
    def advance(self, count: int = 1) -> None: ...
    def finish(self) -> None: ...


# --- keys ----------------------------------------------------------------------------------

def _normal(name: str) -> str:
    return re.sub(r"[-_.]+", "_", name).lower()


def installed_versions(names: Iterable[str]) -> dict[str, str]:
    """The installed version of each distribution in `names` that is installed.

    Read from the `*.dist-info` folder names on `sys.path`, as importlib.metadata would,
    but without importing it (a build with nothing to do imports as little as it can).
    """
    wanted = {_normal(name) for name in names}
    found: dict[str, str] = {}
    for entry in sys.path:
        try:
            listing = os.scandir(entry or ".")
        except OSError:
            continue
        with listing:
            for item in listing:
                if item.name.endswith((".dist-info", ".egg-info")):
                    name, _, version = item.name.rsplit(".", 1)[0].partition("-")
                    key = _normal(name)
                    if key in wanted and key not in found:
                        found[key] = version
    return found


@cache
def environment_digest() -> str:
    """A digest of everything besides the settings that shapes the output: feeder's own
    files (code and templates), Python, and the versions of the libraries it uses."""
    digest = hashlib.sha256(f"{FORMAT}\0{sys.version}\0{marshal.version}\0".encode())
    package = Path(__file__).resolve().parent
    for path in sorted(package.rglob("*")):
        if "__pycache__" in path.parts or not path.is_file() or path.suffix == ".pyc":
            continue
        data = path.read_bytes()
        digest.update(f"{path.relative_to(package).as_posix()}\0{len(data)}\0".encode())
        digest.update(data)
    for name, version in sorted(installed_versions(OUTPUT_LIBRARIES).items()):
        digest.update(f"{name}\0{version}\0".encode())
    return digest.hexdigest()


def settings_digest(config: Config, *extra: object) -> str:
    """A digest of every setting (and of `extra`, e.g. the options of the build)."""
    return hashlib.sha256(repr((config, *extra)).encode()).hexdigest()


def render_key(summary: str, content: str, url: str, allow_raw_html: bool) -> bytes:
    """The key of a rendering: everything `render.render` reads."""
    digest = hashlib.sha256(b"1" if allow_raw_html else b"0")
    for text in (url, summary, content):
        data = text.encode("utf-8", "surrogatepass")
        digest.update(len(data).to_bytes(8, "little"))
        digest.update(data)
    return digest.digest()[:20]


def _record_key(rel: str, sha: bytes) -> bytes:
    return hashlib.sha256(rel.encode("utf-8", "surrogatepass") + b"\0" + sha).digest()[:20]


# --- plain data in and out of marshal -------------------------------------------------------

class _Uncacheable(Exception):
    """A value the cache cannot store faithfully; it is then simply not cached."""


def _encode_zone(zone: tzinfo | None) -> Any:
    if zone is None:
        return None
    if type(zone).__name__ == "ZoneInfo":
        return ("zone", zone.key)  # type: ignore[attr-defined]
    if type(zone) is timezone:
        offset = zone.utcoffset(None)
        name = zone.tzname(None)
        return ("fixed", offset.days, offset.seconds, offset.microseconds, name)
    if type(zone).__module__.startswith("dateutil.tz") and type(zone).__name__ in (
            "tzutc", "tzoffset"):
        offset = zone.utcoffset(None) or timedelta()
        return ("dateutil", type(zone).__name__, zone.tzname(None),
                offset.days * 86400 + offset.seconds)
    raise _Uncacheable(repr(zone))


@lru_cache(maxsize=256)
def _decode_zone(code: Any) -> tzinfo | None:
    """The zone of a code (kept: dates of one zone share it, as dates parsed from text do
    when the zone has a name; a fixed offset behaves the same whichever object holds it)."""
    if code is None:
        return None
    kind = code[0]
    if kind == "zone":
        from zoneinfo import ZoneInfo

        return ZoneInfo(code[1])
    if kind == "fixed":
        offset = timedelta(days=code[1], seconds=code[2], microseconds=code[3])
        plain = timezone(offset)
        return plain if plain.tzname(None) == code[4] else timezone(offset, code[4])
    if kind == "dateutil":
        from dateutil import tz

        zone: tzinfo = tz.tzutc() if code[1] == "tzutc" else tz.tzoffset(code[2], code[3])
        return zone
    raise ValueError(f"unknown time zone code {kind!r}")


def _encode(value: Any) -> Any:
    """Plain values stay; a tuple becomes a list; a datetime a tagged tuple."""
    if value is None or isinstance(value, str | int | float):
        return value
    if isinstance(value, tuple):
        return [_encode(item) for item in value]
    if isinstance(value, datetime):
        return _encode_moment(value)
    raise _Uncacheable(type(value).__name__)


_MOMENT_CODES: dict[tuple[datetime, int, int], tuple[tzinfo | None, Any]] = {}
"""Datetimes encoded, by their local time, fold and zone (the object, kept with the code so
that its id stays its own)."""
_MOMENTS_KEPT = 100_000
"""At most this many are kept (a long `feeder serve`): then the memo starts again."""


def _encode_moment(value: datetime) -> Any:
    """A datetime as a tagged tuple (briefs share dates: each is encoded once, and the one
    tuple shared, as marshal then writes it once)."""
    zone = value.tzinfo
    local = value.replace(tzinfo=None)
    key = (local, value.fold, id(zone))
    found = _MOMENT_CODES.get(key)
    if found is not None and found[0] is zone:  # the zone itself, not one with its id
        return found[1]
    code = ("datetime", local.isoformat(), value.fold, _encode_zone(zone))
    again = _decode(code)
    if again != value or repr(again) != repr(value):  # only what comes back the same
        raise _Uncacheable(repr(value))
    if len(_MOMENT_CODES) >= _MOMENTS_KEPT:
        _MOMENT_CODES.clear()
    _MOMENT_CODES[key] = (zone, code)
    return code


def _decode(value: Any) -> Any:
    if value is None or type(value) is str:
        return value
    if isinstance(value, list):
        return tuple(_decode(item) for item in value)
    if isinstance(value, tuple):
        if value[0] != "datetime":
            raise ValueError("unknown tagged value")
        return datetime.fromisoformat(value[1]).replace(tzinfo=_decode_zone(value[3]),
                                                        fold=value[2])
    if isinstance(value, int | float):
        return value
    raise ValueError(f"unexpected {type(value).__name__} in the cache")


def _encode_problem(problem: Problem) -> tuple[str, int | None, str, str]:
    return (problem.path, problem.line, problem.message, problem.severity)


def _decode_problem(code: Any) -> Problem:
    path, line, message, severity = code
    if not (isinstance(path, str) and isinstance(message, str)
            and (line is None or isinstance(line, int)) and severity in ("error", "warning")):
        raise ValueError("bad problem in the cache")
    return Problem(path, line, message, severity)


_MARKDOWN_FIELDS = ("summary", "content")
"""Fields of Brief the cache does not keep: past parsing, only their rendering is needed."""


@cache
def _brief_fields() -> tuple[str, ...]:
    from feeder.brief import Brief

    return tuple(f.name for f in fields(Brief))


def _encode_brief(brief: Brief) -> list[Any]:
    return [None if name in _MARKDOWN_FIELDS else _encode(getattr(brief, name))
            for name in _brief_fields()]


_MOMENTS: dict[Any, datetime] = {}


def _moment(code: Any) -> datetime:
    """A datetime from the cache (the same dates, in the same zones, come back often: each
    is decoded once and kept, as datetimes are immutable)."""
    try:
        return _MOMENTS[code]
    except KeyError:
        pass
    except TypeError:
        raise ValueError("bad date in the cache") from None
    moment = _decode(code)
    if not isinstance(moment, datetime):
        raise ValueError("bad date in the cache")
    _MOMENTS[code] = moment
    return moment


def _text(value: Any) -> str:
    if type(value) is not str:
        raise ValueError("bad text in the cache")
    return value


def _texts(value: Any) -> tuple[str, ...]:
    if type(value) is not list or not all(type(item) is str for item in value):
        raise ValueError("bad list of texts in the cache")
    return tuple(value)


def _optional(decode: Callable[[Any], Any]) -> Callable[[Any], Any]:
    return lambda value: None if value is None else decode(value)


def _flag(value: Any) -> bool:
    if type(value) is not bool:
        raise ValueError("bad flag in the cache")
    return value


def _number(value: Any) -> int:
    if type(value) is not int:
        raise ValueError("bad number in the cache")
    return value


_DECODERS: dict[str, Callable[[Any], Any]] = {
    "str": _text, "str | None": _optional(_text), "datetime": _moment,
    "datetime | None": _optional(_moment), "tuple[str, ...]": _texts, "bool": _flag,
    "int | None": _optional(_number)}
"""How each type of Brief's fields comes back from the cache (by its annotation)."""


@cache
def _brief_decoders() -> tuple[Callable[[Any], Any], ...]:
    from feeder.brief import Brief

    return tuple((lambda _: "") if f.name in _MARKDOWN_FIELDS else
                 _DECODERS.get(str(f.type), _decode) for f in fields(Brief))


def _decode_brief(code: Any) -> Brief:
    from feeder.brief import Brief

    decoders = _brief_decoders()
    if type(code) is not list or len(code) != len(decoders):
        raise ValueError("bad brief in the cache")
    return Brief(*[decode(item) for decode, item in zip(decoders, code, strict=True)])


def _encode_candidate(brief: Candidate, digest: bytes, tags: tuple[str, ...],
                      shared: dict[Any, Any]) -> tuple[Any, ...]:
    """A valid brief as `known` gives it back, with the digest of its entry (b"" when it is
    not published) and the name and slug of each tag that digest was made with.

    Equal dates and texts of tags are one object in `shared`: marshal then writes each once,
    and reading the file makes each once."""
    body = brief.body
    if not isinstance(body, StoredBody):
        raise _Uncacheable

    def share(value: Any) -> Any:
        return shared.setdefault(value, value)

    def texts(values: tuple[str, ...]) -> Any:
        return share(tuple(map(share, values)))

    return (brief.path, brief.title, share(_encode(brief.date)),
            None if brief.updated is None else share(_encode(brief.updated)), texts(brief.tags),
            brief.slug, brief.author, brief.draft, brief.id_line, brief.id, brief.url,
            body.digest, body.sizes, body.where, digest, texts(tags))


_CANDIDATE_TYPES: tuple[Any, ...] = (
    str, str, tuple, (tuple, type(None)), tuple, str, (str, type(None)), bool, (int, type(None)),
    str, str, bytes, tuple, (bytes, type(None)), bytes, tuple)
"""The type of each item of an encoded candidate (checked before any is used)..."""
_CANDIDATE_SIGNATURES = frozenset(product(*(
    types if isinstance(types, tuple) else (types,) for types in _CANDIDATE_TYPES)))
"""...as the exact types it may have, all at once (marshal makes no subclasses)."""
_TWO_INTS = (int, int)
_INT = {int}


@cache
def _candidate_class() -> type[Candidate]:
    from feeder.site import Candidate  # not before it is needed (see BuildCache.replay)

    return Candidate


def _decode_candidate(code: Any, bodies: BodyStore, info: FileInfo) -> Candidate:
    if type(code) is not tuple or tuple(map(type, code)) not in _CANDIDATE_SIGNATURES:
        raise ValueError("bad brief in the cache")
    (path, title, date, updated, tags, slug, author, draft, id_line, entry_id, url, key,
     sizes, where, digest, digest_tags) = code
    if not (tuple(map(type, sizes)) == _TWO_INTS and path == info.path):
        raise ValueError("bad brief in the cache")
    try:  # (joining texts fails unless each is a str)
        "".join(tags), "".join(digest_tags)
    except TypeError:
        raise ValueError("bad brief in the cache") from None
    return _candidate_class()(
        path, title, _moment(date), None if updated is None else _moment(updated), tags, slug,
        author, draft, id_line, entry_id, url, bodies.stored(key, sizes, info, where), digest,
        digest_tags)


# --- files ----------------------------------------------------------------------------------

def _header(kind: str, *keys: str) -> bytes:
    return b"\0".join([_MAGIC, str(FORMAT).encode(), kind.encode(), *(k.encode() for k in keys)])


def _load(path: str | Path, header: bytes) -> Any:
    """The payload of a cache file, or None when it is missing, damaged or not ours."""
    return _load_signed(path, header)[0]


def _load_signed(path: str | Path, header: bytes) -> tuple[Any, bytes | None]:
    """The payload of a cache file and its SHA-256 (None, None when it is missing, damaged
    or not ours)."""
    try:
        with open(path, "rb", buffering=0) as handle:  # noqa: PTH123 - unbuffered: fewer calls
            data = handle.readall()
    except OSError:
        return None, None
    value = _decoded(data, header)
    return (None, None) if value is None else (value, data[len(header) + 1:len(header) + 33])


def _decoded(data: bytes, header: bytes) -> Any:
    """The payload of the bytes of a cache file (or of a record of a pack: see BodyStore),
    or None when they are damaged or not ours."""
    start = len(header) + 1 + 32
    if len(data) < start + 1 or data[:len(header) + 1] != header + b"\n":
        return None
    payload = memoryview(data)[start:]
    if hashlib.sha256(payload).digest() != data[len(header) + 1:start]:
        return None
    try:
        if payload[0] != _SPLIT:
            return marshal.loads(payload[1:])  # noqa: S302 - our header and SHA-256 matched
        value: dict[Any, Any] = {}
        at = 1
        while at < len(payload):  # each chunk: its length, then a list of (key, value)
            size = int.from_bytes(payload[at:at + 8], "little")
            value.update(marshal.loads(payload[at + 8:at + 8 + size]))  # noqa: S302
            at += 8 + size
        return value
    except (ValueError, EOFError, TypeError):
        return None


_SPLIT = 1
"""The first byte of a payload written a few items at a time (see _dump); 0 for one
marshal."""


def _encoded(header: bytes, value: Any) -> bytes:
    """The bytes of a cache file holding `value` in one marshal (as _dump writes it)."""
    payload = b"\0" + marshal.dumps(value, 4)
    return b"".join([header, b"\n", hashlib.sha256(payload).digest(), payload])


def _dump(path: Path, header: bytes, value: Any, *, split: int = 0) -> None:
    """Replace the cache file `path` atomically.

    With `split`, `value` (a dict) is written `split` items at a time (see _dump_items).
    Not flushed to disk (fsync): a file cut short by a power loss fails its checksum and is
    rebuilt, which is all a cache needs.
    """
    if split:
        _dump_items(path, header, value.items(), split)
        return
    with _replacing(path) as handle:
        handle.write(_encoded(header, value))


def _dump_items(path: Path, header: bytes, items: Iterable[tuple[Any, Any]],
                split: int) -> None:
    """Replace the cache file `path` with a dict of `items`, written `split` at a time, so
    that marshal never holds the whole of a large state at once (it grows its buffer as it
    goes: a state of 100,000 briefs took several times its size), nor the caller, when the
    items are made as they are written."""
    with _replacing(path) as handle:
        handle.write(header + b"\n")
        handle.write(bytes(32))  # the SHA-256 of the payload, once it is known
        digest = hashlib.sha256(bytes([_SPLIT]))
        handle.write(bytes([_SPLIT]))
        iterator = iter(items)
        while part := list(islice(iterator, split)):
            data = marshal.dumps(part, 4)
            chunk = len(data).to_bytes(8, "little") + data
            handle.write(chunk)
            digest.update(chunk)
        handle.seek(len(header) + 1)
        handle.write(digest.digest())


@contextlib.contextmanager
def _replacing(path: Path) -> Iterator[BinaryIO]:
    """A file to write that replaces `path` once written (atomically), or is removed."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, temp = temp_file(os.fspath(path.parent), f".{path.name}.", ".tmp")
    try:
        with os.fdopen(fd, "wb") as handle:
            yield handle
        os.replace(temp, path)  # noqa: TID251, PTH105 - the cache, not the output folder
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(temp)  # noqa: PTH108
        raise


def compiled_templates(folder: Path, env: str, *, read: bool) -> Any:
    """A Jinja2 bytecode cache in `folder`: the page templates as an earlier build compiled
    them (compiling them takes 20 ms a process, loading them 1). Each is a cache file like
    the others (`env`, a digest of Python, of the libraries' versions and of feeder, in its
    header; the SHA-256 of its payload; `marshal`, not Jinja2's own format, which reads its
    checksum with pickle), holding the checksum of the template's source with the code, so
    that a changed template is compiled again. A file that is damaged or cannot be written
    costs only the compiling; with `read` False (`--clean`) nothing is loaded. (The code
    there is run, as Python's own `__pycache__` is: the folder is the project's.)"""
    import jinja2
    from jinja2.bccache import Bucket

    header = _header("template", env)

    class CompiledTemplates(jinja2.BytecodeCache):
        def load_bytecode(self, bucket: Bucket) -> None:
            found = _load(folder / bucket.key, header) if read else None
            if isinstance(found, tuple) and len(found) == 2 and found[0] == bucket.checksum \
                    and isinstance(found[1], CodeType):
                bucket.code = found[1]

        def dump_bytecode(self, bucket: Bucket) -> None:
            with contextlib.suppress(OSError):
                _dump(folder / bucket.key, header, (bucket.checksum, bucket.code))

    return CompiledTemplates()


_INPUT = struct.Struct("<QqqQ")
"""A brief file's record in the state: its (size, mtime_ns, ctime_ns, inode) packed, then
the SHA-256 of its bytes (32) and 1 if it was racy (see RACY_NS): plain bytes, which load,
compare and take memory far better than tuples of numbers (a state lists every file)."""
_INPUT_SIZE = _INPUT.size + 33
_OUTPUT = struct.Struct("<QqQ")
"""An output file's (size, mtime_ns, inode) packed; its record adds the key of its inputs."""


def _info_stat(info: FileInfo) -> bytes:
    return _INPUT.pack(info.size, info.mtime_ns, info.ctime_ns, info.ino)


def _output_stamp(path: str) -> bytes | None:
    """An output file's packed (size, mtime_ns, inode): feeder wrote it, so its ctime says
    nothing more (and a rename changes it). None when it is missing."""
    try:
        info = os.stat(path)  # noqa: PTH116
    except OSError:
        return None
    return _OUTPUT.pack(info.st_size, info.st_mtime_ns, info.st_ino)


def _hash_file(path: Path | str) -> bytes | None:
    """SHA-256 of a file's bytes (read a block at a time: a manifest can be tens of MB)."""
    try:
        digest = hashlib.sha256()
        with open(path, "rb") as handle:  # noqa: PTH123
            while block := handle.read(1 << 20):
                digest.update(block)
        return digest.digest()
    except OSError:
        return None


def _micros(moment: datetime) -> int:
    return (moment - datetime(1970, 1, 1, tzinfo=timezone.utc)) // timedelta(microseconds=1)


# --- what one brief file gives --------------------------------------------------------------

class Parsed(NamedTuple):
    """One brief file read: its brief (None with errors), problems and, when known, its HTML."""

    info: FileInfo
    sha: bytes | None
    """SHA-256 of its bytes (None when it could not be read)."""
    brief: Brief | None
    """Without its Markdown (summary and content empty): past parsing, only the rendering
    is needed, and the Markdown is most of a brief's memory."""
    problems: tuple[Problem, ...]
    rendered: Body | None
    """Its HTML (in the build cache when it has one: see BodyStore)."""
    html_key: bytes | None = None
    """The render_key of the brief."""
    html: Rendered | None = None
    """Its HTML itself, when `rendered` is a StoredBody and the process that parsed it
    hands it over (see BodyStore.hold)."""


def brief_url_of(config: Config, brief: Brief) -> str:
    from feeder.site import brief_url

    return brief_url(config, brief)


def render_brief(config: Config, brief: Brief) -> Rendered:
    """The HTML of a freshly parsed brief (the one way every path renders it)."""
    from feeder.render import render

    return render(brief.summary, brief.content, brief_url_of(config, brief),
                  allow_raw_html=config.allow_raw_html)


def parse_file(info: FileInfo, config: Config, *, bodies: BodyStore | None = None) -> Parsed:
    """Read, hash, decode, parse and (when it is valid) render one brief file.

    The HTML comes from `bodies` when it holds it already, and goes there otherwise (when
    it can be written): then the Parsed carries only its key.
    """
    from feeder.brief import parse_brief

    data = read_bytes(info)
    if isinstance(data, Problem):
        return Parsed(info, None, None, (data,), None)
    sha = hashlib.sha256(data).digest()
    source = decode(data, info.path, info.rel)
    if isinstance(source, Problem):
        return Parsed(info, sha, None, (source,), None)
    brief, problems = parse_brief(source, config)
    if brief is None:
        return Parsed(info, sha, None, problems, None)
    key = render_key(brief.summary, brief.content, brief_url_of(config, brief),
                     config.allow_raw_html)
    body: Body | None = bodies.find(key, info) if bodies is not None else None
    if body is None:
        rendered = render_brief(config, brief)
        body = bodies.put(key, rendered, info) if bodies is not None else rendered
    return Parsed(info, sha, strip_markdown(brief), problems, body, key)


# --- the cache ------------------------------------------------------------------------------

@dataclass(frozen=True, slots=True)
class Replay:
    """What the last build reported, when this one would do exactly the same."""

    problems: tuple[Problem, ...]
    briefs: int
    held_back: int
    feeds: int
    outputs: tuple[str, ...]


class Deferred(Protocol):
    """An output file not made yet: the key of what it is made from, and how to make it.

    `key` is None when the inputs cannot be summed up cheaply: such a file is always made.
    """

    @property
    def key(self) -> bytes | None: ...

    def make(self) -> bytes: ...


@dataclass(frozen=True, slots=True)
class Later:
    """A Deferred made by calling `make`."""

    key: bytes | None
    make: Callable[[], bytes]


PACKS = "packs"
"""The folder of the store's pack files (see BodyStore)."""
_PLACE = struct.Struct("<QI")
"""Where a record is in a pack: its offset and size (the pack's name follows)."""


_MAX_RECORD = 1 << 30
"""More than any brief's HTML (see the setting max_brief_bytes): a larger size is damage."""


def _close_packs(packs: dict[str, int]) -> None:
    for fd in packs.values():
        with contextlib.suppress(OSError):
            os.close(fd)
    packs.clear()


def _rendered(value: Any) -> Rendered | None:
    """The body a cache file or pack record held, if it is one."""
    if not (isinstance(value, tuple) and len(value) == 3
            and all(type(text) is str for text in value)):
        return None
    return Rendered(*value)


_RECENT = 256
"""Bodies a process keeps after reading them: an entry is in several feeds, and each feed
in each published format, made one after another."""
HOLD_ALL_BYTES = 48 << 20
"""A site whose HTML takes at most this much has all of it kept once read (see
BodyStore.room_for): each body is then read once per process."""


class BodyStore:
    """The rendered HTML of every brief: one file each, `<folder>/XX/<rest of the key>`, or,
    for briefs rendered many at a time (`packing`: the worker processes of a large build),
    records appended to one pack file per process, `<folder>/packs/<build>-<pid>`.

    A file or a record holds the three texts (see feeder.body.Rendered) after the header and
    the checksum of every cache file. The process that renders a brief writes it (worker
    processes too); the process that makes an output reads those of its entries: a record by
    the place its StoredBody carries (`where`), else the file of its key. A record or file
    that is damaged or gone is rendered again (into a file of its own). A pack is removed
    once no brief in use has its HTML there. With `write` False (`feeder check`, or a cache
    that cannot be written), fresh HTML stays in memory; with `read` False (`--clean`)
    files already there are not trusted.
    """

    def __init__(self, folder: Path, env: str, config: Config, *, read: bool,
                 write: bool) -> None:
        self.folder = folder
        self.header = _header("body", env)
        self._used_header = _header("used", env)
        self.config = config
        self.read = read and folder.is_dir()
        """Whether `find` looks for files: none can be there when the folder is not (a cold
        build would look in vain for each brief)."""
        self.write = write
        self.name = str(folder)
        self._sources: dict[bytes, FileInfo] = {}
        """Where each body comes from, to render it again if its file is lost meanwhile."""
        self._recent: OrderedDict[bytes, Rendered] = OrderedDict()
        self._keep = _RECENT
        self._folders: set[str] = set()
        """Folders of the store known to exist."""
        self.packing = False
        """Whether `put` appends to this process's pack rather than writing a file."""
        self._build = os.urandom(4).hex()
        self._pack: tuple[int, str, int] | None = None
        """This process's pack being written: (pid, name, fd)."""
        self._pack_size = 0
        self._packs: dict[str, int] = {}
        """Packs open for reading in this process, by name (`os.pread` shares them)."""
        weakref.finalize(self, _close_packs, self._packs)  # `feeder serve` builds again
        register_store(self.name, self.load)

    def _path(self, key: bytes) -> str:
        name = key.hex()
        return os.path.join(self.name, name[:2], name[2:])  # noqa: PTH118

    def stored(self, key: bytes, sizes: Sizes, info: FileInfo,
               where: bytes | None = None) -> StoredBody:
        """The body of `key`, which the store holds (not read now): in a pack at `where`,
        or in the file of its key."""
        self._sources[key] = info
        return StoredBody(key, sizes, self.name, where)

    def use(self, body: Body | None, info: FileInfo) -> bool:
        """Note that this build uses `body` (made by another process); False unless it is in
        the store."""
        if not isinstance(body, StoredBody) or body.store != self.name:
            return False
        self._sources[body.digest] = info
        return True

    def find(self, key: bytes, info: FileInfo) -> StoredBody | None:
        """The body of `key` when a file holds it already (read now, for its sizes). (One in
        a pack is not found by its key: a brief whose file changed but not its HTML, a new
        tag for instance, is then rendered again, into a file of its own.)"""
        found = self._read(key) if self.read else None
        return None if found is None else self.stored(key, found.sizes, info)

    def put(self, key: bytes, rendered: Rendered, info: FileInfo) -> Body:
        """Keep `rendered` in the store: the StoredBody that reads it back, or `rendered`
        itself when it cannot be written."""
        if not self.write:
            return rendered
        texts = (rendered.summary_html, rendered.summary_text, rendered.content_html)
        try:
            where = self._append(_encoded(self.header, texts)) if self.packing else None
            if where is None:
                self._write(key, texts)
        except OSError:  # the build still has the HTML; the cache reports its own failures
            return rendered
        self._hold(key, rendered)  # (it may be asked for next: see BodyStore.hold)
        return self.stored(key, rendered.sizes, info, where)

    def _append(self, record: bytes) -> bytes:
        """Append `record` to this process's pack; where it is: its offset and size, packed,
        then the pack's name."""
        pack = self._pack
        if pack is None or pack[0] != os.getpid():  # the first record of this process
            folder = os.path.join(self.name, PACKS)  # noqa: PTH118
            os.makedirs(folder, exist_ok=True)  # noqa: PTH103
            name = f"{self._build}-{os.getpid()}"
            fd = os.open(os.path.join(folder, name),  # noqa: PTH118
                         os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_APPEND, 0o644)
            pack = self._pack = (os.getpid(), name, fd)
            self._pack_size = 0
        offset = self._pack_size
        view = memoryview(record)
        try:
            while view:
                view = view[os.write(pack[2], view):]
        except OSError:  # a record cut short: the next one goes to a new pack
            self._pack = None
            raise
        self._pack_size = offset + len(record)
        return _PLACE.pack(offset, len(record)) + pack[1].encode()

    def _unpack(self, where: bytes) -> Rendered | None:
        """The body in a pack at `where`, or None when it is gone or damaged."""
        try:
            offset, size = _PLACE.unpack_from(where)
            name = where[_PLACE.size:].decode()
            if size > _MAX_RECORD:
                return None
            fd = self._packs.get(name)
            if fd is None:
                if not name or "/" in name or name.startswith("."):
                    return None
                fd = self._packs[name] = os.open(
                    os.path.join(self.name, PACKS, name), os.O_RDONLY)  # noqa: PTH118
            value = _decoded(os.pread(fd, size, offset), self.header)
        except (OSError, ValueError, struct.error):
            return None
        return _rendered(value)

    def _write(self, key: bytes, texts: tuple[str, str, str]) -> None:
        """Write the file of `key`: straight under its name when there is none (a cold build
        writes thousands, and a rename costs more than the rest), else through a temporary
        file. A file cut short by a crash fails its checksum: it is rendered and written
        again."""
        path = self._path(key)
        folder = os.path.dirname(path)  # noqa: PTH120
        if folder not in self._folders:
            os.makedirs(folder, exist_ok=True)  # noqa: PTH103
            self._folders.add(folder)
        try:
            fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o644)
        except FileExistsError:  # damaged, or written meanwhile: replaced whole
            _dump(Path(path), self.header, texts)
            return
        with os.fdopen(fd, "wb") as handle:
            handle.write(_encoded(self.header, texts))

    def _read(self, key: bytes) -> Rendered | None:
        return _rendered(_load(self._path(key), self.header))

    def load(self, body: StoredBody) -> Rendered:
        """The HTML of `body`, from the store (or rendered again if it is gone)."""
        key = body.digest
        found = self._recent.get(key)
        if found is not None:
            self._recent.move_to_end(key)
            return found
        found = (self._unpack(body.where) if body.where is not None else None) \
            or self._read(key) or self._render_again(key)
        self._hold(key, found)
        return found

    def _hold(self, key: bytes, rendered: Rendered) -> None:
        self._recent[key] = rendered
        if len(self._recent) > self._keep:
            self._recent.popitem(last=False)

    def room_for(self, bodies: Sequence[Body]) -> None:
        """Keep every one of `bodies` once read, if their HTML takes at most HOLD_ALL_BYTES
        (else the last _RECENT read)."""
        size = sum(map(max, map(attrgetter("sizes"), bodies)))
        self._keep = max(_RECENT, len(bodies)) if size <= HOLD_ALL_BYTES else _RECENT
        while len(self._recent) > self._keep:
            self._recent.popitem(last=False)

    def may_hold(self, source_bytes: int) -> bool:
        """Whether the HTML of briefs from files of `source_bytes` in all, rendered in worker
        processes, should come back to this one (see `hold`): when it would be kept
        (HOLD_ALL_BYTES; a brief's HTML takes about as much as its file)."""
        return self.write and source_bytes <= HOLD_ALL_BYTES // 2

    def hold(self, body: Body | None, html: Rendered | None) -> None:
        """Keep `html`, the HTML of `body`, which another process rendered and stored: read
        now, it need not be read from the store by this process or the ones it starts (until
        room_for finds that the site's HTML takes too much to keep)."""
        if html is not None and isinstance(body, StoredBody) and body.store == self.name:
            self._keep = max(self._keep, len(self._recent) + 1)
            self._recent[body.digest] = html

    def _render_again(self, key: bytes) -> Rendered:
        """The HTML of a file removed or damaged during the build: its brief rendered again
        (an error if the brief no longer gives that HTML)."""
        info = self._sources.get(key)
        if info is None:
            raise ContentError([Problem(self.config.display_path(self.folder), None,
                                        "lost a file while feeder was building; build again")])
        parsed = parse_file(info, self.config)
        if parsed.html_key != key or not isinstance(parsed.rendered, Rendered):
            raise ContentError([Problem(info.path, None, "changed while feeder was building; "
                                                         "build again")])
        self.put(key, parsed.rendered, info)
        return parsed.rendered

    def save(self, used: Iterable[tuple[bytes, bytes | None]]) -> None:
        """Remove the files of the bodies that the last build used and this one does not,
        and the packs that hold none it uses; remember the ones it uses. `used` holds the
        key of each body in use and where it is (see StoredBody.where)."""
        record = self.folder / "used"
        keys: set[bytes] = set()
        packs: set[bytes] = set()
        for key, where in used:
            keys.add(key)
            if where is not None:
                packs.add(where[_PLACE.size:])
        folder = self.folder / PACKS
        for pack in sorted(folder.iterdir()) if folder.is_dir() else ():
            if pack.name.encode() not in packs:
                with contextlib.suppress(OSError):
                    pack.unlink()
        now = sorted(keys)
        before = _load(record, self._used_header)  # only ever removes the store's own files
        if isinstance(before, list):
            for key in set(before) - set(now):
                if type(key) is bytes:
                    with contextlib.suppress(OSError):
                        os.unlink(self._path(key))  # noqa: PTH108
        _dump(record, self._used_header, now)
        legacy = self.folder.parent / "html"  # the HTML shards of feeder's first cache
        if legacy.is_dir():
            import shutil  # (once, ever: imported here)

            shutil.rmtree(legacy, ignore_errors=True)


class BuildCache:
    """The cache of one project, for one build (or check).

    `read=False` ignores what is stored (`feeder build --clean`); `write=False` leaves it
    as it is (`feeder check`). A cache that cannot be written is not an error: the build
    goes on and `problems` says why it will be slower next time.
    """

    def __init__(self, config: Config, build_key: object = None, *, read: bool = True,
                 write: bool = True) -> None:
        self.config = config
        self.folder = config.cache_dir or config.root / ".feeder-cache"
        self.write = write
        self.env = environment_digest()
        self.settings = settings_digest(config)
        self.build_key = settings_digest(config, build_key)
        self.problems: list[Problem] = []
        self._state: dict[str, Any] | None = self._load_state() if read else None
        self._read = read
        self._parsed: dict[int, dict[bytes, Any]] = {}
        """The shards of parsed briefs read so far, by number (read when first needed)."""
        self._shard_files: set[int] | None = None
        self._new_parsed: dict[bytes, Any] = {}
        self._used_parsed: set[bytes] = set()
        self._known: dict[str, Any] = {}
        """The valid briefs of the last build, by file (see `known`)."""
        self._files: dict[str, str] = {}
        """The rel of each brief file of this build whose brief the cache may keep, by path;
        the problems of those that have some in `_problems` (encoded)."""
        self._problems: dict[str, Any] = {}
        self._signature: bytes | None = None
        """The SHA-256 of the file of known briefs read (what its changes name)."""
        self._known_rels: set[str] = set()
        self._changed: set[str] = set()
        """The files whose record is in the changes, not in the file of known briefs."""
        self._checked: list[tuple[Any, bytes] | None] = []
        """The record and stat of each file given to `unknown` that is unchanged, for `known`."""
        self._reused: set[str] = set()
        """The briefs of this build that `known` gave, by path..."""
        self._carried: dict[str, Any] = {}
        """...and the records of those that were in the changes (written again as they are,
        unless the brief's entry changed)."""
        self.bodies = BodyStore(self.folder / "bodies", self.env, config, read=read,
                                write=write)
        self._scan: tuple[tuple[FileInfo, ...], tuple[Problem, ...]] | None = None
        self._ref_ns: int | None = None
        self._inputs: dict[str, bytes] = {}
        self._window: tuple[int | None, int | None] = (None, None)
        self._outputs_checked: _OutputCheck | None = None
        self._storing: Child | None = None

    # -- the state of the last build ---------------------------------------------------------

    def _load_state(self) -> dict[str, Any] | None:
        state = _load(self.folder / "state", _header("state", self.env, self.settings))
        return state if _valid_state(state) else None

    def scan(self) -> tuple[tuple[FileInfo, ...], tuple[Problem, ...]]:
        """The brief files of the content folder (listed once per build)."""
        if self._scan is None:
            config = self.config
            self._scan = scan_content(config.content_dir, config.root, config.max_brief_bytes)
        return self._scan

    def _same_input(self, info: FileInfo, old: Any, stat: bytes) -> bytes | None:
        """The SHA-256 of an unchanged file (whose packed stat is `stat`), from the record
        when its stat can be trusted."""
        if not isinstance(old, bytes) or len(old) != _INPUT_SIZE or old[:_INPUT.size] != stat:
            return None
        sha = old[_INPUT.size:_INPUT.size + 32]
        if not old[-1]:
            return sha
        current = _hash_file(info.abspath)
        return current if current == sha else None

    def replay(self, now: datetime) -> Replay | None:
        """The last build's result, if this build would do exactly the same: same code,
        settings and options, same brief files, `now` inside the window in which the same
        briefs are published, and every output file as the last build left it; and that
        build was steady: reading the manifest it wrote, it would have done the same again
        (see pipeline.Collected.steady)."""
        state = self._state
        if state is None or not self.config.content_dir.is_dir():
            return None
        low, high = state["window"]
        moment = _micros(now)
        replayable = state["result"] is not None and state["fixpoint"] and \
            state["key"] == self.build_key and (low is None or moment >= low) and \
            (high is None or moment < high)
        # The output files are checked by a child process while this one lists the brief
        # files: both are mostly stat calls (at 100,000 briefs, 0.4 s each). When the build
        # goes on, what the child found spares `unchanged_outputs` the same calls.
        outputs = _OutputCheck(self.config.output_dir, state["outputs"], state["manifest"])
        outputs.start()
        same_inputs = None
        try:
            self.scan()
            same_inputs = replayable and self._same_inputs(state)
        finally:
            if same_inputs is None:
                outputs.finish(stop=True)
        self._outputs_checked = outputs
        if not same_inputs:  # the build goes on: the answer is for `unchanged_outputs`
            return None
        outputs.finish(stop=False)
        if not outputs.same:
            return None
        problems, briefs, held_back, feeds = state["result"]
        return Replay(tuple(_decode_problem(p) for p in problems), briefs, held_back, feeds,
                      tuple(sorted(state["outputs"])))

    def _same_inputs(self, state: dict[str, Any]) -> bool:
        infos, scan_problems = self.scan()
        inputs = state["inputs"]
        if len(infos) != len(inputs) or [_encode_problem(p) for p in scan_problems] != \
                state["scan"]:
            return False
        for info in reversed(infos):  # newest last (a dated name): where edits are
            old = inputs.get(info.rel)
            if old is None or self._same_input(info, old, _info_stat(info)) is None:
                return False
        return True

    # -- parsed briefs and their HTML --------------------------------------------------------

    def _shard_numbers(self) -> set[int]:
        """The shards of parsed briefs there are (one listing of their folder)."""
        if self._shard_files is None:
            try:
                names = os.listdir(self.folder / "parsed") if self._read else []  # noqa: PTH208
            except OSError:
                names = []
            numbers = {f"{number:02x}": number for number in range(SHARDS)}
            self._shard_files = {numbers[name] for name in names if name in numbers}
        return self._shard_files

    def _shard(self, number: int) -> dict[bytes, Any]:
        """The parsed records of shard `number` (read the first time)."""
        shard = self._parsed.get(number)
        if shard is None:
            value = None
            if number in self._shard_numbers():
                value = _load(self.folder / "parsed" / f"{number:02x}",
                              _header("parsed", self.env, self.settings))
            shard = self._parsed[number] = value if isinstance(value, dict) else {}
        return shard

    def _stored(self, key: bytes) -> Any:
        return self._shard(key[0] % SHARDS).get(key)

    def _forget(self, key: bytes) -> None:
        """Drop a stored record that turned out malformed (its shard is then rewritten)."""
        self._shard(key[0] % SHARDS).pop(key, None)

    def start_recording(self) -> None:
        """Mark the start of a build that records the brief files: the reference time of
        the racy-file rule, read off a file written now (the clock stays out of feeder)."""
        if not self.write:
            return
        marker = self.folder / "started"
        try:
            _dump(marker, _header("started"), None)
            self._ref_ns = os.stat(marker).st_mtime_ns  # noqa: PTH116
        except OSError as exc:
            self._fail(exc)

    def lookup(self, info: FileInfo) -> Parsed | None:
        """The parsed brief (with its HTML) of a file parsed before, or None.

        A file whose stat is as recorded is not read; another one is read and hashed, and
        found when its bytes were parsed before under the same path (an edit undone, a
        build with other options).
        """
        if not self._read:
            return None
        old = self._state["inputs"].get(info.rel) if self._state else None
        stat = _info_stat(info)
        sha = self._same_input(info, old, stat) if old is not None else None
        if sha is None:
            if not self._shard_numbers():
                return None  # nothing to find: do not read the file twice
            sha = _hash_file(info.abspath)
            if sha is None:
                return None
        record_key = _record_key(info.rel, sha)
        try:
            record = self._stored(record_key)
            if record is None:
                return None
            code, problem_codes, key, sizes, where = record
            problems = tuple(_decode_problem(p) for p in problem_codes)
            brief = body = None
            if code is not None:
                if not (type(key) is bytes and _ints(sizes, 2)
                        and (where is None or type(where) is bytes)):
                    raise ValueError("bad HTML key in the cache")
                brief = _decode_brief(code)
                body = self.bodies.stored(key, sizes, info, where)
        except (ValueError, TypeError, KeyError, IndexError, AttributeError):
            self._forget(record_key)
            return None
        parsed = Parsed(info, sha, brief, problems, body, key)
        self.remember(parsed)
        return parsed

    def remember(self, parsed: Parsed) -> None:
        """Record what a brief file gave (and its stat) for the next build."""
        info = parsed.info
        if parsed.sha is None:
            return
        key = _record_key(info.rel, parsed.sha)
        self._note_input(info, parsed.sha, key, _info_stat(info))
        problems = tuple(map(_encode_problem, parsed.problems))
        self._files[info.path] = info.rel
        if problems:
            self._problems[info.path] = problems
        if key in self._new_parsed or self._stored(key) is not None:
            return
        brief = parsed.brief
        if brief is not None and not self.bodies.use(parsed.rendered, info):
            self._inputs.pop(info.rel)  # its HTML is not in the cache: read it again
            return
        try:
            code = _encode_brief(brief) if brief is not None else None
            body = parsed.rendered
            sizes = body.sizes if body is not None else None
            where = body.where if isinstance(body, StoredBody) else None
            self._new_parsed[key] = (code, problems, parsed.html_key, sizes, where)
        except _Uncacheable:
            self._inputs.pop(info.rel)

    def _note_input(self, info: FileInfo, sha: bytes, key: bytes, stat: bytes) -> None:
        """Record a brief file's stat (packed: `stat`) and SHA-256 for the next build, and
        that this build uses its parsed record (`key`)."""
        racy = self._ref_ns is None or max(info.mtime_ns, info.ctime_ns) + RACY_NS >= \
            self._ref_ns
        self._inputs[info.rel] = stat + sha + (b"\1" if racy else b"\0")
        self._used_parsed.add(key)

    # -- the valid briefs of the last build ------------------------------------------------

    def read_known(self) -> None:
        """Read the valid briefs the last build kept (see `known`): the file of all of them
        as some build wrote it, and the changes since, if they are changes of that file."""
        if not self._read or self._state is None:
            return
        header = _header(KNOWN, self.env, self.settings)
        base, signature = _load_signed(self.folder / KNOWN, header)
        if not isinstance(base, dict):
            return
        changes = _load(self.folder / KNOWN_CHANGES, header)
        if isinstance(changes, dict) and changes.pop("", None) == signature:
            for rel, record in changes.items():
                if record is None:
                    base.pop(rel, None)
                else:
                    base[rel] = record
            self._changed = set(changes)
        self._known, self._signature, self._known_rels = base, signature, set(base)

    def unknown(self, infos: Sequence[FileInfo]) -> list[FileInfo]:
        """The files of `infos` whose brief the last build did not keep as they are now (to
        be looked up or parsed); `known` gives the others. Their briefs are not decoded."""
        fresh = []
        checked = self._checked = []
        check = self._check_known
        for info in infos:
            found = check(info)
            checked.append(found)
            if found is None:
                fresh.append(info)
        return fresh

    def _check_known(self, info: FileInfo) -> tuple[Any, bytes] | None:
        """The record of an unchanged file among the known briefs, with its packed stat."""
        record = self._known.pop(info.rel, None)  # freed once decoded (while in cache)
        if record is None or self._state is None:
            return None
        try:
            sha, key = record[0], record[1]
            stat = _info_stat(info)
            if self._same_input(info, self._state["inputs"].get(info.rel), stat) != sha \
                    or type(key) is not bytes:
                return None
        except (ValueError, TypeError, KeyError, IndexError, AttributeError):
            return None
        return record, stat

    def known(self, infos: Sequence[FileInfo]
              ) -> list[tuple[Candidate, tuple[Problem, ...]] | None]:
        """The valid brief of each unchanged file of `infos` (the files given to `unknown`)
        as the last build had it, with its problems, without reading the file: None for
        the files `unknown` returned, and for those whose record cannot be decoded after
        all (to be parsed too). Each record is let go once decoded."""
        checked, self._checked = self._checked, []
        if len(checked) != len(infos):
            raise ValueError("known() is given the files given to unknown()")
        found: list[tuple[Candidate, tuple[Problem, ...]] | None] = []
        append = found.append
        decode, bodies = _decode_candidate, self.bodies
        note, files, reused = self._note_input, self._files, self._reused
        problems_of, changed, carried = self._problems, self._changed, self._carried
        for at, info in enumerate(infos):
            item = checked[at]
            if item is None:
                append(None)
                continue
            checked[at] = None
            record, stat = item
            try:
                sha, key, problem_codes, code = record
                problems = tuple(map(_decode_problem, problem_codes)) if problem_codes else ()
                candidate = decode(code, bodies, info)
            except (ValueError, TypeError, KeyError, IndexError, AttributeError):
                append(None)
                continue
            note(info, sha, key, stat)
            path = candidate.path
            files[path] = info.rel
            if problem_codes:
                problems_of[path] = problem_codes
            reused.add(path)
            if info.rel in changed:
                carried[path] = record
            append((candidate, problems))
        return found

    def keep_briefs(self, candidates: Sequence[Candidate], entries: Mapping[str, Entry]) -> None:
        """Store the briefs of this build for the next, once every brief file was looked up
        or parsed, and let go of them: the rest of the build needs only what it made of them.
        Stored are the parsed briefs and which HTML is in use (see BodyStore.save), and the
        valid briefs (`entries` by path: the published ones; see `_keep_known`). A forked
        child process writes them while this one plans the site (0.2 s at 10,000 briefs, on
        a core that would wait meanwhile); where forking is not safe, this one does, now.
        `save` waits for the child."""
        if self.write:
            def store() -> tuple[int | None, str] | None:
                try:
                    self._save_shards()
                    self.bodies.save((c.body.digest, c.body.where if isinstance(
                        c.body, StoredBody) else None) for c in candidates)
                    self._keep_known(candidates, entries)
                except OSError as exc:
                    return exc.errno, exc.strerror or str(exc)
                return None

            self._storing = fork_child(store)
            if self._storing is None:
                self._briefs_stored(True, store())
        # What the child (or `store`) wrote is done with here.
        self._known, self._new_parsed, self._parsed, self._checked = {}, {}, {}, []
        self._files, self._problems, self._reused, self._carried = {}, {}, set(), {}
        if self._state is not None:  # every brief file is looked up: its record is done with
            self._state["inputs"] = {}

    def _briefs_stored(self, answered: bool, failed: Any) -> None:
        if not answered:
            self._fail(OSError(errno.EIO, "the process storing the briefs failed"))
        elif failed is not None:
            self._fail(OSError(*failed))

    def wait(self) -> None:
        """Wait for the child process that stores the briefs (see `keep_briefs`), if any,
        and stop the check of the output files if its answer was not asked for."""
        if self._outputs_checked is not None:
            self._outputs_checked.finish(stop=True)
        child, self._storing = self._storing, None
        if child is not None:
            self._briefs_stored(*child.wait())

    def _keep_known(self, candidates: Sequence[Candidate], entries: Mapping[str, Entry]) -> None:
        """Keep the valid briefs of this build for the next (see `known`): as the changes
        since the file of all of them when they are few, else as that file, written a few
        records at a time (so a rebuild after one edit writes a few records, not a record
        for every brief, and no build holds a record for every brief)."""
        files, problems, reused, carried = self._files, self._problems, self._reused, \
            self._carried
        if self._ref_ns is None:
            return
        kept: list[tuple[Candidate, str, Entry | None, Any]] = []
        """The briefs the cache may keep, with their rel, entry and problems."""
        changes: dict[str, Any] = {}
        changed: list[tuple[Candidate, str, Entry | None, Any]] = []
        for brief in candidates:
            rel = files.get(brief.path)
            body = brief.body
            if rel is None or rel not in self._inputs or not isinstance(body, StoredBody) \
                    or body.store != self.bodies.name:
                continue
            entry = entries.get(brief.path)
            item = (brief, rel, entry, problems.get(brief.path, ()))
            kept.append(item)
            if brief.path not in reused or (entry.digest if entry else b"") != brief.digest:
                changed.append(item)
            elif brief.path in carried:  # still as it was in the changes
                changes[rel] = carried[brief.path]
        gone = (self._known_rels | self._changed) - {item[1] for item in kept}
        header = _header(KNOWN, self.env, self.settings)
        shared: dict[Any, Any] = {}
        if self._signature is not None and \
                (len(changes) + len(changed) + len(gone)) * KNOWN_REWRITE < len(kept):
            for item in changed:
                record = self._record(*item, shared)
                if record is not None:
                    changes[item[1]] = record
            changes.update((rel, None) for rel in gone)
            _dump(self.folder / KNOWN_CHANGES, header, {"": self._signature, **changes})
        else:
            records = ((item[1], self._record(*item, shared)) for item in kept)
            _dump_items(self.folder / KNOWN, header,
                        ((rel, record) for rel, record in records if record is not None),
                        1024)
            with contextlib.suppress(FileNotFoundError):
                (self.folder / KNOWN_CHANGES).unlink()

    def _record(self, brief: Candidate, rel: str, entry: Entry | None, problems: Any,
                shared: dict[Any, Any]) -> tuple[Any, ...] | None:
        """What the file of known briefs (or its changes) holds of `brief` (None when it
        cannot be kept): its file's SHA-256 and record key, its problems, and itself."""
        size = _INPUT.size
        sha = self._inputs[rel][size:size + 32]
        tags = () if entry is None else \
            tuple(text for tag in entry.tags for text in (tag.name, tag.slug))
        try:
            code = _encode_candidate(brief, entry.digest if entry else b"", tags, shared)
        except _Uncacheable:
            return None
        return (sha, _record_key(rel, sha), problems, code)

    # -- output files ------------------------------------------------------------------------

    def unchanged_outputs(self, plan: Mapping[str, Deferred],
                          hashes: Mapping[str, object]) -> dict[str, str]:
        """Planned files (path -> SHA-256) that need neither rendering nor reading: made
        from the same inputs as last time, and still as the last build left them.

        `hashes` are the files' SHA-256 listed in the output folder's manifest, trusted
        only when the manifest too is as the last build left it.
        """
        state = self._state
        folder = f"{self.config.output_dir}{os.sep}"
        checked = self._outputs_checked  # every file's stat, taken by `replay` (_OutputCheck)
        if checked is not None:
            checked.finish(stop=False)
            if not checked.done:
                checked = None
        if state is None or not (checked.manifest_same if checked is not None else
                                 _output_stamp(folder + MANIFEST) == state["manifest"]):
            return {}
        outputs = state["outputs"]
        size = _OUTPUT.size
        known: dict[str, str] = {}
        for rel, deferred in plan.items():
            old = outputs.get(rel)
            sha = hashes.get(rel)
            if old is None or deferred.key is None or old[size:] != deferred.key \
                    or not isinstance(sha, str):
                continue
            if rel not in checked.changed if checked is not None else \
                    _output_stamp(folder + rel) == old[:size]:
                known[rel] = sha
        return known

    # -- saving ------------------------------------------------------------------------------

    def _fail(self, exc: OSError) -> None:
        self.write = False
        self.problems.append(Problem(
            self.config.display_path(self.folder), None,
            f"cannot write the build cache ({exc.strerror or exc}); the next build will not be "
            "faster", "warning"))

    def compiled_templates(self) -> Any:
        """Where the page templates compiled by a build are kept for the next (a Jinja2
        bytecode cache: see `compiled_templates`), or None when the cache is not written."""
        return compiled_templates(self.folder / "templates", self.env, read=self._read) \
            if self.write else None

    def manifest_before(self) -> bytes | None:
        """The stamp of the manifest as this build finds it (to know whether the build
        changed what it reads: the manifest is only ever replaced, by a rename, and only
        when its bytes change)."""
        return _output_stamp(os.fspath(self.config.output_dir / MANIFEST))

    def note_briefs(self, briefs: Sequence[Dated], *, now: datetime, options: Any) -> None:
        """Note the valid briefs of this build: their dates bound the window of `now` in
        which a later build publishes the same ones."""
        self._window = _window(briefs, now, options)

    def stored_entries(self) -> dict[tuple[str, str], dict[bytes, bytes]]:
        """The entries' XML and JSON the last build kept (see `save`), or none."""
        if not self._read:
            return {}
        stored = _load(self.folder / ENTRIES, _header(ENTRIES, self.env, self.settings))
        if not isinstance(stored, dict) or not all(
                type(group) is tuple and len(group) == 2 and set(map(type, group)) <= {str}
                and type(found) is dict and all(type(digest) is bytes and type(data) is bytes
                                                for digest, data in found.items())
                for group, found in stored.items()):
            return {}
        return stored

    def save(self, *, result: tuple[tuple[Problem, ...], int, int, int] | None = None,
             outputs: Mapping[str, bytes | None] | None = None,
             manifest_before: bytes | None = None, steady: bool = False,
             unchanged: Collection[str] = (),
             entries: Mapping[tuple[str, str], Mapping[bytes, bytes]] | None = None) -> None:
        """Store the parsed briefs, their HTML and (after a build that wrote its output)
        the state a later build compares itself with.

        `outputs` maps each written or unchanged path to its key; `unchanged` are the ones
        `unchanged_outputs` found as the last build left them (their record is kept);
        `entries`, the XML and JSON of the entries of the feeds written (`stored_entries`
        gives them to the next build).
        """
        self.wait()
        if not self.write:
            return
        try:
            if self._ref_ns is None:
                return
            if entries is not None:
                _dump(self.folder / ENTRIES, _header(ENTRIES, self.env, self.settings),
                      dict(entries))
            state: dict[str, Any] = {
                "key": self.build_key,
                "ref_ns": self._ref_ns,
                "inputs": self._inputs,
                "scan": [_encode_problem(p) for p in self.scan()[1]],
                "window": self._window,
                "outputs": {}, "manifest": None, "result": None, "fixpoint": False,
            }
            if result is not None and outputs is not None:
                folder = f"{self.config.output_dir}{os.sep}"
                recorded = {}
                before = self._state["outputs"] if self._state is not None else {}
                for rel, key in outputs.items():
                    if rel in unchanged and rel in before:  # checked by unchanged_outputs
                        recorded[rel] = before[rel]
                        continue
                    stamp = _output_stamp(folder + rel)
                    if stamp is not None:
                        recorded[rel] = stamp + (key or b"")
                state["outputs"] = recorded
                state["manifest"] = _output_stamp(folder + MANIFEST)
                # A later build reads the manifest written now: it does the same as this
                # one if this one found it so already, or if the build found it steady.
                state["fixpoint"] = len(recorded) == len(outputs) and (steady or (
                    manifest_before is not None and state["manifest"] == manifest_before))
                problems, count, held, feeds = result
                state["result"] = ([_encode_problem(p) for p in problems], count, held, feeds)
            _dump(self.folder / "state", _header("state", self.env, self.settings), state,
                  split=1)
        except OSError as exc:
            self._fail(exc)

    def _save_shards(self) -> None:
        """Rewrite the shards of parsed briefs that gain records or hold records no longer
        used: those read this build, and those of the files the last build read that this
        one did not use (changed or deleted), which are read now."""
        header = _header("parsed", self.env, self.settings)
        new, used = self._new_parsed, self._used_parsed
        touched = {key[0] % SHARDS for key in new}
        if self._state is not None:
            size = _INPUT.size
            for rel, old in self._state["inputs"].items():
                now = self._inputs.get(rel)
                sha = old[size:size + 32]
                if now is None or now[size:size + 32] != sha:
                    touched.add(_record_key(rel, sha)[0] % SHARDS)
        for number, records in self._parsed.items():
            if any(key not in used for key in records):
                touched.add(number)
        for number in sorted(touched):
            old = self._shard(number)
            records = {key: value for key, value in old.items() if key in used}
            records.update((key, value) for key, value in new.items()
                           if key[0] % SHARDS == number)
            path = self.folder / "parsed" / f"{number:02x}"
            if records:
                _dump(path, header, records)
            else:
                with contextlib.suppress(FileNotFoundError):
                    path.unlink()


class Child:
    """A forked child process doing some work while this one goes on (see `fork_child`)."""

    def __init__(self, pid: int, read: int) -> None:
        self._pid = pid
        self._read = read

    def wait(self, *, stop: bool = False) -> tuple[bool, Any]:
        """Wait for the child's answer (`stop`: it is not needed, the child is killed): is
        there one, and what it is. No child outlives this."""
        if stop:
            with contextlib.suppress(ProcessLookupError):
                os.kill(self._pid, signal.SIGKILL)
        try:
            with os.fdopen(self._read, "rb") as pipe:
                data = pipe.read()
        finally:
            _, status = os.waitpid(self._pid, 0)
        if stop or status != 0:
            return False, None
        try:
            return True, marshal.loads(data)  # noqa: S302 - from our child
        except (ValueError, EOFError, TypeError):
            return False, None


def fork_child(work: Callable[[], Any]) -> Child | None:
    """`work` done by a forked child process, which has this one's data already, on another
    core; its answer (plain data: see marshal) comes back through a pipe. None where forking
    is not safe (another thread is running, or not Linux) or fails: then nothing is done."""
    if not can_fork():
        return None
    read, write = os.pipe()
    try:
        pid = os.fork()
    except OSError:  # no process to spare
        os.close(read)
        os.close(write)
        return None
    if pid == 0:  # the child: answer, and leave at once (nothing of the parent's runs)
        code = 1
        try:
            os.close(read)
            with os.fdopen(write, "wb") as pipe:
                pipe.write(marshal.dumps(work()))
            code = 0
        except Exception:  # a bug: its traceback, as anywhere in feeder (the parent goes on)
            import traceback

            traceback.print_exc()
            sys.stderr.flush()
        finally:
            os._exit(code)
    os.close(write)
    return Child(pid, read)


class _OutputCheck:
    """Are the output files (and the manifest) as the last build left them? Which are not?

    Asked of a child process (forked: it has the records already), which takes the stat of
    every file while this one lists the brief files: two processes on two cores, where two
    threads would take turns holding the interpreter at each of those system calls. Where
    forking is not safe (see `fork_child`), the answer is found when it is asked for.
    """

    def __init__(self, folder: Path, outputs: Mapping[str, bytes],
                 manifest: bytes | None) -> None:
        self.folder = f"{folder}{os.sep}"
        self.outputs = outputs
        self.manifest = manifest
        self.same = False
        self.done = False
        """Every file was checked: `changed` lists those that are not as they were left."""
        self.changed: set[str] = set()
        self.manifest_same = False
        self._child: Child | None = None
        self._finished = False

    def _check(self) -> tuple[list[str], bool]:
        """The files not as they were left, and whether the manifest is."""
        folder, size = self.folder, _OUTPUT.size
        changed = [rel for rel, record in self.outputs.items()
                   if _output_stamp(folder + rel) != record[:size]]
        return changed, _output_stamp(folder + MANIFEST) == self.manifest

    def start(self) -> None:
        self._child = fork_child(self._check)

    def finish(self, *, stop: bool) -> None:
        """Wait for the answer (`stop`: it is not needed): no child outlives the check.
        Only the first call counts."""
        if self._finished:
            return
        self._finished = True
        child, self._child = self._child, None
        if child is None:
            if not stop:
                self._answer(*self._check())
            return
        answered, answer = child.wait(stop=stop)
        if not answered:
            return
        try:
            changed, manifest_same = answer
        except (ValueError, TypeError):
            return
        self._answer(changed, manifest_same)

    def _answer(self, changed: list[str], manifest_same: bool) -> None:
        self.changed, self.manifest_same, self.done = set(changed), manifest_same, True
        self.same = manifest_same and not changed


def _ints(value: Any, count: int) -> bool:
    return isinstance(value, tuple) and len(value) == count and set(map(type, value)) <= _INT


def _valid_state(state: Any) -> bool:
    """Is `state` shaped as `BuildCache.save` writes it? (Checked whole, before any use.)"""
    if not isinstance(state, dict) or set(state) != {
            "key", "ref_ns", "inputs", "scan", "window", "outputs", "manifest", "result",
            "fixpoint"}:
        return False
    if not (isinstance(state["key"], str) and type(state["ref_ns"]) is int
            and type(state["fixpoint"]) is bool and isinstance(state["inputs"], dict)
            and isinstance(state["outputs"], dict) and isinstance(state["scan"], list)):
        return False
    window = state["window"]
    if not (isinstance(window, tuple) and len(window) == 2
            and all(item is None or type(item) is int for item in window)):
        return False
    if state["manifest"] is not None and not isinstance(state["manifest"], bytes):
        return False
    # Records are bytes (see _INPUT): one type check each here; their lengths where used.
    for records in (state["inputs"], state["outputs"]):
        if not all(type(record) is bytes for record in records.values()):
            return False
    result = state["result"]
    try:
        for code in state["scan"] + (result[0] if result is not None else []):
            _decode_problem(code)
    except (ValueError, TypeError, IndexError, KeyError):
        return False
    return result is None or (isinstance(result, tuple) and len(result) == 4
                              and isinstance(result[0], list) and _ints(result[1:], 3))


def _window(briefs: Sequence[Dated], now: datetime,
            options: Any) -> tuple[int | None, int | None]:
    """The times (microseconds since 1970) between which the same briefs are published:
    from the newest date already reached to the next date still in the future."""
    if getattr(options, "future", False):
        return (None, None)
    drafts = getattr(options, "drafts", False)
    latest: datetime | None = None  # compared as datetimes: converted once, at the end
    soonest: datetime | None = None
    # Each date once (briefs share them: a datetime keeps its hash; comparing two asks
    # their zones for their offsets each time).
    for date in {brief.date for brief in briefs if drafts or not brief.draft}:
        if date <= now:
            if latest is None or date > latest:
                latest = date
        elif soonest is None or date < soonest:
            soonest = date
    return (None if latest is None else _micros(latest),
            None if soonest is None else _micros(soonest))


# --- output keys ------------------------------------------------------------------------------

@cache
def _feed_fields() -> tuple[str, ...]:
    """The fields of Feed that go into its key by their repr: all but its entries."""
    from feeder.site import Feed

    return tuple(f.name for f in fields(Feed) if f.name != "entries")


class OutputKeys:
    """Keys of output files: digests of everything a feed file is made from.

    Every field of the feed goes in (by name, so that no field can be forgotten; short texts,
    tags, links and dates, as the repr of them all), and each entry by its digest
    (`Entry.digest`, computed once though the entry is in several feeds); a feed's digest is
    computed once for all its formats.
    """

    def __init__(self) -> None:
        self._feeds: dict[int, tuple[Feed, bytes]] = {}
        """By id(): each kept with its feed, so that the id is not reused meanwhile."""

    def feed(self, feed: Feed, name: str) -> bytes:
        """The key of the file `name` (e.g. `atom.xml`) of `feed`."""
        body = self._feeds.get(id(feed))
        if body is None:
            head = repr([getattr(feed, field) for field in _feed_fields()])
            digest = hashlib.sha256(head.encode("utf-8", "surrogatepass"))
            digest.update(b"".join([entry.digest for entry in feed.entries]))
            body = self._feeds[id(feed)] = (feed, digest.digest()[:20])
        return body[1] + name.encode()


def strip_markdown(brief: Brief) -> Brief:
    """`brief` without its Markdown, once it is rendered (see Parsed.brief)."""
    return replace(brief, summary="", content="")
