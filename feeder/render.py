"""Markdown to safe HTML, what feeds and pages embed: Python-Markdown's output goes through
nh3 (the sanitiser ammonia), and every URL is made absolute against the brief's page, as a
browser there would resolve it, because feed readers show entries away from the site."""

from __future__ import annotations

import hashlib
import html
import re
from collections.abc import Callable
from dataclasses import dataclass
from functools import cache
from urllib.parse import urljoin

import markdown
import nh3

from feeder.text import strip_xml_forbidden

_URL_ATTRIBUTES = frozenset({"href", "src", "cite"})
_TAGS = nh3.ALLOWED_TAGS | {"tfoot"}
_ATTRIBUTES = {tag: set(names) for tag, names in nh3.ALLOWED_ATTRIBUTES.items()} | {
    "a": {"href", "hreflang", "title"}, "img": nh3.ALLOWED_ATTRIBUTES["img"] | {"title"},
    "abbr": {"title"}, "*": {"id", "lang", "dir"}}
_TEXT_ONLY = nh3.Cleaner(tags=set())
_RAW_URL_ATTRIBUTE = re.compile(r"""(\b(?:href|src|cite)\s*=\s*)("[^"]*"|'[^']*')""", re.IGNORECASE)
_SPACE = re.compile(r"\s+")

Sizes = tuple[int, int]
"""At least the bytes a brief's texts take in a feed once escaped (see `text_sizes`): in Atom
and RSS (the content and summary HTML, in XML text) and in JSON Feed (the content HTML and
the summary as plain text)."""


def text_sizes(text: str) -> tuple[int, int, int]:
    """At least the bytes `text` takes in UTF-8 once escaped: in XML text (as lxml escapes
    `&<>` and `\\r`), in an XML attribute value (`"`, `\\n` and `\\t` too) and in JSON (as
    json.dumps(ensure_ascii=False) does: other control characters never reach a feed)."""
    size = len(text) if text.isascii() else len(text.encode())
    amp, lt, gt, cr, quote, lf, tab, backslash = map(text.count, '&<>\r"\n\t\\')
    xml = size + 4 * amp + 3 * lt + 3 * gt + 4 * cr
    return xml, xml + 5 * quote + 4 * lf + 3 * tab, size + quote + backslash + lf + cr + tab


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


def markdown_to_html(text: str) -> str:
    """Python-Markdown's HTML for `text` (unsanitised), as with EXTENSIONS."""
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


def sanitise(fragment: str, base: str, links: Links | None = None) -> str:
    """`fragment` with only safe markup left and every URL made absolute against `base`
    (a relative one as `links` says, where it says)."""

    def absolute(_tag: str, attribute: str, value: str) -> str | None:
        return _absolute(base, value, links) if attribute in _URL_ATTRIBUTES else value

    return nh3.Cleaner(tags=_TAGS, attributes=_ATTRIBUTES, attribute_filter=absolute,
                       url_schemes={"http", "https", "mailto"}, link_rel=None,
                       strip_comments=True).clean(fragment)


def absolutise_raw(fragment: str, base: str, links: Links | None = None) -> str:
    """Trusted HTML with the URLs of `href`, `src` and `cite` made absolute; nothing removed."""

    def replace(match: re.Match[str]) -> str:
        quote, value = match.group(2)[0], html.unescape(match.group(2)[1:-1])
        absolute = _absolute(base, value, links) or ""
        return f"{match.group(1)}{quote}{html.escape(absolute, quote=True)}{quote}"

    return _RAW_URL_ATTRIBUTE.sub(replace, fragment)


def plain_text(fragment: str) -> str:
    """The text of an HTML fragment, on one line."""
    return _SPACE.sub(" ", html.unescape(_TEXT_ONLY.clean(fragment))).strip()


def render(summary: str, content: str, base: str, *, allow_raw_html: bool = False,
           links: Links | None = None) -> Rendered:
    """Render a brief's Markdown summary and content for the page at `base` (`links`: where
    its relative links point, see sanitise). A character reference (`&#x08;`) may become a
    character XML forbids only in the HTML made: those are removed then."""
    finish = absolutise_raw if allow_raw_html else sanitise
    summary_html, content_html = (strip_xml_forbidden(finish(markdown_to_html(text), base, links))
                                  for text in (summary, content))
    return Rendered(summary_html, strip_xml_forbidden(plain_text(summary_html)), content_html)
