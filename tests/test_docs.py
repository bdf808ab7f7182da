"""The README is for publishers (short, in the order they need it); docs/GUIDE.md is the
manual: every command, option and setting is in it, and its contents lead somewhere."""

from __future__ import annotations

import re

import click

from feeder.cli import cli
from feeder.config import SETTING_NAMES
from tests.conftest import REPO

README = (REPO / "README.md").read_text(encoding="utf-8")
GUIDE = (REPO / "docs" / "GUIDE.md").read_text(encoding="utf-8")


def _commands() -> dict[str, click.Command]:
    """Every command of the tree, by its full name (`build`, ...; a group's too)."""
    found: dict[str, click.Command] = {}

    def walk(group: click.Group, prefix: str) -> None:
        for name, command in group.commands.items():
            found[prefix + name] = command
            if isinstance(command, click.Group):
                walk(command, f"{prefix}{name} ")

    walk(cli, "")
    return found


def test_every_command_and_option_is_documented_in_the_guide() -> None:
    commands = _commands()
    assert {"init", "new", "check", "build", "serve", "tags", "ping"} <= commands.keys()
    for name, command in commands.items():
        assert f"### `feeder {name}`" in GUIDE, name
        assert command.help, name
        for param in command.params:
            if isinstance(param, click.Option):
                for opt in param.opts:
                    if opt.startswith("--") and opt != "--help":
                        assert f"`{opt}" in GUIDE or f" {opt}" in GUIDE, f"{name} {opt}"


def test_every_setting_is_documented_in_the_guide() -> None:
    for name in SETTING_NAMES:
        assert f"| `{name}` |" in GUIDE, name


def _anchor(heading: str) -> str:
    """GitHub's anchor of a heading: lowercase, punctuation dropped, spaces to hyphens."""
    text = re.sub(r"[^\w\- ]", "", heading.strip().lower())
    return text.replace(" ", "-")


def test_the_guide_contents_lead_to_its_headings() -> None:
    prose = re.sub(r"(?ms)^```.*?^```", "", GUIDE)  # no headings in the examples
    anchors = {_anchor(h) for h in re.findall(r"(?m)^#{2,4} (.+)$", prose)}
    contents = prose.split("## Contents", 1)[1].split("\n## ", 1)[0]
    links = re.findall(r"\]\(#([^)]+)\)", contents)
    assert len(links) > 20
    assert set(links) <= anchors, set(links) - anchors
    sections = re.findall(r"(?m)^## (.+)$", prose)
    for section in sections[1:]:
        assert _anchor(section) in links, section


def test_the_readme_is_short_and_in_the_order_a_publisher_needs() -> None:
    assert len(README.encode()) < 10_000
    order = ["docs/screenshot-index.png", "<summary", "## Install", "pip install feeder-briefs",
             "## Quick start", "feeder init", "feeder new", "feeder serve", "feeder build",
             "For contributors", "## Documentation", "docs/GUIDE.md"]
    at = 0
    for marker in order:  # each after the one before
        at = README.index(marker, at)
    quick = README.split("## Quick start", 1)[1].split("```sh\n", 1)[1].split("```", 1)[0]
    assert len(quick.strip().splitlines()) == 5
    assert (REPO / "docs" / "screenshot-index.png").stat().st_size > 10_000


def test_the_two_setup_commands_are_there_and_the_test_command_is_ci_s() -> None:
    assert "pip install -e . && feeder build" in README
    test_command = ("pip install -e '.[test]' && ruff check . && mypy && "
                    "python -m pytest -p no:cacheprovider")
    assert test_command in README
    assert "apt-get update && apt-get install -y --no-install-recommends " in README
    ci = (REPO / ".ci" / "run").read_text(encoding="utf-8")
    assert test_command.replace("pip install -e", "pip install -q -e") in ci


def test_links_between_the_docs_lead_to_files() -> None:
    for name in ("README.md", *(f"docs/{p.name}" for p in (REPO / "docs").glob("*.md"))):
        text = (REPO / name).read_text(encoding="utf-8")
        text = re.sub(r"```.*?```|`[^`\n]*`", "", text, flags=re.DOTALL)  # examples, not links
        folder = (REPO / name).parent
        for target in re.findall(r"\]\(([^)#:]+)(?:#[^)]*)?\)", text):
            assert (folder / target).exists(), f"{name}: {target}"
