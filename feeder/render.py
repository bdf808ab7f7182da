"""Markdown to safe HTML with absolute URLs: what feeds and pages embed.

Python-Markdown passes raw HTML through untouched, so its output goes through nh3 (the
Python binding of the Rust sanitiser ammonia): scripts, frames, event handlers and
`javascript:`/`data:` URLs never reach a feed, while ordinary markup survives. Every link
and image is made absolute against the brief's own URL, as a browser on the brief's page
would resolve it, because feed readers show entries away from the site.
"""

from __future__ import annotations

import html
import re
import threading
from collections.abc import Callable
from functools import cache, lru_cache
from importlib import import_module
from urllib.parse import urljoin

import markdown
import nh3

from feeder.body import Rendered
from feeder.text import strip_xml_forbidden

__all__ = ["Rendered", "markdown_to_html", "render", "sanitise"]

_URL_ATTRIBUTES = frozenset({"href", "src", "cite"})
_TAGS = frozenset(nh3.ALLOWED_TAGS | {"tfoot"})
_ATTRIBUTES: dict[str, set[str]] = {
    tag: set(attrs) for tag, attrs in nh3.ALLOWED_ATTRIBUTES.items()
}
_ATTRIBUTES["a"] = {"href", "hreflang", "title"}
_ATTRIBUTES["img"] = _ATTRIBUTES["img"] | {"title"}
_ATTRIBUTES["abbr"] = {"title"}
_ATTRIBUTES["*"] = {"id", "lang", "dir"}
_URL_SCHEMES = frozenset({"http", "https", "mailto"})
_RAW_URL_ATTRIBUTE = re.compile(r"""(\b(?:href|src|cite)\s*=\s*)("[^"]*"|'[^']*')""", re.IGNORECASE)
_SPACE = re.compile(r"\s+")


EXTENSIONS = ("extra", "sane_lists")
"""The Python-Markdown extensions briefs are written for (Markdown Extra, saner lists)."""

# The extensions of "extra", in its order, each with a test of whether a text may hold any
# of its syntax: an extension a brief cannot use cannot change its HTML, and leaving it out
# saves a sixth of the time Markdown takes (tests/test_render.py checks that the HTML is the
# same on any text). md_in_html changes how raw HTML is parsed: any "<". A definition list
# needs a ":" at the start of a line (after a "\r" too: Markdown makes it a newline) once
# what nests blocks is taken away: indentation, quote marks, list markers and footnote
# labels; raw HTML taken out of the text can also leave one there.
_LINE_START = r"(?:^|\r)(?:[ \t>:]|[-*+](?=[ \t])|\d+[.)](?=[ \t])|\[\^[^\]\n]*\]:)*"
"""Where a line of a block starts once what nests blocks is taken away (see _DEFINITION)."""
_DEFINITION = re.compile(_LINE_START + ":", re.MULTILINE)
_EXTRA: tuple[tuple[str, Callable[[str], bool]], ...] = (
    ("fenced_code", lambda text: "```" in text or "~~~" in text),
    ("footnotes", lambda text: "[^" in text),
    ("attr_list", lambda text: "{" in text),
    ("def_list", lambda text: _DEFINITION.search(text) is not None
     or ("<" in text and ":" in text)),
    ("tables", lambda text: "|" in text),
    ("abbr", lambda text: "*[" in text),
    ("md_in_html", lambda text: "<" in text),
)

# Python-Markdown's inline patterns (by the names it registers them under), each with the
# strings one of which a match needs. Inline patterns run on the text of the parsed blocks:
# the text itself once Markdown has normalised its whitespace (a tab becomes spaces, "\r" a
# newline), with placeholders of letters and digits where it took something out. A pattern
# none of whose strings is in the text cannot match, and trying every pattern on every
# block of plain prose is half the time Markdown takes (tests/test_render.py checks that
# the HTML is the same on any text). Raw HTML taken out of a text can leave new neighbours
# (two spaces before a newline, for one): a text with any "<" keeps every pattern (and
# every block processor below).
_INLINE: tuple[tuple[str, tuple[str, ...]], ...] = (
    ("backtick", ("`",)),
    ("escape", ("\\",)),
    ("footnote", ("[^",)),
    ("reference", ("[",)),
    ("link", ("[",)),
    ("image_link", ("![",)),
    ("image_reference", ("![",)),
    ("short_reference", ("[",)),
    ("short_image_ref", ("![",)),
    ("autolink", ("<",)),
    ("automail", ("<",)),
    ("linebreak", ("  \n", "\t", "\r")),
    ("html", ("<",)),
    ("entity", ("&",)),
    ("em_strong", ("*", "_")),
)


