"""The build: read files -> parse briefs -> index tags -> plan outputs -> write.

Only `collect` (which reads the content folder) and `build` (which writes the output folder)
touch the disk; `plan_outputs` is pure. Every problem in every brief is collected before
anything is written, and any error leaves the output folder exactly as it was, unless
`keep_going` asks to publish the valid briefs anyway.
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field, replace
from datetime import datetime
from typing import TYPE_CHECKING, Any

from feeder.cache import ENTRIES_BYTES, BuildCache, Deferred, Later, OutputKeys, Progress
from feeder.config import Config
from feeder.errors import ConfigError, ContentError, Problem, errors_in
from feeder.lock import LOCK_FILE, project_lock
from feeder.output import STAGING, Manifest, WriteReport, read_manifest, write_plan
from feeder.parallel import LazyPlan, read_briefs, write_entries_ahead
from feeder.stability import EntryRecord, remembered, stability_warnings

if TYPE_CHECKING:
    from feeder.body import Body
    from feeder.cache import Parsed
    from feeder.site import Candidate, Site

# The modules that parse, render and write feeds and pages are imported where they are used:
# a build with nothing to do (see BuildCache.replay) never imports Markdown, nh3, feedgen,
# lxml, PyYAML, dateutil or Jinja2. tests/test_cache.py checks it.


@dataclass(frozen=True, slots=True)
class Options:
    """What to publish besides the ordinary briefs, and what to do about bad ones."""

    drafts: bool = False
    future: bool = False
    keep_going: bool = False
    clean: bool = False
    """Ignore the build cache (and rewrite it): `feeder build --clean`."""


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
    manifest: Manifest = field(default_factory=Manifest)
    """The output folder's manifest, as the previous build left it."""
    published: Mapping[str, Mapping[str, str]] = field(default_factory=dict)
    """The entry ids the new manifest records (see stability.remembered)."""
    steady: bool = False
    """Whether a build reading the manifest this one writes would report and write the
    same (see BuildCache.replay)."""


@dataclass(frozen=True, slots=True)
class BuildResult:
    site: Site | None
    """None when the build cache showed that nothing changed, so nothing was planned."""
    report: WriteReport
    problems: tuple[Problem, ...]
    briefs: int
    held_back: int
    feeds: int = 0
    """Feed documents published (subscription feeds and archive pages)."""


def _sorted(problems: Iterable[Problem]) -> tuple[Problem, ...]:
    return tuple(sorted(problems, key=lambda p: (p.path, p.line or 0, p.message)))


def _parse_all(config: Config, cache: BuildCache,
               progress: Progress | None) -> tuple[list[Candidate], list[Problem], int]:
    """Every valid brief, in the order of the content folder, with the problems of every
    brief file and how many there are: unchanged briefs as the last build had them
    (BuildCache.known), the others looked up in the cache, or parsed and rendered."""
    from feeder.site import candidate

    if not config.content_dir.is_dir():
        raise ConfigError([Problem(config.display_path(config.content_dir), None,
                                   "content folder not found; create it or set content_dir")])
    infos, scan_problems = cache.scan()
    cache.read_known()
    fresh = cache.unknown(infos)
    problems = list(scan_problems)
    candidates: list[Candidate] = []
    # The fresh files are parsed (a few by a child process) while the known briefs are
    # decoded here; a known brief that cannot be decoded after all is parsed here, after.
    with contextlib.closing(read_briefs(config, fresh, cache, progress=progress)) as parsed:
        known = cache.known(infos)
        fresh_rels = {info.rel for info in fresh}
        late = [info for info, found in zip(infos, known, strict=True)
                if found is None and info.rel not in fresh_rels]
        with contextlib.closing(read_briefs(config, late, cache)) as parsed_late:
            for info, found in zip(infos, known, strict=True):
                if found is None:
                    brief = next(parsed if info.rel in fresh_rels else parsed_late)
                    problems.extend(brief.problems)
                    if brief.brief is not None:
                        candidates.append(candidate(config, brief.brief, _rendered(brief)))
                else:
                    candidates.append(found[0])
                    problems.extend(found[1])
    return candidates, problems, len(infos) + len(scan_problems)


