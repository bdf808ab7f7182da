"""Markdown to safe HTML with absolute URLs: what feeds and pages embed.

Python-Markdown passes raw HTML through untouched, so its output goes through nh3 (the
Python binding of the Rust sanitiser ammonia): scripts, frames, event handlers and
`javascript:`/`data:` URLs never reach a feed, while ordinary markup survives. Every link
and image is made absolute against the brief's own URL, as a browser on the brief's page
would resolve it, because feed readers show entries away from the site.
"""

from __future__ import annotations

import hashlib
import html
import re
import threading
from collections.abc import Callable
from dataclasses import dataclass
from functools import cache, partial
from urllib.parse import urljoin

import markdown
import nh3

from feeder.text import strip_xml_forbidden

__all__ = ["Rendered", "Sizes", "markdown_to_html", "render", "sanitise", "text_sizes"]

_URL_ATTRIBUTES = frozenset({"href", "src", "cite"})
_TAGS = frozenset(nh3.ALLOWED_TAGS | {"tfoot"})
_ATTRIBUTES: dict[str, set[str]] = {tag: set(at) for tag, at in nh3.ALLOWED_ATTRIBUTES.items()}
_ATTRIBUTES["a"] = {"href", "hreflang", "title"}
_ATTRIBUTES["img"] = _ATTRIBUTES["img"] | {"title"}
_ATTRIBUTES["abbr"] = {"title"}
_ATTRIBUTES["*"] = {"id", "lang", "dir"}
_URL_SCHEMES = frozenset({"http", "https", "mailto"})
_RAW_URL_ATTRIBUTE = re.compile(r"""(\b(?:href|src|cite)\s*=\s*)("[^"]*"|'[^']*')""", re.IGNORECASE)
_SPACE = re.compile(r"\s+")

_XML_TEXT = {"&": 4, "<": 3, ">": 3, "\r": 4}
"""What lxml adds for each character it escapes in text (`&` -> `&amp;`, `\r` -> `&#13;`)."""
_XML_ATTRIBUTE = {**_XML_TEXT, '"': 5, "\n": 4, "\t": 3}
"""The same in an attribute value."""
_JSON = {'"': 1, "\\": 1, "\n": 1, "\r": 1, "\t": 1}
"""What json.dumps(ensure_ascii=False) adds (other control characters never reach a feed)."""
_WEIGHTS = tuple((char, _XML_TEXT.get(char, 0), _XML_ATTRIBUTE.get(char, 0), _JSON.get(char, 0))
                 for char in sorted(_XML_ATTRIBUTE.keys() | _JSON.keys()))

Sizes = tuple[int, int]
"""At least the bytes a brief's texts take in a feed once escaped (see `text_sizes`): in Atom
and RSS (the content and summary HTML, in XML text) and in JSON Feed (the content HTML and
the summary as plain text)."""


def text_sizes(text: str) -> tuple[int, int, int]:
    """At least the bytes `text` takes in UTF-8 once escaped: in XML text, in an XML attribute
    value and in JSON."""
    size = len(text) if text.isascii() else len(text.encode())
    xml = attribute = json = size
    for char, in_text, in_attribute, in_json in _WEIGHTS:
        count = text.count(char)
        xml += in_text * count
        attribute += in_attribute * count
        json += in_json * count
    return xml, attribute, json


@dataclass(frozen=True, slots=True)
class Rendered:
    """A brief's HTML, ready to embed."""

    summary_html: str
    summary_text: str
    """The short version as plain text, on one line."""
    content_html: str

    @property
    def digest(self) -> bytes:
        """SHA-256 of the three texts (each with its length)."""
        texts = (self.summary_html, self.summary_text, self.content_html)
        head = repr([len(text) for text in texts])
        return hashlib.sha256("\0".join([head, *texts]).encode("utf-8", "surrogatepass")).digest()

    @property
    def sizes(self) -> Sizes:
        content = text_sizes(self.content_html)
        return (content[0] + text_sizes(self.summary_html)[0],
                content[2] + text_sizes(self.summary_text)[2])


EXTENSIONS = ("extra", "sane_lists")
"""The Python-Markdown extensions briefs are written for (Markdown Extra, saner lists)."""

@cache
def _markdown() -> markdown.Markdown:
    """Python-Markdown with EXTENSIONS, made once per process and reset before each use."""
    return markdown.Markdown(extensions=list(EXTENSIONS), output_format="html")


# Most briefs are plain prose: paragraphs and "#" headings, with nothing Markdown could read
# as any other syntax. Their HTML is written directly, as Markdown would write it (twenty
# times as fast; tests/test_render.py compares the two on any such text).

_NOT_PLAIN = re.compile(r"[\\`*_\[\]<>{}|\t\r\x02\x03]")
"""Characters that may be syntax anywhere in a line (or Markdown's placeholders)."""
_NOT_PLAIN_START = frozenset(" \t>:-*+[0123456789=~#")
"""Characters that may be syntax at the start of a line: nesting, Setext underlines,
fences, headings."""
_PLAIN_HEADING = re.compile(r"(#{1,6}) ([^#]*)")
_ENTITY = re.compile(r"&(?:#[0-9]+|#x[0-9a-f]+|[0-9a-z]+);", re.IGNORECASE)
"""What Markdown keeps as a character reference rather than escape its "&"."""


