"""What each format says of a lead image (feeder/media.py), read back as readers read it.

The feeds are real feedgen documents with feeder's extension, parsed with feedparser (what
many readers are built on), checked against RFC 4287's schema and rules, and JSON Feed items
against its schema.
"""

from __future__ import annotations

import json
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

import pytest
from feedgen.feed import FeedGenerator
from lxml import etree, html

from feeder.attachments import LeadImage
from feeder.media import (
    MEDIA_NS,
    add_to_entry,
    json_feed_fields,
    load_extension,
    page_meta,
    with_sizes,
)
from tests.conftest import check_atom, jing, jsonfeed_validator, parse_feed

LEAD = LeadImage("https://news.example.org/2016/10/14/aleppo/map%20east.png",
                 "Map of Aleppo", "image/png", 48_213, 1200, 800)
REMOTE = LeadImage("https://cdn.example.com/photo", "", None, None, None, None)
WHEN = datetime(2016, 10, 14, 9, 0, tzinfo=timezone.utc)


def feed(leads: list[LeadImage | None], *, enclosure: bool = False) -> Any:
    fg = FeedGenerator()
    fg.id("https://news.example.org/")
    fg.title("Briefs")
    fg.author({"name": "Desk"})
    fg.link(href="https://news.example.org/", rel="alternate")
    fg.description("Briefs")
    fg.updated(WHEN)
    load_extension(fg)
    for index, lead in enumerate(leads):
        fe = fg.add_entry(order="append")
        fe.id(f"https://news.example.org/{index}/")
        fe.title(f"Brief {index}")
        fe.link(href=f"https://news.example.org/{index}/", rel="alternate", type="text/html")
        fe.published(WHEN)
        fe.updated(WHEN)
        fe.content("<p>Text</p>", type="html")
        if lead is not None:
            add_to_entry(fe, lead, enclosure=enclosure)
    return fg


@pytest.mark.parametrize("kind", ["atom", "rss"])
def test_readers_find_the_thumbnail_and_the_content(kind: str) -> None:
    fg = feed([LEAD, None, REMOTE])
    data = fg.atom_str(pretty=True) if kind == "atom" else fg.rss_str(pretty=True)
    parsed = parse_feed(data)
    first, second, third = parsed.entries
    assert first.media_thumbnail == [{"url": LEAD.url, "width": "1200", "height": "800"}]
    assert first.media_content == [{"url": LEAD.url, "medium": "image", "type": "image/png",
                                    "filesize": "48213", "width": "1200", "height": "800"}]
    assert "media_thumbnail" not in second
    assert "media_content" not in second
    assert third.media_thumbnail == [{"url": REMOTE.url}]
    assert third.media_content == [{"url": REMOTE.url, "medium": "image"}]
    assert all(entry.enclosures == [] for entry in parsed.entries)  # not unless asked for
    assert [entry.summary for entry in parsed.entries] == ["<p>Text</p>"] * 3
    root = etree.fromstring(data)
    assert len(root.findall(f".//{{{MEDIA_NS}}}group")) == 0  # no media:group
    if kind == "atom":
        check_atom(data)


@pytest.mark.parametrize("kind", ["atom", "rss"])
def test_enclosures_when_asked_for(kind: str) -> None:
    fg = feed([LEAD, REMOTE], enclosure=True)
    data = fg.atom_str(pretty=True) if kind == "atom" else fg.rss_str(pretty=True)
    first, second = parse_feed(data).entries
    assert first.enclosures == [{"href": LEAD.url, "length": "48213", "type": "image/png"}]
    assert second.enclosures[0]["href"] == REMOTE.url
    # the alternate link is still the entry's only alternate link (RFC 4287 4.1.1)
    assert first.link == "https://news.example.org/0/"
    if kind == "rss":
        assert second.enclosures[0]["length"] == "0"  # RSS requires one: 0 when unknown
    else:
        check_atom(data)


