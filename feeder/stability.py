"""Stable ids for subscribers: warn when a build would drop or change a published entry's id
(feed readers know an entry by its id), because the brief's date or slug changed, or its file
was renamed or deleted, and say how to keep the old id. Pure: the caller reads the record.
"""

from __future__ import annotations

from collections.abc import Collection, Mapping
from typing import NamedTuple
from urllib.parse import urlsplit

from feeder.config import PLACEHOLDER_BASE_URL
from feeder.errors import Problem


class EntryRecord(NamedTuple):
    """What the build record keeps about one entry (a tuple: there are 100,000 on a large site)."""

    path: str
    """The brief file."""
    title: str
    url: str | None = None
    """None for a brief held back (a draft, a future date)."""

    @classmethod
    def of(cls, value: dict[str, object]) -> EntryRecord | None:
        """`value` (read from JSON) as a record: None unless it has a string path and title,
        and a string url or none, and nothing else."""
        if value.keys() in ({"path", "title"}, {"path", "title", "url"}) and all(
                type(text) is str for text in value.values()):
            return cls(**value)  # type: ignore[arg-type]
        return None


_PLACEHOLDER_ID = f"tag:{urlsplit(PLACEHOLDER_BASE_URL).hostname},"


def _placeholder(entry_id: str, record: EntryRecord) -> bool:
    """Whether a published entry's id or URL was made from the placeholder base_url."""
    return entry_id.startswith(_PLACEHOLDER_ID) or (record.url or "").startswith(
        PLACEHOLDER_BASE_URL)


def _same_title(a: str, b: str) -> bool:
    return bool(a.strip()) and " ".join(a.casefold().split()) == " ".join(b.casefold().split())


def _pin(old: str, path: str) -> str:
    return (f"to keep the published id, add `id: {old}` to the front matter of {path} "
            "(a --- block at the top of the file)")


def compare_ids(previous: Mapping[str, EntryRecord], current: Mapping[str, EntryRecord],
                held: Mapping[str, EntryRecord], failed: Collection[str]
                ) -> tuple[tuple[Problem, ...], dict[str, EntryRecord]]:
    """Warnings for every previously published id that this build would drop or change, and
    the entries the new build record keeps.

    `previous` is the build record's entries (id -> record); `current` the entries this build
    publishes; `held` the valid briefs held back (drafts, future dates). A published id that
    is only held back, or whose brief has errors (its path in `failed`, `--keep-going`), is not
    dropped: the record keeps it, so that a later change of that id is still noticed.
    """
    kept = dict(current)
    dropped: list[tuple[str, EntryRecord]] = []
    for old in sorted(previous.keys() - current.keys(), key=lambda i: (previous[i].path, i)):
        gone = previous[old]
        if old in held or gone.path in failed:
            kept[old] = gone
        # Ids made from the placeholder base_url were never published for real: a base_url
        # set at last changes them all, as it should, and warns about none.
        elif not _placeholder(old, gone):
            dropped.append((old, gone))
    if not dropped:
        return (), kept  # every published id is still here: the usual build
    now = sorted({**held, **current}.items(), key=lambda item: (item[1].path, item[0]))
    old_paths = {record.path for i, record in previous.items() if not _placeholder(i, record)}
    id_of_path: dict[str, str] = {}
    for entry_id, record in now:
        id_of_path.setdefault(record.path, entry_id)
    # Briefs that are new in every sense: an id never published, in a file never published.
    fresh = [(i, record) for i, record in now if i not in previous and record.path not in old_paths]
    again = "so feed readers will show it again as a new entry"
    problems: list[Problem] = []
    for old, gone in dropped:
        if gone.path in id_of_path:
            problems.append(Problem(gone.path, None, (
                f"the entry id changes from {old} to {id_of_path[gone.path]} (its date or slug "
                f"changed), {again}; {_pin(old, gone.path)}"), "warning"))
            continue
        match = next((item for item in fresh if _same_title(item[1].title, gone.title)), None)
        if match is not None:
            fresh.remove(match)
            new, renamed = match
            problems.append(Problem(renamed.path, None, (
                f"looks like {gone.path} renamed: the entry id changes from {old} to "
                f"{new}, {again}; {_pin(old, renamed.path)}"), "warning"))
            continue
        problems.append(Problem(gone.path, None, (
            f"brief deleted: its published entry {old} ({gone.title!r}) leaves the feeds "
            f"and no brief has that id now; if it moved to another file, add `id: {old}` "
            "to that file's front matter to keep the id"), "warning"))
    return tuple(problems), kept