def _plain_html(text: str) -> str | None:
    """Markdown's HTML for a text of plain paragraphs and "#" headings (each a block of its
    own line); None for any other text."""
    if _NOT_PLAIN.search(text):
        return None
    if "&" in text:
        if _ENTITY.search(text):
            return None
        text = text.replace("&", "&amp;")
    blocks: list[str] = []
    lines: list[str] | None = []  # the paragraph being read; None right after a heading
    for line in text.split("\n"):
        if not line:
            if lines:
                blocks.append("<p>" + "\n".join(lines) + "</p>")
            lines = []
        elif line[0].isspace() or line[-1].isspace():  # indentation, line breaks
            return None
        elif line[0] == "#":
            heading = _PLAIN_HEADING.fullmatch(line)
            if heading is None or lines:
                return None
            level = len(heading[1])
            blocks.append(f"<h{level}>{heading[2].strip()}</h{level}>")
            lines = None
        elif lines is None or line[0] in _NOT_PLAIN_START:
            return None
        else:
            lines.append(line)
    if lines:
        blocks.append("<p>" + "\n".join(lines) + "</p>")
    return "\n".join(blocks)


def markdown_to_html(text: str) -> str:
    """Python-Markdown's HTML for `text` (unsanitised), as with EXTENSIONS."""
    if "\x02" in text or "\x03" in text:  # Markdown's placeholders: it removes them first
        text = text.replace("\x02", "").replace("\x03", "")
    plain = _plain_html(text)
    if plain is not None:
        return plain
    return _markdown().reset().convert(text)


Links = Callable[[str], "str | None"]
"""Where a relative link of a brief points once published (see attachments.published_url)."""


def _absolute(base: str, value: str, links: Links | None = None) -> str | None:
    published = links(value) if links is not None else None
    if published is not None:
        return published
    try:
        return urljoin(base, value.strip())
    except ValueError:  # e.g. a malformed IPv6 host: drop the attribute
        return None


class _Base(threading.local):
    url = ""
    """The URL relative links are resolved against, for the `sanitise` call in progress."""
    links: Links | None = None


_BASE = _Base()


def _absolute_urls(_tag: str, attribute: str, value: str) -> str | None:
    return _absolute(_BASE.url, value, _BASE.links) if attribute in _URL_ATTRIBUTES else value


@cache
def _cleaner(*, text_only: bool = False) -> nh3.Cleaner:
    """nh3's sanitiser, set up once per process (four times faster than `nh3.clean`, which
    sets it up again on each call)."""
    if text_only:
        return nh3.Cleaner(tags=set())
    return nh3.Cleaner(tags=set(_TAGS), attributes=_ATTRIBUTES,
                       attribute_filter=_absolute_urls, url_schemes=set(_URL_SCHEMES),
                       link_rel=None, strip_comments=True)


def sanitise(fragment: str, base: str, links: Links | None = None) -> str:
    """`fragment` with only safe markup left and every URL made absolute against `base`
    (a relative one as `links` says, where it says)."""
    _BASE.url, _BASE.links = base, links
    return _cleaner().clean(fragment)


def absolutise_raw(fragment: str, base: str, links: Links | None = None) -> str:
    """Trusted HTML with the URLs of `href`, `src` and `cite` made absolute; nothing removed."""

    def replace(match: re.Match[str]) -> str:
        quote, value = match.group(2)[0], html.unescape(match.group(2)[1:-1])
        absolute = _absolute(base, value, links) or ""
        return f"{match.group(1)}{quote}{html.escape(absolute, quote=True)}{quote}"

    return _RAW_URL_ATTRIBUTE.sub(replace, fragment)


def plain_text(fragment: str) -> str:
    """The text of an HTML fragment, on one line."""
    return _SPACE.sub(" ", html.unescape(_cleaner(text_only=True).clean(fragment))).strip()


_TOUCHED = re.compile("[\x00-\x09\x0b-\x1f\x7f-\xa0\ud800-\udfff\ufffe\uffff]")
"""Characters that the sanitiser (a no-break space becomes `&nbsp;`) or the XML rules
(controls) may change, or that plain HTML has no business holding."""
_TAG = re.compile("<[^>]*>")


def _finished(text: str, base: str, finish: Callable[[str, str], str]) -> tuple[str, bool]:
    """The HTML of `text`, finished (`finish`: sanitised, or its links made absolute), and
    whether it is plain prose's (see _plain_html) that finishing would not change: only
    paragraphs, headings and text without a character in _TOUCHED. That is not finished
    again."""
    plain = _plain_html(text)
    if plain is not None and not _TOUCHED.search(plain):
        return plain, True
    made = markdown_to_html(text) if plain is None else plain
    # A character reference (`&#x08;`) becomes a character that XML forbids only now, in
    # Markdown's or the sanitiser's output: remove those too.
    return strip_xml_forbidden(finish(made, base)), False


def render(summary: str, content: str, base: str, *, allow_raw_html: bool = False,
           links: Links | None = None) -> Rendered:
    """Render a brief's Markdown summary and content for the page at `base` (`links`: where
    its relative links point, see sanitise)."""
    finish = partial(absolutise_raw if allow_raw_html else sanitise, links=links)
    summary_html, plain = _finished(summary, base, finish)
    # Plain prose's HTML is paragraphs and headings: its text is what plain_text would find.
    summary_text = _SPACE.sub(" ", html.unescape(_TAG.sub("", summary_html))).strip() \
        if plain else plain_text(summary_html)
    content_html, _plain = _finished(content, base, finish)
    return Rendered(summary_html, strip_xml_forbidden(summary_text), content_html)
