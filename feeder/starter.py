"""`feeder init`: start a site: settings, one example brief, a .gitignore, and optionally the
GitHub Actions workflow of docs/PUBLISHING.md.

`starter_files` is pure (the title, base_url and day in; each file's path and text out, the
example brief checked by the brief parser itself, so a new site always builds);
`write_starter` creates the files and never replaces one.
"""

from __future__ import annotations

import json
import sys
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date
from importlib import resources
from pathlib import Path

import click

from feeder.clihelp import reporting, utc_now
from feeder.config import PLACEHOLDER_BASE_URL, SETTINGS_FILE, parse_config
from feeder.errors import ConfigError, ContentError, Problem, errors_in

WORKFLOW_FILE = ".github/workflows/publish.yml"
GITIGNORE = ".gitignore"
Echo = Callable[[str], None]


@dataclass(frozen=True, slots=True)
class StarterFile:
    rel: str
    """POSIX path under the project folder."""
    text: str


def _toml(text: str) -> str:
    """`text` as a TOML basic string (JSON's escapes are TOML's)."""
    return json.dumps(text, ensure_ascii=False)


def settings_text(title: str, base_url: str) -> str:
    """feeder.toml of a new site: the two settings given, the other essential ones commented
    (and base_url too while it is the placeholder, which builds warn about until it is set)."""
    address = f"base_url = {_toml(base_url)}" if base_url != PLACEHOLDER_BASE_URL else \
        '# base_url = "https://news.example.com/"'
    return f"""\
# The settings of this site. Every setting: docs/GUIDE.md#settings in feeder's repository.

# The publication's name: the feeds' and pages' title.
title = {_toml(title)}

# The address the output folder (public/) is published at. Entry ids are made from its
# domain: set it before the first real build, and keep it.
{address}

# A sentence about the publication (the feeds' subtitle, the pages' description).
# description = ""

# The language of the briefs, and the timezone of dates written without one.
# language = "en"
# timezone = "UTC"

# The feeds' author (else the title): a name, or a table with name, email and uri.
# author = "The editors"

# Entries per feed, and the feed formats to publish.
# max_entries = 50
# formats = ["atom", "rss", "json"]
"""


GITIGNORE_TEXT = """\
# feeder's build cache and lock
.feeder-cache/
.feeder.lock
"""


def example_brief(title: str, day: date) -> StarterFile:
    """A first brief in the house layout, dated `day`, explaining the layout it is in."""
    text = f"""\
Welcome to {title}

feeder, example

Your first brief, written in the house layout: edit it or delete it.

The Short of It:

This is the short version: it becomes the **summary** of the entry in every feed.

The Longer Version of It:

This is the longer version. The summary and every section together are the entry's
**content**. Line 1 is the title, line 3 the tags (comma-separated), and a line ending with a
colon, with a blank line before and after it, opens a section.

The Takeaway:

Start the next brief with `feeder new "A title" --tag news`, preview the site with
`feeder serve`, and publish `public/` after `feeder build`.
"""
    return StarterFile(f"content/{day.isoformat()}-welcome.txt", text)


def starter_files(title: str, base_url: str, day: date, *,
                  github_actions: bool = False) -> tuple[StarterFile, ...]:
    """The files of a new site, in the order they are written.

    Raises ConfigError when the title or base_url is not a valid setting.
    """
    from feeder.brief import parse_brief
    from feeder.text import Source

    # The settings as feeder will read them: a bad title or URL is refused before any file.
    config = parse_config({"title": title, "base_url": base_url}, root=Path(),
                          source="feeder init")
    brief = example_brief(config.title, day)
    _, found = parse_brief(Source(brief.rel, brief.rel.removeprefix("content/"), brief.text),
                           config)
    if errors_in(found):  # e.g. a title longer than the parser accepts
        raise ConfigError(errors_in(found))
    files = [StarterFile(SETTINGS_FILE, settings_text(config.title, config.base_url)), brief,
             StarterFile(GITIGNORE, GITIGNORE_TEXT)]
    if github_actions:
        workflow = resources.files("feeder") / "files" / "publish.yml"  # as in PUBLISHING.md
        files.append(StarterFile(WORKFLOW_FILE, workflow.read_text(encoding="utf-8")))
    return tuple(files)


def write_starter(root: Path, files: tuple[StarterFile, ...]) -> tuple[str, ...]:
    """Create `files` under `root` and return the paths written.

    Nothing is written when feeder.toml or content/ exists already (ContentError); an
    existing .gitignore or workflow is left as it is (not in the paths returned).
    """
    existing = [name for name in (SETTINGS_FILE, "content") if (root / name).exists()]
    if existing:
        raise ContentError([Problem((root / name).as_posix(), None,
                                    "already exists: this folder holds a site already; "
                                    "not overwriting anything") for name in existing])
    written = []
    for file in files:
        path = root / file.rel
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            with path.open("x", encoding="utf-8", newline="\n") as handle:
                handle.write(file.text)
        except FileExistsError:
            continue
        except OSError as exc:
            raise ContentError([Problem(path.as_posix(), None,
                                        f"cannot create: {exc.strerror or exc}")]) from None
        written.append(file.rel)
    return tuple(written)


def _on_terminal() -> bool:
    """Whether a person can answer questions (feeder init asks for what it was not given)."""
    return sys.stdin.isatty()


def start_site(folder: Path, title: str | None, base_url: str | None, day: date, *,
               github_actions: bool, ask: Callable[..., str] | None, echo: Echo,
               note: Echo) -> None:
    """`feeder init`: ask for the title and base_url not given (when `ask`, a prompt, is
    given), write the files, and print their paths (`echo`) and what was not written and
    what to do next (`note`). Raises ConfigError or ContentError, writing nothing."""
    if title is None:
        title = ask("Title of the publication", default="Briefs") if ask else "Briefs"
    if base_url is None:
        base_url = ask("Address it will be published at", default=PLACEHOLDER_BASE_URL) \
            if ask else PLACEHOLDER_BASE_URL
    files = starter_files(title, base_url, day, github_actions=github_actions)
    written = write_starter(folder, files)
    for file in files:
        shown = (folder / file.rel).as_posix()
        if file.rel in written:
            echo(shown)
        else:
            note(f"{shown}: exists, left as it is")
    where = "" if folder == Path() else f" -C {folder.as_posix()}"
    note(f"Next: feeder serve{where} (preview), feeder build{where} (publish public/)")


@click.command()
@click.argument("folder", metavar="[DIR]", default=".",
                type=click.Path(file_okay=False, path_type=Path))
@click.option("--title", help="The publication's name (setting title). Asked on a terminal.")
@click.option("--base-url", "base_url", metavar="URL",
              help="The address the site will be published at (setting base_url). Asked on a "
                   "terminal; else left unset: set it before publishing.")
@click.option("--github-actions", is_flag=True,
              help="Also write .github/workflows/publish.yml: check, build and deploy to GitHub "
                   "Pages on every push.")
def init(folder: Path, title: str | None, base_url: str | None, github_actions: bool) -> None:
    """Start a site in DIR (default: here): feeder.toml, content/ with an example brief.

    Also a .gitignore for the build cache. Never overwrites a file: a folder with feeder.toml
    or content/ is refused. Then run feeder serve or feeder build in DIR.
    """
    with reporting(quiet=False):
        start_site(folder, title, base_url, utc_now().date(), github_actions=github_actions,
                   ask=click.prompt if _on_terminal() else None, echo=click.echo,
                   note=lambda line: click.echo(line, err=True))