@lru_cache(maxsize=64)  # one per extensions and patterns in use: few, and 0.15 ms to make
def _markdown(extensions: tuple[str, ...], unused_inline: tuple[str, ...] = (),
              unused_blocks: tuple[str, ...] = ()) -> markdown.Markdown:
    """Markdown with `extensions` (of Python-Markdown's own), without the inline patterns
    `unused_inline` and the block processors `unused_blocks`. The extensions are given as
    objects made from their modules, imported when first used: by name, Markdown looks for
    each among the entry points of every installed package first (about 30 ms the first
    time). "extra" is the same as its seven extensions in its order (which is what it
    registers, by name)."""
    made = [import_module(f"markdown.extensions.{name}").makeExtension() for name in extensions]
    md = markdown.Markdown(extensions=made, output_format="html")
    for name in unused_inline:
        md.inlinePatterns.deregister(name, strict=False)  # "footnote": only with footnotes
    for name in unused_blocks:
        md.parser.blockprocessors.deregister(name)
    return md


# Python-Markdown's block processors that look for their syntax anywhere in a block, each
# with a test of whether a text may hold it; as above, one that cannot match is left out.
# A rule or a Setext heading's underline is a line of "-", "=", "*" or "_".
_RULE = re.compile(_LINE_START + "[-=*_]", re.MULTILINE)
_BLOCKS: tuple[tuple[str, Callable[[str], bool]], ...] = (
    ("hashheader", lambda text: "#" in text),
    ("setextheader", lambda text: _RULE.search(text) is not None),
    ("hr", lambda text: _RULE.search(text) is not None),
    ("quote", lambda text: ">" in text),
    ("reference", lambda text: "[" in text),
)


def markdown_to_html(text: str) -> str:
    """Python-Markdown's HTML for `text` (unsanitised), as with EXTENSIONS."""
    used = (*(name for name, may_use in _EXTRA if may_use(text)), "sane_lists")
    if "<" in text:
        return _markdown(used).reset().convert(text)
    inline = tuple(name for name, marks in _INLINE if not any(mark in text for mark in marks))
    blocks = tuple(name for name, may_use in _BLOCKS if not may_use(text))
    return _markdown(used, inline, blocks).reset().convert(text)


def _absolute(base: str, value: str) -> str | None:
    try:
        return urljoin(base, value.strip())
    except ValueError:  # e.g. a malformed IPv6 host: drop the attribute
        return None


class _Base(threading.local):
    url = ""
    """The URL relative links are resolved against, for the `sanitise` call in progress."""


_BASE = _Base()


def _absolute_urls(_tag: str, attribute: str, value: str) -> str | None:
    return _absolute(_BASE.url, value) if attribute in _URL_ATTRIBUTES else value


@cache
def _cleaner(*, text_only: bool = False) -> nh3.Cleaner:
    """nh3's sanitiser, set up once per process (four times faster than `nh3.clean`, which
    sets it up again on each call)."""
    if text_only:
        return nh3.Cleaner(tags=set())
    return nh3.Cleaner(tags=set(_TAGS), attributes=_ATTRIBUTES,
                       attribute_filter=_absolute_urls, url_schemes=set(_URL_SCHEMES),
                       link_rel=None, strip_comments=True)


def sanitise(fragment: str, base: str) -> str:
    """`fragment` with only safe markup left and every URL made absolute against `base`."""
    _BASE.url = base
    return _cleaner().clean(fragment)


def absolutise_raw(fragment: str, base: str) -> str:
    """Trusted HTML with the URLs of `href`, `src` and `cite` made absolute; nothing removed."""

    def replace(match: re.Match[str]) -> str:
        quote, value = match.group(2)[0], html.unescape(match.group(2)[1:-1])
        absolute = _absolute(base, value) or ""
        return f"{match.group(1)}{quote}{html.escape(absolute, quote=True)}{quote}"

    return _RAW_URL_ATTRIBUTE.sub(replace, fragment)


def plain_text(fragment: str) -> str:
    """The text of an HTML fragment, on one line."""
    return _SPACE.sub(" ", html.unescape(_cleaner(text_only=True).clean(fragment))).strip()


def render(summary: str, content: str, base: str, *, allow_raw_html: bool = False) -> Rendered:
    """Render a brief's Markdown summary and content for the page at `base`."""
    finish = absolutise_raw if allow_raw_html else sanitise
    # A character reference (`&#x08;`) becomes a character that XML forbids only now, in
    # Markdown's or the sanitiser's output: remove those too.
    summary_html = strip_xml_forbidden(finish(markdown_to_html(summary), base))
    content_html = strip_xml_forbidden(finish(markdown_to_html(content), base))
    return Rendered(summary_html, strip_xml_forbidden(plain_text(summary_html)), content_html)
