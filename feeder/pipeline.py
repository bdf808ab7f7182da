"""The build: read sources -> parse briefs -> render -> plan the site -> make outputs -> write.

`build` and `check` are the library's entry points; this module is the only user of the cache.
Every problem in every brief is found before anything is written, and an error leaves the
output folder as it was (unless `keep_going`).
"""

from __future__ import annotations

import hashlib
import os
import sqlite3
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from functools import cached_property, partial
from pathlib import Path
from typing import TYPE_CHECKING

from feeder import cache, manifest
from feeder.attachments import Asset, check_all, clashes, plan_assets
from feeder.config import Config
from feeder.errors import ConfigError, ContentError, Problem, errors_in
from feeder.lock import LOCK_FILE, project_lock
from feeder.output import Staging, WriteReport, stamp_of
from feeder.sources import FileInfo, read_asset, read_image_infos, read_templates, scan_content
from feeder.stability import EntryRecord, compare_ids
from feeder.static import StaticFiles, read_static
from feeder.text import plural

if TYPE_CHECKING:  # the modules of rendering and planning are imported when first needed
    from feeder.render import Rendered
    from feeder.site import Candidate, Entry, Site
    from feeder.workers import Briefs, Progress

__all__ = ["BuildResult", "Collected", "Options", "build", "check", "collect"]


@dataclass(frozen=True, slots=True)
class Options:
    """What to publish besides the ordinary briefs, and what to do about bad ones."""

    drafts: bool = False
    future: bool = False
    keep_going: bool = False
    clean: bool = False
    """Read, parse and render every brief and make every output again (`build --clean`)."""
    overwrite: bool = False
    """Replace files in the output folder that feeder did not write (`build --overwrite`)."""


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
    unused: tuple[str, ...] = ()
    """Files of folder briefs that no brief links (see feeder.attachments)."""
    drafts: tuple[str, ...] = ()
    """The brief files whose front matter says draft: true, valid or not."""


@dataclass(frozen=True)
class BuildResult:
    report: WriteReport
    problems: tuple[Problem, ...]
    briefs: int
    held_back: int
    feeds: int
    """Feed documents published (subscription feeds and archive pages)."""
    planned: Callable[[], Site] = field(repr=False, compare=False)
    """The site published (its entries without their HTML: `collect` gives it): a rebuild
    that changed nothing plans it only when asked."""

    @cached_property
    def site(self) -> Site:
        return self.planned()

    def summary(self, shown: str, seconds: float) -> str:
        """The line `feeder build` and `feeder serve` print after a build (`shown`: the
        output folder as messages name it)."""
        report = self.report
        return (f"{shown}: {len(report.written)} written, {len(report.removed)} removed, "
                f"{len(report.unchanged)} unchanged ({plural(self.briefs, 'brief')}, "
                f"{plural(self.feeds, 'feed')}) "
                f"in {seconds:.2f} s")


def _sorted(problems: Iterable[Problem]) -> tuple[Problem, ...]:
    return tuple(sorted(problems, key=lambda p: (p.path, p.line or 0, p.message)))


# --- checking and planning --------------------------------------------------------------------

@dataclass
class _Checked:
    entries: list[Entry]
    problems: list[Problem]
    briefs: int
    held: dict[str, EntryRecord]
    """The valid briefs held back, by entry id."""
    assets: dict[str, Asset]
    unused: tuple[str, ...]
    dropped: tuple[Problem, ...]
    """Warnings for the published ids this build drops or changes (feeder.stability)."""
    remembered: dict[str, EntryRecord]
    """The entries the record keeps."""


