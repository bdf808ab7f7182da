"""Writing the plan: only what changed, atomically, never a file feeder did not write."""

from __future__ import annotations

import contextlib
import json
import os
import threading
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any

import pytest

from feeder import output
from feeder.errors import OutputError
from feeder.output import (
    MANIFEST,
    STAGING,
    TEMP_SUFFIX,
    Manifest,
    WriteReport,
    read_manifest,
    write_plan,
)

OLD_TIME = 1_000_000_000_000_000_000  # 2001, in nanoseconds: any rewrite would move it
FOREIGN = {"CNAME": b"news.example.com\n", "robots.txt": b"User-agent: *\n",
           "images/logo.png": b"\x89PNG\r\n\x1a\nfake", "tags/x/notes.txt": b"mine\n",
           ".htaccess": b"Options -Indexes\n"}


def write(public: Path, plan: Mapping[str, bytes],
          entries: Mapping[str, Mapping[str, str]] | None = None) -> WriteReport:
    manifest, problems = read_manifest(public)
    assert problems == ()
    return write_plan(plan, public, manifest=manifest, entries=entries or {})


def tree(public: Path) -> dict[str, tuple[bytes, int]]:
    """Every file under `public` (hidden ones included) with bytes and mtime."""
    return {p.relative_to(public).as_posix(): (p.read_bytes(), p.stat().st_mtime_ns)
            for p in sorted(public.rglob("*")) if p.is_file()}


def age(public: Path) -> None:
    for path in public.rglob("*"):
        if path.is_file():
            os.utime(path, ns=(OLD_TIME, OLD_TIME))


def put_foreign(public: Path) -> None:
    for rel, data in FOREIGN.items():
        (public / rel).parent.mkdir(parents=True, exist_ok=True)
        (public / rel).write_bytes(data)


PLAN = {"atom.xml": b"<feed>1</feed>", "rss.xml": b"<rss>1</rss>",
        "tags/x/atom.xml": b"<feed>x</feed>", "tags/y/atom.xml": b"<feed>y</feed>"}


@pytest.fixture
def public(tmp_path: Path) -> Path:
    return tmp_path / "public"


def test_first_write_creates_every_file_and_the_manifest(public: Path) -> None:
    report = write(public, PLAN, {"tag:x,2016:a": {"path": "content/a.txt", "title": "A",
                                                   "url": "https://x.example/a/"}})
    assert report == WriteReport(tuple(sorted(PLAN)), (), ())
    assert {rel: data for rel, (data, _) in tree(public).items() if rel != MANIFEST} == PLAN
    manifest = json.loads((public / MANIFEST).read_bytes())
    assert manifest["files"] == {rel: output.sha256(data) for rel, data in PLAN.items()}
    assert manifest["entries"] == {"tag:x,2016:a": {"path": "content/a.txt", "title": "A",
                                                    "url": "https://x.example/a/"}}
    assert oct((public / "atom.xml").stat().st_mode & 0o777) == "0o644"


def test_unchanged_files_keep_their_modification_time(public: Path) -> None:
    write(public, PLAN)
    age(public)
    before = tree(public)
    assert write(public, PLAN) == WriteReport((), (), tuple(sorted(PLAN)))
    assert tree(public) == before
    changed = {**PLAN, "rss.xml": b"<rss>2</rss>"}
    assert write(public, changed).written == ("rss.xml",)
    after = tree(public)
    assert after["rss.xml"][0] == b"<rss>2</rss>"
    assert after["rss.xml"][1] != OLD_TIME
    for rel in ("atom.xml", "tags/x/atom.xml", "tags/y/atom.xml"):
        assert after[rel] == before[rel]


def test_stale_files_and_their_empty_folders_are_removed(public: Path) -> None:
    write(public, {**PLAN, "tags/z/a/deep.xml": b"deep"})
    report = write(public, {"atom.xml": PLAN["atom.xml"], "tags/x/atom.xml": b"<feed>x2</feed>"})
    assert report.removed == ("rss.xml", "tags/y/atom.xml", "tags/z/a/deep.xml")
    assert not (public / "tags" / "y").exists()
    assert not (public / "tags" / "z").exists()
    assert sorted(tree(public)) == [MANIFEST, "atom.xml", "tags/x/atom.xml"]
    assert set(json.loads((public / MANIFEST).read_bytes())["files"]) == {
        "atom.xml", "tags/x/atom.xml"}


