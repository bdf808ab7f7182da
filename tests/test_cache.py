"""The build cache: a rebuild skips what did not change, and never changes the output.

The main test is a state machine (hypothesis) that edits a project at random (add, edit,
re-tag, re-date, delete, move, touch, break, change a setting, let time pass) and checks
after every step that the incremental build writes exactly what a clean build of the same
history writes, and that edits keep entry ids.
"""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import subprocess
import sys
import tempfile
import threading
import time
from dataclasses import replace
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import (
    Bundle,
    RuleBasedStateMachine,
    consumes,
    initialize,
    invariant,
    rule,
)

from feeder import cache as cache_module
from feeder import feeds as feeds_module
from feeder import parallel
from feeder import pipeline as pipeline_module
from feeder.body import Rendered, StoredBody
from feeder.errors import ContentError, OutputError
from feeder.feeds import FORMATS
from feeder.output import STAGING
from feeder.pipeline import Options, build, collect, plan_outputs
from tests.conftest import NOW, REPO, Project, house

HEAVY = ("markdown", "nh3", "feedgen", "lxml", "yaml", "dateutil", "jinja2")
SETTINGS = 'title = "Test Briefs"\nbase_url = "https://news.example.com/"\n'
AN_HOUR_AGO = 3600 * 10**9


def _tree(folder: Path) -> dict[str, bytes]:
    return {p.relative_to(folder).as_posix(): p.read_bytes()
            for p in sorted(folder.rglob("*")) if p.is_file()}


def _mtimes(folder: Path) -> dict[str, int]:
    return {p.relative_to(folder).as_posix(): p.stat().st_mtime_ns
            for p in sorted(folder.rglob("*")) if p.is_file()}


def _age(folder: Path) -> None:
    """Date every file an hour back, so the cache trusts their stat (not racy)."""
    for path in folder.rglob("*"):
        if path.is_file():
            info = path.stat()
            os.utime(path, ns=(info.st_atime_ns, info.st_mtime_ns - AN_HOUR_AGO))


class Counter:
    """Counts calls to feeder.parallel.parse_file and feeder.cache.render_brief."""

    def __init__(self, monkeypatch: pytest.MonkeyPatch) -> None:
        self.parsed: list[str] = []
        self.rendered: list[str] = []
        parse, render = parallel.parse_file, cache_module.render_brief

        def counting_parse(info: Any, config: Any, **kwargs: Any) -> Any:
            self.parsed.append(info.rel)
            return parse(info, config, **kwargs)

        def counting_render(config: Any, brief: Any) -> Any:
            self.rendered.append(brief.rel)
            return render(config, brief)

        monkeypatch.setattr(parallel, "parse_file", counting_parse)
        monkeypatch.setattr(cache_module, "render_brief", counting_render)

    def reset(self) -> None:
        self.parsed.clear()
        self.rendered.clear()


@pytest.fixture
def counter(monkeypatch: pytest.MonkeyPatch) -> Counter:
    monkeypatch.setattr(parallel, "MIN_JOBS", 10**9)  # in this process, where it is counted
    monkeypatch.setattr(parallel, "FEW_IN_A_CHILD", False)
    return Counter(monkeypatch)


def _calls(monkeypatch: pytest.MonkeyPatch, owner: type, method: str) -> list[Any]:
    """The first argument (after self) of every call of `owner.method` from now on."""
    calls: list[Any] = []
    real = getattr(owner, method)

    def recording(self: Any, first: Any, *rest: Any) -> Any:
        calls.append(first)
        return real(self, first, *rest)

    monkeypatch.setattr(owner, method, recording)
    return calls


def _counted_forks(monkeypatch: pytest.MonkeyPatch, *, refused: bool = False) -> list[int]:
    """The pid of every child forked from now on (`refused`: every fork fails, as when the
    system has no process to spare)."""
    forks: list[int] = []
    fork = os.fork

    def counting_fork() -> int:
        if refused:
            raise BlockingIOError(11, "Resource temporarily unavailable")
        pid = fork()
        if pid:
            forks.append(pid)
        return pid

    monkeypatch.setattr(os, "fork", counting_fork)
    return forks


def _three(project: Project) -> None:
    project.brief("2016-10-04-a.txt", house("Alpha", "russia, US"))
    project.brief("2016-10-05-b.txt", house("Beta", "US"))
    project.brief("world/2016-10-06-c.txt", house("Gamma", "politics"))


# --- skipping what did not change -----------------------------------------------------------

def test_an_unchanged_rebuild_replays_the_last_result(project: Project) -> None:
    _three(project)
    first = project.build()
    snapshot = project.snapshot()
    second = project.build()
    assert second.site is None  # nothing was planned: the cache showed nothing changed
    assert second.report.written == second.report.removed == ()
    assert second.report.unchanged == tuple(sorted(
        p for p in _tree(project.public) if p != ".feeder-manifest.json"))
    assert (second.briefs, second.held_back, second.feeds, second.problems) == \
        (first.briefs, first.held_back, first.feeds, first.problems)
    assert project.snapshot() == snapshot  # same bytes, same modification times


def test_a_warning_given_once_is_not_replayed(project: Project) -> None:
    _three(project)
    project.build()
    (project.content / "2016-10-05-b.txt").rename(project.content / "2016-10-07-b.txt")
    warned = project.build()  # the entry id changes with the date: a warning, once
    assert len(warned.problems) == 1
    assert "the entry id changes" in warned.problems[0].message
    again = project.build()
    assert again.site is not None  # a replay would repeat the warning
    assert again.problems == ()
    assert project.build().site is None


def test_a_build_stopped_while_staging_is_cleaned_up_not_replayed(project: Project) -> None:
    """Nothing changed, but a stopped build left temporary files: the next build sweeps
    them (a replay would leave them)."""
    _three(project)
    project.build()
    assert project.build().site is None  # replayed
    leftover = project.public / "tags" / ".atom.xml.x1y2.feeder-tmp"
    leftover.write_bytes(b"half")
    (project.public / STAGING).write_bytes(b"")
    result = project.build()
    assert result.site is not None
    assert not leftover.exists()
    assert not (project.public / STAGING).exists()
    assert project.build().site is None


def test_a_no_op_rebuild_reads_no_brief_and_imports_no_renderer(
        project: Project, monkeypatch: pytest.MonkeyPatch) -> None:
    _three(project)
    # Files written a moment ago are hashed again, in case a second edit hides in the same
    # clock tick (see test_a_same_size_edit...); here they count as long written.
    monkeypatch.setattr(cache_module, "RACY_NS", -10**15)
    project.build()
    project.build()
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    command = [sys.executable, "-m", "feeder", "build", "-q", "-C", str(project.root)]
    probe = (
        # A build that opened a brief would fail.
        "import pathlib\nreal = pathlib.Path.read_bytes\n"
        "def guard(self):\n"
        "    assert self.suffix != '.txt', f'read {self}'\n"
        "    return real(self)\n"
        "pathlib.Path.read_bytes = guard\n"
        "import os, sys\n"
        "main_pid, real_exit = os.getpid(), os._exit\n"
        "def leave(code):  # main ends the process with os._exit (not so a forked child)\n"
        "    if os.getpid() != main_pid:\n        real_exit(code)\n"
        "    raise SystemExit(code)\n"
        "os._exit = leave\n"
        "from feeder.cli import main\n"
        f"sys.argv = {command[2:]!r}\n"
        "try:\n    main()\nexcept SystemExit as exc:\n    code = exc.code\n"
        f"print(code, sorted({{m.split('.')[0] for m in sys.modules}} & {set(HEAVY)!r}))\n"
    )
    result = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True,
                            env=env, check=False)
    assert result.stdout.strip() == "0 []", result.stderr


