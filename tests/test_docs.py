"""The README is the user's manual: every command, option and setting is in it."""

from __future__ import annotations

import click

from feeder.cli import cli
from feeder.config import SETTING_NAMES
from tests.conftest import REPO

README = (REPO / "README.md").read_text(encoding="utf-8")


def test_every_command_and_option_is_documented() -> None:
    for name, command in cli.commands.items():
        assert f"feeder {name}" in README, name
        assert command.help, name
        for param in command.params:
            if isinstance(param, click.Option):
                for opt in param.opts:
                    if opt.startswith("--") and opt != "--help":
                        assert f"`{opt}" in README or f" {opt}" in README, f"{name} {opt}"


def test_every_setting_is_documented() -> None:
    for name in SETTING_NAMES:
        assert f"| `{name}` |" in README, name


def test_the_two_setup_commands_are_there() -> None:
    assert "pip install -e . && feeder build" in README
    assert "pip install -e '.[test]' && ruff check . && mypy && python -m pytest" in README
    ci = (REPO / ".ci" / "run").read_text(encoding="utf-8")
    assert "pip install -q -e '.[test]' && ruff check . && mypy && python -m pytest" in ci