def test_files_feeder_did_not_write_are_never_touched(public: Path) -> None:
    public.mkdir()
    put_foreign(public)
    write(public, PLAN)
    age(public)
    foreign_before = {rel: v for rel, v in tree(public).items() if rel in FOREIGN}
    # Tag x loses its feed, but tags/x/ keeps the file the user put there.
    write(public, {"atom.xml": b"<feed>2</feed>"})
    after = tree(public)
    assert {rel: v for rel, v in after.items() if rel in FOREIGN} == foreign_before
    assert sorted(set(after) - set(FOREIGN)) == [MANIFEST, "atom.xml"]
    assert (public / "tags" / "x").is_dir()


OUTSIDE = ["../escape.xml", "/srv/escape.xml", "//srv/escape.xml", "a/../../escape.xml", "",
           ".", "./", "..", "tags/..", "./../escape.xml", "tags//../../escape.xml",
           "tags/./../../escape.xml", "tags/x/../../../escape.xml"]


@pytest.mark.parametrize("rel", OUTSIDE)
def test_paths_outside_the_folder_are_refused_before_anything_is_written(
        public: Path, rel: str) -> None:
    with pytest.raises(OutputError, match="refusing to write outside the output folder"):
        write(public, {"atom.xml": b"x", rel: b"x"})
    assert tree(public) == {}
    assert not (public.parent / "escape.xml").exists()


@pytest.mark.parametrize("rel", OUTSIDE)
def test_paths_outside_are_refused_for_files_known_to_be_unchanged_too(
        public: Path, rel: str) -> None:
    """Files in `known` are neither read nor written, but their paths are still checked."""
    write(public, PLAN)
    age(public)
    before = tree(public)
    with pytest.raises(OutputError, match="refusing to write outside the output folder"):
        write_plan({**PLAN, rel: b"x"}, public, manifest=read_manifest(public)[0], entries={},
                   known={**{r: output.sha256(d) for r, d in PLAN.items()}, rel: "0" * 64})
    assert tree(public) == before


def test_redundant_separators_name_the_same_file(public: Path) -> None:
    """`a//b` and `a/./b` are the file `a/b`, as they always were."""
    write(public, {"tags//x/./atom.xml": b"x", "rss.xml/": b"r"})
    assert (public / "tags" / "x" / "atom.xml").read_bytes() == b"x"
    assert (public / "rss.xml").read_bytes() == b"r"


def test_a_symlinked_folder_leading_outside_is_refused(public: Path, tmp_path: Path) -> None:
    outside = tmp_path / "outside"
    outside.mkdir()
    public.mkdir()
    (public / "tags").symlink_to(outside)
    with pytest.raises(OutputError, match="refusing to write outside"):
        write(public, {"tags/x/atom.xml": b"x"})
    assert list(outside.iterdir()) == []


def test_symbolic_links_leading_inside_are_written_through(public: Path,
                                                           tmp_path: Path) -> None:
    """The output folder itself may be a symbolic link, and so may a folder in it that leads
    to another folder in it (absolute or relative): only leaving the folder is refused."""
    real = tmp_path / "site"
    (real / "real").mkdir(parents=True)
    public.symlink_to(real)
    (real / "alias").symlink_to(real / "real")
    (real / "near").symlink_to("real")
    write(public, {"alias/x/atom.xml": b"a", "near/y/atom.xml": b"n", "rss.xml": b"r"})
    assert (real / "real" / "x" / "atom.xml").read_bytes() == b"a"
    assert (real / "real" / "y" / "atom.xml").read_bytes() == b"n"
    assert (real / "rss.xml").read_bytes() == b"r"
    (real / "real" / "out").symlink_to(tmp_path)  # through an inside link, then out
    with pytest.raises(OutputError, match="refusing to write outside"):
        write(public, {"alias/out/escape.xml": b"x"})
    assert not (tmp_path / "escape.xml").exists()


