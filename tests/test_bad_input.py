"""Every bad input, through the command line: one clear `path:line: message`, exit 1, no
traceback, and public/ exactly as it was. Bad settings exit 2.

Each case first builds a good brief (so public/ has something to lose), then adds the bad
input and runs `feeder build`, then `feeder check`: both must print the same problems.
docs/RELIABILITY.md lists these cases with their messages.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

import pytest
from click.testing import CliRunner, Result

from feeder.cli import cli
from feeder.text import plural
from tests.conftest import Project, house

BILLION_LAUGHS = "\n".join([
    "---",
    'a: &a ["lol", "lol", "lol", "lol", "lol", "lol", "lol", "lol", "lol"]',
    "b: &b [*a, *a, *a, *a, *a, *a, *a, *a, *a]",
    "c: &c [*b, *b, *b, *b, *b, *b, *b, *b, *b]",
    "d: &d [*c, *c, *c, *c, *c, *c, *c, *c, *c]",
    "e: &e [*d, *d, *d, *d, *d, *d, *d, *d, *d]",
    "f: &f [*e, *e, *e, *e, *e, *e, *e, *e, *e]",
    "g: &g [*f, *f, *f, *f, *f, *f, *f, *f, *f]",
    "h: &h [*g, *g, *g, *g, *g, *g, *g, *g, *g]",
    "title: *h",
    "tags: [x]",
    "---",
    "The Short of It:",
    "",
    "Lol.",
    "",
])
BODY = "The Short of It:\n\nShort.\n"
HOUSE = house("A Title", "x, y")
TAGS_EXAMPLE = "write the tags comma-separated on the line after the title, e.g. russia, US"


@dataclass(frozen=True)
class Bad:
    """Files to add to content/ and the exact problem lines feeder must print."""

    files: dict[str, bytes]
    expected: list[str]


def text(name: str, content: str) -> dict[str, bytes]:
    return {name: content.encode()}


def md(content: str) -> dict[str, bytes]:
    return text("2016-10-05-x.md", content)


MD = "content/2016-10-05-x.md"


CASES: dict[str, Bad] = {
    "undated": Bad(text("radio-silent.txt", HOUSE), [
        "content/radio-silent.txt:1: no date: name the file YYYY-MM-DD-radio-silent.txt or add "
        "front matter with 'date: YYYY-MM-DD'"]),
    "unparseable-date": Bad(md("---\ndate: next Tuesday-ish\n---\n" + HOUSE), [
        f"{MD}:2: invalid date: cannot read 'next Tuesday-ish' as a date (Unknown string "
        "format); write it as YYYY-MM-DD, with a time if you like: 2016-10-04T09:00:00-04:00"]),
    "date-without-day": Bad(md("---\ndate: October 2016\n---\n" + HOUSE), [
        f"{MD}:2: invalid date: 'October 2016' is not a whole date: give the year, month "
        "and day"]),
    "no-such-day": Bad(md("---\ndate: 2016-02-30\n---\n" + HOUSE), [
        f"{MD}:2: invalid date: '2016-02-30' is not a real date: day is out of range for "
        "month"]),
    "no-such-day-in-file-name": Bad(text("2016-02-30-x.txt", HOUSE), [
        "content/2016-02-30-x.txt: the date in the file name is invalid: '2016-02-30' is not a "
        "real date: day is out of range for month"]),
    "no-such-offset": Bad(md("---\ndate: 2016-10-04T09:00:00+25:00\n---\n" + HOUSE), [
        f"{MD}:2: invalid date: '2016-10-04T09:00:00+25:00' has a time zone offset no "
        "clock uses; write one between -12:00 and +14:00, such as -04:00"]),
    "year-out-of-range": Bad(md("---\ndate: 0099-10-04\n---\n" + HOUSE), [
        f"{MD}:2: invalid date: '0099-10-04' is out of range: feeder publishes dates from "
        "the year 1000 to 9999"]),
    "yaml-unclosed-quote": Bad(md("---\ntitle: 'Unclosed\ntags: [x]\n---\n" + BODY), [
        f"{MD}:2: invalid YAML front matter: found unexpected end of stream (while "
        "scanning a quoted scalar)"]),
    "yaml-bad-indentation": Bad(md("---\ntitle: T\n  tags: [x]\n---\n" + BODY), [
        f"{MD}:3: invalid YAML front matter: mapping values are not allowed in this "
        "context"]),
    "yaml-list-for-text": Bad(md("---\ntitle: [a, b]\ntags: [x]\n---\n" + BODY), [
        f"{MD}:2: title must be text, not a list (put it in quotes)"]),
    "yaml-mapping-for-text": Bad(md("---\ntitle: T\ntags: [x]\nauthor: {a: 1}\n---\n" + BODY), [
        f"{MD}:4: author must be text, not a mapping (put it in quotes)"]),
    "yaml-python-tag": Bad(md('---\ntitle: !!python/object/apply:os.system ["touch pwned"]\n'
                              "tags: [x]\n---\n" + BODY), [
        f"{MD}:2: YAML tags (!name) are not allowed in front matter"]),
    "yaml-binary-tag": Bad(md("---\ntitle: !!binary aGVsbG8=\ntags: [x]\n---\n" + BODY), [
        f"{MD}:2: YAML tags (!name) are not allowed in front matter"]),
    "yaml-billion-laughs": Bad(md(BILLION_LAUGHS), [
        f"{MD}:3: YAML aliases (*name) are not allowed in front matter"]),
    "yaml-anchor": Bad(md("---\ntitle: &t The Title\ntags: [x]\n---\n" + BODY), [
        f"{MD}:2: YAML anchors (&name) are not allowed in front matter"]),
    "yaml-duplicate-key": Bad(md("---\ntitle: A\ntags: [x]\ntitle: B\n---\n" + BODY), [
        f"{MD}:4: 'title' is given twice (first on line 2)"]),
    "front-matter-not-closed": Bad(md("---\ntitle: T\ntags: [x]\n" + BODY), [
        f"{MD}:1: front matter opened with '---' is never closed; end it with a line "
        "'---'"]),
    "front-matter-not-a-mapping": Bad(md("---\n- title\n- tags\n---\n" + BODY), [
        f"{MD}:2: front matter must be 'key: value' lines, e.g. 'title: ...'"]),
    "missing-title-front-matter": Bad(md("---\ntitle: ''\ntags: [x]\n---\n" + BODY), [
        f"{MD}:2: title is empty"]),
    "missing-title-house": Bad(text("2016-10-04-x.txt", "# \n\nx, y\n\n" + BODY), [
        "content/2016-10-04-x.txt:1: missing title: the first line of a brief is its title"]),
    "title-of-two-lines": Bad(text("2016-10-04-x.txt", "A Title\nthat goes on\n\nx\n\n" + BODY), [
        "content/2016-10-04-x.txt:2: the title must be a single line followed by a blank "
        "line"]),
    "missing-tags-line": Bad(text("2016-10-04-x.txt", "A Title\n\n" + BODY), [
        f"content/2016-10-04-x.txt:3: missing tags line: {TAGS_EXAMPLE}"]),
    "empty-tags-line": Bad(text("2016-10-04-x.txt", "A Title\n\n , ,\n\n" + BODY), [
        f"content/2016-10-04-x.txt:3: the tags line has no tags: {TAGS_EXAMPLE} (an untagged "
        "brief needs front matter 'tags: []')"]),
    "missing-tags-front-matter": Bad(md("---\ntitle: T\ndate: 2016-10-04\n---\n" + BODY), [
        f"{MD}:2: missing tags: add 'tags: [one, two]' to the front matter ('tags: []' "
        "for an untagged brief)"]),
    "empty-tags-front-matter": Bad(md("---\ntitle: T\ndate: 2016-10-04\ntags:\n---\n" + BODY), [
        f"{MD}:4: tags is empty: list the tags ('tags: [one, two]'), or write 'tags: []' "
        "for an untagged brief"]),
    "tag-without-letters": Bad(text("2016-10-04-x.txt", "A Title\n\nx, ???\n\n" + BODY), [
        "content/2016-10-04-x.txt:3: tag '???' has no letter or digit to make its URL from"]),
    "no-text": Bad(text("2016-10-04-x.txt", "A Title\n\nx, y\n"), [
        "content/2016-10-04-x.txt:1: the brief has no text after its title and tags"]),
    "empty-file": Bad({"2016-10-04-x.txt": b""}, [
        "content/2016-10-04-x.txt:1: the file is empty; a brief needs a title, tags, a date and "
        "text"]),
    "blank-file": Bad({"2016-10-04-x.txt": b"\r\n  \n\t\n"}, [
        "content/2016-10-04-x.txt:1: the file is empty; a brief needs a title, tags, a date and "
        "text"]),
    "not-utf8-latin1": Bad({"2016-10-04-x.txt": "A Title\n\nx\n\nThe Short of It:\n\nCafé.\n"
                                                .encode("latin-1")}, [
        "content/2016-10-04-x.txt:7: not valid UTF-8 (byte 0xe9 at offset 33); save the file "
        "as UTF-8"]),
    "not-utf8-utf16": Bad({"2016-10-04-x.txt": HOUSE.encode("utf-16")}, [
        "content/2016-10-04-x.txt:1: not valid UTF-8 (byte 0xff at offset 0); save the file as "
        "UTF-8"]),
    "over-the-size-limit": Bad({"2016-10-04-x.txt": HOUSE.encode() + b"x" * (1 << 20)}, [
        f"content/2016-10-04-x.txt: file is {len(HOUSE) + (1 << 20):,} bytes, over the limit of "
        "1,048,576 (setting max_brief_bytes)"]),
    "nested-too-deep": Bad(text("2016-10-04-x.txt", HOUSE + "\n" + "- " * 60 + "deep\n"), [
        "content/2016-10-04-x.txt:17: the line starts with 120 columns of quote and list markers "
        "and indentation; at most 100 can be nested: flatten the list or quote"]),
    "id-not-a-uri": Bad(md("---\nid: radio silent\n---\n" + HOUSE), [
        f"{MD}:2: id 'radio silent' is not a URI; use a tag: URI such as "
        "'tag:example.org,2016-10-04:radio-silent' or a URL"]),
    "id-javascript": Bad(md("---\nid: javascript:alert(1)\n---\n" + HOUSE), [
        f"{MD}:2: id 'javascript:alert(1)' must be a tag:, urn:, http: or https: URI"]),
    "block-too-long": Bad(text("2016-10-04-x.txt", HOUSE + "\n" + "*[A]: b\n" * 201), [
        "content/2016-10-04-x.txt:17: this block of text has 201 lines without a blank line; at "
        "most 200 can be rendered: separate paragraphs, list items or table rows with blank "
        "lines, or split the table"]),
    "same-id": Bad({
        "2016-10-05-a.md": b"---\nid: tag:news.example.com,2016:one\n---\n" + HOUSE.encode(),
        "2016-10-06-b.md": b"---\nid: tag:news.example.com,2016:one\n---\n" + HOUSE.encode()}, [
        "content/2016-10-06-b.md:2: same id as content/2016-10-05-a.md "
        "(tag:news.example.com,2016:one); give one of them another slug or id"]),
    "same-date-and-slug": Bad({"a/2016-10-05-x.txt": HOUSE.encode(),
                               "b/2016-10-05-x.txt": HOUSE.encode()}, [
        "content/b/2016-10-05-x.txt: same date and slug as content/a/2016-10-05-x.txt "
        "(https://news.example.com/2016/10/05/x/); give one of them another slug or id",
        "content/b/2016-10-05-x.txt: same id as content/a/2016-10-05-x.txt "
        "(tag:news.example.com,2016-10-05:x); give one of them another slug or id"]),
    "same-date-and-front-matter-slug": Bad({
        "2016-10-05-a.md": b"---\nslug: Same Slug\nid: tag:news.example.com,2016:a\n---\n"
                           + HOUSE.encode(),
        "2016-10-05-b.md": b"---\nslug: same-slug\nid: tag:news.example.com,2016:b\n---\n"
                           + HOUSE.encode()}, [
        "content/2016-10-05-b.md: same date and slug as content/2016-10-05-a.md "
        "(https://news.example.com/2016/10/05/same-slug/); give one of them another slug or id"]),
    "two-tags-one-slug": Bad({"2016-10-05-a.txt": house("A", "Middle East").encode(),
                              "2016-10-06-b.txt": house("B", "middle-east").encode()}, [
        "content/2016-10-06-b.txt: tags 'Middle East' and 'middle-east' would share the URL "
        "tags/middle-east/; rename one of them"]),
}


def run(runner: CliRunner, project: Project, *args: str) -> Result:
    return runner.invoke(cli, [*args, "-C", str(project.root)])


def failed(result: Result, code: int) -> None:
    assert result.exit_code == code, result.output
    assert isinstance(result.exception, SystemExit), result.exception
    assert "Traceback" not in result.output


@pytest.fixture
def published(runner: CliRunner, project: Project) -> Project:
    """A project whose public/ holds the feeds of one good brief."""
    project.brief("2016-10-04-good.txt", house("Good", "x"))
    result = runner.invoke(cli, ["build", "-C", str(project.root)], catch_exceptions=False)
    assert result.exit_code == 0, result.output
    return project


@pytest.mark.parametrize("case", CASES.values(), ids=CASES.keys())
def test_bad_input_is_one_clear_error(runner: CliRunner, published: Project, case: Bad) -> None:
    before = published.snapshot()
    assert before
    for name, data in case.files.items():
        path = published.content / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(data)
    total = [f"feeder: {len(case.expected)} errors"] if len(case.expected) > 1 else []

    result = run(runner, published, "build")
    failed(result, 1)
    assert result.stderr.splitlines() == case.expected + total
    assert result.stdout == ""
    assert published.snapshot() == before

    checked = run(runner, published, "check")
    failed(checked, 1)
    files = 1 + len(case.files)
    assert checked.stderr.splitlines() == [
        *case.expected, f"checked {plural(files, 'brief file')}: "
        f"{plural(len(case.expected), 'error')}, 0 warnings"]
    assert published.snapshot() == before


def test_every_bad_brief_is_reported_in_one_run(runner: CliRunner, published: Project) -> None:
    before = published.snapshot()
    expected = []
    for name, case in CASES.items():
        if len(case.files) == 1:  # the clashes need their pairs to themselves
            (file_name, data), = case.files.items()
            published.content.joinpath(name).mkdir()
            published.content.joinpath(name, file_name).write_bytes(data)
            expected += [line.replace("content/", f"content/{name}/", 1)
                         for line in case.expected]
    result = run(runner, published, "build")
    failed(result, 1)
    assert result.stderr.splitlines() == [*sorted(expected), f"feeder: {len(expected)} errors"]
    assert published.snapshot() == before


# --- warnings: unknown front matter keys ------------------------------------------------------

def test_unknown_front_matter_key_warns_names_the_nearest_key_and_still_builds(
        runner: CliRunner, project: Project) -> None:
    project.brief("2016-10-04-a.txt", "---\nsumary: Typo.\ncolour: red\n---\n" + house("A", "x"),
                  dedent=False)
    warnings = [
        "content/2016-10-04-a.txt:2: warning: unknown front matter key 'sumary' is ignored; did "
        "you mean 'summary'?",
        "content/2016-10-04-a.txt:3: warning: unknown front matter key 'colour' is ignored"]
    result = runner.invoke(cli, ["build", "-C", str(project.root)], catch_exceptions=False)
    assert result.exit_code == 0, result.output
    assert result.stderr.splitlines()[:2] == warnings
    assert re.match(r"public: \d+ written, 0 removed, 0 unchanged \(1 brief, ",
                    result.stderr.splitlines()[2])
    assert [e.title for e in project.feed("atom.xml").entries] == ["A"]

    checked = runner.invoke(cli, ["check", "-C", str(project.root)], catch_exceptions=False)
    assert checked.exit_code == 0, checked.output
    assert checked.stderr.splitlines() == [
        *warnings, "checked 1 brief file: 0 errors, 2 warnings"]
    failed(run(runner, project, "check", "--strict"), 1)
    quiet = runner.invoke(cli, ["build", "-q", "-C", str(project.root)], catch_exceptions=False)
    assert (quiet.exit_code, quiet.stderr) == (0, "")


# --- untagged briefs ----------------------------------------------------------------------------

def test_tags_empty_list_means_untagged_in_the_combined_feed_only(
        runner: CliRunner, project: Project) -> None:
    project.brief("2016-10-04-tagged.txt", house("Tagged", "x"))
    project.brief("2016-10-05-untagged.md", "---\ntitle: Untagged\ntags: []\n---\n" + BODY,
                  dedent=False)
    result = runner.invoke(cli, ["build", "-C", str(project.root)], catch_exceptions=False)
    assert result.exit_code == 0, result.output
    assert [p.name for p in (project.public / "tags").iterdir() if p.is_dir()] == ["x"]
    for name in ("atom.xml", "rss.xml"):
        combined = project.feed(name)
        assert [e.title for e in combined.entries] == ["Untagged", "Tagged"]
        assert "tags" not in combined.entries[0]
        assert [e.title for e in project.feed(f"tags/x/{name}").entries] == ["Tagged"]


# --- settings: exit 2 --------------------------------------------------------------------------

SETTINGS: dict[str, tuple[str, list[str], list[str]]] = {
    "unknown-key": ('base_url = "https://news.example.com/"\nbase_ulr = "x"\n', [], [
        "feeder.toml:2: unknown setting 'base_ulr'; did you mean 'base_url'?"]),
    "unknown-key-no-near": ('base_url = "https://news.example.com/"\ncolour = "red"\n', [], [
        "feeder.toml:2: unknown setting 'colour'"]),
    "wrong-type": ('base_url = "https://news.example.com/"\nmax_entries = "ten"\n', [], [
        "feeder.toml:2: max_entries: expected a whole number, got text"]),
    "wrong-type-bool": ('base_url = "https://news.example.com/"\nallow_raw_html = "yes"\n', [], [
        "feeder.toml:2: allow_raw_html: expected true or false, got text"]),
    "bad-base-url": ('base_url = "javascript:alert(1)"\n', [], [
        "feeder.toml:1: base_url: expected an absolute http(s) URL such as "
        "https://news.example.com/, got 'javascript:alert(1)'"]),
    "base-url-without-host": ('base_url = "https:///news"\n', [], [
        "feeder.toml:1: base_url: expected an absolute http(s) URL such as "
        "https://news.example.com/, got 'https:///news'"]),
    "bad-timezone": ('base_url = "https://news.example.com/"\ntimezone = "Mars/Olympus"\n', [], [
        "feeder.toml:2: timezone: unknown timezone 'Mars/Olympus'; use an IANA name such as 'UTC' "
        "or 'America/New_York'"]),
    "timezone-path": ('base_url = "https://news.example.com/"\ntimezone = "../../etc/passwd"\n',
                      [], [
        "feeder.toml:2: timezone: unknown timezone '../../etc/passwd'; use an IANA name such as "
        "'UTC' or 'America/New_York'"]),
    "bad-timezone-option": ('base_url = "https://news.example.com/"\n', ["--timezone", "Nowhere"], [
        "command line: --timezone: unknown timezone 'Nowhere'; use an IANA name such as 'UTC' or "
        "'America/New_York'"]),
    "max-brief-bytes-zero": ('base_url = "https://news.example.com/"\nmax_brief_bytes = 0\n', [], [
        "feeder.toml:2: max_brief_bytes: must be at least 1, got 0"]),
}


@pytest.mark.parametrize(("settings", "options", "expected"), SETTINGS.values(),
                         ids=SETTINGS.keys())
def test_bad_setting_exits_2(runner: CliRunner, published: Project, settings: str,
                             options: list[str], expected: list[str]) -> None:
    before = published.snapshot()
    published.settings(settings)
    for command in ("build", "check"):
        result = run(runner, published, command, *options)
        failed(result, 2)
        assert result.stderr.splitlines() == expected
        assert published.snapshot() == before


def test_a_smaller_size_limit_is_a_setting(runner: CliRunner, published: Project) -> None:
    before = published.snapshot()
    published.settings('base_url = "https://news.example.com/"\nmax_brief_bytes = 100\n')
    size = (published.content / "2016-10-04-good.txt").stat().st_size
    result = run(runner, published, "build")
    failed(result, 1)
    assert result.stderr == (f"content/2016-10-04-good.txt: file is {size} bytes, over the limit "
                             "of 100 (setting max_brief_bytes)\n")
    assert published.snapshot() == before
