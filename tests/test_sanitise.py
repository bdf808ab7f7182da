"""Safe output whatever the briefs hold: hostile HTML and URLs never reach any file in public/,
ordinary markup survives, titles and tags stay text, control characters go, no path escapes
public/, and symbolic links out of content/ are refused.

Each test builds a real project with `feeder build` and inspects every file it wrote
(feeds, JSON Feed, pages: whatever exists) with tests/safety.py.
"""

from __future__ import annotations

import html
import json
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner, Result
from lxml import etree

from feeder.cli import cli
from feeder.text import find_xml_forbidden
from tests.conftest import ATOM, Project, house, parse_feed
from tests.safety import PAYLOADS, html_findings, tree_findings

CONTENT_ENCODED = "{http://purl.org/rss/1.0/modules/content/}encoded"

MARKERS = [f"P{n:02d}" for n in range(1, 36) if n not in (1, 2, 3, 4, 5, 7, 11, 30, 32, 34, 35)]
"""Markers that stay readable text (the others sit inside elements removed whole)."""
ALT_MARKERS = ("P18", "P19", "P22", "P33")
"""Markers in image alt text, which the plain-text JSON Feed summary leaves out."""


def run(runner: CliRunner, project: Project, *args: str) -> Result:
    return runner.invoke(cli, [*args, "-C", str(project.root)])


def build(runner: CliRunner, project: Project) -> Result:
    result = runner.invoke(cli, ["build", "-C", str(project.root)], catch_exceptions=False)
    assert result.exit_code == 0, result.output
    return result


def failed(result: Result, code: int) -> None:
    assert result.exit_code == code, result.output
    assert isinstance(result.exception, SystemExit), result.exception
    assert "Traceback" not in result.output


def hostile(project: Project) -> None:
    body = "\n\n".join(PAYLOADS)
    project.brief("2016-10-04-hostile.txt",
                  house("Hostile", "x", short=body, longer=body, dek="P00 " + PAYLOADS[0]),
                  dedent=False)
    project.brief("2016-10-05-summary.md",
                  "---\ntitle: Summary\ntags: [x]\nsummary: |\n  " + "\n\n  ".join(PAYLOADS)
                  + "\n---\nBody.\n", dedent=False)


def every_file(public: Path) -> list[Path]:
    return [p for p in sorted(public.rglob("*")) if p.is_file()]


def contents(public: Path, *, summaries: bool = False) -> list[str]:
    """The HTML content (or summary) of every entry of every feed, in every format."""
    found = []
    json_key = "summary" if summaries else "content_html"
    elements = (f"{ATOM}summary", "description") if summaries else (f"{ATOM}content",
                                                                    CONTENT_ENCODED)
    for path in every_file(public):
        if path.name == "feed.json":
            found += [item[json_key] for item in json.loads(path.read_bytes())["items"]]
        elif path.suffix == ".xml":
            root = etree.parse(str(path)).getroot()
            found += [e.text or "" for e in root.iter(*elements)
                      if e.getparent().tag in (f"{ATOM}entry", "item")]
    return found


# --- hostile markup ---------------------------------------------------------------------------

def test_hostile_markup_reaches_no_output_file(runner: CliRunner, project: Project) -> None:
    hostile(project)
    build(runner, project)
    files = every_file(project.public)
    assert {p.name for p in files} >= {"atom.xml", "rss.xml", "feed.json"}
    assert tree_findings(project.public) == {}
    for path in files:  # the payloads' code appears nowhere, not even as escaped text
        text = html.unescape(path.read_text(encoding="utf-8"))
        assert "alert(1)" not in text.replace("alert(1)</script> title", ""), path
        assert "evil.example" not in text, path
    documents = [c for c in contents(project.public) if "P00" in c]  # the hostile brief's
    summaries = [s for s in contents(project.public, summaries=True) if "P00" not in s]
    # Combined and tag feed, three formats each; summaries from both briefs.
    assert (len(documents), len(summaries)) == (6, 12)
    plain = {item["summary"] for path in project.public.rglob("feed.json")
             for item in json.loads(path.read_bytes())["items"]}
    for document in documents + summaries:
        for marker in MARKERS:
            if document in plain and marker in ALT_MARKERS:
                continue
            assert marker in document, (marker, document)


