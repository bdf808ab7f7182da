"""Markdown to HTML: absolute URLs against the brief's page, plain-text summaries."""

from __future__ import annotations

import markdown
import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st

from feeder.render import (
    EXTENSIONS,
    absolutise_raw,
    markdown_to_html,
    plain_text,
    render,
    sanitise,
)
from feeder.text import strip_xml_forbidden

BASE = "https://news.example.com/2016/10/04/radio-silent/"


def test_links_and_images_become_absolute() -> None:
    out = render("S", "[home](/) [near](../../05/other/) ![m](map.png) [abs](https://x.org/a)"
                 " <https://auto.example.com/>", BASE)
    html = out.content_html
    assert '<a href="https://news.example.com/">home</a>' in html
    assert '<a href="https://news.example.com/2016/10/05/other/">near</a>' in html
    assert '<img alt="m" src="https://news.example.com/2016/10/04/radio-silent/map.png">' in html
    assert '<a href="https://x.org/a">abs</a>' in html
    assert '<a href="https://auto.example.com/">https://auto.example.com/</a>' in html


def test_summary_as_html_and_plain_text() -> None:
    out = render("The *short* version & more.", "Full.", BASE)
    assert out.summary_html == "<p>The <em>short</em> version &amp; more.</p>"
    assert out.summary_text == "The short version & more."
    assert plain_text("<p>a</p>\n<p>b &lt;c&gt;</p>") == "a b <c>"


def test_unsafe_markup_is_removed_and_raw_mode_keeps_it() -> None:
    text = 'x <script>alert(1)</script><a href="javascript:alert(1)" onclick="x()">y</a>'
    safe = render("S", text, BASE).content_html
    for unsafe in ("script", "javascript", "onclick"):
        assert unsafe not in safe
    raw = render("S", text + ' <img src="p.png">', BASE, allow_raw_html=True).content_html
    assert "<script>alert(1)</script>" in raw
    assert f'src="{BASE}p.png"' in raw


# --- Markdown with only the extensions and inline patterns a text can use -----------------

_PIECES = ["- item", "* star", "1. one", "2) two", "> quoted", "```", "~~~", "```python",
           "| a | b |", "|---|---|", "a | b", "---", "===", "Term", ": a definition",
           "   : indented definition", "*[HTML]: Hyper Text", "HTML here", "[^1]", "[^1]: a note",
           "{: #anchor .cls }", "# Heading {#h}", "<div>", "</div>", "<div markdown=\"1\">",
           "<b>bold</b>", "<!-- c -->", "<https://example.com/>", "    indented code",
           "[link](https://example.com/)", "[ref][r]", "[r]: https://example.com/r",
           "![image](a.png){: .wide }", "**strong**", "_em_", "`code`", "\\|", "\\{", "&amp;",
           "plain words", "two spaces  ", "\ttab", "carriage\r", "&copy;", "&#x41;", "AT&T",
           "<me@example.com>", "[r]", "![r]", "![image](b.png)", "\\*", "__strong__", "*em*",
           "a_b", "``double``", "<span>x</span>", "## Hash", "* * *", "___", "> - item",
           ">> deep", "1. # h", "", ""]


@settings(max_examples=400, deadline=None)
@example("<!-- c --> : a definition")  # raw HTML taken out leaves ": ..." at a line start
@given(st.lists(st.lists(st.sampled_from(_PIECES), min_size=1, max_size=3).map(" ".join),
                max_size=12).map("\n".join))
def test_markdown_leaves_out_only_what_the_text_cannot_use(text: str) -> None:
    full = markdown.Markdown(extensions=list(EXTENSIONS), output_format="html")
    assert markdown_to_html(text) == full.convert(text)


@settings(max_examples=300, deadline=None)
@given(st.text(alphabet=" \n\r\t:|{}<>!-*_[]^()#`~=+.1aAx&;@\"'/\\", max_size=60))
def test_markdown_leaves_out_only_what_any_characters_cannot_use(text: str) -> None:
    full = markdown.Markdown(extensions=list(EXTENSIONS), output_format="html")
    assert markdown_to_html(text) == full.convert(text)