def _rendered(parsed: Parsed) -> Body:
    if parsed.rendered is None:  # read_briefs renders every valid brief
        raise RuntimeError(f"{parsed.info.path} was not rendered")
    return parsed.rendered


def collect(config: Config, *, now: datetime, options: Options = Options(),
            cache: BuildCache | None = None, progress: Progress | None = None) -> Collected:
    """Read, parse and check every brief, and plan the site from the publishable ones.

    `cache` skips reading, parsing and rendering unchanged briefs (and learns the others).
    Raises ConfigError when the content folder is missing. Content errors are returned in
    `problems`, not raised, so that `check` can list them; `build` raises them.
    """
    from feeder.site import check_unique, index_tags, is_published, make_entries, plan_site

    cache = cache or BuildCache(config, None, read=False, write=False)
    candidates, problems, files = _parse_all(config, cache, progress)
    cache.note_briefs(candidates, now=now, options=options)
    valid = [brief for brief in candidates if len(brief.tags) <= config.max_tags]
    problems += [Problem(brief.path, None, f"{len(brief.tags):,} tags, over the limit of "
                                           f"{config.max_tags} (setting max_tags)")
                 for brief in candidates if len(brief.tags) > config.max_tags]
    unique_problems = check_unique(valid)
    problems.extend(unique_problems)
    if unique_problems:  # keep the first of each clash (only used with keep_going)
        clashing = {p.path for p in unique_problems}
        valid = [b for b in valid if b.path not in clashing]
    published: list[Candidate] = []
    held: list[Candidate] = []
    for brief in valid:
        publish = is_published(brief, now, drafts=options.drafts, future=options.future)
        (published if publish else held).append(brief)
    tags, tag_problems = index_tags(published)
    problems.extend(tag_problems)
    entries = make_entries(published, tags)
    cache.keep_briefs(candidates, {entry.path: entry for entry in entries})
    site = plan_site(entries, config) if entries else None
    kept = {b.id: EntryRecord(b.path, b.title) for b in held}
    count = len(valid)
    del candidates, valid, published, held  # the entries have what is needed (memory)
    # Ids published by earlier builds that this one would drop or change: warnings.
    manifest, manifest_problems = read_manifest(config.output_dir)
    current = {e.id: EntryRecord(e.path, e.title, e.url) for e in entries}
    failed = {p.path for p in errors_in(problems)}
    warnings = stability_warnings(manifest.entries, current, held=kept, failed=failed)
    problems += [*manifest_problems, *warnings]
    recorded = remembered(manifest.entries, current, held=kept, failed=failed)
    # The same briefs checked against the manifest this build writes: if that changes
    # nothing, a rebuild would do exactly this again (and the build cache can replay it).
    steady = not manifest_problems and \
        remembered(recorded, current, held=kept, failed=failed) == recorded and \
        stability_warnings(recorded, current, held=kept, failed=failed) == warnings
    # The earlier entries are needed from now on only where this build does not record
    # them (see output.write_plan's interim manifest): keep only those (memory).
    manifest = replace(manifest, entries={entry: record for entry, record
                                          in manifest.entries.items() if entry not in recorded})
    return Collected(site, _sorted(problems), files, count, len(kept), manifest, recorded,
                     steady)


def plan_deferred(site: Site, config: Config, templates: Mapping[str, str] | None = None,
                  compiled: Any = None) -> dict[str, Deferred]:
    """Every file of the site, not made yet: relative POSIX path -> how to make its bytes,
    with the key of what they are made from (see cache.Deferred). Pure (`compiled`: see
    pages.plan_pages)."""
    from functools import partial

    from feeder.feeds import RENDERERS
    from feeder.opml import OPML_FILE, opml_bytes
    from feeder.pages import plan_pages

    keys = OutputKeys()
    plan: dict[str, Deferred] = {}
    names = config.feed_files
    for feed in site.feeds:
        for name in names:
            plan[feed.folder + name] = Later(keys.feed(feed, name),
                                             partial(RENDERERS[name], feed, config))
    plan.update(plan_pages(site, config, templates, compiled))
    plan[OPML_FILE] = Later(None, partial(opml_bytes, site, config))
    return plan


def plan_outputs(site: Site, config: Config,
                 templates: Mapping[str, str] | None = None) -> dict[str, bytes]:
    """Every file of the site: relative POSIX path -> bytes. Pure.

    `templates` are the publisher's page templates (see `read_templates`).
    """
    return {rel: deferred.make() for rel, deferred in plan_deferred(site, config,
                                                                      templates).items()}


