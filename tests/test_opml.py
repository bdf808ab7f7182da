"""feeds.opml: an OPML 2.0 list of every feed that a reader can import."""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

import pytest
from lxml import etree

from feeder.opml import opml_bytes
from feeder.pipeline import collect
from tests.conftest import NOW, Project, house, parse_feed

BASE = "https://news.example.com/"


@pytest.fixture
def site(project: Project) -> Project:
    project.settings('title = "Test & Briefs"\nbase_url = "https://news.example.com/"\n'
                     '[author]\nname = "Ed"\nemail = "ed@example.com"\n')
    project.brief("2016-10-04-a.txt", house("A", "Russia, US"))
    project.brief("2016-10-05-b.txt", house("B", "Middle East"))
    project.brief("2016-10-06-c.md", "---\ntitle: C\ntags: []\nupdated: 2016-10-09T10:00:00+02:00\n"
                                      "---\nThe Short of It:\n\nS.\n", dedent=False)
    project.build()
    return project


def outlines(root: etree._Element) -> list[etree._Element]:
    return [o for o in root.iter("outline") if o.get("type") == "rss"]


def test_opml_lists_every_feed_once_combined_first_then_tags_in_a_folder(site: Project) -> None:
    root = etree.fromstring((site.public / "feeds.opml").read_bytes())
    assert root.tag == "opml"
    assert root.get("version") == "2.0"
    head = root.find("head")
    assert head is not None
    assert head.findtext("title") == "Test & Briefs: every feed"
    assert head.findtext("dateModified") == "Sun, 09 Oct 2016 08:00:00 GMT"  # newest update
    assert head.findtext("ownerName") == "Ed"
    assert head.findtext("ownerEmail") == "ed@example.com"
    # no <docs>: optional in OPML 2.0, and the W3C validator warns of it
    assert head.find("docs") is None
    body = root.find("body")
    assert body is not None
    combined, folder = list(body)
    assert combined.attrib == {
        "type": "rss", "text": "Test & Briefs", "title": "Test & Briefs",
        "description": "Test & Briefs", "xmlUrl": BASE + "atom.xml", "htmlUrl": BASE,
        "language": "en"}
    assert folder.get("text") == "Test & Briefs: tags"
    assert folder.get("type") is None
    assert [(o.get("title"), o.get("xmlUrl"), o.get("htmlUrl")) for o in folder] == [
        ("Test & Briefs: Middle East", BASE + "tags/middle-east/atom.xml",
         BASE + "tags/middle-east/"),
        ("Test & Briefs: Russia", BASE + "tags/russia/atom.xml", BASE + "tags/russia/"),
        ("Test & Briefs: US", BASE + "tags/us/atom.xml", BASE + "tags/us/")]


def test_every_listed_feed_and_page_exists_and_every_feed_is_listed(site: Project) -> None:
    root = etree.fromstring((site.public / "feeds.opml").read_bytes())
    listed = {o.get("xmlUrl") for o in outlines(root)}
    built = {BASE + p.relative_to(site.public).as_posix()
             for p in site.public.rglob("atom.xml")}
    assert listed == built
    for outline in outlines(root):
        rel = (outline.get("xmlUrl") or "")[len(BASE):]
        feed = parse_feed((site.public / rel).read_bytes())
        assert feed.feed.title == outline.get("title")
        html = (outline.get("htmlUrl") or "")[len(BASE):]
        assert (site.public / html / "index.html").is_file()


def test_opml_is_the_same_bytes_every_time(site: Project) -> None:
    config = site.config()
    collected = collect(config, now=NOW)
    assert collected.site is not None
    assert opml_bytes(collected.site, config) == (site.public / "feeds.opml").read_bytes()


def test_newsboat_imports_every_feed(site: Project, tmp_path: Path) -> None:
    """A real reader's import (newsboat -i) subscribes to each feed, the tags in their folder."""
    if shutil.which("newsboat") is None:
        if os.environ.get("CI"):
            pytest.fail("newsboat is not installed: .ci/run installs it")
        pytest.skip("newsboat is not installed (apt-get install newsboat)")
    home = tmp_path / "home"
    home.mkdir()
    urls = home / "urls"
    result = subprocess.run(
        ["newsboat", "-i", str(site.public / "feeds.opml"), "-u", str(urls),
         "-c", str(home / "cache.db")],
        env={"HOME": str(home), "PATH": os.environ.get("PATH", ""), "TERM": "dumb"},
        stdin=subprocess.DEVNULL, capture_output=True, text=True, timeout=120, check=False)
    assert result.returncode == 0, result.stderr
    assert urls.read_text(encoding="utf-8").splitlines() == [
        BASE + "atom.xml",
        f'{BASE}tags/middle-east/atom.xml "Test & Briefs: tags"',
        f'{BASE}tags/russia/atom.xml "Test & Briefs: tags"',
        f'{BASE}tags/us/atom.xml "Test & Briefs: tags"',
    ]