def check_briefs(config: Config, read: Briefs, before: Mapping[str, EntryRecord], *,
                 now: datetime, options: Options) -> _Checked:
    """The entries to publish from the briefs read, with every problem found (`before`: the
    entries published before)."""
    from feeder.site import candidate, check_unique, index_tags, is_published, make_entries

    problems = [*read.problems]
    valid: list[Candidate] = []
    for _info, stored in read.files:
        problems.extend(stored.problems)
        if stored.brief is not None and stored.body is not None:
            if len(stored.brief.tags) > config.max_tags:
                problems.append(Problem(stored.brief.path, None, (
                    f"{len(stored.brief.tags):,} tags, over the limit of {config.max_tags} "
                    "(setting max_tags)")))
                continue
            valid.append(candidate(config, stored.brief, stored.body))
    unique_problems = check_unique(valid)
    problems.extend(unique_problems)
    clashing = {p.path for p in unique_problems}  # the first of each clash is kept
    valid = [item for item in valid if item.brief.path not in clashing]
    published: list[Candidate] = []
    held: dict[str, EntryRecord] = {}
    for item in valid:
        if is_published(item.brief, now, drafts=options.drafts, future=options.future):
            published.append(item)
        else:
            held[item.id] = EntryRecord(item.brief.path, item.brief.title)
    tags, tag_problems = index_tags(item.brief for item in published)
    # The files of content/ that briefs bring, published where, with their pictures' sizes.
    urls = {item.brief.rel: item.url for item in published}
    files = {info.rel: info.size for info in (*(info for info, _ in read.files), *read.assets)}
    assets, asset_problems = plan_assets(files, config.base_url, urls,
                                         content=config.display_path(config.content_dir),
                                         max_bytes=config.max_asset_bytes)
    linked = check_all([item.brief for item in valid], urls.keys(), files, assets,
                       read_image_infos(info for info in read.assets if info.rel in assets))
    problems.extend((*tag_problems, *asset_problems, *linked.problems))
    entries = make_entries(published, tags, linked.media)
    current = {e.id: EntryRecord(e.path, e.title, e.url) for e in entries}
    dropped, kept = compare_ids(before, current, held, {p.path for p in errors_in(problems)})
    return _Checked(entries, problems, len(valid), held, assets, linked.unused, dropped, kept)


def _plan_site(config: Config, db: sqlite3.Connection | None, read: Briefs,
               entries: list[Entry]) -> Site:
    from feeder.archive import SizeBounds, html_needed, plan_history
    from feeder.site import Site, group_feeds
    from feeder.workers import load_html

    ordered, tags, feeds = group_feeds(entries, config)
    sizes = SizeBounds(config)
    needed = html_needed(feeds, config, sizes)  # to measure the feeds over max_feed_bytes
    html = load_html(config, db, read, needed) if needed else {}
    return Site(ordered, tags, plan_history(feeds, config, html, sizes))


def collect(config: Config, *, now: datetime, options: Options = Options(),
            html: bool = True) -> Collected:
    """Read and check every brief and plan the site, writing nothing. With `html`, every
    entry carries its HTML (so that every output can be made from it). Content errors are
    returned in `problems`; ConfigError when the content folder is missing."""
    from feeder.explain import is_draft
    from feeder.site import with_html
    from feeder.sources import read_source
    from feeder.workers import load_html, read_all

    db = cache.open_readonly(config.cache_dir, cache.environment(config))
    try:
        before, stored, unreadable = _read_state(db, "")
        if unreadable and db is not None:
            db.close()
            db = None
        read = read_all(config, stored, _scan(config))
        checked = check_briefs(config, read, before.entries, now=now, options=options)
        entries = checked.entries
        if html:
            entries = list(with_html(entries, load_html(config, db, read, {
                entry.body.digest for entry in entries})))
        site = _plan_site(config, db, read, entries) if entries else None
    finally:
        if db is not None:
            db.close()
    # an invalid brief has no record to say whether it is a draft: its front matter is read
    drafts = tuple(info.path for info, stored in read.files
                   if (stored.brief.draft if stored.brief else is_draft(read_source(info))))
    return Collected(site, _sorted([*checked.problems, *checked.dropped]), len(read.files) +
                     len(read.problems), checked.briefs, len(checked.held), checked.unused,
                     drafts)


def check(config: Config, *, now: datetime, options: Options = Options()) -> Collected:
    """Read and check every brief and the page templates, writing nothing (`feeder check`)."""
    read_templates(config.root)  # the rules of templates/ hold for check as for build
    return collect(config, now=now, options=options, html=False)


# --- building ---------------------------------------------------------------------------------

def build(config: Config, *, now: datetime, options: Options = Options(),
          on_wait: Callable[[str], None] | None = None,
          progress: Progress | None = None) -> BuildResult:
    """Build the feeds and pages of the project into its output folder.

    `now` decides which briefs are in the future. Raises ContentError (listing every
    problem) when a brief is invalid, unless `options.keep_going`, leaving the output folder
    as it was; ConfigError; OutputError (also when another build holds the lock for longer
    than `lock_timeout`; `on_wait` hears of the wait).
    """
    with project_lock(config.root / LOCK_FILE, timeout=config.lock_timeout,
                      display=config.display_path(config.root / LOCK_FILE), on_wait=on_wait):
        templates = read_templates(config.root)
        static = read_static(config)
        folder = config.cache_dir
        db, warnings = cache.open_cache(folder, config.display_path(folder) if folder else "",
                                        cache.environment(config))
        try:
            scanned = _scan(config)
            # what the build is made from besides the briefs: options, templates, static/ and
            # the files of content/ the briefs bring (by their stamps)
            inputs = hashlib.sha256(repr((options.drafts, options.future, sorted(
                templates.items()), static.digest(), [(info.rel, info.size, info.mtime_ns,
                info.ino) for info in scanned[2]])).encode("utf-8", "surrogatepass")).hexdigest()
            if not options.clean:
                done = _as_left(config, db, inputs, scanned, now)
                if done is not None:
                    summary, unchanged = done
                    return BuildResult(WriteReport((), (), unchanged),
                                       _sorted([*summary.problems, *warnings]),
                                       *summary.counts, partial(_planned, config, now, options))
            cache.save_summary(db, None)
            return _build(config, db, (templates, static), warnings, now=now,
                          options=options, progress=progress, inputs=inputs, scanned=scanned)
        finally:
            db.close()


