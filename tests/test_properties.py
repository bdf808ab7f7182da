"""Property tests (hypothesis): whatever the briefs hold, `feeder build` either stops with
clear `path:line: message` errors or publishes valid, safe feeds, the same bytes every time.

Example counts are modest so that the file runs in well under a minute; each test prints
what its examples did (run with `-s` to see it; docs/RELIABILITY.md records a run).
"""

from __future__ import annotations

import json
import operator
import re
import shutil
import tempfile
from collections import Counter
from collections.abc import Iterator
from pathlib import Path

import feedparser
import pytest
import yaml
from click.testing import CliRunner
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st
from lxml import etree

from feeder.brief import parse_brief
from feeder.cli import cli
from feeder.config import parse_config
from feeder.errors import Problem
from feeder.render import render
from feeder.sources import Source
from feeder.text import slugify
from tests.conftest import check_atom, jing
from tests.safety import PAYLOADS, html_findings, tree_findings


def examples(count: int) -> settings:
    """No deadline (builds take their time), no example database written into the tree."""
    return settings(max_examples=count, deadline=None, database=None, print_blob=True,
                    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large,
                                           HealthCheck.large_base_example])


CONFIG = parse_config({"base_url": "https://news.example.com/"}, root=Path("/project"))

# --- strategies -------------------------------------------------------------------------------

# Any character but surrogates (files are UTF-8): control characters, every script, astral.
CHARS = st.one_of(st.characters(exclude_categories=["Cs"]),
                  st.sampled_from("\x00\x01\x08\x0b\x1b\x7f\x85\ufffe\uffff\u202e<>&\"'"))
LINE = st.text(CHARS.filter(lambda c: c not in "\n\r\x0b\x0c\x1c\x1d\x1e\x85\u2028\u2029"),
               max_size=60)
HUGE = st.builds(operator.mul, st.text(CHARS, min_size=1, max_size=4),
                 st.integers(min_value=2_000, max_value=20_000))
FIELD = st.one_of(LINE, LINE, LINE, st.just(""), HUGE)
MARKDOWN = st.sampled_from([
    "*emphasis* and **strong**", "[link](../other/)", "![img](pic.png)", "`code`",
    "- a\n- b", "1. one\n2. two", "> quoted", "| a | b |\n| - | - |\n| 1 | 2 |",
    "```\nfenced: code\n\nmore:\n```", "Footnote.[^1]\n\n[^1]: Note.", "<https://a.example/>",
    "&amp; &lt; &#x08; &#0; &#xFFFE;", "Term\n:   Definition", "*[HTML]: Hyper",
    "<div markdown=\"1\">*md*</div>", "- " * 30 + "deep", "\t" * 8 + "- tabbed",
])
PARAGRAPH = st.one_of(LINE, LINE, MARKDOWN, st.sampled_from(PAYLOADS),
                      st.lists(LINE, min_size=1, max_size=4).map("\n".join), HUGE)
LABEL = st.one_of(
    st.sampled_from(["The Short of It:", "The Longer Version of It:", "The Takeaway:",
                     "the short of it:", "Here's what happened:", "## The Short of It",
                     "# The Takeaway", ":", "A:" * 60]),
    LINE.map(lambda s: s + ":"))
SECTIONS = st.lists(st.tuples(LABEL, st.lists(PARAGRAPH, max_size=3)), max_size=4)
TAGS = st.lists(st.one_of(LINE, st.sampled_from(["russia", "US", "us", "Middle East",
                                                  "middle-east", "../../etc", "a/b", "\\"])),
                max_size=5)
DATE = st.one_of(st.sampled_from([
    "2016-10-04", "2016-10-04T09:00:00-04:00", "October 4, 2016", "Tue, 04 Oct 2016 09:00 EDT",
    "2016-02-30", "2016", "soon", "0001-01-01", "9999-12-31T23:00:00-05:00",
    "2016-10-04T09:00:00+25:00", "2099-01-01", "10:" + "3" * 40]), LINE)
