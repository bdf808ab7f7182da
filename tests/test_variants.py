"""Briefs as people write them: every ordinary way of marking a section, in both layouts.

Each variant writes the same brief (a short version of two paragraphs and a list, a longer
version with a sub-label, a takeaway); the summary must be exactly the short version and the
content must have the same headings, whatever the spelling.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from feeder.brief import Brief, parse_brief
from feeder.config import parse_config
from feeder.render import render
from feeder.sources import Source, decode

CONFIG = parse_config({"base_url": "https://news.example.com/"}, root=Path("/project"))
SHORT = "The US announced Monday that it would stop talking.\n\nRussia said nothing."
LIST = "- talks suspended\n- ceasefire over"
LONGER = "Yesterday, the White House announced it."
HAPPENED = "The US claims it struck Syrian troops by accident."
TAKEAWAY = "Point blank: the stand-off is not comforting."

Spell = Callable[[str, bool], str]
"""How a variant writes a label line: (label, is a section) -> the line(s)."""


def _label_line(label: str, _section: bool) -> str:
    return f"{label}:"


VARIANTS: dict[str, tuple[Spell, str]] = {
    # name: (how the label is written, what separates it from its text)
    "label-line": (_label_line, "\n\n"),
    "label-then-text": (_label_line, "\n"),
    **{f"atx-{n}": (lambda label, section, n=n: f"{'#' * n} {label}" if section
                    else f"### {label}", "\n\n") for n in range(1, 7)},
    "atx-tight": (lambda label, section: f"## {label}" if section else f"### {label}", "\n"),
    "atx-colon": (lambda label, section: f"## {label}:" if section else f"### {label}", "\n\n"),
    "setext-dash": (lambda label, section: f"{label}\n---" if section else f"{label}:", "\n\n"),
    "setext-equals": (lambda label, section: f"{label}\n===" if section else f"{label}:", "\n"),
    "bold-colon": (lambda label, _s: f"**{label}:**", "\n\n"),
    "bold-colon-outside": (lambda label, _s: f"**{label}**:", "\n"),
    "underscores": (lambda label, section: f"__{label}__" if section else f"__{label}:__",
                    "\n\n"),
    "italic-colon": (lambda label, _s: f"*{label}:*", "\n"),
    "plain-alone": (lambda label, section: label if section else f"{label}:", "\n\n"),
    "bold-only": (lambda label, section: f"**{label}**" if section else f"**{label}:**",
                  "\n\n"),
    "no-break-spaces": (lambda label, _s: label.replace(" ", "\u00a0") + ":", "\n\n"),
    "other-unicode-spaces": (lambda label, _s: label.replace(" ", "\u2009", 1)
                             .replace(" ", "\u3000") + ":\u00a0", "\n"),
    "typographic-apostrophes": (lambda label, _s: label.replace("'", "\u2019") + ":", "\n\n"),
    "upper-case": (lambda label, _s: label.upper() + ":", "\n\n"),
    "lower-case-trailing-spaces": (lambda label, _s: label.lower() + ":   \t", "\n"),
}


def body(spell: Spell, sep: str, *, same_line: bool = False) -> str:
    """The sections of the brief, each label written by `spell`."""
    short = f"The Short of It: {SHORT}" if same_line else \
        spell("The Short of It", True) + sep + SHORT
    happened = spell("Here's what happened", False)
    return (f"This conversation is over.\n\n{short}\n\n{LIST}\n\n"
            f"{spell('The Longer Version of It', True)}{sep}{LONGER}\n\n"
            f"{happened}{sep}{HAPPENED}\n\n"
            f"{spell('The Takeaway', True)}{sep}{TAKEAWAY}\n")


LAYOUTS = {
    "house": "We Don't Talk Anymore\n\nrussia, US\n\n",
    "markdown": "---\ntitle: We Don't Talk Anymore\ntags: [russia, US]\n---\n",
}


def read(text: str, *, crlf: bool = False) -> tuple[Brief, list[str]]:
    data = (text.replace("\n", "\r\n") if crlf else text).encode()
    source = decode(data, "content/2016-10-04-x.txt", "2016-10-04-x.txt")
    assert isinstance(source, Source)
    brief, problems = parse_brief(source, CONFIG)
    assert brief is not None, [str(p) for p in problems]
    return brief, [str(p) for p in problems]


def headings(markdown: str) -> list[tuple[int, str]]:
    """The headings of the rendered HTML: (level, text)."""
    html = render("x", markdown, "https://news.example.com/").content_html
    return [(int(level), text) for level, text in re.findall(r"<h(\d)>(.*?)</h\1>", html)]


EXPECTED_SUMMARY = f"{SHORT}\n\n{LIST}"


@pytest.mark.parametrize("layout", LAYOUTS)
@pytest.mark.parametrize("variant", VARIANTS)
@pytest.mark.parametrize("crlf", [False, True], ids=["lf", "crlf"])
def test_every_variant_gives_the_short_version_as_summary(layout: str, variant: str,
                                                          crlf: bool) -> None:
    spell, sep = VARIANTS[variant]
    brief, problems = read(LAYOUTS[layout] + body(spell, sep), crlf=crlf)
    assert brief.summary == EXPECTED_SUMMARY
    assert problems == []
    found = headings(brief.content)
    sections = [text for level, text in found if level == 2]
    assert sections == ["The Short of It", "The Longer Version of It", "The Takeaway"]
    sub = [text.replace("\u2019", "'").replace("\u00a0", " ").replace("\u2009", " ")
           .replace("\u3000", " ").strip().casefold() for level, text in found if level == 3]
    assert sub == ["here's what happened"]
    assert brief.content.index(LONGER) < brief.content.index(HAPPENED) < \
        brief.content.index(TAKEAWAY)


@pytest.mark.parametrize("layout", LAYOUTS)
def test_a_label_with_its_text_on_the_same_line(layout: str) -> None:
    brief, problems = read(LAYOUTS[layout] + body(_label_line, "\n\n", same_line=True))
    assert brief.summary == EXPECTED_SUMMARY
    assert problems == []
    assert headings(brief.content)[0] == (2, "The Short of It")


@pytest.mark.parametrize("layout", LAYOUTS)
def test_a_label_followed_directly_by_a_list(layout: str) -> None:
    brief, _ = read(LAYOUTS[layout] + f"The Short of It:\n{LIST}\n\nThe Takeaway:\n{TAKEAWAY}\n")
    assert brief.summary == LIST
    html = render(brief.summary, brief.content, "https://news.example.com/").summary_html
    assert html.startswith("<ul>")


@pytest.mark.parametrize("layout", LAYOUTS)
def test_headings_without_blank_lines_around_them(layout: str) -> None:
    brief, _ = read(LAYOUTS[layout] + f"Intro.\n## The Short of It\n{SHORT}\n"
                    f"## The Takeaway\n{TAKEAWAY}\n")
    assert brief.summary == SHORT
    assert [text for _level, text in headings(brief.content)] == [
        "The Short of It", "The Takeaway"]


@pytest.mark.parametrize("layout", LAYOUTS)
def test_a_colon_inside_a_paragraph_is_not_a_label(layout: str) -> None:
    text = "At the talks. He said:\nwe are done talking.\nHe said:\nThen he left:"
    brief, problems = read(LAYOUTS[layout] + f"The Short of It:\n\n{text}\n\n"
                           "The Takeaway:\n\nEnd.\n")
    assert brief.summary == text
    assert problems == []
    assert [text for _level, text in headings(brief.content)] == [
        "The Short of It", "The Takeaway"]


@pytest.mark.parametrize("layout", LAYOUTS)
def test_a_section_label_inside_a_paragraph_is_a_warning_not_a_section(layout: str) -> None:
    brief, problems = read(LAYOUTS[layout] + "The Short of It:\n\n- one\n- two\n"
                           "The Takeaway:\nEnd.\n")
    assert brief.summary == "- one\n- two\nThe Takeaway:\nEnd."  # Markdown's lazy continuation
    line = (LAYOUTS[layout] + "The Short of It:\n\n- one\n- two\n").count("\n") + 1
    assert problems == [f"content/2016-10-04-x.txt:{line}: warning: 'The Takeaway:' is inside a "
                        "paragraph or list item, so it opens no section: put a blank line "
                        "before it"]


def test_labels_and_sub_labels_with_typographic_apostrophes_match_the_setting() -> None:
    config = parse_config({"summary_labels": ["What's New"]}, root=Path("/p"))
    source = Source("content/2016-10-04-x.txt", "2016-10-04-x.txt",
                    "T\n\na\n\nWhat\u2019s\u00a0new:\nThe gist.\n\nHere\u2019s what happened:\n"
                    "More.\n")
    brief, _ = parse_brief(source, config)
    assert brief is not None
    assert brief.summary == "The gist.\n\n### Here\u2019s what happened\n\nMore."
    assert brief.content.startswith("## What's New\n\nThe gist.")


def test_fenced_code_keeps_its_labels_and_headings() -> None:
    brief, _ = read(LAYOUTS["house"] + "The Short of It:\n\nShort.\n\n```\nThe Takeaway:\n"
                    "## The Takeaway\nx\n---\n```\n")
    assert brief.summary == "Short.\n\n```\nThe Takeaway:\n## The Takeaway\nx\n---\n```"


# --- the property ------------------------------------------------------------------------------

_PROSE = st.text(st.sampled_from("abcdefgh XYZ,."), min_size=1, max_size=40).map(
    lambda text: " ".join(text.split()) or "x").filter(lambda text: not text.endswith(":"))
_PARAGRAPHS = st.lists(_PROSE.map(lambda text: "Some " + text + "."), min_size=1, max_size=3)


@settings(max_examples=150, deadline=None)
@given(layout=st.sampled_from(sorted(LAYOUTS)), short=_PARAGRAPHS, longer=_PARAGRAPHS,
       spells=st.lists(st.sampled_from(sorted(VARIANTS)), min_size=3, max_size=3),
       standfirst=st.booleans())
def test_the_summary_is_exactly_the_short_version(layout: str, short: list[str],
                                                  longer: list[str], spells: list[str],
                                                  standfirst: bool) -> None:
    """Any brief made of the known sections, each label in any variant's spelling, has its
    short version's text, and only that, as summary."""
    parts = ["A standfirst."] if standfirst else []
    for (label, paragraphs), name in zip([("The Short of It", short),
                                          ("The Longer Version of It", longer),
                                          ("The Takeaway", ["The end."])], spells, strict=True):
        spell, sep = VARIANTS[name]
        parts.append(spell(label, True) + sep + "\n\n".join(paragraphs))
    brief, problems = read(LAYOUTS[layout] + "\n\n".join(parts) + "\n")
    assert brief.summary == "\n\n".join(short)
    assert problems == []


