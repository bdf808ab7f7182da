"""JSON Feed 1.1: valid against the spec's JSON Schema and prose, and read back by a parser.

feedparser's latest release (6.0) reads no JSON Feed, so the read-back uses feedparser-rs, a
parser with feedparser's API that does; its entries must match feedparser's reading of the
Atom feed of the same folder.
"""

from __future__ import annotations

import json
import re
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any
from urllib.parse import quote
from zoneinfo import ZoneInfo

import feedparser_rs
import jsonschema
import pytest

from feeder.feeds import rfc3339
from tests.conftest import Project, house, jsonfeed_validator, parse_feed, shared
from tests.serving import sample_project

BASE = "https://news.example.com/"
# RFC 3339 section 5.6 date-time, with an upper-case T and a Z or +hh:mm offset.
RFC3339 = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?(Z|[+-]\d{2}:\d{2})$")


def validator() -> jsonschema.Draft7Validator:
    validator: jsonschema.Draft7Validator = jsonfeed_validator()
    return validator


@pytest.fixture
def site(project: Project) -> Project:
    project.settings('title = "Test Briefs"\nbase_url = "https://news.example.com/"\n'
                     'hubs = ["https://hub.example.com/"]\n'
                     '[author]\nname = "Ed"\nemail = "ed@example.com"\n')
    project.brief("2016-10-04-a.txt", house("A & B", "Russia, US", short="Short *one* & more."))
    project.brief("2016-10-05-b.md", "---\ntitle: B\ntags: [Ελλάδα]\nauthor: Maria\n"
                                      "date: 2016-10-05T09:30:00-04:00\n---\n"
                                      "The Short of It:\n\nShort two.\n", dedent=False)
    project.build()
    return project


def feed_files(public: Path) -> list[Path]:
    return sorted(public.rglob("feed.json"))


def check_feed(public: Path, path: Path, base: str) -> dict[str, Any]:
    """Every rule of JSON Feed 1.1 that feeder's feeds must follow; returns the document."""
    data: dict[str, Any] = json.loads(path.read_bytes())
    errors = sorted(validator().iter_errors(data), key=str)
    assert not errors, [f"{'/'.join(map(str, e.path))}: {e.message}" for e in errors]
    assert next(iter(data)) == "version"  # "This should appear at the very top"
    assert data["version"] == "https://jsonfeed.org/version/1.1"
    folder = path.parent.relative_to(public).as_posix()
    folder = "" if folder == "." else folder + "/"
    assert data["feed_url"] == base + quote(folder) + "feed.json"
    assert data["home_page_url"] == base + quote(folder)
    assert (public / folder / "index.html").is_file()  # home_page_url is a real HTML page
    assert data["authors"]
    assert all(author.get("name") for author in data["authors"])
    ids = [item["id"] for item in data["items"]]
    assert len(ids) == len(set(ids))
    published = [datetime.fromisoformat(item["date_published"]) for item in data["items"]]
    assert published == sorted(published, reverse=True)
    for item in data["items"]:
        assert RFC3339.match(item["date_published"]), item["date_published"]
        assert RFC3339.match(item["date_modified"]), item["date_modified"]
        assert item["url"].startswith(base)
        assert item["content_html"].strip()
        assert "<" not in item["summary"]  # plain text
        rel = item["url"][len(base):]
        assert (public / rel / "index.html").is_file()  # an item's url opens its page
    return data


def test_every_json_feed_of_the_sample_is_valid(tmp_path: Path) -> None:
    from feeder.config import load_config
    from feeder.pipeline import build
    from tests.conftest import NOW

    root = sample_project(tmp_path)
    config, _ = load_config(root)
    build(config, now=NOW)
    files = feed_files(root / "public")
    assert len(files) > 10
    for path in files:
        check_feed(root / "public", path, config.base_url)
    # and against the published JSON Schema of JSON Feed 1.1 (a copy in ../shared/, CI only)
    published = jsonfeed_validator(shared("schemas/jsonfeed-1.1.schema.json"))
    for path in files:
        assert list(published.iter_errors(json.loads(path.read_bytes()))) == [], path


