"""Parsing briefs: both layouts, every date source, labels, tags, and each error with its line."""

from __future__ import annotations

import textwrap
from datetime import datetime, timedelta, timezone
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from feeder.brief import Brief, parse_brief
from feeder.config import Config, parse_config
from feeder.errors import Problem
from feeder.sources import Source, decode
from tests.conftest import REAL_BRIEF, shared

CONFIG = parse_config({"base_url": "https://news.example.com/"}, root=Path("/project"))


def parse(text: str, name: str = "2016-10-04-x.txt", config: Config = CONFIG,
          *, dedent: bool = True) -> tuple[Brief | None, tuple[Problem, ...]]:
    if dedent:
        text = textwrap.dedent(text).lstrip("\n")
    return parse_brief(Source(f"content/{name}", name, text), config)


def ok(text: str, name: str = "2016-10-04-x.txt", config: Config = CONFIG) -> Brief:
    brief, problems = parse(text, name, config)
    assert brief is not None, [str(p) for p in problems]
    assert not [p for p in problems if p.is_error]
    return brief


def errors(text: str, name: str = "2016-10-04-x.txt", *, dedent: bool = True) -> list[str]:
    brief, problems = parse(text, name, dedent=dedent)
    assert brief is None
    return [str(p) for p in problems if p.is_error]


# --- the real brief ----------------------------------------------------------------------------

def test_real_brief_is_the_shared_one_unchanged() -> None:
    assert REAL_BRIEF.read_bytes() == shared("briefs/radio-silent.txt").read_bytes()


def test_real_brief_in_house_layout() -> None:
    source = decode(REAL_BRIEF.read_bytes(), "content/2016-10-04-radio-silent.txt",
                    "2016-10-04-radio-silent.txt")
    assert isinstance(source, Source)
    brief, problems = parse_brief(source, CONFIG)
    assert problems == ()
    assert brief is not None
    assert brief.title == "We Don't Talk Anymore: Russia and US Go Radio Silent"
    assert brief.tags == ("russia", "US", "politics")
    assert brief.date == datetime(2016, 10, 4, tzinfo=ZoneInfo("UTC"))
    assert brief.slug == "radio-silent"
    assert brief.summary.startswith("The US announced Monday that it didn't want to talk")
    assert brief.summary.endswith("calming of hostilities in Syria.")
    content = brief.content
    assert content.startswith(
        "This conversation is over.\n\n## The Short of It\n\nThe US announced")
    assert "\n\n## The Longer Version of It\n\nYesterday, the White House" in content
    assert "\n\n### Here's what happened\n\nThe US claims" in content
    assert "\n\n## The Takeaway\n\nThe UN's special envoy" in content
    assert content.endswith("isn't anymore comforting.\n")


# --- layouts -----------------------------------------------------------------------------------

def test_markdown_with_front_matter() -> None:
    brief = ok("""
        ---
        title: "We Don't Talk Anymore: Russia and US Go Radio Silent"
        date: 2016-10-04T09:00:00-04:00
        tags: [russia, US, politics]
        author: Dana Whitfield
        ---
        This conversation is over.

        ## The Short of It

        The US announced Monday that it didn't want to talk.

        ## The Longer Version of It

        Yesterday, the White House announced it.

        ### Here's what happened

        The US claims.

        ## The Takeaway

        Point blank.
        """, "radio-silent.md")
    assert brief.title == "We Don't Talk Anymore: Russia and US Go Radio Silent"
    assert brief.date == datetime(2016, 10, 4, 9, tzinfo=timezone(timedelta(hours=-4)))
    assert brief.tags == ("russia", "US", "politics")
    assert brief.author == "Dana Whitfield"
    assert brief.summary == "The US announced Monday that it didn't want to talk."
    assert brief.content == ("This conversation is over.\n\n## The Short of It\n\nThe US "
                             "announced Monday that it didn't want to talk.\n\n## The Longer "
                             "Version of It\n\nYesterday, the White House announced it.\n\n"
                             "### Here's what happened\n\nThe US claims.\n\n## The Takeaway\n\n"
                             "Point blank.\n")