def test_editing_one_brief_parses_and_renders_only_that_one(project: Project,
                                                            counter: Counter) -> None:
    _three(project)
    project.build()
    assert sorted(counter.parsed) == ["2016-10-04-a.txt", "2016-10-05-b.txt",
                                      "world/2016-10-06-c.txt"]
    before = project.snapshot()
    counter.reset()
    project.brief("2016-10-05-b.txt", house("Beta", "US", short="A new short version."))
    result = project.build()
    assert counter.parsed == ["2016-10-05-b.txt"]
    assert counter.rendered == ["2016-10-05-b.txt"]
    after = project.snapshot()
    changed = {rel for rel in after if before.get(rel) != after[rel]}
    # Beta is in the combined feeds and the US feeds, and has a page of its own.
    assert {"atom.xml", "rss.xml", "feed.json", "tags/us/atom.xml", "tags/us/rss.xml",
            "tags/us/feed.json", "2016/10/05/b/index.html"} <= changed
    assert not any(rel.startswith(("tags/russia/", "tags/politics/")) for rel in changed)
    assert set(result.report.written) == changed - {".feeder-manifest.json"}


def test_unchanged_briefs_come_from_the_known_briefs_kept_as_changes(
        project: Project, counter: Counter, monkeypatch: pytest.MonkeyPatch) -> None:
    """A rebuild takes every unchanged brief from the last build's known briefs, neither
    looking it up among the parsed briefs nor decoding it; it writes the few that changed
    as changes of that file, which is written whole again once they are many."""
    for number in range(1, 41):  # 40 briefs: a change of 4 is few (see KNOWN_REWRITE)
        project.brief(f"2016-10-{number % 28 + 1:02d}-b{number}.txt",
                      house(f"Brief {number}", "US, world"))
    project.build()
    cache_dir = project.root / ".feeder-cache"
    whole = (cache_dir / "known").read_bytes()
    assert not (cache_dir / "known-changes").exists()
    lookups = _calls(monkeypatch, cache_module.BuildCache, "lookup")

    def check(expected_parsed: list[str]) -> None:
        assert counter.parsed == expected_parsed
        assert [info.rel for info in lookups] == expected_parsed  # the others were known
        clean = Project(project.root.parent / f"clean{len(list(project.root.parent.iterdir()))}")
        clean.settings(SETTINGS)
        shutil.copytree(project.content, clean.content, dirs_exist_ok=True)
        build(clean.config(), now=NOW, options=Options(clean=True))
        assert _tree(project.public) == _tree(clean.public)
        counter.reset()
        lookups.clear()

    counter.reset()
    project.brief("2016-10-03-b2.txt", house("Brief 2", "US", short="Edited."))  # re-tagged
    project.brief("2016-10-21-new.txt", house("New", "world, Japan"))
    (project.content / "2016-10-04-b3.txt").unlink()
    project.build()
    check(["2016-10-03-b2.txt", "2016-10-21-new.txt"])
    assert (cache_dir / "known").read_bytes() == whole  # not written again...
    header = cache_module._header("known", cache_module.environment_digest(),
                                  cache_module.settings_digest(project.config()))
    changes = cache_module._load(cache_dir / "known-changes", header)
    assert sorted(changes) == ["", "2016-10-03-b2.txt", "2016-10-04-b3.txt",
                               "2016-10-21-new.txt"]  # ...only what changed
    assert changes["2016-10-04-b3.txt"] is None  # deleted
    # The changes pile up (the deleted brief stays deleted).
    project.brief("2016-10-06-b5.txt", house("Brief 5", "US, world", short="Again."))
    project.build()
    check(["2016-10-06-b5.txt"])
    assert (cache_dir / "known").read_bytes() == whole
    changes = cache_module._load(cache_dir / "known-changes", header)
    assert sorted(changes) == ["", "2016-10-03-b2.txt", "2016-10-04-b3.txt",
                               "2016-10-06-b5.txt", "2016-10-21-new.txt"]
    assert changes["2016-10-04-b3.txt"] is None
    # Many changes: the file is written whole again, and the changes go.
    for number in (6, 7, 8, 9):
        project.brief(f"2016-10-{number + 1:02d}-b{number}.txt", house(f"Brief {number}", "world"))
    project.build()
    check(["2016-10-07-b6.txt", "2016-10-08-b7.txt", "2016-10-09-b8.txt", "2016-10-10-b9.txt"])
    assert (cache_dir / "known").read_bytes() != whole
    assert not (cache_dir / "known-changes").exists()
    project.build()
    project.build()
    check([])


def test_a_clean_build_ignores_the_cache_and_rewrites_it(project: Project,
                                                         counter: Counter) -> None:
    _three(project)
    project.build()
    counter.reset()
    clean = build(project.config(), now=NOW, options=Options(clean=True))
    assert len(counter.parsed) == 3
    assert clean.site is not None
    counter.reset()
    project.build()
    assert counter.parsed == []


def test_a_moved_brief_is_parsed_again_but_not_rendered_again(project: Project,
                                                               counter: Counter) -> None:
    _three(project)
    project.build()
    counter.reset()
    (project.content / "world").rename(project.content / "elsewhere")  # same bytes, new place
    project.build()
    assert counter.parsed == ["elsewhere/2016-10-06-c.txt"]  # a new path is parsed again...
    assert counter.rendered == []  # ...but its HTML (same Markdown, same URL) is known


def test_a_same_size_edit_that_restores_the_modification_time_is_seen(
        project: Project, monkeypatch: pytest.MonkeyPatch) -> None:
    _three(project)
    monkeypatch.setattr(cache_module, "RACY_NS", -10**15)  # trust every stat recorded
    project.build()
    path = project.content / "2016-10-05-b.txt"
    info = path.stat()
    path.write_text(path.read_text().replace("Beta", "Bet4"))
    os.utime(path, ns=(info.st_atime_ns, info.st_mtime_ns))  # the change time still moves
    assert path.stat().st_size == info.st_size
    project.build()
    assert b"Bet4" in (project.public / "atom.xml").read_bytes()


def test_a_brief_dated_in_the_future_is_published_when_its_day_comes(project: Project) -> None:
    _three(project)
    soon = NOW + timedelta(days=2)
    project.brief("later.md", f"---\ntitle: Later\ndate: {soon.isoformat()}\ntags: [US]\n---\n"
                              "\nThe Short of It:\n\nSoon.\n")
    for _ in range(3):
        result = build(project.config(), now=NOW, options=Options())
        assert result.held_back == 1
    assert result.site is None  # replayed
    assert b"Later" not in (project.public / "atom.xml").read_bytes()
    result = build(project.config(), now=soon, options=Options())
    assert result.held_back == 0
    assert b"Later" in (project.public / "atom.xml").read_bytes()


@pytest.mark.skipif(sys.platform != "linux", reason="the output check forks on Linux only")
def test_no_child_process_outlives_a_build_that_stops_before_using_the_output_check(
        project: Project, monkeypatch: pytest.MonkeyPatch) -> None:
    """When a brief changed, the stat of every output file (taken by a child process while
    the brief files are listed) is asked for only when the outputs are planned; a build
    that fails before that stops the child, and a build that gets there has its answer."""
    _three(project)
    project.build()
    forks = _counted_forks(monkeypatch)
    project.brief("2016-10-05-b.txt", "Beta\n\nNo tags, no sections.\n")
    with pytest.raises(ContentError):
        project.build()
    assert forks  # the output check (and the child parsing the brief) ran
    for pid in forks:  # every child reaped already
        with pytest.raises(ChildProcessError):
            os.waitpid(pid, os.WNOHANG)
    forks.clear()
    tampered = project.public / "tags" / "politics" / "rss.xml"  # not Beta's: found changed
    original = tampered.read_bytes()
    tampered.write_bytes(b"<rss>edited by hand</rss>")
    project.brief("2016-10-05-b.txt", house("Beta", "US", short="Changed."))
    result = project.build()
    assert "tags/politics/rss.xml" in result.report.written
    assert tampered.read_bytes() == original
    for pid in forks:
        with pytest.raises(ChildProcessError):
            os.waitpid(pid, os.WNOHANG)