def test_json_feed_fields(site: Project) -> None:
    data = check_feed(site.public, site.public / "feed.json", BASE)
    assert data["title"] == "Test Briefs"
    assert data["language"] == "en"
    assert data["authors"] == [{"name": "Ed", "url": "mailto:ed@example.com"}]
    assert data["hubs"] == [{"type": "WebSub", "url": "https://hub.example.com/"}]
    b, a = data["items"]
    assert a["id"] == "tag:news.example.com,2016-10-04:a"
    assert a["url"] == BASE + "2016/10/04/a/"
    assert a["title"] == "A & B"
    assert a["summary"] == "Short one & more."
    assert "<p>Short <em>one</em> &amp; more.</p>" in a["content_html"]
    assert a["tags"] == ["Russia", "US"]
    assert a["date_published"] == a["date_modified"] == "2016-10-04T00:00:00+00:00"
    assert "authors" not in a
    assert b["date_published"] == "2016-10-05T09:30:00-04:00"
    assert b["authors"] == [{"name": "Maria"}]
    assert b["tags"] == ["Ελλάδα"]
    tag = check_feed(site.public, site.public / "tags/ελλάδα/feed.json", BASE)
    assert tag["feed_url"] == BASE + "tags/%CE%B5%CE%BB%CE%BB%CE%AC%CE%B4%CE%B1/feed.json"
    assert [item["id"] for item in tag["items"]] == [b["id"]]


def test_a_parser_reads_the_json_feeds_as_the_atom_feeds_say(site: Project) -> None:
    """feedparser-rs reads each feed.json to the same entries as the atom.xml next to it."""
    for path in feed_files(site.public):
        parsed = feedparser_rs.parse(path.read_bytes())
        assert not parsed.bozo
        assert parsed.version == "json11"
        atom = feedparser_rs.parse((path.parent / "atom.xml").read_bytes())
        assert not atom.bozo
        assert parsed.feed.title == atom.feed.title
        assert parsed.feed.link == atom.feed.link
        assert len(parsed.entries) == len(atom.entries) > 0
        for json_entry, atom_entry in zip(parsed.entries, atom.entries, strict=True):
            assert json_entry.id == atom_entry.id
            assert json_entry.title == atom_entry.title
            assert json_entry.link == atom_entry.link
            assert datetime.fromisoformat(json_entry.published) == datetime.fromisoformat(
                atom_entry.published)
            assert json_entry.content[0].value == atom_entry.content[0].value
            assert [t.term for t in json_entry.tags] == [t.label for t in atom_entry.tags]
        # and the titles are those feedparser reads from the Atom feed
        titles = [e.title for e in parse_feed((path.parent / "atom.xml").read_bytes()).entries]
        assert [item["title"] for item in json.loads(path.read_bytes())["items"]] == titles


@pytest.mark.parametrize(("moment", "expected"), [
    (datetime(2016, 10, 4, 9, 0, tzinfo=timezone(timedelta(hours=-4))),
     "2016-10-04T09:00:00-04:00"),
    (datetime(2016, 10, 4, tzinfo=timezone.utc), "2016-10-04T00:00:00+00:00"),
    (datetime(2016, 10, 4, 9, 0, 0, 250000, tzinfo=timezone.utc),
     "2016-10-04T09:00:00.250000+00:00"),
    # New York kept local mean time (-04:56:02) until 1883: RFC 3339 cannot write seconds
    (datetime(1880, 1, 1, tzinfo=ZoneInfo("America/New_York")), "1880-01-01T04:56:02+00:00"),
], ids=["offset", "utc", "fraction", "local-mean-time"])
def test_dates_are_rfc3339(moment: datetime, expected: str) -> None:
    assert rfc3339(moment) == expected
    assert RFC3339.match(expected)
    assert datetime.fromisoformat(expected) == moment