# --- near misses and empty sections -----------------------------------------------------------

P = "content/2016-10-04-x.txt"


def problems_of(text: str) -> tuple[Brief | None, list[str]]:
    brief, problems = parse_brief(Source(P, "2016-10-04-x.txt", text), CONFIG)
    return brief, [str(p) for p in problems]


@pytest.mark.parametrize(("label", "meant"), [
    ("The Longer Version:", "The Longer Version of It"),
    ("The Take Away:", "The Takeaway"),
    ("Short of It:", "The Short of It"),
    ("**The Short of It All**", "The Short of It"),
    ("## The Longer Version", "The Longer Version of It"),
    ("Takeaway:", "The Takeaway"),
    ("The Takeaways:", "The Takeaway"),
])
def test_a_near_miss_label_is_a_warning_naming_its_line(label: str, meant: str) -> None:
    brief, problems = problems_of(f"T\n\na\n\nThe Short of It:\n\nShort.\n\n{label}\n\nMore.\n")
    assert brief is not None
    assert problems == [f"{P}:9: warning: {label!r} is not a section label, so it opens no "
                        f"section; did you mean {meant + ':'!r}?"]


@pytest.mark.parametrize("label", [
    "Here's what happened:", "Here\u2019s what happened:", "What's next:", "Why it matters:",
    "The background:", "The bottom line:", "The upshot:", "The short answer:", "In short:",
    "The big picture:", "What it means:", "Key takeaways:", "The stakes:", "The short term:",
    "The shortlist:", "The long view:", "**Note:**", "## By the numbers", "Update:",
])
def test_ordinary_sub_labels_are_not_near_misses(label: str) -> None:
    brief, problems = problems_of(f"T\n\na\n\nThe Short of It:\n\nShort.\n\n{label}\n\nMore.\n")
    assert brief is not None
    assert problems == []


