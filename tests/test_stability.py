"""Stable ids for subscribers: a build that would drop or change a published id warns.

Real builds into a real output folder: the manifest of one build is what the next compares
against. The pure functions are also checked directly.
"""

from __future__ import annotations

import json
import shutil

import pytest
from click.testing import CliRunner, Result

from feeder.cli import cli
from feeder.pipeline import collect
from feeder.stability import EntryRecord, compare_ids
from tests.conftest import NOW, Project, house

OLD = "tag:news.example.com,2016-10-04:a"


def run(runner: CliRunner, project: Project, *args: str) -> Result:
    return runner.invoke(cli, [*args, "-C", str(project.root)])


def warnings(project: Project, **options: bool) -> list[str]:
    return [str(p) for p in project.build(**options).problems if not p.is_error]


def checked(project: Project) -> list[str]:
    """The warnings of `feeder check` (the library call behind it)."""
    collected = collect(project.config(), now=NOW)
    return [str(p) for p in collected.problems if not p.is_error]


def ids(project: Project, rel: str = "atom.xml") -> list[str]:
    return [entry.id for entry in project.feed(rel).entries]


def manifest_ids(project: Project) -> set[str]:
    return set(project.recorded_entries())


@pytest.fixture
def published(project: Project) -> Project:
    """A project with two published briefs: `a` (2016-10-04) and `b` (2016-10-05)."""
    project.brief("2016-10-04-a.txt", house("Talks suspended", "russia, US"))
    project.brief("2016-10-05-b.txt", house("Another one", "US"))
    assert warnings(project) == []
    assert set(ids(project)) == {OLD, "tag:news.example.com,2016-10-05:b"}
    return project


def test_a_changed_date_warns_with_both_ids_and_pinning_the_old_id_keeps_it(
        published: Project) -> None:
    published.brief("2016-10-04-a.txt", "---\ndate: 2016-10-07\n---\n"
                    + house("Talks suspended", "russia, US"), dedent=False)
    new = "tag:news.example.com,2016-10-07:a"
    expected = [
        f"content/2016-10-04-a.txt: warning: the entry id changes from {OLD} to {new} (its date "
        "or slug changed), so feed readers will show it again as a new entry; to keep the "
        f"published id, add `id: {OLD}` to the front matter of content/2016-10-04-a.txt "
        "(a --- block at the top of the file)"]
    assert checked(published) == expected
    # Following the advice before building keeps the old id, and the warning goes.
    published.brief("2016-10-04-a.txt", f"---\ndate: 2016-10-07\nid: {OLD}\n---\n"
                    + house("Talks suspended", "russia, US"), dedent=False)
    assert checked(published) == []
    assert warnings(published) == []
    assert OLD in ids(published)
    assert new not in ids(published)
    # A build does not refuse: it warns, publishes the new id, and remembers that one.
    published.brief("2016-10-04-a.txt", "---\ndate: 2016-10-07\n---\n"
                    + house("Talks suspended", "russia, US"), dedent=False)
    assert warnings(published) == expected
    assert new in ids(published)
    assert checked(published) == []


def test_a_changed_slug_warns(published: Project) -> None:
    published.brief("2016-10-04-a.txt", "---\nslug: talks\n---\n"
                    + house("Talks suspended", "russia, US"), dedent=False)
    [warning] = warnings(published)
    assert warning.startswith(f"content/2016-10-04-a.txt: warning: the entry id changes from "
                              f"{OLD} to tag:news.example.com,2016-10-04:talks (")


def test_a_renamed_file_warns_at_the_new_file(published: Project) -> None:
    (published.content / "2016-10-04-a.txt").rename(published.content / "2016-10-06-talks.txt")
    new = "tag:news.example.com,2016-10-06:talks"
    assert checked(published) == [
        "content/2016-10-06-talks.txt: warning: looks like content/2016-10-04-a.txt renamed: "
        f"the entry id changes from {OLD} to {new}, so feed readers will show it again as a new "
        f"entry; to keep the published id, add `id: {OLD}` to the front matter of "
        "content/2016-10-06-talks.txt (a --- block at the top of the file)"]
    # The pin in front matter over a house-layout body, exactly as suggested, then a build.
    text = (published.content / "2016-10-06-talks.txt").read_text(encoding="utf-8")
    (published.content / "2016-10-06-talks.txt").write_text(f"---\nid: {OLD}\n---\n{text}",
                                                             encoding="utf-8")
    assert warnings(published) == []
    assert OLD in ids(published)