def test_front_matter_on_top_of_a_house_body_adds_the_date() -> None:
    brief = ok("""
        ---
        date: 2016-10-23
        ---
        Ma Bell Meets Batman

        business, tech

        The Short of It:

        AT&T agreed to buy Time Warner.
        """, "att.txt")
    assert brief.title == "Ma Bell Meets Batman"
    assert brief.tags == ("business", "tech")
    assert brief.date.date().isoformat() == "2016-10-23"
    assert brief.summary == "AT&T agreed to buy Time Warner."
    assert brief.slug == "att"


def test_markdown_sections_may_be_label_lines_and_labels_are_case_insensitive() -> None:
    brief = ok("""
        ---
        title: T
        date: 2016-10-04
        tags: a
        ---
        the short of it:

        Short.

        Not a label without its colon

        THE TAKEAWAY:

        End.
        """, "t.md")
    assert brief.summary == "Short.\n\nNot a label without its colon"
    assert brief.content == ("## The Short of It\n\nShort.\n\nNot a label without its colon\n\n"
                             "## The Takeaway\n\nEnd.\n")


def test_summary_labels_are_a_setting() -> None:
    config = parse_config({"summary_labels": ["In Brief"]}, root=Path("/p"))
    brief = ok("Title\n\nx\n\nIn Brief:\n\nThe gist.\n\nThe Takeaway:\n\nEnd.\n\nMore:\n\n"
               "Detail.\n", config=config)
    assert brief.summary == "The gist."
    assert "## In Brief" in brief.content
    assert "### More" in brief.content


def test_summary_front_matter_overrides_the_short_version() -> None:
    brief = ok("---\nsummary: Written *summary*.\n---\nT\n\na\n\nThe Short of It:\n\nShort.\n")
    assert brief.summary == "Written *summary*."


@pytest.mark.parametrize(
    ("body", "summary", "source"),
    [
        ("T\n\na\n\nA standfirst.\n\nThe Takeaway:\n\nEnd.\n", "A standfirst.", "standfirst"),
        ("T\n\na\n\nThe Takeaway:\n\nEnd.\n", "End.", "first paragraph"),
    ],
    ids=["standfirst", "first-paragraph"],
)
def test_without_a_short_version_the_summary_falls_back_with_a_warning(
        body: str, summary: str, source: str) -> None:
    brief, problems = parse(body)
    assert brief is not None
    assert brief.summary == summary
    assert [str(p) for p in problems] == [
        f"content/2016-10-04-x.txt: warning: no short version ('The Short of It:' section) and "
        f"no summary in front matter; using the {source} as the summary"]


def test_a_long_line_ending_with_a_colon_is_prose_not_a_label() -> None:
    long_line = "He said the following, and it went on for a very long time indeed, " * 2 + ":"
    brief = ok(f"T\n\na\n\nThe Short of It:\n\nShort.\n\n{long_line}\n\n- a list item:\n")
    assert "###" not in brief.content


def test_colons_inside_fenced_code_are_not_labels() -> None:
    brief = ok("T\n\na\n\nThe Short of It:\n\nShort.\n\n```\ncode:\n\nmore:\n```\n")
    assert "```\ncode:\n\nmore:\n```" in brief.content
    assert "###" not in brief.content


def test_crlf_bom_and_a_missing_final_newline_are_accepted() -> None:
    data = "\ufeffTitle\r\n\r\nx, y\r\n\r\nThe Short of It:\r\n\r\nShort.".encode()
    source = decode(data, "content/2016-10-04-a.txt", "2016-10-04-a.txt")
    assert isinstance(source, Source)
    brief, problems = parse_brief(source, CONFIG)
    assert problems == ()
    assert brief is not None
    assert (brief.title, brief.tags, brief.summary) == ("Title", ("x", "y"), "Short.")


def test_markdown_heading_as_title_is_stripped() -> None:
    assert ok("# The Title\n\na\n\nThe Short of It:\n\nS.\n").title == "The Title"


# --- dates -------------------------------------------------------------------------------------

