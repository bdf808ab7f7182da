"""The build: read files -> parse briefs -> index tags -> plan outputs -> write.

Only `collect` (which reads the content folder) and `build` (which writes the output folder)
touch the disk; `plan_outputs` is pure. Every problem in every brief is collected before
anything is written, and any error leaves the output folder exactly as it was, unless
`keep_going` asks to publish the valid briefs anyway.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime

from feeder.brief import Brief, parse_brief
from feeder.config import Config
from feeder.errors import ConfigError, ContentError, Problem, errors_in
from feeder.feeds import RENDERERS
from feeder.output import WriteReport, read_manifest, write_plan
from feeder.render import render
from feeder.site import (
    Site,
    brief_url,
    check_unique,
    index_tags,
    is_published,
    make_entry,
    plan_site,
)
from feeder.sources import read_source, scan_content


@dataclass(frozen=True, slots=True)
class Options:
    """What to publish besides the ordinary briefs, and what to do about bad ones."""

    drafts: bool = False
    future: bool = False
    keep_going: bool = False


@dataclass(frozen=True, slots=True)
class Collected:
    """The result of reading and checking every brief."""

    site: Site | None
    """None when there is nothing to publish."""
    problems: tuple[Problem, ...]
    files: int
    """Brief files found."""
    briefs: int
    """Briefs read without error."""
    held_back: int
    """Valid briefs not published: drafts and briefs dated in the future."""


@dataclass(frozen=True, slots=True)
class BuildResult:
    site: Site
    report: WriteReport
    problems: tuple[Problem, ...]
    briefs: int
    held_back: int


def _sorted(problems: Iterable[Problem]) -> tuple[Problem, ...]:
    return tuple(sorted(problems, key=lambda p: (p.path, p.line or 0, p.message)))


def _parse_all(config: Config) -> tuple[list[Brief], list[Problem], int]:
    if not config.content_dir.is_dir():
        raise ConfigError([Problem(config.display_path(config.content_dir), None,
                                   "content folder not found; create it or set content_dir")])
    infos, scan_problems = scan_content(config.content_dir, config.root, config.max_brief_bytes)
    problems = list(scan_problems)
    briefs: list[Brief] = []
    for info in infos:
        source = read_source(info)
        if isinstance(source, Problem):
            problems.append(source)
            continue
        brief, found = parse_brief(source, config)
        problems.extend(found)
        if brief is not None:
            briefs.append(brief)
    return briefs, problems, len(infos) + len(scan_problems)


def collect(config: Config, *, now: datetime, options: Options = Options()) -> Collected:
    """Read, parse and check every brief, and plan the site from the publishable ones.

    Raises ConfigError when the content folder is missing. Content errors are returned in
    `problems`, not raised, so that `check` can list them; `build` raises them.
    """
    briefs, problems, files = _parse_all(config)
    unique_problems = check_unique(briefs, config)
    problems.extend(unique_problems)
    if unique_problems:  # keep the first of each clash (only used with keep_going)
        clashing = {p.path for p in unique_problems}
        briefs = [b for b in briefs if b.path not in clashing]
    published = [b for b in briefs
                 if is_published(b, now, drafts=options.drafts, future=options.future)]
    tags, tag_problems = index_tags(published)
    problems.extend(tag_problems)
    entries = []
    for brief in published:
        rendered = render(brief.summary, brief.content, brief_url(config, brief),
                          allow_raw_html=config.allow_raw_html)
        entries.append(make_entry(config, brief, rendered, tags))
    site = plan_site(entries, config) if entries else None
    return Collected(site, _sorted(problems), files, len(briefs), len(briefs) - len(published))


def plan_outputs(site: Site, config: Config) -> dict[str, bytes]:
    """Every file of the site: relative POSIX path -> bytes. Pure."""
    plan: dict[str, bytes] = {}
    for feed in site.feeds:
        for name, render_feed in RENDERERS.items():
            plan[feed.folder + name] = render_feed(feed, config)
    return plan


def build(config: Config, *, now: datetime, options: Options = Options()) -> BuildResult:
    """Build the feeds of the project into its output folder.

    `now` decides which briefs are in the future. Raises ContentError (listing every
    problem) when a brief is invalid, unless `options.keep_going`; the output folder is then
    left exactly as it was. Raises ConfigError or OutputError.
    """
    collected = collect(config, now=now, options=options)
    problems = collected.problems
    if errors_in(problems) and not options.keep_going:
        raise ContentError(problems)
    if collected.site is None:
        held = f" ({collected.held_back} held back as drafts or dated in the future)" \
            if collected.held_back else ""
        raise ContentError([*problems, Problem(config.display_path(config.content_dir), None,
                                               f"no briefs to publish{held}")])
    site = collected.site
    plan = plan_outputs(site, config)
    manifest, manifest_problems = read_manifest(config.output_dir)
    published = {entry.id: {"path": entry.path, "title": entry.title, "url": entry.url}
                 for entry in site.entries}
    report = write_plan(plan, config.output_dir, manifest=manifest, entries=published)
    return BuildResult(site, report, _sorted([*problems, *manifest_problems]),
                       collected.briefs, collected.held_back)
