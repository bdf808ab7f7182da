"""The build: read sources -> parse briefs -> render -> plan the site -> make outputs -> write.

`build` and `check` are the library's entry points. Both read the brief files (through the
build cache: a file whose stamp or hash did not change is not parsed or rendered again) and
plan the site; `build` then makes the outputs whose key changed and writes them. Every
problem in every brief is collected before anything is written, and any error leaves the
output folder as it was, unless `keep_going` asks to publish the valid briefs anyway. The
stages between reading and writing are pure; this module is the only user of the cache.
"""

from __future__ import annotations

import hashlib
import os
import sqlite3
import time
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, replace
from datetime import datetime
from pathlib import Path
from typing import Protocol

from feeder import cache, manifest
from feeder.archive import html_needed
from feeder.config import TEMPLATES_FOLDER, Config
from feeder.errors import ConfigError, ContentError, Problem, errors_in
from feeder.lock import LOCK_FILE, project_lock
from feeder.output import Staging, WriteReport, stamp_of
from feeder.plan import plan_files, plan_outputs, plan_site, site_of
from feeder.render import Rendered, sanitise
from feeder.site import (
    Body,
    Candidate,
    Entry,
    Site,
    candidate,
    check_unique,
    group_feeds,
    index_tags,
    is_published,
    make_entries,
)
from feeder.sources import FileInfo, scan_content
from feeder.stability import EntryRecord, remembered, stability_warnings
from feeder.text import strip_xml_forbidden
from feeder.workers import read_brief, read_briefs

__all__ = ["BuildResult", "Collected", "Options", "build", "check", "collect", "plan_outputs",
           "plan_site"]


class Progress(Protocol):
    """Hears how far the long stages of a build are (the CLI's progress bar)."""

    def start(self, label: str, total: int) -> None: ...
    def advance(self, count: int = 1) -> None: ...
    def finish(self) -> None: ...


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


@dataclass(frozen=True, slots=True)
class BuildResult:
    site: Site
    report: WriteReport
    problems: tuple[Problem, ...]
    briefs: int
    held_back: int
    feeds: int = 0
    """Feed documents published (subscription feeds and archive pages)."""


def _sorted(problems: Iterable[Problem]) -> tuple[Problem, ...]:
    return tuple(sorted(problems, key=lambda p: (p.path, p.line or 0, p.message)))


# --- reading ----------------------------------------------------------------------------------

@dataclass
class _Briefs:
    """Every brief file of the content folder, as read (through the cache)."""

    files: list[tuple[FileInfo, cache.Stored]]
    """In the order of the content folder."""
    problems: list[Problem]
    html: dict[bytes, Rendered]
    """The HTML rendered by this build, by body digest."""
    rows: list[tuple[object, ...]]
    """The rows of the cache to write (cache.brief_row)."""
    gone: list[str]
    """Brief files the cache knows and that are gone."""


def _stamp(info: FileInfo) -> tuple[int, int, int]:
    return info.size, info.mtime_ns, info.ino


def _unchanged(info: FileInfo, old: cache.Stored | None) -> bool | None:
    """True when the file is surely unchanged, None when only its hash can tell."""
    if old is None:
        return False
    if old.stamp == _stamp(info) and info.mtime_ns + cache.RACY_NS < old.seen_ns:
        return True
    try:
        data = Path(info.abspath).read_bytes()
    except OSError:
        return False
    return None if hashlib.sha256(data).digest() != old.sha else True


