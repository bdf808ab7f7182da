"""Stable ids for subscribers: warn when a build would drop or change a published entry's id.

Feed readers recognise an entry by its id. The manifest of the output folder remembers the
id, brief file and title of every entry published so far; this module compares that record
with the entries of a new build and explains each id that would disappear:

- the same brief file now has another id (its date or slug changed);
- a published id vanished while a new brief with the same title appeared (a renamed file);
- a published id vanished with its brief (a deleted file).

Each warning names the brief, the old id and the new one, and how to keep the old id
(`id: <old id>` in front matter). Everything here is pure: the caller reads the manifest.
"""

from __future__ import annotations

from collections.abc import Collection, Iterator, Mapping
from dataclasses import dataclass
from json.encoder import encode_basestring
from urllib.parse import urlsplit

from feeder.config import PLACEHOLDER_BASE_URL
from feeder.errors import Problem

Record = Mapping[str, str]
"""What the manifest keeps about one entry: {"path": brief file, "title": ..., "url": ...}."""


class EntryRecord(Mapping[str, str]):
    """A Record made small: the manifest keeps one per published entry (100,000 of them on a
    large site), and three slots take a third of the memory of a dict."""

    __slots__ = ("path", "title", "url")
    KEYS = ("path", "title", "url")

    def __init__(self, path: str, title: str, url: str | None = None) -> None:
        self.path, self.title, self.url = path, title, url

    @classmethod
    def of(cls, value: dict[str, object]) -> object:
        """`value` as an EntryRecord when it is one (read from JSON), else as it is."""
        path, title, url = value.get("path"), value.get("title"), value.get("url")
        if type(path) is str and type(title) is str and (
                len(value) == 2 if url is None else type(url) is str and len(value) == 3):
            return cls(path, title, url)  # type: ignore[arg-type]
        return value

    def json(self) -> str:
        """The record as JSON, keys sorted (as the manifest writes it)."""
        head = f'{{"path": {encode_basestring(self.path)}, "title": ' \
            f'{encode_basestring(self.title)}'
        return f'{head}, "url": {encode_basestring(self.url)}}}' if self.url is not None \
            else head + "}"

    def __getitem__(self, key: str) -> str:
        value: str | None = getattr(self, key) if key in self.KEYS else None
        if value is None:
            raise KeyError(key)
        return value

    def __iter__(self) -> Iterator[str]:
        return (key for key in self.KEYS if getattr(self, key) is not None)

    def __len__(self) -> int:
        return 2 if self.url is None else 3


@dataclass(frozen=True, slots=True)
class _Known:
    id: str
    path: str
    title: str
    record: Mapping[str, object]


def _known(entries: Mapping[str, object]) -> list[_Known]:
    """The well-formed records of `entries`, sorted by path then id (a manifest can be edited)."""
    known = []
    for entry_id, record in entries.items():
        if isinstance(record, Mapping) and isinstance(record.get("path"), str):
            title = record.get("title")
            known.append(_Known(entry_id, record["path"], title if isinstance(title, str) else "",
                                record))
    return sorted(known, key=lambda k: (k.path, k.id))


_PLACEHOLDER_ID = f"tag:{urlsplit(PLACEHOLDER_BASE_URL).hostname},"


def _placeholder(known: _Known) -> bool:
    """Whether a published entry's id or URL was made from the placeholder base_url."""
    url = known.record.get("url")
    return known.id.startswith(_PLACEHOLDER_ID) or (
        isinstance(url, str) and url.startswith(PLACEHOLDER_BASE_URL))


def _same_title(a: str, b: str) -> bool:
    return bool(a.strip()) and " ".join(a.casefold().split()) == " ".join(b.casefold().split())


def _pin(old: str, path: str) -> str:
    return (f"to keep the published id, add `id: {old}` to the front matter of {path} "
            "(a --- block at the top of the file)")


def stability_warnings(
    previous: Mapping[str, object],
    current: Mapping[str, Record],
    *,
    held: Mapping[str, Record] | None = None,
    failed: Collection[str] = (),
) -> tuple[Problem, ...]:
    """Warnings for every previously published id that this build would drop or change.

    `previous` is the manifest's `entries` (id -> record); `current` the entries this build
    publishes; `held` the valid briefs held back (drafts, future dates): an id they still
    carry is not dropped. Briefs whose path is in `failed` have errors, which say enough.
    """
    held = held or {}
    if not previous.keys() - current.keys() - held.keys():
        return ()  # every published id is still here: the usual build
    now = {k.id: k for k in _known({**held, **current})}
    # Ids made from the placeholder base_url were never published for real: a base_url set
    # at last changes them all, as it should, and warns about none.
    known_before = [k for k in _known(previous) if not _placeholder(k)]
    old = [k for k in known_before if k.id not in now and k.path not in failed]
    old_paths = {k.path for k in known_before}
    by_path: dict[str, list[_Known]] = {}
    for known in now.values():
        by_path.setdefault(known.path, []).append(known)
    # Briefs that are new in every sense: an id never published, in a file never published.
    fresh = [k for k in sorted(now.values(), key=lambda k: (k.path, k.id))
             if k.id not in previous and k.path not in old_paths]
    problems: list[Problem] = []
    for gone in old:
        again = "so feed readers will show it again as a new entry"
        if gone.path in by_path:
            new = by_path[gone.path][0]
            problems.append(Problem(gone.path, None, (
                f"the entry id changes from {gone.id} to {new.id} (its date or slug changed), "
                f"{again}; {_pin(gone.id, gone.path)}"), "warning"))
            continue
        match = next((k for k in fresh if _same_title(k.title, gone.title)), None)
        if match is not None:
            fresh.remove(match)
            problems.append(Problem(match.path, None, (
                f"looks like {gone.path} renamed: the entry id changes from {gone.id} to "
                f"{match.id}, {again}; {_pin(gone.id, match.path)}"), "warning"))
            continue
        problems.append(Problem(gone.path, None, (
            f"brief deleted: its published entry {gone.id} ({gone.title!r}) leaves the feeds "
            f"and no brief has that id now; if it moved to another file, add `id: {gone.id}` "
            "to that file's front matter to keep the id"), "warning"))
    return tuple(problems)


def remembered(
    previous: Mapping[str, object],
    current: Mapping[str, Record],
    *,
    held: Mapping[str, Record] | None = None,
    failed: Collection[str] = (),
) -> dict[str, Mapping[str, str]]:
    """The entries the new manifest records: this build's, plus the published ones that are
    only held back (a draft again) or whose brief has errors (`--keep-going`), so that a later
    change of their id is still noticed."""
    result: dict[str, Mapping[str, str]] = dict(current)  # the records are shared, not copied
    held = held or {}
    gone = previous.keys() - result.keys()
    if not gone:
        return result
    for known in _known({entry_id: previous[entry_id] for entry_id in gone}):
        if known.id in held or known.path in failed:
            result[known.id] = {str(k): str(v) for k, v in known.record.items()}
    return result