VALUE = st.one_of(FIELD, st.none(), st.booleans(), st.integers(), st.floats(),
                  st.lists(FIELD, max_size=3), st.dictionaries(LINE, LINE, max_size=2))
FRONT = st.fixed_dictionaries({}, optional={
    "title": st.one_of(FIELD, VALUE), "date": st.one_of(DATE, VALUE), "updated": DATE,
    "tags": st.one_of(TAGS, TAGS.map(", ".join), VALUE), "summary": st.one_of(PARAGRAPH, VALUE),
    "id": st.one_of(st.just("tag:news.example.com,2016:x"), LINE), "slug": FIELD,
    "author": FIELD, "draft": st.one_of(st.booleans(), VALUE), "titel": LINE, "colour": VALUE,
})


@st.composite
def house_layout(draw: st.DrawFn) -> str:
    parts = [draw(FIELD), ", ".join(draw(TAGS))]
    if draw(st.booleans()):
        parts.append(draw(PARAGRAPH))
    for label, paragraphs in draw(SECTIONS):
        parts += [label, *paragraphs]
    return "\n\n".join(parts) + draw(st.sampled_from(["\n", "", "\n\n"]))


@st.composite
def with_front_matter(draw: st.DrawFn) -> str:
    front = draw(FRONT)
    try:
        dumped = yaml.safe_dump(front, allow_unicode=True, width=10_000)
    except yaml.YAMLError:  # text that YAML cannot represent: write it by hand instead
        dumped = "".join(f"{k}: {v}\n" for k, v in front.items())
    if draw(st.booleans()):  # hand-written front matter: quotes, anchors, tags, junk
        junk = st.one_of(LINE, st.sampled_from([
            "a: &x [1, 2]", "b: *x", "t: !!python/object:os.system x", "q: 'unclosed",
            "  bad: indent", "- item", "key: [", "title: \"\\x01\\u0000\""]))
        dumped += "\n".join(draw(st.lists(junk, max_size=3))) + "\n"
    body = draw(st.one_of(house_layout(), SECTIONS.map(
        lambda sections: "\n\n".join(x for label, paragraphs in sections
                                     for x in (label, *paragraphs)))))
    return f"---\n{dumped}---\n{body}"


VALID_DATE = st.sampled_from(["2016-10-04", "2016-10-04T09:00:00-04:00", "October 4, 2016",
                             "Tue, 04 Oct 2016 09:00 EDT", "2016-10-04 23:59:59+14:00"])
WORD = st.text(st.characters(categories=["L", "N"]), min_size=1, max_size=12)
PLAIN = st.one_of(LINE, MARKDOWN, st.sampled_from(PAYLOADS))


@st.composite
def plausible(draw: st.DrawFn) -> str:
    """A brief that mostly builds: its text fields still hold anything."""
    title = draw(WORD) + draw(st.one_of(st.just(""), LINE.map(lambda s: " " + s)))
    tags = draw(st.lists(WORD, min_size=1, max_size=3))
    short, longer = draw(st.lists(PLAIN, min_size=1, max_size=3)), draw(st.lists(PLAIN,
                                                                                 max_size=3))
    body = ["The Short of It:", *short, "The Longer Version of It:", *longer]
    if draw(st.booleans()):
        return "\n\n".join([title.replace(":", " "), ", ".join(tags), *body]) + "\n"
    front = {"title": title, "tags": tags, "date": draw(VALID_DATE),
             "summary": draw(st.one_of(st.none(), PLAIN))}
    dumped = yaml.safe_dump({k: v for k, v in front.items() if v is not None},
                            allow_unicode=True, width=10_000)
    return f"---\n{dumped}---\n" + "\n\n".join(body) + "\n"


BRIEF = st.one_of(plausible(), plausible(), plausible(), house_layout(), with_front_matter(),
                  st.text(CHARS, max_size=300))
NAMES = st.sampled_from(["2016-10-04-a.txt", "2016-10-05-b.md", "undated.md",
                         "2016-02-30-bad.txt", "2016-10-06-.txt", "sub/2016-10-04-a.txt",
                         "2016-10-07-x.markdown"])