@pytest.mark.parametrize(
    ("front", "expected"),
    [
        ("date: 2016-10-04", datetime(2016, 10, 4, tzinfo=ZoneInfo("America/New_York"))),
        ("date: 2016-10-04T09:00:00-04:00",
         datetime(2016, 10, 4, 9, tzinfo=timezone(timedelta(hours=-4)))),
        ("date: 2016-10-04T13:00:00Z", datetime(2016, 10, 4, 13, tzinfo=timezone.utc)),
        ("date: October 4, 2016", datetime(2016, 10, 4, tzinfo=ZoneInfo("America/New_York"))),
        ("date: 'Tue, 04 Oct 2016 09:00:00 -0400'",
         datetime(2016, 10, 4, 9, tzinfo=timezone(timedelta(hours=-4)))),
        ("date: 'Tue, 04 Oct 2016 09:00:00 EDT'",
         datetime(2016, 10, 4, 9, tzinfo=timezone(timedelta(hours=-4)))),
        ("date: 2016-10-04 09:30", datetime(2016, 10, 4, 9, 30,
                                            tzinfo=ZoneInfo("America/New_York"))),
    ],
    ids=["iso-day", "iso-offset", "iso-z", "written", "rfc822", "rfc822-zone-name", "no-zone"],
)
def test_dates_are_parsed_generously_and_kept_as_given(front: str, expected: datetime) -> None:
    config = parse_config({"timezone": "America/New_York"}, root=Path("/p"))
    brief = ok(f"---\n{front}\n---\nT\n\na\n\nThe Short of It:\n\nS.\n", "x.md", config)
    assert brief.date == expected
    assert brief.date.utcoffset() == expected.utcoffset()


def test_front_matter_date_wins_over_the_file_name() -> None:
    brief = ok("---\ndate: 2016-10-05\n---\nT\n\na\n\nThe Short of It:\n\nS.\n",
               "2016-10-04-x.txt")
    assert brief.date.day == 5


def test_file_name_date_in_the_configured_timezone() -> None:
    config = parse_config({"timezone": "Asia/Tokyo"}, root=Path("/p"))
    brief = ok("T\n\na\n\nThe Short of It:\n\nS.\n", "2016-10-04-x.txt", config)
    assert brief.date == datetime(2016, 10, 4, tzinfo=ZoneInfo("Asia/Tokyo"))


def test_updated_and_the_other_fields() -> None:
    brief = ok("""
        ---
        updated: 2016-10-20T10:00:00Z
        id: tag:example.org,2016-10-04:pinned
        slug: Pinned Slug
        draft: true
        ---
        T

        a

        The Short of It:

        S.
        """)
    assert brief.updated == datetime(2016, 10, 20, 10, tzinfo=timezone.utc)
    assert brief.id == "tag:example.org,2016-10-04:pinned"
    assert brief.slug == "pinned-slug"
    assert brief.draft is True


# --- tags --------------------------------------------------------------------------------------

def test_tags_are_trimmed_and_deduplicated_ignoring_case() -> None:
    brief = ok("T\n\n  russia ,US,  us, ,  Middle   East \n\nThe Short of It:\n\nS.\n")
    assert brief.tags == ("russia", "US", "Middle East")


@pytest.mark.parametrize("tags", ["tags: [a, B]", "tags: 'a, B'", "tags:\n  - a\n  - B"],
                         ids=["list", "string", "block-list"])
def test_front_matter_tags_as_a_list_or_a_string(tags: str) -> None:
    brief = ok(f"---\ntitle: T\n{tags}\n---\nThe Short of It:\n\nS.\n")
    assert brief.tags == ("a", "B")


def test_empty_tag_list_in_front_matter_means_untagged() -> None:
    assert ok("---\ntitle: T\ntags: []\n---\nThe Short of It:\n\nS.\n").tags == ()


def test_unicode_tags_are_kept() -> None:
    assert ok("T\n\nΕλλάδα, 日本\n\nThe Short of It:\n\nS.\n").tags == ("Ελλάδα", "日本")


# --- errors, each with its line ----------------------------------------------------------------