def test_a_deleted_brief_warns_once(published: Project) -> None:
    (published.content / "2016-10-04-a.txt").unlink()
    assert warnings(published) == [
        f"content/2016-10-04-a.txt: warning: brief deleted: its published entry {OLD} "
        "('Talks suspended') leaves the feeds and no brief has that id now; if it moved to "
        f"another file, add `id: {OLD}` to that file's front matter to keep the id"]
    assert OLD not in ids(published)
    assert not (published.public / "tags" / "russia").exists()  # its tag lost its feeds
    assert warnings(published) == []  # said once: the manifest no longer lists it


def test_editing_retagging_retitling_and_moving_keep_the_id_without_warning(
        published: Project) -> None:
    (published.content / "2016-10-04-a.txt").unlink()
    published.brief("world/europe/2016-10-04-a.txt",
                    house("Talks suspended for now", "politics", short="Edited."))
    assert warnings(published) == []
    assert OLD in ids(published, "tags/politics/atom.xml")


def test_drafts_and_future_briefs_never_published_are_not_dropped(project: Project) -> None:
    project.brief("2016-10-04-a.txt", house("Published", "x"))
    project.brief("2016-10-05-draft.md", "---\ndraft: true\ntitle: Draft\ntags: [x]\n---\n"
                  "The Short of It:\n\nS.\n", dedent=False)
    project.brief("2099-01-01-future.txt", house("Future", "x"))
    assert warnings(project) == []
    # Renaming or re-dating a brief that was never published is nobody's business.
    (project.content / "2016-10-05-draft.md").rename(project.content / "2016-10-09-draft2.md")
    (project.content / "2099-01-01-future.txt").rename(project.content / "2099-02-02-later.txt")
    assert warnings(project) == []
    assert manifest_ids(project) == {"tag:news.example.com,2016-10-04:a"}


def test_a_published_brief_turned_draft_is_remembered(published: Project) -> None:
    draft = "---\ndraft: true\n---\n" + house("Talks suspended", "russia, US")
    published.brief("2016-10-04-a.txt", draft, dedent=False)
    assert warnings(published) == []  # withdrawn on purpose: not a lost id
    assert OLD not in ids(published)
    assert OLD in manifest_ids(published)  # still remembered...
    # ...so bringing it back under another date is noticed.
    published.brief("2016-10-04-a.txt", "---\ndate: 2016-10-08\n---\n"
                    + house("Talks suspended", "russia, US"), dedent=False)
    [warning] = warnings(published)
    assert f"the entry id changes from {OLD} to tag:news.example.com,2016-10-08:a" in warning


def test_keep_going_does_not_forget_a_broken_brief(published: Project) -> None:
    published.brief("2016-10-04-a.txt", "Talks suspended\n\nrussia\n")  # no sections: an error
    result = published.build(keep_going=True)
    errors = [str(p) for p in result.problems if p.is_error]
    assert errors
    assert all(e.startswith("content/2016-10-04-a.txt:") for e in errors)
    assert [p for p in result.problems if not p.is_error] == []  # the error says enough
    assert OLD not in ids(published)
    assert OLD in manifest_ids(published)
    # Fixed under another date: the id change is still caught.
    (published.content / "2016-10-04-a.txt").unlink()
    published.brief("2016-10-09-a.txt", house("Talks suspended", "russia, US"))
    [warning] = warnings(published)
    assert warning.startswith("content/2016-10-09-a.txt: warning: looks like "
                              "content/2016-10-04-a.txt renamed: the entry id changes from "
                              f"{OLD} to tag:news.example.com,2016-10-09:a,")


