"""Markdown to HTML: absolute URLs against the brief's page, plain-text summaries."""

from __future__ import annotations

from feeder.render import plain_text, render

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