def read_templates(config: Config) -> dict[str, str]:
    """The publisher's page templates (see sources.read_templates). Raises ConfigError."""
    from feeder.sources import read_templates as read

    return read(config.root)


def build(config: Config, *, now: datetime, options: Options = Options(),
          on_wait: Callable[[str], None] | None = None,
          progress: Progress | None = None) -> BuildResult:
    """Build the feeds of the project into its output folder.

    `now` decides which briefs are in the future. Raises ContentError (listing every
    problem) when a brief is invalid, unless `options.keep_going`; the output folder is then
    left exactly as it was. Raises ConfigError or OutputError (also when another build of
    the project holds the lock for longer than `lock_timeout`; `on_wait` hears of the wait).
    The build cache (`cache_dir`) skips the work whose inputs did not change, unless
    `options.clean`; `progress` hears how far the long stages are.
    """
    with project_lock(config.root / LOCK_FILE, timeout=config.lock_timeout,
                      display=config.display_path(config.root / LOCK_FILE), on_wait=on_wait):
        templates = read_templates(config)
        cache = BuildCache(config, (replace(options, clean=False), sorted(templates.items())),
                           read=not options.clean)
        try:
            return _build_locked(config, cache, templates, now=now, options=options,
                                 progress=progress)
        finally:
            cache.wait()  # for the cache's children, also when the build fails


def _build_locked(config: Config, cache: BuildCache, templates: dict[str, str], *,
                  now: datetime, options: Options, progress: Progress | None) -> BuildResult:
    # A build stopped while staging its files (see output.STAGING) left temporary files
    # that only a build that writes sweeps away: then do not replay.
    replay = None if (config.output_dir / STAGING).exists() else cache.replay(now)
    if replay is not None:  # nothing changed since the last build: it would do the same
        return BuildResult(None, WriteReport((), (), replay.outputs), replay.problems,
                           replay.briefs, replay.held_back, replay.feeds)
    cache.start_recording()
    from feeder.feeds import forget_entries, keep_room_for, kept_entries, reuse_entries

    forget_entries()  # the entries' XML kept by an earlier build in this process (serve)
    manifest_before = cache.manifest_before()
    collected = collect(config, now=now, options=options, cache=cache, progress=progress)
    problems = collected.problems
    if errors_in(problems) and not options.keep_going:
        cache.save()
        raise ContentError(problems)
    if collected.site is None:
        cache.save()
        held = f" ({collected.held_back} held back as drafts or dated in the future)" \
            if collected.held_back else ""
        raise ContentError([*problems, Problem(config.display_path(config.content_dir), None,
                                               f"no briefs to publish{held}")])
    site = collected.site
    keep_room_for(site.entries, config.feed_files)
    cache.bodies.room_for([entry.body for entry in site.entries])
    plan = plan_deferred(site, config, templates, cache.compiled_templates())
    known = cache.unchanged_outputs(plan, collected.manifest.files)
    names = config.feed_files
    feed_files = [(feed, name) for feed in site.feeds for name in names
                  if feed.folder + name not in known]
    if feed_files:  # (a build that writes no feed neither reads the entries' XML nor keeps it)
        reuse_entries(cache.stored_entries(), feed_files)
    write_entries_ahead(feed_files, progress=progress)
    with LazyPlan(plan, known, progress=progress) as lazy:
        report = write_plan(lazy, config.output_dir, manifest=collected.manifest,
                            entries=collected.published,
                            display=config.display_path(config.output_dir), known=known,
                            stager=lazy.stage)
        outputs = lazy.output_keys()
    counts, steady = (collected.briefs, collected.held_back), collected.steady
    # Every planned page and feed, both manifests: let them go before the cache is saved.
    del plan, lazy, collected
    cache.save(result=(problems, *counts, len(site.feeds)), outputs=outputs,
               manifest_before=manifest_before, steady=steady, unchanged=known,
               entries=kept_entries(ENTRIES_BYTES, site.entries) if feed_files else None)
    return BuildResult(site, report, _sorted([*problems, *cache.problems]), *counts,
                       len(site.feeds))
