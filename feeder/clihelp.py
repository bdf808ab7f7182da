"""Words of `feeder --help` shared by several commands (the list of commands, each with its
whole first sentence, and what -v and --strict do in each command), the option --bind of
`feeder serve`, and `finish`, which adds `feeder init` (feeder/starter.py)."""

from __future__ import annotations

import click


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
    """Add `feeder init`; the options shared by several commands say what they do in each."""
    from feeder.starter import init

    cli.add_command(init)
    for texts, option in ((_VERBOSE_HELP, "verbose"), (_STRICT_HELP, "strict")):
        for name, text in texts.items():
            for param in cli.commands[name].params:
                if isinstance(param, click.Option) and param.name == option:
                    param.help = text