def test_files_known_unchanged_are_not_looked_at_but_changed_ones_are_checked(
        public: Path, tmp_path: Path) -> None:
    """A folder replaced by a symbolic link leading outside: files the caller knows to be
    unchanged are left alone (never read, written or resolved), a changed file in it is
    refused before anything is written."""
    write(public, PLAN)
    outside = tmp_path / "outside"
    (public / "tags").rename(outside)
    (public / "tags").symlink_to(outside)
    age(public)
    age(outside)
    before, outside_before = tree(public), tree(outside)
    manifest = read_manifest(public)[0]
    known = {rel: output.sha256(data) for rel, data in PLAN.items()}
    report = write_plan(PLAN, public, manifest=manifest, entries={}, known=known)
    assert report == WriteReport((), (), tuple(sorted(PLAN)))
    with pytest.raises(OutputError, match="refusing to write outside"):
        write_plan({**PLAN, "tags/x/atom.xml": b"changed"}, public, manifest=manifest,
                   entries={}, known={rel: known[rel] for rel in ("atom.xml", "rss.xml")})
    assert tree(public) == before
    assert tree(outside) == outside_before


def test_a_tampered_manifest_cannot_delete_outside_the_folder(public: Path,
                                                              tmp_path: Path) -> None:
    victims = [tmp_path / "victim.txt", tmp_path / "outside" / "victim.txt"]
    for victim in victims:
        victim.parent.mkdir(exist_ok=True)
        victim.write_bytes(b"precious")
    write(public, PLAN)
    (public / "link").symlink_to(tmp_path / "outside")
    files = {"../victim.txt": "0", str(victims[0]): "0", "link/victim.txt": "0",
             "tags/../../victim.txt": "0", **dict.fromkeys(PLAN, "0")}
    (public / MANIFEST).write_bytes(Manifest(files, {}).to_bytes())
    report = write(public, {"atom.xml": b"new"})
    assert report.removed == ("rss.xml", "tags/x/atom.xml", "tags/y/atom.xml")
    for victim in victims:
        assert victim.read_bytes() == b"precious"
    assert (public / "link").is_symlink()


def test_an_unreadable_manifest_is_a_warning_and_removes_nothing(public: Path) -> None:
    write(public, PLAN)
    (public / MANIFEST).write_bytes(b"{not json")
    manifest, problems = read_manifest(public)
    assert [p.severity for p in problems] == ["warning"]
    assert "ignoring unreadable manifest" in problems[0].message
    write_plan({"atom.xml": b"new"}, public, manifest=manifest, entries={})
    assert (public / "rss.xml").exists()  # no longer known to be feeder's: left alone


def test_leftovers_of_a_killed_build_are_swept(public: Path) -> None:
    write(public, PLAN)
    public.joinpath("tags", "gone").mkdir()
    leftovers = [public / f".atom.xml.k1{TEMP_SUFFIX}",
                 public / f"tags/x/.atom.xml.k2{TEMP_SUFFIX}",
                 public / f"tags/gone/.atom.xml.k3{TEMP_SUFFIX}",
                 public / STAGING]  # what a build killed while staging leaves
    for path in leftovers:
        path.write_bytes(b"half")
    kept = [public / f"mine{TEMP_SUFFIX}", public / ".hidden-notes"]
    for path in kept:
        path.write_bytes(b"user")
    age(public)
    before = tree(public)
    assert write(public, PLAN).written == ()
    for path in leftovers:
        assert not path.exists()
    assert not (public / "tags" / "gone").exists()  # only a killed build had made it
    after = tree(public)
    assert after == {rel: v for rel, v in before.items()
                     if public / rel not in leftovers}