Scanned = tuple[tuple[FileInfo, ...], tuple[Problem, ...], list[FileInfo]]
"""The brief files of the content folder, the problems found, and its other files."""


def _scan(config: Config) -> Scanned:
    """The files of the content folder (sources.scan_content)."""
    if not config.content_dir.is_dir():
        raise ConfigError([Problem(config.display_path(config.content_dir), None,
                                   "content folder not found; create it or set content_dir")])
    return scan_content(config.content_dir, config.display_path(config.content_dir),
                        config.max_brief_bytes)


def _as_left(config: Config, db: sqlite3.Connection, inputs: str, scanned: Scanned,
             now: datetime) -> tuple[cache.Summary, tuple[str, ...]] | None:
    """The summary of the last build and the files it wrote, when nothing changed since:
    inputs, brief files (by stamp), briefs come due, its record and every output file."""
    summary = cache.read_summary(db)
    if summary is None or summary.inputs != inputs or scanned[1] or (
            summary.due is not None and now.timestamp() >= summary.due) or \
            not cache.briefs_as_left(db, scanned[0]):
        return None
    record = manifest.recorded(db)
    prefix = os.path.join(config.output_dir, "")  # noqa: PTH118 - a string per file
    if record is None or record[1] != summary.record or any(
            stamp_of(prefix + path) != tuple(stamp) for path, *stamp in record[0]):
        return None
    return summary, tuple(path for path, *_ in record[0])


def _planned(config: Config, now: datetime, options: Options) -> Site:
    """The site as the briefs make it now (without HTML)."""
    from feeder.site import Site

    return collect(config, now=now, options=options, html=False).site or Site((), (), ())


def _read_state(db: sqlite3.Connection | None, shown: str
                ) -> tuple[manifest.Record, dict[str, cache.Stored], tuple[Problem, ...]]:
    """The record of the last build and the briefs the cache remembers. A database that
    cannot be read after all (text that is not UTF-8, a damaged page) is emptied, warning."""
    if db is None:
        return manifest.Record({}, {}), {}, ()
    try:
        return manifest.read_record(db), cache.stored_briefs(db), ()
    except sqlite3.Error as exc:
        return manifest.Record({}, {}), {}, (cache.forget_all(db, shown, exc),)


def _build(config: Config, db: sqlite3.Connection, files: tuple[dict[str, str], StaticFiles],
           warnings: tuple[Problem, ...], *, now: datetime, options: Options,
           progress: Progress | None, inputs: str, scanned: Scanned) -> BuildResult:
    from feeder.workers import read_all

    record, stored, unreadable = _read_state(db, config.display_path(config.cache_dir)
                                             if config.cache_dir else "")
    warnings += unreadable
    if not record.files:
        legacy, legacy_problems = manifest.read_legacy(config.output_dir)
        record = legacy or record
        warnings += legacy_problems
    read = read_all(config, {} if options.clean else stored, scanned, progress, db)
    checked = check_briefs(config, read, record.entries, now=now, options=options)
    problems = _sorted([*checked.problems, *checked.dropped, *warnings])
    cache.save_briefs(db, read.changed, read.gone)
    if errors_in(problems) and not options.keep_going:
        raise ContentError(problems)
    if not checked.entries:
        held = f" ({len(checked.held)} held back as drafts or dated in the future)" \
            if checked.held else ""
        raise ContentError([*problems, Problem(config.display_path(config.content_dir), None,
                                               f"no briefs to publish{held}")])
    site = _plan_site(config, db, read, checked.entries)
    report = _write(config, db, read, site, files, record, options, progress, checked.assets)
    manifest.save_entries(db, record.entries, checked.remembered)
    counts = (checked.briefs, len(checked.held), len(site.feeds))
    if not checked.dropped and not errors_in(checked.problems) and \
            (written := manifest.recorded(db)) is not None:
        due = min((s.brief.date.timestamp() for _, s in read.files if s.brief is not None
                   and s.brief.date > now), default=None)
        cache.save_summary(db, cache.Summary(inputs, written[1], due, tuple(checked.problems),
                                             counts))
    return BuildResult(report, problems, *counts, lambda: site)


