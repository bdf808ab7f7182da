"""What every command shares: the one place where a FeederError becomes `path:line: message`
lines and an exit code (`reporting`), the clock (`utc_now`: nothing below the CLI reads it),
and the words of `feeder --help` shared by several commands (the list of commands, each with
its whole first sentence, and what -v and --strict do in each command), and --bind."""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from datetime import datetime, timezone

import click

from feeder.errors import FeederError, Problem, errors_in


def echo_problems(problems: Iterable[Problem], *, quiet: bool = False) -> None:
    for problem in problems:
        if problem.is_error or not quiet:
            click.echo(str(problem), err=True)


@contextmanager
def reporting(quiet: bool) -> Iterator[None]:
    """Turn user errors into their messages and exit code; a bug keeps its traceback."""
    try:
        yield
    except FeederError as err:
        echo_problems(err.problems, quiet=quiet)
        count = len(errors_in(err.problems))
        if count > 1:
            click.echo(f"feeder: {count} errors", err=True)
        raise SystemExit(err.exit_code) from None


def utc_now() -> datetime:
    return datetime.now(timezone.utc)


class CommandList(click.Group):
    """The command group, listing each command with its whole first sentence (click cuts
    them at the width of the terminal)."""

    def format_commands(self, ctx: click.Context, formatter: click.HelpFormatter) -> None:
        rows = [(name, command.get_short_help_str(limit=1000))
                for name in self.list_commands(ctx)
                if (command := self.get_command(ctx, name)) is not None and not command.hidden]
        if rows:
            with formatter.section("Commands"):
                formatter.write_dl(rows)


_VERBOSE_HELP = {
    "build": "List every file written or removed.",
    "check": "List every entry's id, by brief file.",
    "tags": "No effect (the table and JSON hold everything).",
    "ping": "Show each hub's answer for each feed.",
    "serve": "Log each request.",
}
_STRICT_HELP = {
    "build": "With --ping: exit 1 when a hub does not accept a ping (brief warnings never "
             "fail a build: see check --strict).",
    "check": "Count warnings as errors (exit 1), a base_url left at the placeholder included.",
    "ping": "Exit 1 when a hub does not accept a ping.",
}


BIND = click.option(
    "--bind", "host", metavar="ADDRESS", default="127.0.0.1", show_default=True,
    help="The address to listen on; one not of this machine only (0.0.0.0: every address) "
         "lets others read the site, with a warning.")


def finish(cli: click.Group) -> None:
    """The options shared by several commands say what they do in each."""
    for texts, option in ((_VERBOSE_HELP, "verbose"), (_STRICT_HELP, "strict")):
        for name, text in texts.items():
            for param in cli.commands[name].params:
                if isinstance(param, click.Option) and param.name == option:
                    param.help = text