def read_all(config: Config, stored: Mapping[str, cache.Stored],
             progress: Progress | None = None) -> _Briefs:
    """Scan the content folder and read every brief file; those `stored` (by the cache)
    with the same stamp or hash are not read again."""
    if not config.content_dir.is_dir():
        raise ConfigError([Problem(config.display_path(config.content_dir), None,
                                   "content folder not found; create it or set content_dir")])
    infos, scan_problems = scan_content(config.content_dir, config.root, config.max_brief_bytes)
    seen_ns = time.time_ns()
    found: dict[str, cache.Stored] = {}
    todo: list[FileInfo] = []
    rows: list[tuple[object, ...]] = []
    for info in infos:
        old = stored.get(info.rel)
        if old is not None and _unchanged(info, old):
            if old.stamp != _stamp(info) or old.seen_ns <= info.mtime_ns + cache.RACY_NS:
                old = old._replace(stamp=_stamp(info), seen_ns=seen_ns)
                rows.append(cache.brief_row(info.rel, old, None))
            found[info.rel] = old
        else:
            todo.append(info)
    html: dict[bytes, Rendered] = {}
    if progress is not None and len(todo) >= 200:
        progress.start("reading briefs", len(todo))
    for read in read_briefs(todo, config):
        body = Body.of(read.html) if read.html is not None else None
        new = cache.Stored(_stamp(read.info), seen_ns, read.sha or b"", read.brief,
                           read.problems, body)
        if read.sha is not None:
            keep = read.html if not config.allow_raw_html else None
            rows.append(cache.brief_row(read.info.rel, new, keep))
        if body is not None and read.html is not None:
            html[body.digest] = read.html
        found[read.info.rel] = new
        if progress is not None and len(todo) >= 200:
            progress.advance()
    if progress is not None and len(todo) >= 200:
        progress.finish()
    files = [(info, found[info.rel]) for info in infos]
    gone = sorted(stored.keys() - found.keys())
    return _Briefs(files, list(scan_problems), html, rows, gone)


# --- checking and planning --------------------------------------------------------------------

@dataclass
class _Checked:
    entries: list[Entry]
    problems: list[Problem]
    briefs: int
    held: dict[str, EntryRecord]
    """The valid briefs held back, by entry id."""


def check_briefs(config: Config, read: _Briefs, *, now: datetime,
                 options: Options) -> _Checked:
    """The entries to publish from the briefs read, with every problem found."""
    problems = [*read.problems]
    valid: list[Candidate] = []
    for _info, stored in read.files:
        problems.extend(stored.problems)
        if stored.brief is not None and stored.body is not None:
            valid.append(candidate(config, stored.brief, stored.body))
    unique_problems = check_unique(valid)
    problems.extend(unique_problems)
    if unique_problems:  # keep the first of each clash (only used with keep_going)
        clashing = {p.path for p in unique_problems}
        valid = [item for item in valid if item.brief.path not in clashing]
    published: list[Candidate] = []
    held: dict[str, EntryRecord] = {}
    for item in valid:
        if is_published(item.brief, now, drafts=options.drafts, future=options.future):
            published.append(item)
        else:
            held[item.id] = EntryRecord(item.brief.path, item.brief.title)
    tags, tag_problems = index_tags(item.brief for item in published)
    problems.extend(tag_problems)
    return _Checked(make_entries(published, tags), problems, len(valid), held)


def _stability(checked: _Checked, before: Mapping[str, EntryRecord]
               ) -> tuple[tuple[Problem, ...], dict[str, Mapping[str, str]]]:
    """Warnings for ids published before that this build drops or changes, and the entries
    the record keeps."""
    current = {e.id: EntryRecord(e.path, e.title, e.url) for e in checked.entries}
    failed = {p.path for p in errors_in(checked.problems)}
    warnings = stability_warnings(before, current, held=checked.held, failed=failed)
    return warnings, remembered(before, current, held=checked.held, failed=failed)


def _plan_site(config: Config, db: sqlite3.Connection | None, read: _Briefs,
               entries: list[Entry]) -> Site:
    grouped = group_feeds(entries, config)
    needed = html_needed(grouped[2], config)
    html = load_html(config, db, read, needed) if needed else {}
    return site_of(grouped, config, html)