def test_a_near_miss_with_strict_check_fails(tmp_path: Path) -> None:
    from click.testing import CliRunner

    from feeder.cli import cli

    (tmp_path / "content").mkdir()
    (tmp_path / "feeder.toml").write_text('base_url = "https://news.example.com/"\n')
    (tmp_path / "content" / "2016-10-04-x.txt").write_text(
        "T\n\na\n\nThe Short Of It:\n\nShort.\n\nThe Longer Version:\n\nMore.\n")
    runner = CliRunner()
    loose = runner.invoke(cli, ["check", "-C", str(tmp_path)])
    assert loose.exit_code == 0, loose.output
    strict = runner.invoke(cli, ["check", "--strict", "-C", str(tmp_path)])
    assert strict.exit_code == 1
    assert ("content/2016-10-04-x.txt:9: warning: 'The Longer Version:' is not a section label, "
            "so it opens no section; did you mean 'The Longer Version of It:'?") in strict.stderr


@pytest.mark.parametrize(("text", "line"), [
    ("T\n\na\n\nThe Short of It:\n\nThe Longer Version of It:\n\nLong.\n", 5),
    ("T\n\na\n\nStandfirst.\n\n## The Short of It\n## The Takeaway\nEnd.\n", 7),
    ("T\n\na\n\n**The Short of It**\n\nHere's what happened:\n\nThe Takeaway: End.\n", 5),
    ("---\ntitle: T\ntags: [a]\nsummary: Given.\n---\nThe Short of It:\n", 6),
], ids=["before-a-section", "tight-headings", "only-a-sub-label", "with-front-matter-summary"])
def test_an_empty_short_version_is_an_error_naming_its_label(text: str, line: int) -> None:
    brief, problems = problems_of(text)
    assert brief is None
    assert f"{P}:{line}: the short version ('The Short of It:') is empty: write it under its " \
           "label (it is each entry's summary)" in problems
    assert [p for p in problems if ": warning:" not in p] == [
        f"{P}:{line}: the short version ('The Short of It:') is empty: write it under its label "
        "(it is each entry's summary)"]