P = "content/2016-10-04-x.txt"


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("", [f"{P}:1: the file is empty; a brief needs a title, tags, a date and text"]),
        ("\n\n  \n", [f"{P}:1: the file is empty; a brief needs a title, tags, a date and text"]),
        ("Title\n\nThe Short of It:\n\nS.\n",
         [f"{P}:3: missing tags line: write the tags comma-separated on the line after the "
          "title, e.g. russia, US"]),
        ("Title\n",  # the tags line is missing after the end of the file: its last line
         [f"{P}:2: missing tags line: write the tags comma-separated on the line after the "
          "title, e.g. russia, US", f"{P}:1: the brief has no text after its title and tags"]),
        ("Title\n\na, b\n", [f"{P}:1: the brief has no text after its title and tags"]),
        ("Title\nsecond line\n\na\n\nThe Short of It:\n\nS.\n",
         [f"{P}:2: the title must be a single line followed by a blank line"]),
        ("T\n\n" + "x" * 60 + "\n\nThe Short of It:\n\nS.\n",
         [f"{P}:3: tag 'xxxxxxxxxxxxxxxxxxxx'... is longer than 50 characters; is this line "
          "really the comma-separated tags line?"]),
        ("T\n\n!!!, ok\n\nThe Short of It:\n\nS.\n",
         [f"{P}:3: tag '!!!' has no letter or digit to make its URL from"]),
        ("---\ntitle: T\n---\nThe Short of It:\n\nS.\n",
         [f"{P}:2: missing tags: add 'tags: [one, two]' to the front matter ('tags: []' for an "
          "untagged brief)"]),
        ("---\ntitle: T\ntags: [a]\n", [f"{P}:1: front matter opened with '---' is never "
                                        "closed; end it with a line '---'"]),
        ("---\ntitle: 'T\ntags: [a]\n---\nS\n",
         [f"{P}:2: invalid YAML front matter: found unexpected end of stream (while scanning a "
          "quoted scalar)"]),
        ("---\ntitle: T\n  tags: [a]\n---\nS\n",
         [f"{P}:3: invalid YAML front matter: mapping values are not allowed"]),
        ("---\ntitle: [a, b]\ntags: [a]\n---\nS\n",
         [f"{P}:2: title must be text, not a list (put it in quotes)"]),
        ("---\ntitle: T\ntags: {a: 1}\n---\nS\n",
         [f"{P}:3: tags must be a list ([russia, US]) or comma-separated text"]),
        ("---\ntitle: !!python/object:os.system x\ntags: [a]\n---\nS\n",
         [f"{P}:2: YAML tags (!name) are not allowed in front matter"]),
        ("---\na: &x [1, 2]\nb: [*x, *x]\ntitle: T\ntags: [a]\n---\nS\n",
         [f"{P}:3: YAML aliases (*name) are not allowed in front matter"]),
        ("---\n- a\n- b\n---\nS\n",
         [f"{P}:2: front matter must be 'key: value' lines, e.g. 'title: ...'"]),
        ("---\ntitle: T\ntitle: U\ntags: [a]\n---\nS\n",
         [f"{P}:3: 'title' is given twice (first on line 2)"]),
        ("---\ntitle: ''\ntags: [a]\n---\nS\n", [f"{P}:2: title is empty"]),
        ("---\ndate: 2016-02-30\n---\nT\n\na\n\nS\n",
         [f"{P}:2: invalid date: '2016-02-30' is not a real date: day is out of range for "
          "month"]),
        ("---\ndate: soon\n---\nT\n\na\n\nS\n",
         [f"{P}:2: invalid date: cannot read 'soon' as a date ("]),
        ("---\ndate: 2016\n---\nT\n\na\n\nS\n",
         [f"{P}:2: invalid date: '2016' is not a whole date: give the year, month and day"]),
        ("---\ndate: 'Tue, 04 Oct 2016 09:00:00 XYZ'\n---\nT\n\na\n\nS\n",
         [f"{P}:2: invalid date: 'Tue, 04 Oct 2016 09:00:00 XYZ' names a time zone feeder does "
          "not know; write it as an offset such as -04:00"]),
        ("---\nupdated: 2016-10-01\n---\nT\n\na\n\nS\n", [f"{P}:2: updated is earlier than date"]),
        ("---\nid: not a uri\n---\nT\n\na\n\nS\n",
         [f"{P}:2: id 'not a uri' is not a URI; use a tag: URI such as "
          "'tag:example.org,2016-10-04:radio-silent' or a URL"]),
        ("---\ndraft: maybe\n---\nT\n\na\n\nS\n", [f"{P}:2: draft must be true or false"]),
        ("---\nslug: '???'\n---\nT\n\na\n\nS\n", [f"{P}:2: slug '???' has no letter or digit"]),
    ],
    ids=["empty", "blank", "no-tags-line", "title-only", "no-text", "two-line-title",
         "prose-as-tags", "tag-without-letters", "front-matter-without-tags", "unclosed",
         "unclosed-quote", "bad-indent", "list-for-text", "mapping-for-tags", "yaml-tag",
         "yaml-alias", "not-a-mapping", "duplicate-key", "empty-title", "no-such-day",
         "unreadable-date", "partial-date", "unknown-zone", "updated-before-date", "bad-id",
         "bad-draft", "bad-slug"],
)
def test_errors_name_the_file_and_line(text: str, expected: list[str]) -> None:
    # The wording of a few YAML and dateutil reasons varies between versions: those
    # expectations end early and are compared as prefixes.
    found = errors(text, dedent=False)
    assert len(found) == len(expected), found
    for actual, wanted in zip(found, expected, strict=True):
        assert actual.startswith(wanted), actual


