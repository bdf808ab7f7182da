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

# Python-Markdown spends most of its time looking for syntax a brief does not use: trying
# each extension, block processor and inline pattern on every block. Each of those needs
# some character or string in the text, or a line that starts with one; one that cannot
# match cannot change the HTML and is left out, which makes Markdown three times as fast on
# plain prose, twice with links and emphasis (tests/test_render.py checks that the HTML is
# the same on any text).

_NESTING = re.compile(r"(?:[ \t>:]|[-*+](?=[ \t])|\d+[.)](?=[ \t])|\[\^[^\]\n]*\]:)*")
"""What nests blocks at the start of a line: indentation, quote marks, definitions' colons,
list markers and footnote labels. Markdown takes it away before it parses what is inside."""
_MAY_NEST = frozenset(" \t>:-*+[0123456789")


def _line_starts(text: str) -> set[str]:
    """The characters at the start of the lines of `text` (a carriage return starts one too:
    Markdown makes it a newline) up to the first one past what nests blocks there."""
    starts: set[str] = set()
    for line in text.replace("\r", "\n").split("\n") if "\r" in text else text.split("\n"):
        nested = _NESTING.match(line) if line[:1] in _MAY_NEST else None
        if nested is not None:
            starts.update(line[:nested.end() + 1])
        else:
            starts.add(line[:1])
    return starts


_Test = Callable[[str, set[str]], bool]
"""Whether a text (with its _line_starts) may hold some syntax."""

# The extensions of "extra", in its order. md_in_html changes how raw HTML is parsed: any
# "<". A definition list needs a ":" at the start of a line, where raw HTML taken out of the
# text can also leave one.
_EXTRA: tuple[tuple[str, _Test], ...] = (
    ("fenced_code", lambda text, _starts: "```" in text or "~~~" in text),
    ("footnotes", lambda text, _starts: "[^" in text),
    ("attr_list", lambda text, _starts: "{" in text),
    ("def_list", lambda text, starts: ":" in starts or ("<" in text and ":" in text)),
    ("tables", lambda text, _starts: "|" in text),
    ("abbr", lambda text, _starts: "*[" in text),
    ("md_in_html", lambda text, _starts: "<" in text),
)

# The block processors that look for their syntax anywhere in a block (by the names
# Python-Markdown registers them under). A rule or a Setext heading's underline is a line
# of "-", "=", "*" or "_".
_BLOCKS: tuple[tuple[str, _Test], ...] = (
    ("hashheader", lambda text, _starts: "#" in text),
    ("setextheader", lambda _text, starts: not starts.isdisjoint("-=*_")),
    ("hr", lambda _text, starts: not starts.isdisjoint("-=*_")),
    ("quote", lambda text, _starts: ">" in text),
    ("reference", lambda text, _starts: "[" in text),
)

# The inline patterns, each with the strings one of which a match needs. They run on the
# text of the parsed blocks: the text itself once Markdown has normalised its whitespace (a
# tab becomes spaces, "\r" a newline), with placeholders of letters and digits where it
# took something out. Raw HTML taken out of a text can leave new neighbours (two spaces
# before a newline, for one): a text with any "<" keeps every pattern and block processor.
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
_MARKS = frozenset(mark for _name, marks in _INLINE for mark in marks)


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


# Most briefs are plain prose: paragraphs and "#" headings, with nothing Markdown could read
# as any other syntax. Their HTML is written directly, as Markdown would write it (twenty
# times as fast; tests/test_render.py compares the two on any such text).

_NOT_PLAIN = re.compile(r"[\\`*_\[\]<>{}|\t\r\x02\x03]")
"""Characters that may be syntax anywhere in a line (or Markdown's placeholders)."""
_NOT_PLAIN_START = _MAY_NEST | frozenset("=~#")
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
    starts = _line_starts(text)
    used = (*(name for name, may_use in _EXTRA if may_use(text, starts)), "sane_lists")
    if "<" in text:
        return _markdown(used).reset().convert(text)
    present = {mark for mark in _MARKS if mark in text}
    inline = tuple(name for name, marks in _INLINE if present.isdisjoint(marks))
    blocks = tuple(name for name, may_use in _BLOCKS if not may_use(text, starts))
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


def render(summary: str, content: str, base: str, *, allow_raw_html: bool = False) -> Rendered:
    """Render a brief's Markdown summary and content for the page at `base`."""
    finish = absolutise_raw if allow_raw_html else sanitise
    summary_html, plain = _finished(summary, base, finish)
    # Plain prose's HTML is paragraphs and headings: its text is what plain_text would find.
    summary_text = _SPACE.sub(" ", html.unescape(_TAG.sub("", summary_html))).strip() \
        if plain else plain_text(summary_html)
    content_html, _plain = _finished(content, base, finish)
    return Rendered(summary_html, strip_xml_forbidden(summary_text), content_html)