def load_html(config: Config, db: sqlite3.Connection | None, read: _Briefs,
              digests: Iterable[bytes]) -> dict[bytes, Rendered]:
    """The HTML of the briefs whose body digests are `digests`: rendered by this build, or
    kept by the cache (and sanitised again: the cache is never trusted to be safe), or read
    and rendered again."""
    from feeder.site import brief_url

    wanted = set(digests)
    html = {digest: read.html[digest] for digest in wanted if digest in read.html}
    where = {stored.body.digest: (info, stored.brief) for info, stored in read.files
             if stored.body is not None and stored.body.digest in wanted - html.keys()}
    kept = cache.stored_html(db, [info.rel for info, _ in where.values()]) \
        if db is not None and not config.allow_raw_html else {}
    for digest, (info, brief) in where.items():
        found = kept.get(info.rel)
        if found is not None and brief is not None:
            base = brief_url(config, brief)
            html[digest] = Rendered(strip_xml_forbidden(sanitise(found.summary_html, base)),
                                    strip_xml_forbidden(found.summary_text),
                                    strip_xml_forbidden(sanitise(found.content_html, base)))
        else:
            again = read_brief(info, config).html
            if again is not None:
                html[digest] = again
    return html


def collect(config: Config, *, now: datetime, options: Options = Options(),
            html: bool = True) -> Collected:
    """Read and check every brief and plan the site, writing nothing (`feeder check`).

    With `html`, every entry of the site carries its HTML (so that every output can be
    made from it); without, only the digests (enough to check and list the site). Raises
    ConfigError when the content folder is missing. Content errors are returned in
    `problems`, not raised.
    """
    db = cache.open_readonly(config.cache_dir, cache.environment(config))
    try:
        read = read_all(config, cache.stored_briefs(db) if db is not None else {})
        if html:
            read.html.update(load_html(config, db, read, [
                stored.body.digest for _, stored in read.files if stored.body is not None]))
            read.files = [(info, stored._replace(body=replace(stored.body,
                                                              html=read.html[stored.body.digest])))
                          if stored.body is not None and stored.body.digest in read.html
                          else (info, stored) for info, stored in read.files]
        checked = check_briefs(config, read, now=now, options=options)
        before = manifest.read_record(db).entries if db is not None else {}
        warnings, _record = _stability(checked, before)
        site = _plan_site(config, db, read, checked.entries) if checked.entries else None
    finally:
        if db is not None:
            db.close()
    return Collected(site, _sorted([*checked.problems, *warnings]), len(read.files) +
                     len(read.problems), checked.briefs, len(checked.held))


def check(config: Config, *, now: datetime, options: Options = Options()) -> Collected:
    """Read and check every brief, writing nothing (`feeder check`): `collect` without the
    HTML."""
    return collect(config, now=now, options=options, html=False)


def read_templates(config: Config) -> dict[str, str]:
    """The publisher's page templates: every file in `templates/` of the project folder.

    Raises ConfigError when one cannot be read as UTF-8 text.
    """
    folder = config.root / TEMPLATES_FOLDER
    if not folder.is_dir():
        return {}
    templates: dict[str, str] = {}
    problems = []
    for path in sorted(folder.rglob("*")):
        name = path.relative_to(folder).as_posix()
        if name.startswith(".") or "/." in name or not path.is_file():
            continue
        try:
            templates[name] = path.read_text(encoding="utf-8-sig")
        except (OSError, UnicodeDecodeError) as exc:
            problems.append(Problem(config.display_path(path), None,
                                    f"cannot read template: {exc}"))
    if problems:
        raise ConfigError(problems)
    return templates


# --- building ---------------------------------------------------------------------------------

def build(config: Config, *, now: datetime, options: Options = Options(),
          on_wait: Callable[[str], None] | None = None,
          progress: Progress | None = None) -> BuildResult:
    """Build the feeds and pages of the project into its output folder.

    `now` decides which briefs are in the future. Raises ContentError (listing every
    problem) when a brief is invalid, unless `options.keep_going`; the output folder is then
    left exactly as it was. Raises ConfigError or OutputError (also when another build of
    the project holds the lock for longer than `lock_timeout`; `on_wait` hears of the wait).
    """
    with project_lock(config.root / LOCK_FILE, timeout=config.lock_timeout,
                      display=config.display_path(config.root / LOCK_FILE), on_wait=on_wait):
        templates = read_templates(config)
        folder = config.cache_dir
        db, warnings = cache.open_cache(folder, config.display_path(folder) if folder else "",
                                        cache.environment(config))
        try:
            return _build(config, db, templates, warnings, now=now, options=options,
                          progress=progress)
        finally:
            db.close()