def test_the_checker_sees_what_the_sanitiser_removes() -> None:
    """tests/safety.py flags every HTML payload when it is not sanitised (the Markdown ones
    become HTML only once rendered, and P34 is a comment)."""
    for payload in PAYLOADS:
        if not payload.startswith(("[", "!", "P24", "P25", "P34")):
            assert html_findings(payload), payload


def test_raw_html_is_off_by_default_and_keeps_markup_when_allowed(
        runner: CliRunner, project: Project) -> None:
    iframe = '<iframe src="https://video.example/embed/1" allowfullscreen></iframe>'
    project.brief("2016-10-04-video.txt",
                  house("Video", "x", longer=f'{iframe}\n\n<a href="other/">rel</a>'),
                  dedent=False)
    build(runner, project)
    assert all("<iframe" not in c and "video.example" not in c for c in contents(project.public))

    project.settings('base_url = "https://news.example.com/"\nallow_raw_html = true\n')
    build(runner, project)
    for document in contents(project.public):
        assert iframe in document
        assert '<a href="https://news.example.com/other/">rel</a>' in document
    assert any(f[1:3] == ("tag", "iframe") for findings in tree_findings(project.public).values()
               for f in findings)


# --- ordinary markup --------------------------------------------------------------------------

ORDINARY = """\
Some *emphasis*, **strong**, `code` and a [relative link](2016/10/05/other/) or [absolute](https://ok.example/a?b=1&c=2).

- one
- two

1. first
2. second

![A map](map.png "The map")

| a | b |
| --- | --- |
| 1 | 2 |

```
code <block> & more
```

> A quotation.

A footnote.[^1]

<https://auto.example/x>

[^1]: The note."""

EXPECTED = [
    "<em>emphasis</em>", "<strong>strong</strong>", "<code>code</code>",
    '<a href="https://news.example.com/2016/10/05/other/">relative link</a>',
    '<a href="https://ok.example/a?b=1&amp;c=2">absolute</a>',
    "<ul>\n<li>one</li>\n<li>two</li>\n</ul>",
    "<ol>\n<li>first</li>\n<li>second</li>\n</ol>",
    '<img alt="A map" src="https://news.example.com/map.png" '
    'title="The map">',  # relative links name files of content/ (see feeder/assets.py)
    "<table>", "<th>a</th>", "<td>2</td>",
    "<pre><code>code &lt;block&gt; &amp; more\n</code></pre>",
    "<blockquote>\n<p>A quotation.</p>\n</blockquote>",
    '<sup id="fnref:1"><a href="https://news.example.com/2016/10/04/ordinary/#fn:1">1</a></sup>',
    '<li id="fn:1">',
    '<a href="https://auto.example/x">https://auto.example/x</a>',
]


def test_ordinary_markup_survives_with_absolute_urls(runner: CliRunner,
                                                     project: Project) -> None:
    project.brief("2016-10-04-ordinary.txt", house("Ordinary", "x", longer=ORDINARY),
                  dedent=False)
    build(runner, project)
    documents = contents(project.public)
    assert len(documents) == 6  # combined and tag feed, three formats each
    assert len(set(documents)) == 1
    for snippet in EXPECTED:
        assert snippet in documents[0], snippet
    assert tree_findings(project.public) == {}


# --- titles and tags stay text ----------------------------------------------------------------

TITLE = 'Fish & <b>Chips</b> "quoted" \'single\' <u>under</u> AT&amp;T'
TAGS = ["<b>x</b>", "R&D", 'say "hi"']


def test_titles_and_tags_are_escaped_text_in_every_format(runner: CliRunner,
                                                          project: Project) -> None:
    project.settings('base_url = "https://news.example.com/"\n'
                     'title = "News <i>&</i> \\"Views\\""\n')
    project.brief("2016-10-04-t.md", "---\ntitle: " + json.dumps(TITLE) + "\ntags: "
                  + json.dumps(TAGS) + "\n---\n" + "The Short of It:\n\nShort.\n", dedent=False)
    build(runner, project)
    site_title = 'News <i>&</i> "Views"'

    atom = etree.parse(str(project.public / "atom.xml")).getroot()
    title = atom.find(f"{ATOM}entry/{ATOM}title")
    assert (title.text, len(title), title.get("type", "text")) == (TITLE, 0, "text")
    assert atom.find(f"{ATOM}title").text == site_title
    labels = [c.get("label") for c in atom.iter(f"{ATOM}category")]
    assert labels == TAGS
    parsed = parse_feed((project.public / "atom.xml").read_bytes())
    assert parsed.entries[0].title == TITLE
    assert parsed.entries[0].title_detail.type == "text/plain"
    assert parsed.feed.title == site_title

    rss = etree.parse(str(project.public / "rss.xml")).getroot()
    item_title = rss.find("channel/item/title")
    assert (item_title.text, len(item_title)) == (TITLE, 0)  # text, no markup
    assert rss.find("channel/title").text == site_title
    assert [c.text for c in rss.iter("category")] == TAGS
    assert parse_feed((project.public / "rss.xml").read_bytes()).entries[0].title == TITLE

    data = json.loads((project.public / "feed.json").read_bytes())
    assert (data["title"], data["items"][0]["title"]) == (site_title, TITLE)
    assert data["items"][0]["tags"] == TAGS

    for path in every_file(project.public):  # pages, if any, show the title as text
        if path.suffix == ".html":
            page = path.read_text(encoding="utf-8")
            for markup in ("<u>under</u>", "<b>x</b>", "<i>&</i>"):
                assert markup not in page, (path, markup)
    assert tree_findings(project.public) == {}


