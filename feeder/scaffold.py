"""`feeder init` starts a site, `feeder new` a brief in the house layout.

Pure functions make the files' text, checked by the brief parser itself (a new site always
builds); then the files are created, never replacing one.
"""

from __future__ import annotations

import json
import string
import sys
import unicodedata
from collections.abc import Iterable
from dataclasses import dataclass, replace
from datetime import date
from importlib import resources
from pathlib import Path

import click

from feeder.attachments import BRIEF_SUFFIXES
from feeder.clihelp import reporting, utc_now
from feeder.config import PLACEHOLDER_BASE_URL, SETTINGS_FILE, Config, parse_config
from feeder.errors import ConfigError, ContentError, Problem, errors_in
from feeder.text import Source, fold, slugify

SUFFIX = ".txt"
"""`feeder new` writes the house layout, which is plain text."""
DRAFT = "---\ndraft: true\n---\n"
"""The front matter of a new brief until it is published (`feeder new --publish`)."""
MAX_NAME_BYTES = 255
"""The longest file name (in UTF-8 bytes) the usual file systems take."""
WORKFLOW_FILE = ".github/workflows/publish.yml"


def _toml(text: str) -> str:
    """`text` as a TOML basic string (JSON's escapes are TOML's)."""
    return json.dumps(text, ensure_ascii=False)


def _starter_text(name: str, **values: str) -> str:
    """The text of feeder/files/`name`, a starter file, with `values` in its placeholders."""
    text = (resources.files("feeder") / "files" / name).read_text(encoding="utf-8")
    return string.Template(text).substitute(values) if values else text


def _errors(display: str, name: str, text: str, config: Config) -> tuple[Problem, ...]:
    """The errors the brief parser finds in `text`, a brief file called `name`."""
    from feeder.brief import parse_brief  # not at the top: `feeder --help` stays quick

    return errors_in(parse_brief(Source(display, name, text), config)[1])


def starter_files(title: str, base_url: str, day: date, *,
                  github_actions: bool = False) -> dict[str, str]:
    """The files of a new site (POSIX path under the project folder -> text), in the order
    they are written. Raises ConfigError when the title or base_url is not a valid setting."""
    # The settings as feeder will read them: a bad title or URL is refused before any file.
    config = parse_config({"title": title, "base_url": base_url}, root=Path(),
                          source="feeder init")
    brief = f"{day.isoformat()}-welcome.txt"
    # base_url commented out while it is the placeholder, which builds warn about until it is set
    address = f"base_url = {_toml(config.base_url)}" if not config.is_placeholder else \
        '# base_url = "https://news.example.com/"'
    files = {SETTINGS_FILE: _starter_text("feeder.toml", title=_toml(config.title),
                                          base_url=address),
             f"content/{brief}": _starter_text("welcome.txt", title=config.title),
             ".gitignore": _starter_text("gitignore")}
    errors = _errors(f"content/{brief}", brief, files[f"content/{brief}"], config)
    if errors:  # e.g. a title longer than the parser accepts
        raise ConfigError(errors)
    if github_actions:
        files[WORKFLOW_FILE] = _starter_text("publish.yml")  # as in docs/PUBLISHING.md
    return files


def _create(path: Path, display: str, text: str) -> bool:
    """Create the file `path` holding `text`: False when it exists; ContentError if it cannot."""
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        with path.open("x", encoding="utf-8", newline="\n") as handle:
            handle.write(text)
    except FileExistsError:
        return False
    except OSError as exc:
        raise ContentError([Problem(display, None,
                                    f"cannot create: {exc.strerror or exc}")]) from None
    return True


def _on_terminal() -> bool:
    """Whether a person can answer questions (feeder init asks for what it was not given)."""
    return sys.stdin.isatty()


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
        if title is None:
            title = click.prompt("Title of the publication", default="Briefs") \
                if _on_terminal() else "Briefs"
        if base_url is None:
            base_url = click.prompt("Address it will be published at",
                                    default=PLACEHOLDER_BASE_URL) \
                if _on_terminal() else PLACEHOLDER_BASE_URL
        files = starter_files(title, base_url, utc_now().date(), github_actions=github_actions)
        existing = [name for name in (SETTINGS_FILE, "content") if (folder / name).exists()]
        if existing:
            raise ContentError([Problem((folder / name).as_posix(), None,
                                        "already exists: this folder holds a site already; "
                                        "not overwriting anything") for name in existing])
        for rel, text in files.items():
            shown = (folder / rel).as_posix()
            if _create(folder / rel, shown, text):
                click.echo(shown)
            else:
                click.echo(f"{shown}: exists, left as it is", err=True)
        where = "" if folder == Path() else f" -C {folder.as_posix()}"
        click.echo(f"Next: feeder serve{where} (preview), feeder build{where} (publish "
                   "public/)", err=True)