def test_check_reports_the_same_and_writes_nothing(
        runner: CliRunner, published: Project) -> None:
    (published.content / "2016-10-04-a.txt").rename(published.content / "2016-10-06-talks.txt")
    (published.content / "2016-10-05-b.txt").unlink()
    lock = published.root / ".feeder.lock"
    lock.unlink()
    before = published.snapshot()
    result = run(runner, published, "check")
    assert result.exit_code == 0, result.output
    lines = result.stderr.splitlines()
    assert lines[0].startswith("content/2016-10-05-b.txt: warning: brief deleted: its published "
                               "entry tag:news.example.com,2016-10-05:b ('Another one')")
    assert lines[1].startswith("content/2016-10-06-talks.txt: warning: looks like "
                               "content/2016-10-04-a.txt renamed: the entry id changes from "
                               f"{OLD} to tag:news.example.com,2016-10-06:talks,")
    assert lines[2] == "checked 1 brief file: 0 errors, 2 warnings"
    strict = run(runner, published, "check", "--strict")
    assert strict.exit_code == 1
    assert isinstance(strict.exception, SystemExit)
    assert published.snapshot() == before
    assert not lock.exists()  # check takes no lock
    build = run(runner, published, "build")
    assert build.exit_code == 0
    assert build.stderr.splitlines()[:2] == lines[:2]


def test_a_build_into_another_folder_compares_with_that_folder(
        runner: CliRunner, published: Project) -> None:
    (published.content / "2016-10-05-b.txt").unlink()
    result = run(runner, published, "check", "--output", "elsewhere")
    assert result.stderr.splitlines() == ["checked 1 brief file: 0 errors, 0 warnings"]


def test_odd_entries_of_an_earlier_feeders_manifest_are_left_out(published: Project) -> None:
    files = published.recorded_files()
    shutil.rmtree(published.root / ".feeder-cache")
    (published.content / "2016-10-05-b.txt").unlink()
    good = {"path": "content/c.txt", "title": "C", "url": "https://news.example.com/c/"}
    entries = {"tag:x,2016:a": "not a record", "tag:x,2016:b": {"path": 3},
               "tag:x,2016:c": good, "tag:x,2016:d": {"path": "content/d.txt", "title": None},
               "tag:x,2016:e": {**good, "url": None}, "tag:x,2016:f": {**good, "more": "x"}}
    (published.public / ".feeder-manifest.json").write_text(json.dumps(
        {"version": 1, "files": files, "entries": entries}), encoding="utf-8")
    assert warnings(published) == [
        "content/c.txt: warning: brief deleted: its published entry tag:x,2016:c ('C') leaves "
        "the feeds and no brief has that id now; if it moved to another file, add "
        "`id: tag:x,2016:c` to that file's front matter to keep the id"]


# --- the pure comparison -----------------------------------------------------------------------

def rec(path: str, title: str = "T") -> EntryRecord:
    return EntryRecord(path, title, "https://x.example/")


def test_a_title_matches_at_most_one_renamed_brief() -> None:
    previous = {"tag:x,1:a": rec("c/a.txt", "Same"), "tag:x,1:b": rec("c/b.txt", "Same")}
    current = {"tag:x,2:a": rec("c/a2.txt", "same "), "tag:x,3:z": rec("c/z.txt", "Other")}
    found = [(p.path, p.message.split(":")[0])
             for p in compare_ids(previous, current, {}, ())[0]]
    assert found == [("c/a2.txt", "looks like c/a.txt renamed"), ("c/b.txt", "brief deleted")]


def test_an_id_still_held_back_or_still_published_elsewhere_is_not_dropped() -> None:
    previous = {"tag:x,1:a": rec("c/a.txt"), "tag:x,1:b": rec("c/b.txt")}
    current = {"tag:x,1:a": rec("c/moved/a.txt")}
    held = {"tag:x,1:b": rec("c/b.txt")}
    assert compare_ids(previous, current, held, ()) == ((), {**current, **held})
    assert compare_ids(previous, current, {}, ())[1] == current
    assert compare_ids(previous, current, {}, {"c/b.txt"}) == ((), {**current, **held})


def test_entry_records_are_small_and_read_from_json_only_when_well_formed() -> None:
    record = EntryRecord("content/a.md", "A", "https://news.example.com/a/")
    assert EntryRecord.of(record._asdict()) == record
    assert EntryRecord.of({"path": "content/b.md", "title": "B"}) == ("content/b.md", "B", None)
    assert EntryRecord.of({"path": "content/a.md", "title": 3}) is None
    assert EntryRecord.of({"path": "content/a.md", "title": "A", "url": None}) is None
    assert not hasattr(record, "__dict__")