@pytest.mark.skipif(sys.platform != "linux", reason="the children fork on Linux only")
@pytest.mark.parametrize("largest", [3, 2])
def test_changed_briefs_are_parsed_by_a_child_in_a_site_of_few_files(
        project: Project, monkeypatch: pytest.MonkeyPatch, largest: int) -> None:
    """A rebuild's few changed briefs are parsed by a forked child while the build decodes
    the others, in a site of at most CHILD_MAX_FILES brief files; in a larger one, by the
    build process (a fork costs it more there). The output is the same either way."""
    monkeypatch.setattr(parallel, "CHILD_MAX_FILES", largest)
    _three(project)
    project.build()
    forks = _counted_forks(monkeypatch)
    project.brief("2016-10-05-b.txt", house("Beta", "US", short="Changed again."))
    project.build()
    # the output check and the child storing the briefs, and (3 files) the one parsing
    assert len(forks) == (3 if largest == 3 else 2)
    assert b"Changed again." in (project.public / "tags" / "us" / "atom.xml").read_bytes()


@pytest.mark.skipif(sys.platform != "linux", reason="the children fork on Linux only")
@pytest.mark.parametrize("how", ["dies", "finds a publisher's error"])
def test_changed_briefs_are_parsed_here_when_their_child_gives_no_answer(
        project: Project, monkeypatch: pytest.MonkeyPatch, how: str) -> None:
    """The child parsing the changed briefs dies (killed, out of memory) or meets an error
    of the publisher's, which it leaves for the build to report: the build parses them
    itself, and publishes what a clean build publishes."""
    _three(project)
    project.build()

    def no_answer(*_args: object) -> bytes | None:
        if how == "dies":
            os._exit(9)
        return None

    monkeypatch.setattr(parallel, "_parsed_apart", no_answer)
    project.brief("2016-10-05-b.txt", house("Beta", "US", short="Parsed here."))
    project.build()
    assert b"Parsed here." in (project.public / "tags" / "us" / "atom.xml").read_bytes()
    clean = Project(project.root.parent / "clean")
    clean.settings(SETTINGS)
    for path in sorted(project.content.rglob("*.txt")):
        clean.brief(path.relative_to(project.content).as_posix(), path.read_text())
    clean.build()
    assert _tree(clean.public) == _tree(project.public)


def test_deleting_an_output_file_brings_it_back(project: Project) -> None:
    _three(project)
    project.build()
    project.build()
    (project.public / "tags" / "us" / "rss.xml").unlink()
    result = project.build()
    assert result.report.written == ("tags/us/rss.xml",)
    assert (project.public / "tags" / "us" / "rss.xml").is_file()


@pytest.mark.parametrize("how", ["forked", "threads", "no process to spare"])
def test_an_output_changed_by_hand_is_made_again_with_the_changed_briefs(
        project: Project, monkeypatch: pytest.MonkeyPatch, how: str) -> None:
    """The stat of every output file, taken (in a child process, where forking is safe)
    while the brief files are listed, is what the build trusts the unchanged ones by."""
    _three(project)
    project.build()
    project.build()
    if how == "threads":  # another thread running: no fork, the files are checked in turn
        monkeypatch.setattr(threading, "active_count", lambda: 2)
    forks = _counted_forks(monkeypatch, refused=how == "no process to spare")
    tampered = project.public / "tags" / "politics" / "atom.xml"
    original = tampered.read_bytes()
    tampered.write_bytes(b"<feed>edited by hand</feed>")
    (project.public / "tags" / "russia" / "rss.xml").unlink()
    project.brief("2016-10-05-b.txt", house("Beta", "US", short="Changed."))
    result = project.build()
    assert {"tags/politics/atom.xml", "tags/russia/rss.xml", "tags/us/atom.xml"} <= \
        set(result.report.written)
    assert tampered.read_bytes() == original
    assert not any(rel.startswith("tags/politics/") and rel != "tags/politics/atom.xml"
                   for rel in result.report.written)
    # forked: the check of the output files, the child parsing the edited brief
    # (parallel.read_briefs) and the one storing the briefs (keep_briefs)
    assert len(forks) == (3 if how == "forked" else 0)


def test_only_the_outputs_whose_inputs_changed_are_rendered(project: Project,
                                                            monkeypatch: pytest.MonkeyPatch
                                                            ) -> None:
    _three(project)
    project.build()
    project.build()
    made = _calls(monkeypatch, parallel.LazyPlan, "__getitem__")
    project.brief("2016-10-06-d.txt", house("Delta", "russia"))
    project.build()
    feeds = {rel for rel in made if rel.endswith((".xml", ".json")) and "/" in rel}
    assert feeds == {"tags/russia/atom.xml", "tags/russia/rss.xml", "tags/russia/feed.json"}


# --- a cache that cannot be trusted -----------------------------------------------------------

def _flip_last_byte(path: Path) -> None:
    data = bytearray(path.read_bytes())
    data[-1] ^= 0xFF
    path.write_bytes(bytes(data))