ENCODED = st.one_of(BRIEF.map(lambda text: text.encode()),
                    BRIEF.map(lambda text: b"\xef\xbb\xbf" + text.replace("\n", "\r\n").encode()),
                    st.binary(max_size=200))
DATED = st.sampled_from(["2016-10-04-a.txt", "2016-10-05-b.md", "sub/2016-10-06-c.markdown"])
PROJECT = st.one_of(  # about half the projects should build
    st.dictionaries(DATED, plausible().map(str.encode), min_size=1, max_size=3),
    st.dictionaries(NAMES, ENCODED, min_size=1, max_size=3))

# --- the build --------------------------------------------------------------------------------

PROBLEM_LINE = re.compile(r"^(content(?:/[^:]+)?)(?::(\d+))?: (.+)$")


@pytest.fixture(scope="module")
def workdir() -> Iterator[Path]:
    folder = Path(tempfile.mkdtemp(prefix="feeder-properties-"))
    yield folder
    shutil.rmtree(folder, ignore_errors=True)


def _snapshot(public: Path) -> dict[str, tuple[bytes, int]]:
    return {p.relative_to(public).as_posix(): (p.read_bytes(), p.stat().st_mtime_ns)
            for p in sorted(public.rglob("*")) if p.is_file()}


def _check_refusal(stderr: str, files: dict[str, bytes]) -> int:
    """Every line is `path[:line]: message` (or the count); lines fall within their file."""
    lines = stderr.splitlines()
    assert lines, "exit 1 without a message"
    problems = 0
    for line in lines:
        if re.fullmatch(r"feeder: \d+ errors", line):
            continue
        match = PROBLEM_LINE.match(line)
        assert match, line
        problems += "warning: " not in match.group(3)
        path, number = match.group(1), match.group(2)
        name = path.removeprefix("content/")
        if number is not None and name in files:
            text = files[name].decode("utf-8", "replace").replace("\r\n", "\n")
            assert 1 <= int(number) <= text.replace("\r", "\n").count("\n") + 1, line
    assert problems, stderr
    return problems


def _check_feeds(public: Path, atom_dir: Path, serial: int) -> int:
    feeds = 0
    for path in sorted(public.rglob("*")):
        if path.name in ("atom.xml", "rss.xml"):
            data = path.read_bytes()
            etree.fromstring(data)
            parsed = feedparser.parse(data)
            assert parsed.bozo == 0, (path, parsed.get("bozo_exception"))
            assert parsed.entries, path
            if path.name == "atom.xml":
                check_atom(data)
                shutil.copy(path, atom_dir / f"{serial}-{feeds}.xml")
            feeds += 1
        elif path.name == "feed.json":
            data = json.loads(path.read_bytes())
            assert data["version"] == "https://jsonfeed.org/version/1.1"
            assert data["items"]
    assert tree_findings(public) == {}
    return feeds


def test_any_briefs_build_valid_safe_feeds_or_fail_clearly(workdir: Path) -> None:
    runner = CliRunner()
    atom_dir = workdir / "atom"
    atom_dir.mkdir()
    outcomes: Counter[str] = Counter()

    @examples(40)
    @example(files={"2016-10-04-a.txt": b"Title\n\nx\n\nThe Short of It:\n\nShort.\n"})
    @example(files={"undated.txt": b"Title\n\nx\n\nThe Short of It:\n\nShort.\n"})
    @given(files=PROJECT)
    def build_any(files: dict[str, bytes]) -> None:
        root = Path(tempfile.mkdtemp(dir=workdir))
        (root / "feeder.toml").write_text('title = "Props"\nbase_url = "https://news.example.com/"\n')
        for name, data in files.items():
            (root / "content" / name).parent.mkdir(parents=True, exist_ok=True)
            (root / "content" / name).write_bytes(data)
        result = runner.invoke(cli, ["build", "-C", str(root)])
        assert "Traceback" not in result.output
        assert isinstance(result.exception, SystemExit) or result.exception is None, \
            repr(result.exception)
        if result.exit_code == 1:
            assert not (root / "public").exists()
            outcomes["refused"] += 1
            outcomes["problems"] += _check_refusal(result.stderr, files)
            return
        assert result.exit_code == 0, result.output
        outcomes["built"] += 1
        outcomes["feeds"] += _check_feeds(root / "public", atom_dir, outcomes["built"])
        first = _snapshot(root / "public")
        again = runner.invoke(cli, ["build", "-C", str(root)], catch_exceptions=False)
        assert again.exit_code == 0, again.output
        assert _snapshot(root / "public") == first  # same bytes, nothing even rewritten
        shutil.rmtree(root)

    build_any()
    atoms = sorted(atom_dir.iterdir())
    print(f"\nbuild property: {dict(outcomes)}")
    assert outcomes["built"]
    assert outcomes["refused"]
    jing(atoms[:300])  # one jing run for (up to 300 of) the Atom documents the examples built