@dataclass(frozen=True, slots=True)
class NewBrief:
    path: Path
    """Absolute: `<content_dir>/YYYY-MM-DD-<slug>.txt`."""
    display: str
    """The path as the user would type it."""
    text: str


def split_tags(values: Iterable[str]) -> tuple[str, ...]:
    """`--tag` values, each possibly comma-separated, trimmed, without case-insensitive repeats."""
    tags: dict[str, str] = {}
    for value in values:
        for name in value.split(","):
            name = " ".join(name.split())
            if name:
                tags.setdefault(fold(name), name)
    return tuple(tags.values())


def house_text(title: str, tags: Iterable[str], config: Config) -> str:
    """A brief in the house layout: title, tags, then every section label with room to write."""
    labels = list(config.section_labels)
    summary_keys = {label.casefold() for label in config.summary_labels}
    if not any(label.casefold() in summary_keys for label in labels):
        labels.insert(0, config.summary_labels[0])
    parts = [title, ", ".join(tags), *(f"{label}:\n\n" for label in labels)]
    return "\n\n".join(parts).rstrip("\n") + "\n\n"


def _controls(what: str, text: str) -> list[str]:
    """Names the first control character (or undecodable byte) in `text`, if any."""
    for char in text:
        if unicodedata.category(char) in ("Cc", "Cs") and not char.isspace():
            code = f"U+{ord(char):04X}" if unicodedata.category(char) == "Cc" else \
                "an undecodable byte"
            return [f"the {what} holds a control character ({code}); remove it"]
    return []


def _usage_error(messages: list[str]) -> ConfigError:
    return ConfigError([Problem("feeder new", None, message) for message in messages])


def new_brief(config: Config, title: str, tags: Iterable[str], day: date, *,
              slug: str | None = None, draft: bool = True) -> NewBrief:
    """The brief `feeder new` writes, `YYYY-MM-DD-<slug>.txt` in the content folder: a draft
    (front matter `draft: true`, so that one left unfilled is never published) unless `draft`
    is False. Raises ConfigError when the title, tags or slug cannot make a valid brief."""
    tags = tuple(tags)
    problems = _controls("title", title) + [problem for tag in tags
                                            for problem in _controls(f"tag {tag!r}", tag)][:1]
    problems += _controls("slug", slug or "")
    if problems:
        raise _usage_error(problems)
    title = " ".join(title.split())
    tags = split_tags(tags)
    if not title:
        problems.append("the title is empty")
    if not tags:
        problems.append("give at least one tag: --tag TAG (repeat it, or separate tags with "
                        "commas)")
    made = slugify(slug if slug is not None else title)
    if title and not made:
        what = f"slug {slug!r}" if slug is not None else f"title {title!r}"
        problems.append(f"the {what} has no letter or digit to make a file name from; give "
                        "one with --slug")
    name = f"{day.isoformat()}-{made}{SUFFIX}"
    if made and len(name.encode()) > MAX_NAME_BYTES:
        problems.append(f"the file name would be {len(name.encode())} bytes, more than file "
                        f"systems take ({MAX_NAME_BYTES}); give a shorter --slug")
    if problems:
        raise _usage_error(problems)
    path = config.content_dir / name
    display = config.display_path(path)
    text = house_text(title, tags, config)
    # Checked as the draft it is, or will be once --publish'ed and filled in.
    errors = _errors(display, name, DRAFT + text, config)
    if errors:  # e.g. a tag longer than the parser accepts
        shift = 0 if draft else DRAFT.count("\n")
        raise ConfigError([replace(p, line=p.line - shift if p.line else p.line)
                           for p in errors])
    return NewBrief(path, display, DRAFT + text if draft else text)


def write_brief(new: NewBrief) -> None:
    """Create the brief's file; ContentError when it, or a brief with its date and slug,
    exists."""
    stem = new.path.name.removesuffix(SUFFIX)
    for suffix in BRIEF_SUFFIXES:
        twin = new.path.with_name(stem + suffix)
        if twin.exists():
            raise ContentError([Problem(new.display.removesuffix(SUFFIX) + suffix, None,
                                        "already exists; not overwriting it (edit it, or give "
                                        "this brief another --slug)")])
    if not _create(new.path, new.display, new.text):  # created since the check above
        raise ContentError([Problem(new.display, None, "already exists; not overwriting it")])