def _kept(root: str, rel: str, key: bytes | None, written: manifest.Written | None) -> bool:
    """Whether `root + rel` holds what `key` says, as the last build left it."""
    return key is not None and written is not None and written.key == key and \
        written.stamp is not None and stamp_of(root + rel) == written.stamp


_BATCH = 100
"""Outputs made from one read of the HTML they show (an archive page shows 50 entries)."""


def _write(config: Config, db: sqlite3.Connection, read: Briefs, site: Site,
           files: tuple[Mapping[str, str], StaticFiles], record: manifest.Record,
           options: Options, progress: Progress | None, assets: Mapping[str, Asset]
           ) -> WriteReport:
    """Make the outputs whose key changed and write them (`files`: the publisher's templates
    and static files; `assets`: the files of content/ the briefs bring); update the record."""
    from feeder.plan import asset_files, plan_files
    from feeder.workers import counted, load_html, stamp

    root = config.output_dir
    plan = plan_files(site, config, *files)
    prefix = os.path.join(root, "")  # noqa: PTH118 - a string per output, no Path
    clash = clashes(assets.values(), plan, config.display_path(config.content_dir))
    if clash:
        raise ContentError(clash)
    sources = {info.rel: info for info in read.assets}
    plan.update(asset_files(assets.values(), {rel: stamp(info) for rel, info in sources.items()},
                            lambda rel: read_asset(sources[rel])))
    todo = [rel for rel, output in plan.items()
            if options.clean or not _kept(prefix, rel, output.key, record.files.get(rel))]
    made: dict[str, manifest.Written] = {}
    stale = [rel for rel in record.files if rel not in plan]
    with Staging(root, config.display_path(root), record.files.keys(),
                 options.overwrite) as staging:
        html: Mapping[bytes, Rendered] = {}
        for index, rel in enumerate(counted(todo, progress, "writing", len(todo))):
            if index % _BATCH == 0:  # the HTML the next outputs show, not every brief's at once
                html = load_html(config, db, read, {
                    entry.body.digest for name in todo[index:index + _BATCH]
                    for entry in plan[name].entries if entry.body.html is None})
            output = plan[rel]
            data = output.make(html)
            staging.stage(rel, data)
            made[rel] = manifest.Written(hashlib.sha256(data).hexdigest(), output.key, None)
        staging.flush()
        # Claim the new files before they appear: a build killed among the renames leaves
        # no file that the next one would not know it may replace.
        manifest.save_files(db, {rel: written._replace(key=None) for rel, written
                                 in made.items() if rel not in record.files}, ())
        report = staging.commit(stale)
    manifest.save_files(db, {rel: written._replace(stamp=stamp_of(root / rel))
                             for rel, written in made.items()}, stale)
    skipped = [rel for rel in plan if rel not in made]
    return WriteReport(report.written, report.removed,
                       tuple(sorted([*skipped, *report.unchanged])))


@dataclass(frozen=True, slots=True)
class ChangedFeeds:
    """The subscription feeds to announce to the hubs (`feeder ping`)."""

    urls: tuple[str, ...]
    since_found: bool
    """Whether the saved record to compare with was found (else every feed counts)."""
    since_problem: Problem | None = None
    """Why the saved record was ignored (not a copy of the record: every feed counts)."""


def changed_feeds(config: Config, *, now: datetime, options: Options = Options(),
                  since: Path | None = None) -> ChangedFeeds:
    """The URLs of the feed files the last build wrote that differ from those of `since`, a
    copy of the build record saved at the last deployment (every feed without it, or when it
    is not such a copy: `since_problem` says why). ContentError when nothing was built yet."""
    from feeder.websub import changed_feed_urls, changed_files

    db = cache.open_readonly(config.cache_dir, None)
    built = {rel: w.sha for rel, w in manifest.read_record(db).files.items()} if db else {}
    if db is not None:
        db.close()
    collected = collect(config, now=now, options=options, html=False)
    if not built or collected.site is None:
        raise ContentError([Problem(config.display_path(config.output_dir), None,
                                    "nothing built here: run feeder build")])
    before, problem = None, None
    if since is not None:
        try:
            before = manifest.read_file_hashes(since, since.as_posix())
        except ConfigError as err:  # hand-edited, damaged or not a record: ignored
            problem = Problem(since.as_posix(), None, f"{err.problems[0].message}: ignored, "
                              "so every feed counts as changed", "warning")
    urls = changed_feed_urls(collected.site, changed_files(before or {}, built))
    return ChangedFeeds(urls, since is None or before is not None, problem)