# --- control characters -----------------------------------------------------------------------

def _strings(value: Any) -> list[str]:
    if isinstance(value, dict):
        return [s for k, v in value.items() for s in (k, *_strings(v))]
    if isinstance(value, list):
        return [s for v in value for s in _strings(v)]
    return [value] if isinstance(value, str) else []


def test_control_characters_are_removed_everywhere(runner: CliRunner, project: Project) -> None:
    project.settings('base_url = "https://news.example.com/"\ntitle = "Ne\\u0001ws"\n'
                     'description = "De\\u0008sc"\nauthor = { name = "Ed\\u001bitor" }\n')
    project.brief("2016-10-04-c.md",
                  "---\ntitle: \"Ti\\x01tle\\x0b\"\ntags: [\"ta\\x02g\"]\n"
                  "summary: \"Su\\x1fmmary &#x08; &#0; &#12;\"\n---\n"
                  "Con\x07tent with a reference &#x1b; and \x00 NUL.\n", dedent=False)
    result = build(runner, project)
    warning = "warning: removed characters that XML does not allow (control characters)"
    assert result.stderr.splitlines()[:4] == [  # YAML escapes on lines 2-4, raw ones on 6
        f"content/2016-10-04-c.md:{line}: {warning}" for line in (2, 3, 4, 6)]
    for path in every_file(project.public):
        text = path.read_text(encoding="utf-8")
        assert find_xml_forbidden(text) is None, path
        for reference in ("&#x08;", "&#8;", "&#x1b;", "&#27;", "&#12;", "&#0;"):
            assert reference not in text.lower(), (path, reference)
        if path.suffix == ".json":
            for string in _strings(json.loads(text)):
                assert find_xml_forbidden(string) is None, (path, string)
    parsed = parse_feed((project.public / "atom.xml").read_bytes())
    assert parsed.feed.title == "News"
    assert parsed.feed.subtitle == "Desc"
    entry = parsed.entries[0]
    assert (entry.title, entry.tags[0].label) == ("Title", "tag")
    assert "Summary" in entry.summary
    assert "Content with a reference  and  NUL." in entry.content[0].value


# --- paths ------------------------------------------------------------------------------------

def _tree(root: Path) -> set[str]:
    return {p.relative_to(root).as_posix() for p in root.rglob("*")}


def is_state(path: str) -> bool:
    """The build's own lock and cache (named by settings, never by a brief)."""
    return path == "deep/site/.feeder.lock" or path.startswith("deep/site/.feeder-cache")


