"""Tags, ids, URLs and the plan of feeds."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone
from pathlib import Path
from zoneinfo import ZoneInfo

from hypothesis import given, settings
from hypothesis import strategies as st

from feeder.brief import Brief
from feeder.config import parse_config
from feeder.render import Rendered
from feeder.site import (
    Body,
    Entry,
    Tag,
    brief_url,
    candidate,
    check_unique,
    entry_id,
    index_tags,
    is_published,
    newest_first,
)

CONFIG = parse_config({"base_url": "https://news.example.com/"}, root=Path("/p"))


def brief(path: str = "content/a.txt", tags: tuple[str, ...] = (), slug: str = "a",
          day: int = 4, pinned: str | None = None, draft: bool = False) -> Brief:
    return Brief(path=path, rel=path.removeprefix("content/"), title="T",
                 date=datetime(2016, 10, day, tzinfo=timezone.utc), updated=None, tags=tags,
                 slug=slug, id=pinned, id_line=2 if pinned else None, author=None, draft=draft,
                 summary="S", content="C")


def test_tags_merge_ignoring_case_and_take_the_most_frequent_spelling() -> None:
    tags, problems = index_tags([brief(tags=("US", "Russia")), brief(tags=("us",)),
                                 brief(tags=("us", "russia"))])
    assert problems == ()
    assert tags == {"us": Tag("us", "us"), "russia": Tag("Russia", "russia")}


def test_tie_goes_to_the_spelling_that_sorts_first() -> None:
    tags, _ = index_tags([brief(tags=("us",)), brief(tags=("US",))])
    assert tags["us"] == Tag("US", "us")


def test_two_tags_with_one_slug_are_an_error_naming_both() -> None:
    _, problems = index_tags([brief("content/a.txt", tags=("C++",)),
                              brief("content/b.txt", tags=("C",))])
    assert [str(p) for p in problems] == [
        "content/a.txt: tags 'C' and 'C++' would share the URL tags/c/; rename one of them"]


def test_ids_and_urls() -> None:
    b = brief(slug="radio-silent")
    assert entry_id(CONFIG, b) == "tag:news.example.com,2016-10-04:radio-silent"
    assert brief_url(CONFIG, b) == "https://news.example.com/2016/10/04/radio-silent/"
    assert entry_id(CONFIG, brief(pinned="urn:uuid:1")) == "urn:uuid:1"
    unicode = brief(slug="ελλάδα")
    assert brief_url(CONFIG, unicode) == ("https://news.example.com/2016/10/04/"
                                          "%CE%B5%CE%BB%CE%BB%CE%AC%CE%B4%CE%B1/")


def test_same_id_or_same_date_and_slug_are_errors() -> None:
    briefs = [brief("content/a.txt", slug="x"), brief("content/b.txt", slug="x"),
              brief("content/c.txt", slug="c", pinned="urn:x"),
              brief("content/d.txt", slug="d", pinned="urn:x")]
    empty = Body.of(Rendered("", "", ""))
    problems = check_unique([candidate(CONFIG, b, empty) for b in briefs])
    assert [str(p) for p in problems] == [
        "content/b.txt: same id as content/a.txt (tag:news.example.com,2016-10-04:x); give one "
        "of them another slug or id",
        "content/d.txt:2: same id as content/c.txt (urn:x); give one of them another slug or id",
        "content/b.txt: same date and slug as content/a.txt "
        "(https://news.example.com/2016/10/04/x/); give one of them another slug or id",
    ]


def test_publication_rules() -> None:
    now = datetime(2016, 10, 5, tzinfo=timezone.utc)
    assert is_published(brief(day=4), now, drafts=False, future=False)
    assert not is_published(brief(day=6), now, drafts=False, future=False)
    assert is_published(brief(day=6), now, drafts=False, future=True)
    assert not is_published(brief(draft=True), now, drafts=False, future=False)
    assert is_published(brief(draft=True), now, drafts=True, future=False)


def test_an_entry_digest_changes_with_every_field_and_only_then() -> None:
    from dataclasses import replace

    moment = datetime(2016, 10, 4, tzinfo=timezone.utc)
    entry = Entry("id", "https://x/", "s", "a.txt", "T", moment, moment,
                  (Tag("US", "us"), Tag("Russia", "russia")), None,
                  Body.of(Rendered("<p>s</p>", "s", "c")))
    same = Entry("id", "https://x/", "s", "a.txt", "T", moment, moment,
                 (Tag("US", "us"), Tag("Russia", "russia")), None,
                  Body.of(Rendered("<p>s</p>", "s", "c")))
    assert entry.digest == same.digest
    later = datetime(2016, 10, 5, tzinfo=timezone.utc)
    changes = [{"id": "id2"}, {"url": "https://y/"}, {"slug": "t"}, {"path": "b.txt"},
               {"title": "U"}, {"published": later}, {"updated": later}, {"author": "A"},
               {"tags": (Tag("Us", "us"), Tag("Russia", "russia"))},  # another spelling
               {"tags": (Tag("US", "u-s"), Tag("Russia", "russia"))},
               {"tags": (Tag("Russia", "russia"), Tag("US", "us"))},
               {"tags": (Tag("US", "us"),)},
               {"tags": (Tag("US\0us", "us"),)},  # texts cannot run into each other
               {"body": Body.of(Rendered("<p>s</p>", "s", "d"))}]
    digests = {replace(entry, **change).digest for change in changes}
    assert len(digests) == len(changes)
    assert entry.digest not in digests


_ZONES = [timezone.utc, timezone(timedelta(hours=-4)), timezone(timedelta(hours=5, minutes=30)),
          ZoneInfo("America/New_York"), ZoneInfo("Europe/Paris")]


_BOUNDS = {"min_value": datetime(1900, 1, 1), "max_value": datetime(2100, 1, 1)}  # noqa: DTZ001
"""Hypothesis bounds its datetimes with naive ones, and gives them the zones asked for."""


@settings(max_examples=200, deadline=None)
@given(st.lists(st.tuples(st.datetimes(**_BOUNDS, timezones=st.sampled_from(_ZONES)),
                          st.sampled_from("abc")), max_size=30))
def test_entries_come_newest_first_by_instant_then_id(
        dates: list[tuple[datetime, str]]) -> None:
    # newest_first sorts by the distance from the epoch: the same order as the dates
    # themselves (compared by instant, whatever their zones), ties by id.
    entries = [Entry(ident, "https://x/", "s", "p", "T", moment, moment, (), None,
                     Body.of(Rendered("s", "s", "c"))) for moment, ident in dates]
    expected = sorted(entries, key=lambda entry: (entry.published, entry.id), reverse=True)
    assert [(e.published, e.id) for e in newest_first(entries)] == \
        [(e.published, e.id) for e in expected]