@pytest.mark.parametrize(("text", "html"), [
    ("`code`", "<code>code</code>"),
    ("\\*not em\\*", "*not em*"),
    ("[a](https://x.org/)", '<a href="https://x.org/">a</a>'),
    ("[a][r]\n\n[r]: https://x.org/r", '<a href="https://x.org/r">a</a>'),
    ("[r]\n\n[r]: https://x.org/r", '<a href="https://x.org/r">r</a>'),
    ("![m](m.png)", '<img alt="m" src="m.png">'),
    ("![m][r]\n\n[r]: m.png", '<img alt="m" src="m.png">'),
    ("![r]\n\n[r]: m.png", '<img alt="r" src="m.png">'),
    ("<https://x.org/>", '<a href="https://x.org/">https://x.org/</a>'),
    ("<me@x.org>", "&#109;"),
    ("one  \ntwo", "one<br>\ntwo"),
    ("one \t\ntwo", "   <br>\ntwo"),  # the tab is spaces by then
    ("one  \r\ntwo", "one<br>\ntwo"),
    ("a <b>b</b>", "<b>b</b>"),
    ("&copy;", "&copy;"),
    ("*em* __strong__", "<em>em</em> <strong>strong</strong>"),
    ("x[^1]\n\n[^1]: n", 'class="footnote-ref"'),
    ("## H", "<h2>H</h2>"),
    ("T\n===", "<h1>T</h1>"),
    ("T\n---", "<h2>T</h2>"),
    ("a\n\n* * *", "<hr>"),
    ("- a\n\n    ___", "<hr>"),
    ("> q", "<blockquote>"),
])
def test_each_inline_pattern_and_block_still_works(text: str, html: str) -> None:
    assert html in markdown_to_html(text)


@pytest.mark.parametrize(("text", "html"), [
    ("```\nx\n```", "<pre><code>x\n</code></pre>"),
    ("A[^1]\n\n[^1]: n", 'class="footnote"'),
    ("# H {#h}", '<h1 id="h">H</h1>'),
    ("Term\n: def", "<dl>"),
    ("| a | b |\n|---|---|\n| 1 | 2 |", "<table>"),
    ("*[HTML]: Hyper\n\nHTML", '<abbr title="Hyper">HTML</abbr>'),
    ('<div markdown="1">*x*</div>', "<em>x</em>"),
])
def test_each_extension_of_markdown_extra_still_works(text: str, html: str) -> None:
    assert html in markdown_to_html(text)


# --- plain prose --------------------------------------------------------------------------

_PROSE = ["The senate voted.", "It's \"done\" (mostly)!", "AT&T and R&D", "&amp;", "&#65;",
          "&#X41;", "&copy", "50% - a third = less", "#1 spot", "2024.", "3) three", "a: b",
          "~tilde~", "x ^ y", "caf\u00e9 \u00a0nbsp", "\u2028sep", "\x0bvt", "nul\x00",
          "## The Short of It", "# H", "###### six", "####### seven", "##no space",
          "## Trailing ##", "##  Spaced", "# ", "x  ", "x ", " x", "", "", "", "", "",
          "Words, words.", "Why? Because.", "Rates rose 2% in May.", "## Takeaway", "A",
          "Wait -- what?", "Q&A", "S\u00e3o Paulo", "(aside)", "x", "y", "z"]
"""Pieces of plain prose, and of what is nearly plain prose."""
_SYNTAX = ["- item", "> q", "1. one", ":", "===", "---", "~~~", "+ plus", "\ttab", "*em*",
           "`c`", "[l]", "a\\b", "<b>", "{x}", "|", "_", "\r", "\x02"]


@settings(max_examples=600, deadline=None)
@given(st.lists(st.lists(st.one_of(st.sampled_from(_PROSE), st.sampled_from(_PROSE),
                                   st.sampled_from(_PROSE), st.sampled_from(_SYNTAX)),
                         min_size=1, max_size=3).map(" ".join),
                max_size=8).map("\n".join))
def test_plain_prose_is_written_as_markdown_writes_it(text: str) -> None:
    full = markdown.Markdown(extensions=list(EXTENSIONS), output_format="html")
    assert markdown_to_html(text) == full.convert(text)


@settings(max_examples=500, deadline=None)
@given(st.lists(st.lists(st.one_of(st.sampled_from(_PROSE), st.sampled_from(_PROSE),
                                   st.text(max_size=4)),
                         min_size=1, max_size=3).map(" ".join),
                max_size=6).map("\n".join),
       st.booleans())
def test_plain_prose_is_rendered_as_markdown_and_the_sanitiser_would(text: str,
                                                                         raw: bool) -> None:
    finish = absolutise_raw if raw else sanitise
    summary_html = strip_xml_forbidden(finish(markdown_to_html(text), BASE))
    out = render(text, text, BASE, allow_raw_html=raw)
    assert out.summary_html == out.content_html == summary_html
    assert out.summary_text == strip_xml_forbidden(plain_text(summary_html))