def _build(config: Config, db: sqlite3.Connection, templates: dict[str, str],
           warnings: tuple[Problem, ...], *, now: datetime, options: Options,
           progress: Progress | None) -> BuildResult:
    record = manifest.read_record(db)
    if not record.files:
        legacy, legacy_problems = manifest.read_legacy(config.output_dir)
        record = legacy or record
        warnings += legacy_problems
    read = read_all(config, {} if options.clean else cache.stored_briefs(db), progress)
    checked = check_briefs(config, read, now=now, options=options)
    dropped, published = _stability(checked, record.entries)
    problems = _sorted([*checked.problems, *dropped, *warnings])
    if errors_in(problems) and not options.keep_going:
        cache.save_briefs(db, read.rows, read.gone)
        raise ContentError(problems)
    if not checked.entries:
        cache.save_briefs(db, read.rows, read.gone)
        held = f" ({len(checked.held)} held back as drafts or dated in the future)" \
            if checked.held else ""
        raise ContentError([*problems, Problem(config.display_path(config.content_dir), None,
                                               f"no briefs to publish{held}")])
    site = _plan_site(config, db, read, checked.entries)
    report = _write(config, db, read, site, templates, record, options, progress)
    cache.save_briefs(db, read.rows, read.gone)
    manifest.save_entries(db, record.entries, published)
    return BuildResult(site, report, problems, checked.briefs, len(checked.held),
                       len(site.feeds))


def _kept(root: str, rel: str, key: bytes | None, written: manifest.Written | None) -> bool:
    """Whether the output `rel` holds what the key says, as the last build left it (`root`:
    the output folder, ending with a separator)."""
    return key is not None and written is not None and written.key == key and \
        written.stamp is not None and stamp_of(root + rel) == written.stamp


def _write(config: Config, db: sqlite3.Connection, read: _Briefs, site: Site,
           templates: Mapping[str, str], record: manifest.Record, options: Options,
           progress: Progress | None) -> WriteReport:
    """Make the outputs whose key changed and write them; update the record."""
    root = config.output_dir
    plan = plan_files(site, config, templates)
    prefix = os.path.join(root, "")  # noqa: PTH118 - a string per output, no Path
    todo = [rel for rel, output in plan.items()
            if options.clean or not _kept(prefix, rel, output.key, record.files.get(rel))]
    html = load_html(config, db, read, {entry.body.digest for rel in todo
                                        for entry in plan[rel].entries
                                        if entry.body.html is None})
    made: dict[str, manifest.Written] = {}
    stale = [rel for rel in record.files if rel not in plan]
    with Staging(root, config.display_path(root), record.files.keys(),
                 options.overwrite) as staging:
        if progress is not None and len(todo) >= 200:
            progress.start("writing", len(todo))
        for rel in todo:
            output = plan[rel]
            data = output.make(html)
            staging.stage(rel, data)
            made[rel] = manifest.Written(hashlib.sha256(data).hexdigest(), output.key, None)
            if progress is not None and len(todo) >= 200:
                progress.advance()
        if progress is not None and len(todo) >= 200:
            progress.finish()
        staging.check_foreign()
        staging.sync()
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


def changed_feeds(config: Config, *, now: datetime, options: Options = Options(),
                  since: Path | None = None) -> ChangedFeeds:
    """The URLs of the feed files the last build wrote that differ from those of `since`, a
    copy of the build record saved at the last deployment (every feed without it).

    Raises ContentError when nothing was built yet, ConfigError when `since` is not a copy
    of the record.
    """
    from feeder.websub import changed_feed_urls, changed_files

    db = cache.open_readonly(config.cache_dir, None)
    built = {rel: w.sha for rel, w in manifest.read_record(db).files.items()} if db else {}
    if db is not None:
        db.close()
    collected = collect(config, now=now, options=options, html=False)
    if not built or collected.site is None:
        raise ContentError([Problem(config.display_path(config.output_dir), None,
                                    "nothing built here: run feeder build")])
    before = manifest.read_file_hashes(since, since.as_posix()) if since else None
    urls = changed_feed_urls(collected.site, changed_files(before or {}, built))
    return ChangedFeeds(urls, since is None or before is not None)
