"""A full disk or an output folder that cannot be written: a clear error, exit 1, and
public/ exactly as it was (every file's bytes and modification time, and its folders).

The faults are real where this machine allows it, also when the tests run as root (for whom
`chmod` makes nothing read-only): a small tmpfs that fills up, a read-only bind mount in a
mount namespace of the build's own, and the immutable attribute (`chattr +i`). The same
faults are also simulated at the boundary with the operating system (`os.open` raising the
errno the kernel would) so that they are covered wherever mounting is not permitted.
"""

from __future__ import annotations

import contextlib
import os
import re
import shutil
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.conftest import Project, house

FOREIGN = {"CNAME": b"news.example.com\n", "images/logo.png": b"\x89PNG\r\n\x1a\n not really"}


def write_briefs(project: Project, edition: str, count: int = 12) -> None:
    for i in range(count):
        tags = f"topic{i % 3}, {edition}-only" if i == 0 else f"topic{i % 3}"
        project.brief(f"2016-10-{i + 1:02d}-brief{i}.txt",
                      house(f"Brief {i}", tags, short=f"Short {i}, edition {edition}."))


def state(public: Path) -> tuple[dict[str, tuple[bytes, int]], set[str]]:
    """Every file (hidden ones too) with bytes and mtime, and every folder."""
    files, folders = {}, set()
    for path in sorted(public.rglob("*")):
        rel = path.relative_to(public).as_posix()
        if path.is_dir():
            folders.add(rel)
        else:
            files[rel] = (path.read_bytes(), path.stat().st_mtime_ns)
    return files, folders