def test_only_a_build_after_one_killed_while_staging_looks_through_the_folder(
        public: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Looking for leftovers walks every folder: a build does it only when the staging
    marker says that the last build to stage files did not finish. The marker is there
    only while files are staged, and is never in the manifest or the report."""
    write(public, PLAN)
    put_foreign(public)
    walks: list[str] = []
    real_walk = os.walk

    def walk(top: str, topdown: bool = True) -> Iterator[tuple[str, list[str], list[str]]]:
        walks.append(top)
        return real_walk(top, topdown=topdown)

    monkeypatch.setattr(os, "walk", walk)
    marked: list[bool] = []
    real_stage = output._stage

    def stage(path: Path, data: bytes, **kwargs: bool) -> Path:
        marked.append((public / STAGING).is_file())
        return real_stage(path, data, **kwargs)

    monkeypatch.setattr(output, "_stage", stage)
    changed = {**PLAN, "rss.xml": b"<rss>2</rss>", "tags/new/atom.xml": b"<feed>n</feed>"}
    for plan in (changed, changed, PLAN):
        report = write(public, plan)
        assert STAGING not in report.written + report.removed + report.unchanged
    assert marked == [True] * 5  # 2 files and the manifest (it claims the new file); then
    # nothing; 1 file and a manifest
    assert walks == []
    assert not (public / STAGING).exists()
    assert STAGING not in json.loads((public / MANIFEST).read_bytes())["files"]
    (public / STAGING).write_bytes(b"")
    write(public, PLAN)
    assert walks == [os.fspath(public)]
    assert not (public / STAGING).exists()


def test_a_marker_is_kept_while_a_leftover_cannot_be_swept(
        public: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    write(public, PLAN)
    leftover = public / "tags" / "x" / f".atom.xml.k1{TEMP_SUFFIX}"
    leftover.write_bytes(b"half")
    (public / STAGING).write_bytes(b"")
    real_unlink = os.unlink

    def unlink(path: str) -> None:
        if path == os.fspath(leftover):
            raise PermissionError(1, "Operation not permitted", path)
        real_unlink(path)

    monkeypatch.setattr(os, "unlink", unlink)
    assert write(public, {**PLAN, "rss.xml": b"<rss>2</rss>"}).written == ("rss.xml",)
    assert leftover.exists()
    assert (public / STAGING).exists()  # the next build looks again
    monkeypatch.setattr(os, "unlink", real_unlink)
    write(public, PLAN)
    assert not leftover.exists()
    assert not (public / STAGING).exists()


def test_the_manifest_is_deterministic(tmp_path: Path) -> None:
    entries = {f"tag:x,2016:{n}": {"title": n, "url": f"https://x.example/{n}/",
                                   "path": f"content/{n}.txt"} for n in "cab"}
    one, two = tmp_path / "one", tmp_path / "two"
    write(one, PLAN, entries)
    write(two, dict(reversed(PLAN.items())), dict(reversed(entries.items())))
    data = (one / MANIFEST).read_bytes()
    assert data == (two / MANIFEST).read_bytes()
    assert data.endswith(b"}\n")
    parsed = json.loads(data)
    assert list(parsed["files"]) == sorted(PLAN)
    assert list(parsed["entries"]) == sorted(entries)
    assert list(parsed["entries"]["tag:x,2016:a"]) == ["path", "title", "url"]
    # one file or entry a line, for a readable diff
    lines = data.decode().splitlines()
    for rel, digest in parsed["files"].items():
        assert f'  "{rel}": "{digest}",' in lines or f'  "{rel}": "{digest}"' in lines
    assert '  "tag:x,2016:a": {"path": "content/a.txt", "title": "a", ' \
        '"url": "https://x.example/a/"},' in lines
    assert len(lines) == len(PLAN) + len(entries) + 7


def test_the_manifest_reads_back_whatever_it_holds(public: Path) -> None:
    """Any text (quotes, backslashes, line breaks, non-ASCII) survives the manifest, and a
    manifest edited by hand into other JSON values is carried over as it is."""
    tricky = {"tag:x,2016:\u00e9\"\\": {"path": "content/caf\u00e9.md",
                                       "title": 'Athens & "Ankara"\n<Talks>\u2028\t\U0001f4f0',
                                       "url": "https://x.example/caf%C3%A9/"}}
    write(public, PLAN, tricky)
    manifest, problems = read_manifest(public)
    assert problems == ()
    assert manifest.entries == tricky
    assert "Athens" in (public / MANIFEST).read_text("utf-8")
    edited = Manifest({**manifest.files, "old.xml": 7}, {**tricky, "odd": ["x", 1],  # type: ignore[dict-item]
                                                    "odder": {"n": None}})  # type: ignore[dict-item]
    (public / MANIFEST).write_bytes(edited.to_bytes())
    assert json.loads(edited.to_bytes())["entries"]["odd"] == ["x", 1]
    manifest, problems = read_manifest(public)
    assert problems == ()
    assert manifest == edited
    # A new file makes the build claim it first in an interim manifest: old and new together.
    write_plan({**PLAN, "new.xml": b"n"}, public, manifest=manifest, entries={})
    assert json.loads((public / MANIFEST).read_bytes())["files"].keys() == {*PLAN, "new.xml"}
    assert Manifest().to_bytes() == b'{\n "entries": {},\n "files": {},\n "version": 1\n}\n'


def test_an_error_leaves_the_folder_as_it_was(public: Path) -> None:
    write(public, PLAN)
    put_foreign(public)
    age(public)
    (public / "blocker").write_bytes(b"a file where a folder is needed")
    before = tree(public)
    plan = dict.fromkeys(("atom.xml", "aaa/new.xml", "blocker/x.xml", "tags/new/a/atom.xml",
                          "tags/x/atom.xml"), b"new")
    with pytest.raises(OutputError) as raised:
        write(public, plan)
    [problem] = raised.value.problems
    assert problem.path == f"{public.as_posix()}/blocker/x.xml"
    assert problem.message.startswith("cannot write: ")
    assert problem.message.endswith(f"; {public.as_posix()} was left as it was")
    assert tree(public) == before
    assert not (public / "aaa").exists()
    assert not (public / "tags" / "new").exists()


class Killed(BaseException):
    """Stands for a SIGKILL: nothing in write_plan may catch it."""


@pytest.mark.parametrize("stop", range(5))
def test_a_build_that_only_adds_files_claims_them_with_its_manifest_first(
        public: Path, monkeypatch: pytest.MonkeyPatch, stop: int) -> None:
    """Nothing to remove and no entry forgotten: the new manifest is renamed first (it is
    the claim), then the files; stopped after any rename, every file on view is claimed."""
    write(public, PLAN, {"e1": {"path": "a.txt", "title": "A", "url": "https://x/a/"}})
    new = {**{rel: data + b" v2" for rel, data in PLAN.items()},
           "tags/new/atom.xml": b"<feed>new</feed>"}
    entries = {"e1": {"path": "a.txt", "title": "A", "url": "https://x/a/"},
               "e2": {"path": "b.txt", "title": "B", "url": "https://x/b/"}}
    renames: list[str] = []
    real = os.replace

    def replace(src: str | Path, dst: str | Path) -> None:
        if len(renames) == stop:
            raise Killed
        renames.append(Path(dst).relative_to(public).as_posix())
        real(src, dst)

    monkeypatch.setattr(os, "replace", replace)
    with contextlib.suppress(Killed):
        write(public, new, entries)
    monkeypatch.setattr(os, "replace", real)
    assert renames[:1] == [MANIFEST][:stop]
    assert len(renames) == min(stop, 1 + len(new))  # one manifest, then the files
    manifest, _ = read_manifest(public)
    visible = {rel for rel in tree(public) if rel not in (MANIFEST, STAGING)
               and not rel.endswith(TEMP_SUFFIX)}
    assert visible <= set(manifest.files)
    if stop:
        assert manifest.entries == entries
    report = write(public, {"atom.xml": b"third"})
    assert sorted(report.removed) == sorted(visible - {"atom.xml"})
    assert not [rel for rel in tree(public) if rel.endswith(TEMP_SUFFIX)]


@pytest.mark.parametrize("stop", range(9))
def test_a_build_stopped_after_any_rename_leaves_old_or_new_and_nothing_unclaimed(
        public: Path, monkeypatch: pytest.MonkeyPatch, stop: int) -> None:
    """Stopped after `stop` renames (a new folder appears, another goes): every file is old
    or new, and the next build, whatever its plan, removes every file of both."""
    old = {**PLAN, "tags/old/atom.xml": b"<feed>old</feed>"}
    new = {rel: data + b" v2" for rel, data in PLAN.items() if rel != "rss.xml"}
    new |= {"tags/new/atom.xml": b"<feed>new</feed>", "tags/new/rss.xml": b"<rss>new</rss>"}
    write(public, old)
    put_foreign(public)
    calls = 0
    real = os.replace

    def replace(src: str | Path, dst: str | Path) -> None:
        nonlocal calls
        if calls == stop:
            raise Killed
        calls += 1
        real(src, dst)

    monkeypatch.setattr(os, "replace", replace)
    try:
        write(public, new)
        finished = True
    except Killed:
        finished = False
    monkeypatch.setattr(os, "replace", real)
    assert finished == (stop >= 7)  # interim manifest, 5 files, final manifest
    assert (public / STAGING).exists() == (not finished)  # the next build must sweep
    for rel, (data, _) in tree(public).items():
        if rel in FOREIGN or rel == MANIFEST:
            continue
        if rel.endswith(TEMP_SUFFIX):
            assert not finished
            continue
        assert data in (old.get(rel), new.get(rel)), rel
    claimed = set(json.loads((public / MANIFEST).read_bytes())["files"])
    visible = {rel for rel in tree(public) if rel not in FOREIGN and rel != MANIFEST
               and not rel.endswith(TEMP_SUFFIX)}
    assert visible <= claimed
    assert STAGING not in claimed
    third = {"atom.xml": b"third"}
    write(public, third)
    assert sorted(set(tree(public)) - set(FOREIGN)) == [MANIFEST, "atom.xml"]
    assert sorted(p.relative_to(public).as_posix() for p in public.rglob("*") if p.is_dir()) == [
        "images", "tags", "tags/x"]


@pytest.mark.parametrize("stop", range(7))
def test_a_build_stopped_while_staging_leaves_its_marker_and_the_next_sweeps(
        public: Path, monkeypatch: pytest.MonkeyPatch, stop: int) -> None:
    """Stopped before its `stop`th temporary file is made (or, for odd ones, once the folder
    for it is): the marker was made before any, so the next build removes what is left."""
    write(public, PLAN)
    put_foreign(public)
    age(public)
    before = tree(public)
    new = {**{rel: data + b" v2" for rel, data in PLAN.items()},
           "tags/new/a/atom.xml": b"<feed>new</feed>", "tags/z/rss.xml": b"<rss>z</rss>"}
    calls = 0
    real_stage, real_make_folder = output._stage, output._make_folder

    def stage(path: Path, data: bytes, **kwargs: bool) -> Path:
        nonlocal calls
        if calls == stop:
            raise Killed
        calls += 1
        return real_stage(path, data, **kwargs)

    def make_folder(folder: Path, created: list[Path], known: set[Path] | None = None) -> None:
        real_make_folder(folder, created, known)
        if calls == stop and stop % 2 and known is not None:
            raise Killed

    monkeypatch.setattr(output, "_stage", stage)
    monkeypatch.setattr(output, "_make_folder", make_folder)
    with pytest.raises(Killed):
        write(public, new)
    monkeypatch.undo()
    left = tree(public)
    assert {rel: v for rel, v in left.items() if not rel.endswith(TEMP_SUFFIX)} == before
    assert STAGING in left
    assert len([rel for rel in left if rel.endswith(TEMP_SUFFIX)]) == stop + 1
    report = write(public, new)
    assert report.written == tuple(sorted(new))
    after = tree(public)
    assert not [rel for rel in after if rel.endswith(TEMP_SUFFIX)]
    assert sorted(set(after) - set(FOREIGN)) == sorted([MANIFEST, *new])


@pytest.mark.parametrize(("old", "new"), [
    (b"abcdef", b"abcdef"),          # the same: nothing staged
    (b"abcdef", b"abXdef"),          # a difference in the middle
    (b"abcdef", b"abc"),             # shorter: every chunk matched, the file goes on
    (b"abc", b"abcdef"),             # longer
    (None, b"abcdef"),               # no file yet
])
def test_the_manifest_is_staged_only_when_it_changes(tmp_path: Path, old: bytes | None,
                                                     new: bytes) -> None:
    path = tmp_path / MANIFEST
    if old is not None:
        path.write_bytes(old)
    called = []
    chunks = iter([new[i:i + 2] for i in range(0, len(new), 2)])
    temp = output._stage_if_changed(os.fspath(path), chunks, lambda: called.append(True))
    if old == new:
        assert temp is None
        assert called == []
    else:
        assert temp is not None
        assert called == [True]  # the caller marks the folder before anything is staged
        assert Path(temp).read_bytes() == new
        assert Path(temp).parent == tmp_path
    assert (path.read_bytes() if old is not None else None) == old  # never touched


@pytest.mark.parametrize("path", ["/srv/public/a/b.xml", "public/index.html", "index.html",
                                  "/x//y/z.json", "/top.css", "a/b/", "/"])
def test_a_temporary_file_is_named_after_its_target_in_the_same_folder(path: str) -> None:
    from feeder.output import TEMP_SUFFIX, _temp_path

    folder, name = os.path.split(path)
    assert _temp_path(path, "tok") == os.path.join(folder, f".{name}.tok{TEMP_SUFFIX}")  # noqa: PTH118


@pytest.mark.skipif(output._syncfs() is None, reason="syncfs(2) is Linux's")
def test_staged_files_are_flushed_early_and_again_before_the_renames(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    flushes: list[str] = []
    real = output._sync_folder_fs

    def counting(folder: str, syncfs: Any) -> None:
        flushes.append(folder)
        real(folder, syncfs)

    monkeypatch.setattr(output, "_sync_folder_fs", counting)
    monkeypatch.setattr(output._EarlySync, "EVERY", 3)
    plan = {f"p/{n}.html": f"page {n}".encode() for n in range(10)}
    report = write(tmp_path / "public", plan)
    assert len(report.written) == 10
    assert 2 <= len(flushes) <= 4  # one early flush at a time, then the last
    assert all(Path(folder).is_relative_to(tmp_path) for folder in flushes)
    assert (tmp_path / "public" / "p" / "9.html").read_bytes() == b"page 9"


def _looked_at(monkeypatch: pytest.MonkeyPatch, call: str) -> list[str]:
    """The paths feeder.output passes to os.`call` (stat, lstat) from now on."""
    looked: list[str] = []
    real = getattr(os, call)

    def counting(path: Any, *args: Any, **kwargs: Any) -> os.stat_result:
        looked.append(os.fspath(path))
        return real(path, *args, **kwargs)

    monkeypatch.setattr(output.os, call, counting)
    return looked


@pytest.mark.skipif(output._syncfs() is None, reason="syncfs(2) is Linux's")
def test_the_flush_looks_at_no_folder_the_build_made(tmp_path: Path,
                                                      monkeypatch: pytest.MonkeyPatch) -> None:
    """A folder made by the build is on its parent's file system: the flush before the
    renames finds the file systems from the folders that were there before."""
    (tmp_path / "public" / "old").mkdir(parents=True)
    flushes: list[str] = []
    monkeypatch.setattr(output, "_sync_folder_fs", lambda folder, _: flushes.append(folder))
    monkeypatch.setattr(output._EarlySync, "EVERY", 10**9)
    looked = _looked_at(monkeypatch, "stat")
    plan = {f"new/{n}/index.html": b"page" for n in range(20)}
    plan["old/index.html"] = b"page"
    assert len(write(tmp_path / "public", plan).written) == 21
    public = tmp_path / "public"
    made = {str(public / "new"), *(str(public / "new" / str(n)) for n in range(20))}
    assert not made & set(looked)
    assert {str(public), str(public / "old")} <= set(looked)
    assert len(flushes) == 1  # one file system, flushed once


def test_nothing_under_a_missing_folder_is_looked_at_for_links(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    public = tmp_path / "public"
    public.mkdir()
    looked = _looked_at(monkeypatch, "lstat")
    plan = {f"{year}/{month:02d}/{day:02d}/b/index.html": b"page"
            for year in (2015, 2016) for month in (1, 2) for day in (1, 2)}
    assert len(write(public, plan).written) == 8
    inside = {Path(p).relative_to(public).as_posix() for p in looked
              if Path(p).is_relative_to(public)}
    assert {p for p in inside if p != "." and not p.startswith(".")} == {"2015", "2016"}


def test_many_files_are_renamed_by_several_threads_and_a_failure_stops_them_all(
        public: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Past MANY_RENAMES files, renaming is shared among threads (output._rename_all); when
    one rename fails, the build fails naming that file, every file on view is whole (old or
    new), and no temporary file is left behind."""
    monkeypatch.setattr(output.os, "sched_getaffinity", lambda _pid: {0, 1}, raising=False)
    count = output.MANY_RENAMES + 200
    old = {f"p/{number:05d}/index.html": f"old {number}".encode() for number in range(count)}
    write(public, old)
    new = {rel: data.replace(b"old", b"new") for rel, data in old.items()}
    bad = f"p/{count - 10:05d}/index.html"  # in the second thread's half
    threads: set[int] = set()
    real = os.replace

    def replace(src: str | Path, dst: str | Path) -> None:
        if not str(dst).endswith(MANIFEST):
            threads.add(threading.get_ident())
        if Path(dst) == public / bad:
            raise PermissionError(13, "Permission denied")
        real(src, dst)

    monkeypatch.setattr(os, "replace", replace)
    with pytest.raises(OutputError) as caught:
        write(public, new)
    monkeypatch.setattr(os, "replace", real)
    [problem] = caught.value.problems
    assert problem.path == f"{public.as_posix()}/{bad}"
    assert "may be partly updated" in problem.message
    assert len(threads) == 2
    assert threading.get_ident() not in threads
    files = tree(public)
    assert not [rel for rel in files if rel.endswith(TEMP_SUFFIX)]
    assert files[bad][0] == old[bad]
    for rel in old:
        assert files[rel][0] in (old[rel], new[rel])
    assert write(public, new).written  # the next build finishes the job
    assert {rel: data for rel, (data, _) in tree(public).items() if rel in new} == new