def _truncate(path: Path) -> None:
    path.write_bytes(path.read_bytes()[: path.stat().st_size // 2])


def _garbage(path: Path) -> None:
    path.write_bytes(b"\x00garbage" * 100)


def _other_format(path: Path) -> None:
    path.write_bytes(path.read_bytes().replace(b"feeder-cache\x00" + str(
        cache_module.FORMAT).encode(), b"feeder-cache\x00" + b"999", 1))


def _resign(path: Path, change: Any) -> None:
    """Rewrite the payload of a cache file, with a correct header and checksum."""
    data = path.read_bytes()
    header = data[:data.index(b"\n")]
    value = cache_module._load(path, header)
    split = data[len(header) + 1 + 32] == cache_module._SPLIT
    cache_module._dump(path, header, change(value),
                       split=int(split and isinstance(change(value), dict)))


def _well_signed_nonsense(path: Path) -> None:
    _resign(path, lambda _: {"inputs": "x", "outputs": [1, 2]})


def _well_signed_bad_records(path: Path) -> None:
    """Every record replaced by a value of the wrong shape (or its fields emptied)."""
    def spoil(value: Any) -> Any:
        if isinstance(value, dict) and "inputs" in value:
            return {**value, "inputs": {rel: [*record[:4], b"short", "yes"]
                                        for rel, record in value["inputs"].items()}}
        if not isinstance(value, dict):
            return dict.fromkeys(value, ("x",))
        # (the known briefs' window, under "", is kept: their records are spoilt)
        return {key: item if key == "" else ("x",) for key, item in value.items()}

    _resign(path, spoil)


@pytest.mark.parametrize("damage", [_flip_last_byte, _truncate, _garbage, _other_format,
                                    _well_signed_nonsense, _well_signed_bad_records])
@pytest.mark.parametrize("which", ["state", "parsed", "bodies", "known", "parsed known",
                                   "entries"])
def test_a_damaged_cache_is_rebuilt_not_trusted(project: Project, counter: Counter,
                                                damage: Any, which: str) -> None:
    _three(project)
    project.build()
    project.build()
    expected = _tree(project.public)
    cache_dir = project.root / ".feeder-cache"
    targets = sorted(path for name in which.split() for path in [cache_dir / name, *(
        cache_dir / name).rglob("*")] if path.is_file())
    assert targets
    for path in targets:
        damage(path)
    result = project.build()  # the state alone can show that nothing changed
    assert (result.site is None) == (which != "state")
    assert _tree(project.public) == expected
    project.brief("2016-10-05-b.txt", house("Beta", "US", short="Changed."))
    counter.reset()
    project.build()
    assert b"Changed." in (project.public / "atom.xml").read_bytes()
    # Without the state, unchanged briefs are hashed and found; without the known briefs,
    # they are found among the parsed ones; without either, they are parsed again; a damaged
    # HTML file is found so when an output needs it, and its brief is rendered again.
    assert counter.parsed == (["2016-10-04-a.txt", "2016-10-05-b.txt", "world/2016-10-06-c.txt"]
                              if which == "parsed known" else ["2016-10-05-b.txt"])
    if which == "bodies":
        assert sorted(counter.rendered) == ["2016-10-04-a.txt", "2016-10-05-b.txt",
                                            "world/2016-10-06-c.txt"]
    counter.reset()
    project.build()
    project.build()
    assert counter.parsed == []  # the rebuilt cache works again
    clean = Project(project.root.parent / "clean")
    clean.settings(SETTINGS)
    shutil.copytree(project.content, clean.content, dirs_exist_ok=True)
    build(clean.config(), now=NOW, options=Options())
    assert _tree(project.public) == _tree(clean.public)


@pytest.mark.parametrize(("field", "value"), [
    (1, 7),  # the title: a number
    (4, ("US", 1)),  # a tag: a number
    (12, (1, "2")),  # the sizes of the HTML: a text
    (0, "content/elsewhere.txt"),  # the path: another file's
    (15, (None,)),  # the tags the digest was made with: not texts
])
def test_a_well_signed_known_brief_of_the_wrong_shape_is_not_trusted(
        project: Project, counter: Counter, monkeypatch: pytest.MonkeyPatch, field: int,
        value: Any) -> None:
    """A record of the known briefs with one field of the wrong type (though its file's
    checksum holds) is not trusted: that brief is looked up among the parsed briefs, as a
    changed one is, and the output is a clean build's."""
    _three(project)
    project.build()
    known = project.root / ".feeder-cache" / "known"
    victim = "2016-10-05-b.txt"

    def spoil(records: dict[str, Any]) -> dict[str, Any]:
        sha, key, problems, code = records[victim]
        return {**records, victim: (sha, key, problems, (*code[:field], value,
                                                         *code[field + 1:]))}

    _resign(known, spoil)
    project.brief("2016-10-04-a.txt", house("Alpha", "russia, US", short="Edited."))
    lookups = _calls(monkeypatch, cache_module.BuildCache, "lookup")
    counter.reset()
    project.build()
    assert [info.rel for info in lookups] == ["2016-10-04-a.txt", victim]
    assert counter.parsed == ["2016-10-04-a.txt"]  # the other, found parsed
    clean = Project(project.root.parent / "clean")
    clean.settings(SETTINGS)
    shutil.copytree(project.content, clean.content, dirs_exist_ok=True)
    build(clean.config(), now=NOW, options=Options(clean=True))
    assert _tree(project.public) == _tree(clean.public)


def test_a_rebuild_writes_the_xml_of_the_changed_entries_only(
        project: Project, monkeypatch: pytest.MonkeyPatch) -> None:
    """The XML and JSON of the entries of the feeds a build writes are kept in the cache
    (`entries`): the next build writes those of the entries that changed, copies the others
    (an entry is in several feeds, and a rebuild writes the same feeds again), and its
    output is a clean build's."""
    for number in range(1, 13):
        project.brief(f"2016-10-{number:02d}-b{number}.txt",
                      house(f"Brief {number}", "US, world" if number % 2 else "US"))
    with monkeypatch.context() as patch:
        patch.setattr(pipeline_module, "ENTRIES_BYTES", 0)  # as a site too large for any
        project.build()
    config = project.config()
    assert cache_module.BuildCache(config).stored_entries() == {}
    made: list[str] = []
    real = feeds_module._entries_in

    def counting(entries: Any, scheme: str, names: Any) -> Any:
        made.extend(f"{entry.title} {name}" for entry in entries for name in names)
        return real(entries, scheme, names)

    monkeypatch.setattr(feeds_module, "_entries_in", counting)
    project.brief("2016-10-12-b12.txt", house("Brief 12", "US", short="Edited."))
    project.build()
    # The first rebuild writes every entry of the feeds it writes (the cold build kept
    # none), each once per format...
    assert sorted(made) == sorted(f"Brief {n} {name}" for n in range(1, 13)
                                  for name in FORMATS)
    made.clear()
    project.brief("2016-10-12-b12.txt", house("Brief 12", "US", short="Edited again."))
    project.build()
    assert sorted(made) == sorted(f"Brief 12 {name}" for name in FORMATS)  # ...then only it
    made.clear()
    project.brief("2016-10-13-new.txt", house("New", "world"))
    project.build()
    assert sorted(made) == sorted(f"New {name}" for name in FORMATS)
    # A build that writes no feed (a new stylesheet: pages only) keeps what was kept.
    kept = cache_module.BuildCache(project.config()).stored_entries()
    assert kept
    (project.root / "templates").mkdir()
    (project.root / "templates" / "style.css").write_text("body { color: teal; }\n",
                                                         encoding="utf-8")
    result = project.build()
    assert result.report.written == ("style.css",)
    assert cache_module.BuildCache(project.config()).stored_entries() == kept
    clean = Project(project.root.parent / "clean")
    clean.settings(SETTINGS)
    shutil.copytree(project.content, clean.content, dirs_exist_ok=True)
    shutil.copytree(project.root / "templates", clean.root / "templates")
    build(clean.config(), now=NOW, options=Options(clean=True))
    assert _tree(project.public) == _tree(clean.public)


def test_html_is_kept_in_the_cache_and_read_only_for_what_is_made(project: Project) -> None:
    """Entries carry a key to their HTML, not the HTML: the outputs are the same bytes as
    those made from HTML held in memory, and a brief's HTML file goes with the brief."""
    _three(project)
    result = project.build()
    assert result.site is not None
    assert all(isinstance(entry.body, StoredBody) for entry in result.site.entries)
    bodies = project.root / ".feeder-cache" / "bodies"
    files = {path for path in bodies.rglob("*") if path.is_file() and path.name != "used"}
    assert len(files) == 3
    config = project.config()
    site = collect(config, now=NOW).site  # no cache: the HTML in memory
    assert site is not None
    assert all(isinstance(entry.body, Rendered) for entry in site.entries)
    written = _tree(project.public)
    del written[".feeder-manifest.json"]
    assert plan_outputs(site, config) == written
    (project.content / "2016-10-05-b.txt").unlink()
    project.build()
    left = {path for path in bodies.rglob("*") if path.is_file() and path.name != "used"}
    assert len(left) == 2
    assert left < files


def test_a_cache_from_another_project_or_version_is_ignored(project: Project,
                                                            tmp_path: Path,
                                                            counter: Counter,
                                                            monkeypatch: pytest.MonkeyPatch
                                                            ) -> None:
    _three(project)
    other = Project(tmp_path / "other")
    other.settings('title = "Other"\nbase_url = "https://other.example.com/"\n')
    _three(other)
    other.build()
    shutil.copytree(other.root / ".feeder-cache", project.root / ".feeder-cache")
    counter.reset()
    project.build()
    assert len(counter.parsed) == 3  # other settings: nothing reused
    assert b"https://other.example.com/" not in (project.public / "atom.xml").read_bytes()
    monkeypatch.setattr(cache_module, "environment_digest", lambda: "another feeder")
    counter.reset()
    project.build()
    assert len(counter.parsed) == 3


@pytest.mark.parametrize("how", ["forked", "in this process"])
def test_a_cache_folder_that_cannot_be_written_slows_the_build_down_only(
        project: Project, monkeypatch: pytest.MonkeyPatch, how: str) -> None:
    """The briefs are stored by a forked child process (BuildCache.keep_briefs), or by the
    build's own where forking is not safe: either way a failure is one warning."""
    if how == "in this process":  # another thread running: nothing is forked
        monkeypatch.setattr(threading, "active_count", lambda: 2)
    _three(project)
    (project.root / ".feeder-cache").write_text("not a folder")
    result = project.build()
    assert result.site is not None
    assert [str(p) for p in result.problems] == [
        ".feeder-cache: warning: cannot write the build cache (File exists); the next "
        "build will not be faster"]


@pytest.mark.skipif(sys.platform != "linux", reason="feeder forks only on Linux")
@pytest.mark.parametrize("how", ["killed", "a bug"])
def test_a_child_storing_the_briefs_that_dies_costs_the_next_build_its_speed_only(
        project: Project, monkeypatch: pytest.MonkeyPatch, capfd: pytest.CaptureFixture[str],
        how: str) -> None:
    """The child process that stores the briefs dies halfway (the parsed briefs written,
    not the known ones): the build says so, and the builds after it are as clean builds.
    A bug there shows its traceback, as anywhere in feeder."""
    _three(project)
    project.build()
    main, keep = os.getpid(), cache_module.BuildCache._keep_known

    def dying(self: Any, *args: Any) -> None:
        if os.getpid() != main:  # in the child only
            if how == "killed":
                os._exit(3)
            raise RuntimeError("a bug in the child")
        keep(self, *args)

    monkeypatch.setattr(cache_module.BuildCache, "_keep_known", dying)
    project.brief("2016-10-05-b.txt", house("Beta", "US", short="Changed once."))
    result = project.build()
    assert [str(p) for p in result.problems] == [
        ".feeder-cache: warning: cannot write the build cache (the process storing the briefs "
        "failed); the next build will not be faster"]
    assert b"Changed once." in (project.public / "tags" / "us" / "atom.xml").read_bytes()
    assert ("RuntimeError: a bug in the child" in capfd.readouterr().err) == (how == "a bug")
    monkeypatch.undo()
    project.brief("2016-10-04-a.txt", house("Alpha", "russia", short="Changed twice."))
    assert project.build().problems == ()
    incremental = {rel: data for rel, (data, _) in project.snapshot().items()}
    build(project.config(), now=NOW, options=Options(clean=True))
    assert incremental == {rel: data for rel, (data, _) in project.snapshot().items()}
    assert project.build().site is None  # and the cache is whole again: a replay


# --- parallel work ----------------------------------------------------------------------------

@pytest.mark.skipif(parallel.workers_for(10**9) == 0, reason="one CPU: nothing runs in parallel")
def test_worker_processes_write_the_same_bytes(tmp_path: Path,
                                               monkeypatch: pytest.MonkeyPatch) -> None:
    trees = []
    for name, min_jobs in (("serial", 10**9), ("parallel", 1)):
        monkeypatch.setattr(parallel, "MIN_JOBS", min_jobs)
        proj = Project(tmp_path / name)
        proj.settings(SETTINGS + "max_entries = 4\narchive_page_size = 3\n")
        for day in range(1, 25):
            proj.brief(f"2016-10-{day:02d}-brief-{day}.txt",
                       house(f"Brief {day}", ", ".join(["US", "russia", "politics"][: day % 3 + 1]),
                             short=f"Short *{day}*."))
        proj.build(drafts=False)
        trees.append(_tree(proj.public))
    assert trees[0] == trees[1]
    assert len(trees[0]) > 50


def _thread_cpu(native_id: int) -> float:
    """Seconds of CPU the thread `native_id` of this process has used (Linux)."""
    stat = Path(f"/proc/self/task/{native_id}/stat").read_text()
    fields = stat[stat.rindex(")") + 2:].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def _small_result(number: int) -> int:
    return sum(range(200)) + number


@pytest.mark.skipif(parallel.workers_for(10**9) == 0 or not Path("/proc/self/task").is_dir(),
                    reason="one CPU, or no /proc")
def test_the_pools_worker_thread_sleeps_while_results_come_in() -> None:
    # CPython's own Pool wakes its worker-handling thread for every result waiting to be
    # read: with results coming in all the time it spins (a quarter of a core here).
    with parallel._pool(2) as pool:
        handler = pool._worker_handler.native_id  # type: ignore[attr-defined]
        start, began = _thread_cpu(handler), time.perf_counter()
        assert sum(pool.imap(_small_result, range(200_000), 16)) > 0
        elapsed = time.perf_counter() - began
        assert _thread_cpu(handler) - start <= 0.05 * elapsed + 0.02
        pool.terminate()


def _brief_a_day(proj: Project, days: int, mark: str = "") -> None:
    """A brief a day from October 1, 2016, titled "Brief <day><mark>"."""
    for day in range(1, days + 1):
        proj.brief(f"2016-10-{day:02d}-brief-{day}.txt",
                   house(f"Brief {day}{mark}", "US, russia"))


def _built_by_workers(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, days: int) -> Project:
    """A project of `days` briefs, built once, in worker processes however few they are."""
    monkeypatch.setattr(parallel, "MIN_JOBS", 1)
    proj = Project(tmp_path / "site")
    proj.settings(SETTINGS)
    _brief_a_day(proj, days)
    proj.build()
    return proj


@pytest.mark.skipif(parallel.workers_for(10**9) == 0, reason="one CPU: nothing runs in parallel")
def test_a_file_workers_cannot_stage_leaves_the_folder_as_it_was(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    proj = _built_by_workers(tmp_path, monkeypatch, 28)
    _brief_a_day(proj, 28, "!")  # every page and feed changes...
    # ...and the folder of a new brief's page, made early on, is blocked.
    proj.brief("2016-10-29-zz.txt", house("Zz", "zulu"))
    (proj.public / "2016" / "10" / "29").write_text("in the way")
    before = _tree(proj.public)
    folders = sorted(p for p in proj.public.rglob("*") if p.is_dir())
    with pytest.raises(OutputError, match=r"2016/10/29/.*Not a directory.*left as it was"):
        proj.build()
    assert _tree(proj.public) == before  # no temporary file or staging marker left
    assert sorted(p for p in proj.public.rglob("*") if p.is_dir()) == folders
    (proj.public / "2016" / "10" / "29").unlink()
    assert proj.build().report.written


@pytest.mark.skipif(parallel.workers_for(10**9) == 0, reason="one CPU: nothing runs in parallel")
def test_feed_entries_are_written_ahead_only_for_many_feed_files(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from feeder import feeds

    asked: list[int] = []
    real = feeds.entries_to_write

    def counting(files: Any) -> Any:
        asked.append(len(files))
        return real(files)

    monkeypatch.setattr(feeds, "entries_to_write", counting)
    proj = _built_by_workers(tmp_path, monkeypatch, 28)  # 3 feeds of 3 files each
    assert asked == [9]
    monkeypatch.setattr(parallel, "MIN_JOBS", 10)
    proj.brief("2016-10-05-brief-5.txt", house("Brief 5, edited", "US, russia"))
    assert proj.build().report.written
    assert asked == [9]  # 9 feed files to make again: too few for worker processes


@pytest.mark.parametrize("min_jobs", [1, 10**9])  # in worker processes, in this one
def test_the_writing_bar_counts_the_files_made(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                               min_jobs: int) -> None:
    from feeder.cache import Later
    from feeder.output import Manifest, write_plan

    monkeypatch.setattr(parallel, "MIN_JOBS", min_jobs)
    heard: list[tuple[str, int]] = []

    class Recorder:
        def start(self, label: str, total: int) -> None:
            heard.append((label, total))

        def advance(self, count: int = 1) -> None:
            heard.append(("advance", count))

        def finish(self) -> None:
            heard.append(("finish", 0))

    made = {f"p{n}.html": Later(None, lambda n=n: f"<p>{n}</p>".encode())
            for n in range(parallel.PROGRESS_MIN)}
    plan = {**made, "known.html": Later(None, lambda: b"never made")}
    with parallel.LazyPlan(plan, {"known.html": "0" * 64}, progress=Recorder()) as lazy:
        write_plan(lazy, tmp_path, manifest=Manifest(), entries={},
                   known={"known.html": "0" * 64}, stager=lazy.stage)
    assert heard[0] == ("writing files", len(made))
    assert sum(count for label, count in heard if label == "advance") == len(made)
    assert heard[-1] == ("finish", 0)


def test_a_progress_bar_shows_on_a_terminal_only(tmp_path: Path,
                                                  monkeypatch: pytest.MonkeyPatch) -> None:
    pty = pytest.importorskip("pty")
    proj = Project(tmp_path / "site")
    proj.settings(SETTINGS)
    for number in range(parallel.PROGRESS_MIN):
        proj.brief(f"2016-10-04-b{number}.txt", f"B{number}\n\nx\n\nThe Short of It:\n\nS.\n")
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    command = [sys.executable, "-m", "feeder", "build", "-C", str(proj.root)]
    captured = subprocess.run(command, capture_output=True, env=env, check=True)
    assert b"reading briefs" not in captured.stderr  # not a terminal: quiet
    assert captured.stderr.count(b"\n") == 1
    shutil.rmtree(proj.public)
    shutil.rmtree(proj.root / ".feeder-cache")
    output = bytearray()

    def read(fd: int) -> bytes:
        data = os.read(fd, 4096)
        output.extend(data)
        return data

    monkeypatch.setenv("PYTHONPATH", env["PYTHONPATH"])
    status = pty.spawn(command, read)
    assert os.waitstatus_to_exitcode(status) == 0
    assert b"reading briefs" in output
    assert b"writing files" in output
    assert b"public: " in output


# --- the state machine: incremental equals clean ------------------------------------------------

TAGS = ("US", "russia", "Politics", "us", "Middle East")
FOLDERS = ("", "world/", "world/europe/")


class IncrementalBuildEqualsCleanBuild(RuleBasedStateMachine):
    """Two copies of one project get the same edits; one is built incrementally, the other
    with --clean. After every step their output folders hold the same bytes."""

    briefs = Bundle("briefs")

    def __init__(self) -> None:
        super().__init__()
        self.tmp = Path(tempfile.mkdtemp(prefix="feeder-cache-machine-"))
        self.incremental = Project(self.tmp / "incremental")
        self.clean = Project(self.tmp / "clean")
        self.setting_values = {"title": '"Test Briefs"', "max_entries": "3",
                               "archive_page_size": "2"}
        self._write_settings()
        self.now = NOW
        self.texts: dict[str, str] = {}
        self.serial = 0
        self.keep_id: tuple[str, str] | None = None  # (brief URL, the id it must keep)
        # Every write gets a modification time of its own (far in the past), so that the
        # cache may trust the stat of what was not written since, instead of hashing every
        # recent file again (which would leave the stat shortcut untested).
        self.tick = 10**18
        self.racy = cache_module.RACY_NS
        cache_module.RACY_NS = -(10**18)
        self.rewrite = cache_module.KNOWN_REWRITE

    def teardown(self) -> None:
        cache_module.RACY_NS = self.racy
        cache_module.KNOWN_REWRITE = self.rewrite
        shutil.rmtree(self.tmp, ignore_errors=True)

    @initialize(rewrite=st.sampled_from([0, 1, cache_module.KNOWN_REWRITE]))
    def known_changes(self, rewrite: int) -> None:
        """How soon the known briefs are written whole again rather than as changes (0:
        never, once written: the changes pile up over every step)."""
        cache_module.KNOWN_REWRITE = rewrite

    def _stamp(self, rel: str) -> None:
        self.tick += 10**6
        for proj in (self.incremental, self.clean):
            os.utime(proj.content / rel, ns=(self.tick, self.tick))

    # -- editing both projects the same way ----------------------------------------------------

    def _write_settings(self) -> None:
        lines = ['base_url = "https://news.example.com/"',
                 *(f"{key} = {value}" for key, value in self.setting_values.items())]
        for proj in (self.incremental, self.clean):
            proj.settings("\n".join(lines) + "\n")

    def _write(self, rel: str, text: str) -> None:
        self.texts[rel] = text
        for proj in (self.incremental, self.clean):
            proj.brief(rel, text, dedent=False)
        self._stamp(rel)

    def _remove(self, rel: str) -> None:
        del self.texts[rel]
        for proj in (self.incremental, self.clean):
            (proj.content / rel).unlink()

    def _text(self, title: str, tags: list[str], day: int, short: str, *,
              dated: bool) -> str:
        date = f"date: {(NOW + timedelta(days=day)).date().isoformat()}\n" if dated else ""
        return (f"---\ntitle: {title}\n{date}tags: [{', '.join(tags)}]\n---\n\n"
                f"The Short of It:\n\n{short}\n\nThe Takeaway:\n\nTake *this*.\n")

    def _url_of(self, rel: str) -> str | None:
        for path in self.incremental.public.rglob("feed.json"):
            for item in json.loads(path.read_bytes())["items"]:
                if item["title"] == self._title_of(rel):
                    return str(item["url"])
        return None

    def _id_of(self, url: str) -> str | None:
        for path in self.incremental.public.rglob("feed.json"):
            for item in json.loads(path.read_bytes())["items"]:
                if item["url"] == url:
                    return str(item["id"])
        return None

    def _title_of(self, rel: str) -> str:
        return self.texts[rel].split("title: ", 1)[1].split("\n", 1)[0]

    def _remember_id(self, rel: str) -> None:
        """The brief at `rel` is about to be edited, re-tagged or moved: its id must stay."""
        url = self._url_of(rel)
        found = self._id_of(url) if url else None
        self.keep_id = (url, found) if url and found else None

    # -- rules -----------------------------------------------------------------------------------

    @rule(target=briefs, tags=st.lists(st.sampled_from(TAGS), max_size=3),
          day=st.integers(-40, -1), folder=st.sampled_from(FOLDERS), dated=st.booleans())
    def add(self, tags: list[str], day: int, folder: str, dated: bool) -> str:
        self.serial += 1
        name = f"brief-{self.serial}.md"
        if not dated:
            name = f"{(NOW + timedelta(days=day)).date().isoformat()}-{name}"
        rel = folder + name
        self._write(rel, self._text(f"Brief {self.serial}", tags, day, f"Short {self.serial}.",
                                    dated=dated))
        return rel

    @rule(target=briefs, day=st.integers(1, 5))
    def add_in_the_future(self, day: int) -> str:
        self.serial += 1
        rel = f"future-{self.serial}.md"
        self._write(rel, self._text(f"Future {self.serial}", ["US"], day, "Not yet.", dated=True))
        return rel

    @rule(rel=briefs, words=st.text("abc xyz", min_size=1, max_size=12))
    def edit(self, rel: str, words: str) -> None:
        if rel not in self.texts:
            return
        self._remember_id(rel)
        text = self.texts[rel]
        head, _, tail = text.partition("The Short of It:\n\n")
        self._write(rel, head + "The Short of It:\n\n" + words.strip() + "." + tail[
            tail.index("\n"):])

    @rule(rel=briefs)
    def edit_keeping_the_size(self, rel: str) -> None:
        if rel not in self.texts:
            return
        self._remember_id(rel)
        text = self.texts[rel]
        swapped = text.replace("Take *this*.", "Take *that*.") if "this" in text else \
            text.replace("Take *that*.", "Take *this*.")
        self._write(rel, swapped)

    @rule(rel=briefs, tags=st.lists(st.sampled_from(TAGS), max_size=3))
    def retag(self, rel: str, tags: list[str]) -> None:
        if rel not in self.texts:
            return
        self._remember_id(rel)
        text = self.texts[rel]
        head, _, tail = text.partition("tags: [")
        self._write(rel, head + "tags: [" + ", ".join(tags) + tail[tail.index("]"):])

    @rule(rel=briefs, day=st.integers(-60, -41))
    def redate(self, rel: str, day: int) -> None:
        if rel not in self.texts:
            return
        text = self.texts[rel]
        if "date: " in text:
            head, _, tail = text.partition("date: ")
            new = (NOW + timedelta(days=day)).date().isoformat()
            self._write(rel, head + "date: " + new + tail[tail.index("\n"):])
        else:  # the date is in the file name: rename the file
            folder, _, name = rel.rpartition("/")
            new_rel = (folder + "/" if folder else "") + \
                (NOW + timedelta(days=day)).date().isoformat() + name[10:]
            if new_rel not in self.texts:
                self._remove(rel)
                self._write(new_rel, text)

    @rule(rel=consumes(briefs))
    def delete(self, rel: str) -> None:
        if rel in self.texts:
            self._remove(rel)

    @rule(target=briefs, rel=consumes(briefs), folder=st.sampled_from(FOLDERS))
    def move(self, rel: str, folder: str) -> str:
        if rel not in self.texts:
            return rel
        new_rel = folder + rel.rpartition("/")[2]
        if new_rel in self.texts:
            return rel
        self._remember_id(rel)
        text = self.texts[rel]
        self._remove(rel)
        self._write(new_rel, text)
        return new_rel

    @rule(rel=briefs)
    def touch(self, rel: str) -> None:
        if rel in self.texts:
            self._stamp(rel)

    @rule(rel=briefs)
    def break_it(self, rel: str) -> None:
        if rel in self.texts:
            self._write(rel, self.texts[rel].replace("title: ", "title: [", 1))

    @rule(setting=st.sampled_from([("max_entries", "2"), ("max_entries", "3"),
                                   ("title", '"Renamed"'), ("title", '"Test Briefs"'),
                                   ("timezone", '"America/New_York"'), ("timezone", '"UTC"'),
                                   ("archive_page_size", "1"), ("archive_page_size", "2"),
                                   # feed.json stays: _url_of and _id_of read it
                                   ("formats", '["json", "rss"]'),
                                   ("formats", '["atom", "rss", "json"]')]))
    def change_a_setting(self, setting: tuple[str, str]) -> None:
        key, value = setting
        self.setting_values[key] = value
        self._write_settings()

    @rule(days=st.integers(1, 3))
    def time_passes(self, days: int) -> None:
        self.now += timedelta(days=days)

    @rule()
    def nothing(self) -> None:
        """A rebuild with no change at all."""

    # -- the check -------------------------------------------------------------------------------

    def _build(self, proj: Project, *, clean: bool) -> tuple[str, ...] | str:
        try:
            result = build(proj.config(), now=self.now, options=Options(clean=clean))
        except ContentError as exc:
            return "\n".join(map(str, exc.problems))
        return tuple(map(str, result.problems))

    @invariant()
    def incremental_equals_clean(self) -> None:
        incremental = self._build(self.incremental, clean=False)
        clean = self._build(self.clean, clean=True)
        assert incremental == clean
        assert _tree(self.incremental.public) == _tree(self.clean.public)
        # Built again with no change, it writes nothing (a warning about a changed id is
        # given once): then the next step may start from a build the cache can replay.
        snapshot = self.incremental.snapshot()
        self._build(self.incremental, clean=False)
        assert self.incremental.snapshot() == snapshot
        if self.keep_id is not None:
            url, kept = self.keep_id
            assert self._id_of(url) in (kept, None)
            self.keep_id = None


TestIncrementalBuildEqualsCleanBuild = IncrementalBuildEqualsCleanBuild.TestCase
TestIncrementalBuildEqualsCleanBuild.settings = settings(
    max_examples=6, stateful_step_count=14, deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much])


def test_options_are_part_of_the_key(project: Project) -> None:
    _three(project)
    project.brief("draft.md", "---\ntitle: Draft\ndate: 2016-10-07\ntags: []\ndraft: true\n---\n"
                              "\nThe Short of It:\n\nNot yet.\n")
    project.build()
    project.build()
    with_drafts = build(project.config(), now=NOW, options=Options(drafts=True))
    assert with_drafts.site is not None
    assert b"Draft" in (project.public / "atom.xml").read_bytes()
    without = build(project.config(), now=NOW, options=replace(Options(), drafts=False))
    assert without.site is not None
    assert b"Draft" not in (project.public / "atom.xml").read_bytes()


def test_dropping_a_format_removes_its_files_and_leaves_what_a_clean_build_writes(
        project: Project, tmp_path: Path) -> None:
    project.settings(SETTINGS + "max_entries = 2\narchive_page_size = 2\n")
    _three(project)
    project.build()
    before = _tree(project.public)
    assert {"atom.xml", "tags/us/atom.xml", "archive/1/atom.xml", "archive/1/feed.json"} <= set(
        before)
    project.settings(SETTINGS + 'max_entries = 2\narchive_page_size = 2\nformats = ["rss"]\n')
    result = project.build()
    after = _tree(project.public)
    dropped = {rel for rel in before if rel.endswith(("atom.xml", "feed.json"))}
    assert set(result.report.removed) == dropped
    assert not dropped & set(after)
    assert {"rss.xml", "tags/us/rss.xml", "archive/1/rss.xml"} <= set(after)
    clean = Project(tmp_path / "clean")
    shutil.copytree(project.content, clean.content, dirs_exist_ok=True)
    shutil.copy(project.root / "feeder.toml", clean.root / "feeder.toml")
    clean.build()
    assert after == _tree(clean.public)
    # and back: the same files, with the same bytes, as before
    project.settings(SETTINGS + "max_entries = 2\narchive_page_size = 2\n")
    project.build()
    assert _tree(project.public) == before


def test_a_small_site_reads_each_html_file_once_per_process(
        project: Project, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(parallel, "MIN_JOBS", 10**9)
    _three(project)
    project.build()
    shutil.rmtree(project.public)  # every page and feed is made again, from the cache's HTML
    reads = _calls(monkeypatch, cache_module.BodyStore, "_read")
    project.build()
    assert len(reads) == len(set(reads)) == 3
    monkeypatch.setattr(cache_module, "HOLD_ALL_BYTES", 10)  # too large to hold: recent ones
    monkeypatch.setattr(cache_module, "_RECENT", 1)
    reads.clear()
    shutil.rmtree(project.public)
    project.build()
    assert len(reads) > 3


@pytest.mark.skipif(parallel.workers_for(10**9) == 0, reason="one CPU: nothing runs in parallel")
def test_html_rendered_by_workers_goes_to_packs_that_go_once_unused(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    proj = _built_by_workers(tmp_path, monkeypatch, 8)
    bodies = proj.root / ".feeder-cache" / "bodies"
    packs = sorted((bodies / "packs").iterdir())
    assert packs  # one per worker that rendered something
    assert not list(bodies.glob("??/*"))  # no file per brief

    def clean_tree() -> dict[str, bytes]:
        clean = Project(tmp_path / f"clean{len(list(tmp_path.iterdir()))}")
        clean.settings(SETTINGS)
        shutil.copytree(proj.content, clean.content, dirs_exist_ok=True)
        build(clean.config(), now=NOW, options=Options())
        return _tree(clean.public)

    # A rebuild makes its pages and feeds from the packs (the public folder is gone).
    shutil.rmtree(proj.public)
    proj.build()
    assert _tree(proj.public) == clean_tree()
    # A damaged pack: the HTML is rendered again, into files of its own, and the output is
    # the same; the build after that reads those files.
    for pack in packs:
        _flip_last_byte(pack)
        data = bytearray(pack.read_bytes())
        data[len(data) // 2] ^= 0xFF
        pack.write_bytes(bytes(data))
    shutil.rmtree(proj.public)
    proj.build()
    assert _tree(proj.public) == clean_tree()
    assert list(bodies.glob("??/*"))
    # Once every brief is rendered again (each edited, in this process), the packs go.
    monkeypatch.setattr(parallel, "MIN_JOBS", 10**9)
    _brief_a_day(proj, 8, "!")
    proj.build()
    assert not list((bodies / "packs").iterdir())
    assert _tree(proj.public) == clean_tree()


def test_dates_encoded_once_come_back_in_their_own_zones() -> None:
    # Briefs share dates, so each is encoded once (cache._encode_moment); equal instants in
    # zones of different names, or a repeated hour's two folds, are still told apart.
    from datetime import datetime, timezone
    from zoneinfo import ZoneInfo

    first = datetime(2016, 10, 4, 9, 30, tzinfo=timezone(timedelta(hours=1), "A"))
    second = first.replace(tzinfo=timezone(timedelta(hours=1), "B"))
    york = ZoneInfo("America/New_York")
    early = datetime(2016, 11, 6, 1, 30, tzinfo=york)
    late = early.replace(fold=1)
    for moment in (first, second, first, early, late, early, late):
        again = cache_module._decode(cache_module._encode(moment))
        assert again == moment
        assert (again.tzname(), again.fold, again.utcoffset()) == \
            (moment.tzname(), moment.fold, moment.utcoffset())


def _to_read_by_workers(tmp_path: Path, monkeypatch: pytest.MonkeyPatch
                        ) -> tuple[Any, cache_module.BuildCache, list[Any]]:
    """A project of 8 briefs, not built, that read_briefs will read in worker processes:
    its settings, its cache and its brief files."""
    monkeypatch.setattr(parallel, "MIN_JOBS", 1)
    proj = Project(tmp_path / "site")
    proj.settings(SETTINGS)
    _brief_a_day(proj, 8)
    config = proj.config()
    cache = cache_module.BuildCache(config, None)
    infos, _problems = cache.scan()
    return config, cache, list(infos)


@pytest.mark.skipif(parallel.workers_for(10**9) == 0, reason="one CPU: nothing runs in parallel")
def test_html_rendered_by_workers_is_handed_over_not_read_back(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Workers store the HTML they render and, when the site's HTML may all be kept, send
    it along (BodyStore.hold): the build process, and the processes it starts later, never
    read it back from the store."""
    config, cache, infos = _to_read_by_workers(tmp_path, monkeypatch)
    with contextlib.closing(parallel.read_briefs(config, infos, cache)) as parsed:
        briefs = list(parsed)
    assert len(briefs) == 8
    for fresh in briefs:
        assert isinstance(fresh.rendered, StoredBody)
        assert fresh.html is None  # held by the store, not by every brief

    def unread(*_args: object) -> None:
        raise AssertionError("read back from the store")

    monkeypatch.setattr(cache_module.BodyStore, "_unpack", unread)
    monkeypatch.setattr(cache_module.BodyStore, "_read", unread)
    for fresh in briefs:
        assert fresh.brief is not None
        again = cache_module.parse_file(fresh.info, config)  # rendered here, not stored
        assert isinstance(again.rendered, Rendered)
        assert cache.bodies.load(fresh.rendered) == again.rendered


@pytest.mark.skipif(parallel.workers_for(10**9) == 0, reason="one CPU: nothing runs in parallel")
def test_briefs_read_by_workers_and_left_halfway_leave_no_worker_behind(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """read_briefs gives each brief as it comes (a generator); closed after the first one (as
    when the build fails meanwhile), its worker processes are gone and nothing of it is
    left set for the next build."""
    import multiprocessing

    config, cache, infos = _to_read_by_workers(tmp_path, monkeypatch)
    before = set(multiprocessing.active_children())
    with contextlib.closing(parallel.read_briefs(config, infos, cache)) as parsed:
        first = next(parsed)
        assert first.brief is not None
        assert set(multiprocessing.active_children()) - before  # the workers are running
    assert not set(multiprocessing.active_children()) - before
    assert parallel._CONFIG is None
    assert parallel._BODIES is None
    assert not cache.bodies.packing


def test_page_templates_compiled_once_are_kept_and_never_stale(
        project: Project, monkeypatch: pytest.MonkeyPatch) -> None:
    """The page templates a build compiles are kept in the cache (`templates/`, a Jinja2
    bytecode cache): the next build that makes pages compiles none of them; a template
    changed meanwhile, or a damaged file, is compiled again, and the pages are always what
    a clean build makes."""
    import jinja2

    compiled: list[str | None] = []
    real = jinja2.Environment._compile

    def counting(env: jinja2.Environment, source: str, filename: str) -> Any:
        compiled.append(filename)
        return real(env, source, filename)

    monkeypatch.setattr(jinja2.Environment, "_compile", counting)
    _three(project)
    project.build()
    kept = project.root / ".feeder-cache" / "templates"
    assert len(list(kept.iterdir())) >= 4  # base, macros, brief, index, tag, tags, style
    assert compiled
    compiled.clear()
    project.brief("2016-10-05-b.txt", house("Beta", "US", short="Shorter."))  # pages change
    project.build()
    assert compiled == []

    def clean_pages() -> dict[str, bytes]:
        again = Project(project.root.parent / f"clean{len(list(project.root.parent.iterdir()))}")
        again.settings(SETTINGS)
        shutil.copytree(project.content, again.content, dirs_exist_ok=True)
        if (project.root / "templates").is_dir():
            shutil.copytree(project.root / "templates", again.root / "templates")
        build(again.config(), now=NOW, options=Options())
        return {rel: data for rel, data in _tree(again.public).items() if rel.endswith(".html")}

    def pages() -> dict[str, bytes]:
        return {rel: data for rel, data in _tree(project.public).items()
                if rel.endswith(".html")}

    assert pages() == clean_pages()
    # A publisher's template, then changed: compiled again, and used.
    (project.root / "templates").mkdir()
    (project.root / "templates" / "brief.html").write_text(
        '{% extends "base.html" %}{% block main %}<p>one {{ entry.title }}</p>{% endblock %}\n',
        encoding="utf-8")
    project.build()
    (project.root / "templates" / "brief.html").write_text(
        '{% extends "base.html" %}{% block main %}<p>two {{ entry.title }}</p>{% endblock %}\n',
        encoding="utf-8")
    compiled.clear()
    project.build()
    assert compiled == ["templates/brief.html"]
    assert b"<p>two Beta</p>" in (project.public / "2016/10/05/b/index.html").read_bytes()
    assert pages() == clean_pages()
    # Damaged files: compiled again, same pages.
    for path in kept.iterdir():
        path.write_bytes(path.read_bytes()[:40])
    project.brief("2016-10-05-b.txt", house("Beta", "US", short="Shorter still."))
    compiled.clear()
    project.build()
    assert compiled
    assert pages() == clean_pages()