def test_atom_with_media_and_enclosures_is_valid(tmp_path: Path) -> None:
    path = tmp_path / "atom.xml"
    path.write_bytes(feed([LEAD, None, REMOTE], enclosure=True).atom_str(pretty=True))
    jing([path])


@pytest.mark.parametrize("kind", ["atom", "rss"])
def test_the_attributes_known_and_only_those(kind: str) -> None:
    fg = feed([LEAD, REMOTE])
    root = etree.fromstring(fg.atom_str() if kind == "atom" else fg.rss_str())
    assert [dict(e.attrib) for e in root.iter(f"{{{MEDIA_NS}}}content")] == [
        {"url": LEAD.url, "medium": "image", "type": "image/png", "fileSize": "48213",
         "width": "1200", "height": "800"},
        {"url": REMOTE.url, "medium": "image"}]
    assert [dict(e.attrib) for e in root.iter(f"{{{MEDIA_NS}}}thumbnail")] == [
        {"url": LEAD.url, "width": "1200", "height": "800"}, {"url": REMOTE.url}]


def test_json_feed_image() -> None:
    assert json_feed_fields(LEAD) == {"image": LEAD.url}
    assert json_feed_fields(LEAD, enclosure=True) == {
        "image": LEAD.url,
        "attachments": [{"url": LEAD.url, "mime_type": "image/png", "size_in_bytes": 48213}]}
    assert json_feed_fields(REMOTE, enclosure=True) == {"image": REMOTE.url}  # type unknown
    item = {"id": "https://news.example.org/0/", "url": "https://news.example.org/0/",
            "content_html": "<p>Text</p>", **json_feed_fields(LEAD, enclosure=True)}
    document = {"version": "https://jsonfeed.org/version/1.1", "title": "Briefs",
                "items": [item]}
    jsonfeed_validator().validate(json.loads(json.dumps(document)))


def test_page_meta_names_the_image() -> None:
    head = "".join(f'<meta {attribute}="{key}" content="{value}">'
                   for attribute, key, value in page_meta(LEAD))
    page = html.fromstring(f"<html><head>{head}</head><body></body></html>")

    def content(attribute: str, key: str) -> str:
        [value] = page.xpath(f"//meta[@{attribute}='{key}']/@content")
        return str(value)

    assert content("property", "og:image") == LEAD.url
    assert content("property", "og:image:width") == "1200"
    assert content("property", "og:image:height") == "800"
    assert content("property", "og:image:type") == "image/png"
    assert content("property", "og:image:alt") == "Map of Aleppo"
    assert content("name", "twitter:image") == LEAD.url
    assert content("name", "twitter:image:alt") == "Map of Aleppo"
    remote = {(attribute, key): value for attribute, key, value in page_meta(REMOTE)}
    assert remote == {("property", "og:image"): REMOTE.url, ("name", "twitter:image"): REMOTE.url}


def test_images_get_their_width_and_height() -> None:
    sizes = {LEAD.url: (1200, 800), "https://news.example.org/a&b.png": (10, 20)}
    fragment = (f'<p><img src="{LEAD.url}" alt="map"> <img alt="x" src="https://news.example'
                '.org/a&amp;b.png"/> <img src="https://elsewhere.example/x.png">'
                f' <img src="{LEAD.url}" width="600"> <IMG SRC=\'{LEAD.url}\'></p>')
    assert with_sizes(fragment, sizes) == (
        f'<p><img src="{LEAD.url}" alt="map" width="1200" height="800"> <img alt="x" '
        'src="https://news.example.org/a&amp;b.png" width="10" height="20"/> '
        '<img src="https://elsewhere.example/x.png">'
        f' <img src="{LEAD.url}" width="600"> <IMG SRC=\'{LEAD.url}\' width="1200" '
        'height="800"></p>')
    assert with_sizes("<p>no pictures</p>", sizes) == "<p>no pictures</p>"
    parsed = html.fromstring(with_sizes(fragment, sizes))
    assert [(img.get("width"), img.get("height")) for img in parsed.iter("img")] == [
        ("1200", "800"), ("10", "20"), (None, None), ("600", None), ("1200", "800")]