# --- the pure parts, many more examples ---------------------------------------------------------

def test_parse_brief_never_raises_and_lines_fall_within_the_file() -> None:
    outcomes: Counter[str] = Counter()

    @examples(200)
    @example(text="", name="2016-10-04-a.txt")
    @example(text="Title\n\nx\n\nThe Short of It:\n\nShort.\n", name="2016-10-04-a.txt")
    @given(text=st.one_of(BRIEF, st.text(CHARS)), name=NAMES)
    def parse_any(text: str, name: str) -> None:
        brief, problems = parse_brief(Source(f"content/{name}", name, text), CONFIG)
        last = text.count("\n") + 1
        for problem in problems:
            assert isinstance(problem, Problem)
            assert problem.line is None or 1 <= problem.line <= last, (str(problem), last)
            assert problem.message
            assert "\n" not in problem.message, str(problem)
        assert (brief is None) == any(p.is_error for p in problems)
        outcomes["parsed" if brief else "refused"] += 1

    parse_any()
    print(f"\nparse property: {dict(outcomes)}")
    assert outcomes["parsed"]
    assert outcomes["refused"]


def test_rendered_html_is_always_safe() -> None:
    count = Counter[str]()

    @examples(150)
    @given(st.lists(st.one_of(st.sampled_from(PAYLOADS), MARKDOWN, LINE), max_size=8))
    def render_any(pieces: list[str]) -> None:
        text = "\n\n".join(pieces)
        rendered = render(text, text, "https://news.example.com/2016/10/04/x/")
        for html in (rendered.summary_html, rendered.content_html):
            assert html_findings(html) == [], html
        count["rendered"] += 1

    render_any()
    print(f"\nrender property: {dict(count)}")


def test_slugify_is_idempotent_and_safe() -> None:
    count = Counter[str]()

    @examples(500)
    @given(st.text(CHARS))
    def slug_any(text: str) -> None:
        slug = slugify(text)
        assert slugify(slug) == slug
        assert slug == slug.strip("-")
        for bad in ("/", "\\", "\x00", ".", " "):
            assert bad not in slug
        assert slug not in ("", ".", "..") or not any(c.isalnum() for c in text)
        count["letters" if slug else "empty"] += 1

    slug_any()
    print(f"\nslug property: {dict(count)}")


def test_tags_never_leave_their_folder() -> None:
    """Any tag that parses becomes a folder name that is one plain path segment."""

    @examples(100)
    @given(TAGS.filter(bool))
    def tags_any(tags: list[str]) -> None:
        line = ", ".join(t.replace(",", " ") for t in tags)
        text = f"T\n\n{line}\n\nThe Short of It:\n\nS.\n"
        brief, _ = parse_brief(Source("content/2016-10-04-x.txt", "2016-10-04-x.txt", text), CONFIG)
        for tag in brief.tags if brief else ():
            segment = slugify(tag)
            assert segment
            assert Path(segment).name == segment
            assert segment not in (".", "..")

    tags_any()