def test_a_brief_with_labels_but_no_text_is_an_error() -> None:
    brief, problems = problems_of("T\n\na\n\nThe Longer Version of It:\n\nThe Takeaway:\n")
    assert brief is None
    assert f"{P}:1: the brief has no text after its title and tags" in problems


def test_other_empty_sections_are_warnings_and_an_unfilled_draft_is_quiet() -> None:
    text = "T\n\na\n\nThe Short of It:\n\nS.\n\nThe Longer Version of It:\n\nThe Takeaway:\n\nE.\n"
    brief, problems = problems_of(text)
    assert brief is not None
    assert problems == [f"{P}:9: warning: the section 'The Longer Version of It:' is empty"]
    draft, problems = problems_of("---\ndraft: true\n---\nT\n\na\n\nThe Short of It:\n\n"
                                  "The Takeaway:\n")
    assert draft is not None
    assert draft.draft
    assert problems == []


def test_a_near_miss_with_its_text_on_the_same_line_and_a_misplaced_one() -> None:
    brief, problems = problems_of("T\n\na\n\nShort of It: The US announced.\n\nThe Short of It:"
                                  "\n\nS.\n- x\nThe Takeaway: End.\n\nPoint blank: no.\n")
    assert brief is not None
    assert brief.summary == "S.\n- x\nThe Takeaway: End.\n\nPoint blank: no."
    assert problems == [
        f"{P}:5: warning: 'Short of It:' is not a section label, so it opens no section; did "
        "you mean 'The Short of It:'?",
        f"{P}:11: warning: 'The Takeaway: End.' is inside a paragraph or list item, so it "
        "opens no section: put a blank line before it"]


_LISTS = st.lists(_PROSE, min_size=1, max_size=3).map(
    lambda items: "\n".join(f"- {item}" for item in items))


@settings(max_examples=100, deadline=None)
@given(layout=st.sampled_from(sorted(LAYOUTS)),
       short=st.lists(st.one_of(_PROSE.map(lambda text: "Some " + text + "."), _LISTS),
                      min_size=1, max_size=3),
       after=_PARAGRAPHS, spell=st.sampled_from(sorted(VARIANTS)),
       sub_spell=st.sampled_from(sorted(VARIANTS)))
def test_the_summary_text_is_the_short_version_with_its_lists_and_sub_labels(
        layout: str, short: list[str], after: list[str], spell: str, sub_spell: str) -> None:
    """With lists and a sub-label inside the short version, the summary (read as plain text,
    as JSON Feed shows it) is exactly the short version's text."""
    from feeder.text import fold_label

    label, sep = VARIANTS[spell]
    sub, sub_sep = VARIANTS[sub_spell]
    happened = sub("Here's what happened", False)
    text = (f"{label('The Short of It', True)}{sep}{short[0]}\n\n"
            f"{happened}{sub_sep}" + "\n\n".join(short[1:] or after)
            + f"\n\n{label('The Takeaway', True)}{sep}The end.\n")
    brief, problems = read(LAYOUTS[layout] + text)
    assert problems == []
    plain = render(brief.summary, brief.content, "https://news.example.com/").summary_text
    expected = " ".join([short[0], "Here's what happened", *(short[1:] or after)])
    assert fold_label(plain) == fold_label(expected.replace("- ", ""))
