"""Settings: defaults < feeder.toml or [tool.feeder] in pyproject.toml < command-line options.
Every bad setting is a `ConfigError` naming the file, the line, the key and, for an unknown
key, the nearest valid one.
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from feeder.errors import ConfigError, Problem
from feeder.sources import TEMPLATES_FOLDER as TEMPLATES_FOLDER
from feeder.sources import folders_problem, read_toml
from feeder.text import did_you_mean, strip_xml_forbidden

SETTINGS_FILE = "feeder.toml"
PYPROJECT_FILE = "pyproject.toml"
PLACEHOLDER_BASE_URL = "https://example.org/"
FEED_FORMATS: dict[str, str] = {"atom": "atom.xml", "rss": "rss.xml", "json": "feed.json"}
"""Each feed format by its name in the setting `formats`, with the name of its file, in the
order in which feeds are written and listed everywhere."""
MAX_NUMBER = 1_000_000_000_000  # the largest whole number a setting takes
MAX_SECONDS = 86_400.0  # the longest wait a setting asks for: a day
_URL_FORBIDDEN = re.compile(r"[\s\"'<>\\^`{|}\x00-\x1f\x7f]")
"""What a URL never holds raw (RFC 3986): white space, quotes, angle brackets and the like."""
_LANGUAGE = re.compile(r"^[A-Za-z]{2,8}(-[A-Za-z0-9]{1,8})*$")
_EMAIL = re.compile(r"^[^@\s<>()]+@[^@\s<>()]+\.[^@\s<>()]+$")
_KINDS: tuple[tuple[Any, str], ...] = (
    (bool, "true/false"), (dict, "a table"), (list, "a list"), (int | float, "a number"),
    (str, "text"))
"""What a value of the settings file is called in messages."""


@cache
def _domain(base_url: str) -> str:
    """The host of `base_url` (asked once per brief)."""
    return (urlsplit(base_url).hostname or "").lower()


@dataclass(frozen=True, slots=True)
class Author:
    name: str
    email: str | None = None
    uri: str | None = None


@dataclass(frozen=True, slots=True)
class Config:
    """Every setting feeder reads (docs/GUIDE.md#settings says what each does). Paths are
    absolute; `base_url` ends with `/`."""

    root: Path
    content_dir: Path
    output_dir: Path
    title: str = "Briefs"
    description: str = ""
    base_url: str = PLACEHOLDER_BASE_URL
    author: Author | None = None
    language: str = "en"
    timezone: str = "UTC"
    max_entries: int = 50
    summary_labels: tuple[str, ...] = ("The Short of It",)
    section_labels: tuple[str, ...] = ("The Short of It", "The Longer Version of It",
                                       "The Takeaway")
    max_brief_bytes: int = 1_048_576
    max_asset_bytes: int = 20 << 20
    image_enclosures: bool = False
    max_feed_bytes: int = 512_000
    archive_page_size: int = 50
    allow_raw_html: bool = False
    hubs: tuple[str, ...] = ()
    cache_dir: Path | None = None
    """Where the build cache lives (default: .feeder-cache in the project folder)."""
    lock_timeout: float = 60.0
    max_tags: int = 50
    formats: tuple[str, ...] = tuple(FEED_FORMATS)
    """The feed formats published (names of FEED_FORMATS, in its order): see `feed_files`."""
    favicon: str | None = None
    """Relative to the project folder; None: a built-in icon."""
    source: str | None = field(default=None, compare=False)
    """Where the settings came from (for messages), e.g. `feeder.toml`."""

    @property
    def tzinfo(self) -> ZoneInfo:
        return ZoneInfo(self.timezone)

    @property
    def domain(self) -> str:
        return _domain(self.base_url)

    @property
    def feed_files(self) -> tuple[str, ...]:
        """The file of each feed in each published format, e.g. `("atom.xml", "rss.xml")`:
        what is written, linked and listed for every feed, in this order."""
        return tuple(FEED_FORMATS[name] for name in self.formats)

    @property
    def is_placeholder(self) -> bool:
        return self.base_url == PLACEHOLDER_BASE_URL

    def display_path(self, path: Path) -> str:
        """`path` as the user would type it: relative to the project folder when inside it."""
        try:
            return path.relative_to(self.root).as_posix()
        except ValueError:
            return path.as_posix()


def _text(value: Any) -> str:
    if not isinstance(value, str):
        raise ValueError(f"expected text, got {_kind(value)}")
    return strip_xml_forbidden(value).strip()


def _nonempty_text(value: Any) -> str:
    text = _text(value)
    if not text:
        raise ValueError("must not be empty")
    return text


def _positive_int(value: Any) -> int:
    if isinstance(value, bool) or not isinstance(value, int):
        raise ValueError(f"expected a whole number, got {_kind(value)}")
    if value < 1:
        raise ValueError(f"must be at least 1, got {value}")
    if value > MAX_NUMBER:
        raise ValueError(f"must be at most {MAX_NUMBER:,}, got {value:,}")
    return value


def _bool(value: Any) -> bool:
    if not isinstance(value, bool):
        raise ValueError(f"expected true or false, got {_kind(value)}")
    return value


def _labels(value: Any) -> tuple[str, ...]:
    if isinstance(value, str):
        value = [value]
    if not isinstance(value, list) or not value:
        raise ValueError("expected a list of labels, e.g. [\"The Short of It\"]")
    labels = [_nonempty_text(item).rstrip(":").strip() for item in value]
    for item, label in zip(value, labels, strict=True):
        if not any(char.isalnum() for char in label):
            raise ValueError(f"label {item!r} has no letter or digit")
    return tuple(dict.fromkeys(labels))


def _url(value: Any, *, hub: bool = False) -> str:
    """An absolute http(s) URL that can be written into a feed as it is. A hub's may hold a
    user name and password; any other ends with `/` and has no query or fragment."""
    url = _nonempty_text(value)
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        what = "hub URL" if hub else "URL such as https://news.example.com/"
        raise ValueError(f"expected an absolute http(s) {what}, got {url!r}")
    bad = _URL_FORBIDDEN.search(url)
    if bad:
        raise ValueError(f"a URL cannot hold {bad.group()!r} (write it %-encoded), got {url!r}")
    try:
        parts.port  # noqa: B018 - raises ValueError when out of range
    except ValueError:
        raise ValueError(f"invalid port in {url!r}") from None
    if hub:
        return url
    if parts.username is not None or parts.password is not None:
        raise ValueError(f"must not hold a user name or password, got {url!r}")
    if parts.query or parts.fragment:
        raise ValueError(f"must not have a query or fragment, got {url!r}")
    return url if url.endswith("/") else url + "/"


def _timezone(value: Any) -> str:
    name = _nonempty_text(value)
    try:
        ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        raise ValueError(f"unknown timezone {name!r}; use an IANA name such as "
                         "'UTC' or 'America/New_York'") from None
    return name


def _language(value: Any) -> str:
    lang = _nonempty_text(value)
    if not _LANGUAGE.match(lang):
        raise ValueError(f"expected a language tag such as 'en' or 'en-US', got {lang!r}")
    return lang


def _author(value: Any) -> Author:
    if isinstance(value, str):
        value = {"name": value}
    if not isinstance(value, dict):
        raise ValueError("expected a name, or a table with name and email")
    unknown = sorted(set(value) - {"name", "email", "uri"})
    settings = [key for key in unknown if key in _SETTINGS]
    if settings:  # a setting written after the [author] table belongs to the table in TOML
        raise ValueError(f"{settings[0]} is read as part of the [author] table, since it comes "
                         "after the [author] line: move it above that line")
    if unknown:
        raise ValueError(f"unknown author field {unknown[0]!r} (known: name, email, uri)")
    if "name" not in value:
        raise ValueError("author needs a name")
    email = _text(value["email"]) if "email" in value else None
    if email and not _EMAIL.match(email):
        raise ValueError(f"not an email address: {email!r}")
    uri = _url(value["uri"]) if "uri" in value else None
    return Author(_nonempty_text(value["name"]), email or None, uri)


def _hubs(value: Any) -> tuple[str, ...]:
    if isinstance(value, str):
        value = [value]
    if not isinstance(value, list):
        raise ValueError("expected a list of hub URLs, e.g. [\"https://pubsubhubbub.appspot.com/\"]")
    return tuple(dict.fromkeys(_url(item, hub=True) for item in value))


def _formats(value: Any) -> tuple[str, ...]:
    known = ", ".join(FEED_FORMATS)
    if not isinstance(value, list):
        example = value if isinstance(value, str) and value in FEED_FORMATS else "atom"
        raise ValueError(f'expected a list of feed formats, e.g. ["{example}"], got '
                         f"{_kind(value)}")
    if not value:
        raise ValueError(f"must name at least one feed format ({known})")
    names: set[str] = set()
    for item in value:
        if not isinstance(item, str):
            raise ValueError(f"expected the name of a feed format ({known}), got {_kind(item)}")
        name = item.strip()
        if name not in FEED_FORMATS:
            hint = did_you_mean(name.lower(), FEED_FORMATS) or f" (known: {known})"
            raise ValueError(f"unknown feed format {name!r}{hint}")
        names.add(name)
    return tuple(name for name in FEED_FORMATS if name in names)  # duplicates dropped, in order


def _seconds(value: Any) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise ValueError(f"expected a number of seconds, got {_kind(value)}")
    if not math.isfinite(value):
        raise ValueError(f"expected a number of seconds, got {value}")
    if value < 0:
        raise ValueError(f"must not be negative, got {value}")
    if value > MAX_SECONDS:
        raise ValueError(f"must be at most {MAX_SECONDS:g} seconds (a day), got {value:g}")
    return float(value)


def _favicon(value: Any) -> str:
    path = _nonempty_text(value)  # a NUL, forbidden in XML, is gone
    if not path.lower().endswith((".ico", ".png", ".svg")):
        raise ValueError(f"expected an .ico, .png or .svg file, got {path!r}")
    return path


_SETTINGS: dict[str, Callable[[Any], Any]] = {
    "title": _nonempty_text, "description": _text, "base_url": _url, "author": _author,
    "language": _language, "timezone": _timezone, "hubs": _hubs, "lock_timeout": _seconds,
    "formats": _formats, "favicon": _favicon,
    **dict.fromkeys(("content_dir", "output_dir", "cache_dir"), _nonempty_text),
    **dict.fromkeys(("summary_labels", "section_labels"), _labels),
    **dict.fromkeys(("image_enclosures", "allow_raw_html"), _bool),
    **dict.fromkeys(("max_entries", "max_brief_bytes", "max_asset_bytes", "max_feed_bytes",
                     "archive_page_size", "max_tags"), _positive_int),
}
SETTING_NAMES = tuple(_SETTINGS)


def _kind(value: Any) -> str:
    return next((name for kind, name in _KINDS if isinstance(value, kind)), type(value).__name__)


def _line_of(text: str, key: str) -> int | None:
    match = re.search(rf"(?m)^[ \t]*{re.escape(key)}[ \t]*[=.]", text)
    return text.count("\n", 0, match.start()) + 1 if match else None


def parse_config(settings: Mapping[str, Any], *, root: Path, source: str | None = None,
                 source_text: str = "", overrides: Mapping[str, Any] | None = None) -> Config:
    """Validate `settings` (from `source`) and `overrides` (from the command line) into a Config.

    Raises ConfigError listing every bad or unknown key.
    """
    problems: list[Problem] = []
    values: dict[str, Any] = {}
    for from_cli, mapping in ((False, settings), (True, overrides or {})):
        where = "command line" if from_cli else source or "settings"
        for key, raw in mapping.items():
            line = None if from_cli else _line_of(source_text, key)
            if key not in _SETTINGS:
                hint = did_you_mean(key, SETTING_NAMES)
                problems.append(Problem(where, line, f"unknown setting {key!r}{hint}"))
                continue
            try:
                values[key] = _SETTINGS[key](raw)
            except ValueError as exc:
                label = f"--{key.replace('_', '-')}" if from_cli else key
                problems.append(Problem(where, line, f"{label}: {exc}"))
    if problems:
        raise ConfigError(problems)
    for key, default in (("content_dir", "content"), ("output_dir", "public"),
                         ("cache_dir", ".feeder-cache")):
        values[key] = root / values.get(key, default)
    refused = folders_problem(root, values["content_dir"], values["output_dir"],
                              values["cache_dir"])
    if refused:
        raise ConfigError([Problem(source or "settings", None, refused)])
    return Config(root=root, source=source, **values)


def load_config(root: Path | str = ".", overrides: Mapping[str, Any] | None = None
                ) -> tuple[Config, tuple[Problem, ...]]:
    """Read the settings of the project in `root`, apply `overrides`, and validate them.

    Returns the Config and warnings (for example: no base_url set). Raises ConfigError.
    """
    root = Path(root).absolute()
    warnings: list[Problem] = []
    pyproject = read_toml(root / PYPROJECT_FILE, PYPROJECT_FILE)
    found = _tool_feeder(*pyproject) if pyproject else None
    source = None if found is None else f"{PYPROJECT_FILE} [tool.feeder]"
    dedicated = read_toml(root / SETTINGS_FILE, SETTINGS_FILE)
    if dedicated is not None:
        if found is not None:
            warnings.append(Problem(SETTINGS_FILE, None,
                                    "both feeder.toml and [tool.feeder] in pyproject.toml exist; "
                                    "using feeder.toml", "warning"))
        found, source = dedicated, SETTINGS_FILE
    settings, text = found or ({}, "")
    config = parse_config(settings, root=root, source=source, source_text=text,
                          overrides=overrides)
    if config.is_placeholder:
        warnings.append(Problem(source or SETTINGS_FILE, None,
                                "no base_url set: feeds use the placeholder "
                                f"{PLACEHOLDER_BASE_URL} "
                                "and entry ids are made from its domain; set base_url before "
                                "publishing", "warning"))
    return config, tuple(warnings)


def _tool_feeder(data: dict[str, Any], text: str) -> tuple[dict[str, Any], str] | None:
    """The [tool.feeder] table of pyproject.toml, if any, and the text in which to look up the
    lines of its keys (the lines before its header blanked)."""
    tool = data.get("tool", {})
    table = tool.get("feeder") if isinstance(tool, dict) else None
    if table is None:
        return None
    if not isinstance(table, dict):
        raise ConfigError([Problem(PYPROJECT_FILE, _line_of(text, "feeder"),
                                   "[tool] feeder: expected a table of settings "
                                   f"([tool.feeder]), got {_kind(table)}")])
    start = max(text.find("[tool.feeder]"), 0)
    return table, "\n" * text.count("\n", 0, start) + text[start:]