def build(project: Project, *prefix: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([*prefix, sys.executable, "-m", "feeder", "build",
                           "-C", str(project.root)], capture_output=True, text=True, check=False)


def published(project: Project) -> Project:
    write_briefs(project, "first")
    first = build(project)
    assert first.returncode == 0, first.stderr
    for rel, data in FOREIGN.items():
        (project.public / rel).parent.mkdir(parents=True, exist_ok=True)
        (project.public / rel).write_bytes(data)
    write_briefs(project, "second")  # every file changes, a tag folder comes and one goes
    return project


def assert_refused(result: subprocess.CompletedProcess[str], reason: str) -> None:
    assert result.returncode == 1, result.stderr
    assert "Traceback" not in result.stderr
    assert re.fullmatch(rf"public/\S+: cannot write: {re.escape(reason)}; "
                        r"public was left as it was\n", result.stderr), result.stderr


def assert_recovers(project: Project) -> None:
    again = build(project)
    assert again.returncode == 0, again.stderr
    assert "Short 0, edition second." in (project.public / "atom.xml").read_text("utf-8")
    assert (project.public / "tags" / "second-only" / "atom.xml").is_file()
    assert not (project.public / "tags" / "first-only").exists()
    for rel, data in FOREIGN.items():
        assert (project.public / rel).read_bytes() == data


# --- a full disk: a real tmpfs that fills up ---------------------------------------------------

@contextlib.contextmanager
def mounted_tmpfs(where: Path, size: str) -> Iterator[None]:
    where.mkdir(parents=True, exist_ok=True)
    done = subprocess.run(["mount", "-t", "tmpfs", "-o", f"size={size},mode=0755", "tmpfs",
                           str(where)], capture_output=True, text=True, check=False)
    if done.returncode != 0:
        pytest.skip(f"mounting a tmpfs is not permitted here ({done.stderr.strip()}); the "
                    "full disk is still simulated by test_simulated_faults")
    try:
        yield
    finally:
        subprocess.run(["umount", "-l", str(where)], check=True)


def fill(disk: Path, leave: int) -> Path:
    """Fill the file system of `disk` with a foreign file, then free about `leave` bytes."""
    filler = disk / "videos" / "filler.bin"
    filler.parent.mkdir(exist_ok=True)
    with filler.open("wb", buffering=0) as handle:
        for chunk in (1 << 16, 1 << 12):
            with contextlib.suppress(OSError):
                while True:
                    handle.write(b"\0" * chunk)
    os.truncate(filler, max(0, filler.stat().st_size - leave))
    return filler


@pytest.mark.skipif(shutil.which("mount") is None, reason="no mount command")
@pytest.mark.parametrize("leave", [0, 24 * 1024], ids=["full", "almost-full"])
def test_a_full_disk_is_a_clear_error_and_changes_nothing(project: Project, leave: int) -> None:
    with mounted_tmpfs(project.public, "16m"):
        published(project)
        filler = fill(project.public, leave)
        before = state(project.public)
        result = build(project)
        assert_refused(result, "the disk is full (No space left on device)")
        assert state(project.public) == before
        filler.unlink()
        assert_recovers(project)


# --- a read-only output folder -----------------------------------------------------------------

RO_MOUNT = 'mount --bind "$1" "$1" && mount -o remount,bind,ro "$1" && shift && exec "$@"'


def read_only_prefix(folder: Path) -> list[str]:
    """A command prefix that runs a command with `folder` mounted read-only, in a mount
    namespace of its own (nothing changes for any other process)."""
    prefix = ["unshare", "--mount", "--propagation", "private", "sh", "-c", RO_MOUNT, "sh",
              str(folder)]
    if shutil.which("unshare") is None:
        pytest.skip("unshare (util-linux) is not installed")
    probe = subprocess.run([*prefix, "sh", "-c", 'touch "$0/.probe"', str(folder)],
                           capture_output=True, text=True, check=False)
    if probe.returncode == 0 or "Read-only file system" not in probe.stderr:
        pytest.skip(f"a read-only bind mount is not permitted here ({probe.stderr.strip()}); "
                    "test_immutable_output_folder and test_simulated_faults still run")
    return prefix


def test_a_read_only_output_folder_is_a_clear_error_and_changes_nothing(
        project: Project) -> None:
    published(project)
    before = state(project.public)
    result = build(project, *read_only_prefix(project.public))
    assert_refused(result, "the file system is read-only (Read-only file system)")
    assert state(project.public) == before
    assert_recovers(project)


@contextlib.contextmanager
def immutable(folder: Path) -> Iterator[None]:
    done = subprocess.run(["chattr", "-R", "+i", str(folder)], capture_output=True, text=True,
                          check=False)
    try:
        if done.returncode != 0:
            pytest.skip(f"chattr +i is not possible here ({done.stderr.strip()})")
        yield
    finally:
        subprocess.run(["chattr", "-R", "-i", str(folder)], capture_output=True, check=False)


@pytest.mark.skipif(shutil.which("chattr") is None, reason="chattr (e2fsprogs) is not installed")
def test_an_immutable_output_folder_is_a_clear_error_and_changes_nothing(
        project: Project) -> None:
    published(project)
    before = state(project.public)
    with immutable(project.public):
        result = build(project)
    assert_refused(result, "Operation not permitted")
    assert state(project.public) == before
    assert_recovers(project)


# --- the same faults, simulated where the kernel would report them ------------------------------

FAULTY = """
import errno, os, sys
real_open = os.open
public, code, after, root = sys.argv[1], getattr(errno, sys.argv[2]), int(sys.argv[3]), sys.argv[4]
created = 0
def faulty_open(path, flags, mode=0o777, *, dir_fd=None):
    global created
    if flags & os.O_CREAT and os.fspath(path).startswith(public + os.sep):
        if created >= after:
            raise OSError(code, os.strerror(code), os.fspath(path))
        created += 1
    return real_open(path, flags, mode, dir_fd=dir_fd)
os.open = faulty_open
from feeder.cli import main
sys.argv = ["feeder", "build", "-C", root]
main()
"""


@pytest.mark.parametrize(("code", "after", "reason"), [
    ("ENOSPC", 3, "the disk is full (No space left on device)"),
    ("EDQUOT", 1, "the disk quota is exceeded (Disk quota exceeded)"),
    ("EROFS", 0, "the file system is read-only (Read-only file system)"),
    ("EACCES", 0, "Permission denied"),
])
def test_simulated_faults(project: Project, code: str, after: int, reason: str) -> None:
    """`os.open` fails with `code` once `after` files were created in public/ (creating a
    file is where a full disk, a quota or a read-only folder shows first on most systems)."""
    published(project)
    before = state(project.public)
    result = subprocess.run([sys.executable, "-c", FAULTY, str(project.public), code,
                             str(after), str(project.root)],
                            capture_output=True, text=True, check=False)
    assert_refused(result, reason)
    assert state(project.public) == before
    assert_recovers(project)