def test_no_tag_slug_or_name_writes_outside_public(runner: CliRunner, tmp_path: Path) -> None:
    project = Project(tmp_path / "deep" / "site")
    project.settings('base_url = "https://news.example.com/"\n')
    names = ["../../etc", "/abs", "..\\..\\windows", "a/../../b", ".", "..", "nul\x00byte",
             "~root", "C:\\x", "%2e%2e%2f", "tags"]
    project.brief("2016-10-04-paths.md", "---\ntitle: Paths\nslug: ../../../outside\ntags: "
                  + json.dumps(names) + "\n---\nThe Short of It:\n\nShort.\n", dedent=False)
    project.brief("2016-10-05-x.md", "---\ntitle: Slash\nslug: /etc/passwd\ntags: [\"/\\\\\"]\n"
                  "---\nThe Short of It:\n\nShort.\n", dedent=False)
    before = _tree(tmp_path)
    result = run(runner, project, "build")
    assert result.exit_code == 1  # "." and ".." and "/\\" have no letter: errors, not paths
    assert not {p for p in _tree(tmp_path) - before if not is_state(p)}
    problems = result.stderr.splitlines()
    assert "content/2016-10-04-paths.md:4: tag '.' has no letter or digit to make its URL from" \
        in problems
    assert "content/2016-10-05-x.md:4: tag '/\\\\' has no letter or digit to make its URL from" \
        in problems

    project.brief("2016-10-04-paths.md", "---\ntitle: Paths\nslug: ../../../outside\ntags: "
                  + json.dumps([n for n in names if n not in (".", "..")])
                  + "\n---\nThe Short of It:\n\nShort.\n", dedent=False)
    project.brief("2016-10-05-x.md", "---\ntitle: Slash\nslug: /etc/passwd\ntags: [\"\\\\a\"]\n"
                  "---\nThe Short of It:\n\nShort.\n", dedent=False)
    build(runner, project)
    written = _tree(tmp_path) - before
    outside = {p for p in written if not p.startswith("deep/site/public") and not is_state(p)}
    assert not outside
    for path in written:
        parts = path.split("/")
        assert ".." not in parts, path
        assert "" not in parts, path
        assert all("\\" not in p for p in parts), path
        assert (tmp_path / path).resolve().is_relative_to(tmp_path.resolve()), path
    tag_folders = sorted(p.name for p in (project.public / "tags").iterdir() if p.is_dir())
    assert tag_folders == ["2e-2e-2f", "a", "a-b", "abs", "c-x", "etc", "nulbyte", "root", "tags",
                           "windows"]
    data = json.loads((project.public / "feed.json").read_bytes())
    assert [item["url"] for item in data["items"]] == [
        "https://news.example.com/2016/10/05/etc-passwd/",
        "https://news.example.com/2016/10/04/outside/"]
    assert tree_findings(project.public) == {}


# --- symbolic links ---------------------------------------------------------------------------

@pytest.fixture
def secret(tmp_path: Path) -> Path:
    """A folder outside the project holding a brief-shaped secret."""
    folder = tmp_path / "secrets"
    folder.mkdir()
    (folder / "2016-10-04-token.md").write_text(house("CI_TOKEN=s3cr3t", "x"), encoding="utf-8")
    (folder / "passwd").write_text("root:x:0:0:s3cr3t:/root:/bin/bash\n", encoding="utf-8")
    return folder


def test_links_out_of_content_are_refused_naming_the_link(
        runner: CliRunner, project: Project, secret: Path) -> None:
    project.brief("2016-10-04-good.txt", house("Good", "x"))
    build(runner, project)
    before = project.snapshot()
    (project.content / "2016-10-05-passwd.txt").symlink_to(secret / "passwd")
    (project.content / "mounted").symlink_to(secret, target_is_directory=True)
    (project.content / "sub").mkdir()  # a relative link climbing out
    (project.content / "sub" / "2016-10-06-rel.md").symlink_to(
        Path("..", "..", "..", "secrets", "2016-10-04-token.md"))
    expected = [
        "content/2016-10-05-passwd.txt: symbolic link points outside the content folder; "
        "refusing to read it",
        "content/mounted: symbolic link points outside the content folder; refusing to read it",
        "content/sub/2016-10-06-rel.md: symbolic link points outside the content folder; "
        "refusing to read it",
    ]
    result = run(runner, project, "build")
    failed(result, 1)
    assert result.stderr.splitlines() == [*expected, "feeder: 3 errors"]
    assert project.snapshot() == before

    kept_going = run(runner, project, "build", "--keep-going")
    failed(kept_going, 1)
    assert kept_going.stderr.splitlines()[:3] == expected
    for path in every_file(project.public):
        assert b"s3cr3t" not in path.read_bytes(), path
    assert [e.title for e in project.feed("atom.xml").entries] == ["Good"]


def test_links_inside_content_are_followed(runner: CliRunner, project: Project) -> None:
    project.brief("drafts/2016-10-04-real.txt", house("Real", "x"))
    (project.content / "published").mkdir()
    (project.content / "published" / "2016-10-05-a.txt").symlink_to(
        Path("..", "drafts", "2016-10-04-real.txt"))
    (project.content / "loop").symlink_to(project.content)  # a loop is walked once
    build(runner, project)
    assert sorted(e.title for e in project.feed("atom.xml").entries) == ["Real", "Real"]