def test_undated_brief_says_how_to_date_it() -> None:
    assert errors("T\n\na\n\nThe Short of It:\n\nS.\n", "radio-silent.txt") == [
        "content/radio-silent.txt:1: no date: name the file YYYY-MM-DD-radio-silent.txt or add "
        "front matter with 'date: YYYY-MM-DD'"]


def test_impossible_date_in_the_file_name() -> None:
    assert errors("T\n\na\n\nThe Short of It:\n\nS.\n", "2016-02-30-x.txt") == [
        "content/2016-02-30-x.txt: the date in the file name is invalid: '2016-02-30' is not a "
        "real date: day is out of range for month"]


def test_unknown_front_matter_key_is_a_warning_with_the_nearest_key() -> None:
    brief, problems = parse("---\ntitel: T\ntags: [a]\n---\nT\n\na\n\nThe Short of It:\n\nS.\n")
    assert brief is not None
    assert [str(p) for p in problems] == [
        f"{P}:2: warning: unknown front matter key 'titel' is ignored; did you mean 'title'?"]


def test_control_characters_are_removed_with_a_warning() -> None:
    brief, problems = parse("T\x00itle\n\na\x0b\n\nThe Short of It:\n\nS\x1b.\n", dedent=False)
    assert brief is not None
    assert (brief.title, brief.tags, brief.summary) == ("Title", ("a",), "S.")
    assert [str(p) for p in problems] == [
        f"{P}:1: warning: removed characters that XML does not allow (control characters)"]


def test_every_problem_of_a_brief_is_reported_at_once() -> None:
    found = errors("---\ntitle: [x]\ndate: 2016-02-30\nid: no uri\ntags: [a]\n---\nS\n")
    assert [line.split(": ", 1)[0] for line in found] == [f"{P}:2", f"{P}:3", f"{P}:4"]


def test_not_utf8_names_the_line() -> None:
    problem = decode(b"Title\n\ntags\n\ncaf\xe9\n", "content/x.txt", "x.txt")
    assert str(problem) == ("content/x.txt:5: not valid UTF-8 (byte 0xe9 at offset 16); save the "
                            "file as UTF-8")


def test_pyyaml_is_imported_only_for_a_brief_with_front_matter() -> None:
    """Parsing a brief in the house layout does without PyYAML (10 ms of a rebuild's start);
    the first brief with front matter brings it in, and is read as ever."""
    import subprocess
    import sys

    from tests.conftest import REPO

    probe = textwrap.dedent("""
        import sys
        from pathlib import Path
        from feeder.brief import parse_brief
        from feeder.config import parse_config
        from feeder.sources import Source
        config = parse_config({"base_url": "https://news.example.com/"}, root=Path("/p"))
        house = "Alpha\\n\\nTags: US\\n\\nThe Short of It\\n\\nShort.\\n"
        brief, _ = parse_brief(Source("content/2016-10-04-a.txt", "2016-10-04-a.txt",
                                      house), config)
        print(brief.title, "yaml" in sys.modules)
        yamlish = "---\\ntitle: Beta\\ntags: [US]\\n---\\n## The Short of It\\n\\nShort.\\n"
        brief, _ = parse_brief(Source("content/2016-10-05-b.md", "2016-10-05-b.md",
                                      yamlish), config)
        print(brief.title, "yaml" in sys.modules)
    """)
    result = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True,
                            cwd=REPO, check=False)
    assert result.stdout.split("\n")[:2] == ["Alpha False", "Beta True"], result.stderr
