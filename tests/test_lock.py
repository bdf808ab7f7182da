"""Two builds of one project at once: the second waits (saying so), or gives up after
`lock_timeout` seconds with a clear error. Real processes hold and wait for the lock."""

from __future__ import annotations

import fcntl
import os
import re
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest

from feeder.errors import OutputError
from feeder.lock import LOCK_FILE
from tests.conftest import NOW, Project, house

WAITING = "waiting for another build of this project to finish (lock .feeder.lock, up to {} s)..."


@pytest.fixture
def site(project: Project) -> Project:
    project.brief("2016-10-04-a.txt", house("A", "x"))
    return project


def timeout(project: Project, seconds: float) -> None:
    project.settings('title = "Test Briefs"\nbase_url = "https://news.example.com/"\n'
                     f"lock_timeout = {seconds}\n")


@contextmanager
def held(project: Project) -> Iterator[None]:
    """Hold the project's lock from this process, as another build would."""
    fd = os.open(project.root / LOCK_FILE, os.O_RDWR | os.O_CREAT, 0o644)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX)
        yield
    finally:
        os.close(fd)


def feeder(project: Project, *args: str) -> subprocess.Popen[str]:
    return subprocess.Popen([sys.executable, "-m", "feeder", *args, "-C", str(project.root)],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)


def test_a_second_build_waits_then_gives_up_after_lock_timeout(site: Project) -> None:
    timeout(site, 1)
    with held(site):
        started = time.monotonic()
        proc = feeder(site, "build")
        out, err = proc.communicate(timeout=60)
        waited = time.monotonic() - started
    assert proc.returncode == 1
    assert out == ""
    assert err.splitlines() == [
        WAITING.format(1),
        ".feeder.lock: another build of this project is still running after 1 s; giving up "
        "(wait for it to finish, or raise the lock_timeout setting)"]
    assert waited >= 1
    assert not site.public.exists()


def test_a_waiting_build_goes_ahead_when_the_other_one_ends(site: Project) -> None:
    with held(site):
        proc = feeder(site, "build")
        assert proc.stderr is not None
        assert proc.stderr.readline() == WAITING.format(60) + "\n"
        time.sleep(0.3)  # still waiting: nothing written while the lock is held
        assert proc.poll() is None
        assert not site.public.exists()
    out, err = proc.communicate(timeout=60)
    assert proc.returncode == 0, err
    assert out == ""
    assert re.match(r"public: \d+ written, 0 removed, 0 unchanged ", err)
    assert (site.public / "atom.xml").is_file()
    assert not (site.public / LOCK_FILE).exists()  # the lock file is never published


def test_a_killed_build_leaves_no_stale_lock(site: Project) -> None:
    """The lock is the kernel's: it goes with the process that held it, however it ended."""
    holder = subprocess.Popen(
        [sys.executable, "-c",
         "import sys, time; from pathlib import Path; from feeder.lock import project_lock\n"
         f"with project_lock(Path({str(site.root / LOCK_FILE)!r}), timeout=0):\n"
         "    print('locked', flush=True); time.sleep(60)"],
        stdout=subprocess.PIPE, text=True)
    assert holder.stdout is not None
    assert holder.stdout.readline() == "locked\n"
    timeout(site, 0)
    blocked = feeder(site, "build")
    assert blocked.communicate(timeout=60)[1].startswith(WAITING.format(0))
    assert blocked.returncode == 1
    holder.send_signal(signal.SIGKILL)
    holder.wait()
    holder.stdout.close()
    assert (site.root / LOCK_FILE).exists()
    proc = feeder(site, "build")
    err = proc.communicate(timeout=60)[1]
    assert proc.returncode == 0, err
    assert "waiting" not in err


def test_check_takes_no_lock(site: Project) -> None:
    timeout(site, 0)
    with held(site):
        proc = feeder(site, "check")
        err = proc.communicate(timeout=60)[1]
    assert proc.returncode == 0, err
    assert err == "checked 1 brief file: 0 errors, 0 warnings\n"


def test_quiet_builds_wait_silently(site: Project) -> None:
    timeout(site, 0.2)
    with held(site):
        proc = feeder(site, "build", "-q")
        err = proc.communicate(timeout=60)[1]
    assert proc.returncode == 1
    assert err.splitlines() == [
        ".feeder.lock: another build of this project is still running after 0.2 s; giving up "
        "(wait for it to finish, or raise the lock_timeout setting)"]


def test_the_library_tells_the_caller_about_the_wait(site: Project) -> None:
    from feeder.pipeline import build

    timeout(site, 0.1)
    heard: list[str] = []
    with held(site), pytest.raises(OutputError) as raised:
        build(site.config(), now=NOW, on_wait=heard.append)
    assert heard == [WAITING.format(0.1)]
    assert raised.value.exit_code == 1
    build(site.config(), now=NOW, on_wait=heard.append)  # free again: no wait, no message
    assert len(heard) == 1


def test_a_lock_file_that_cannot_be_created_is_a_clear_error(site: Project) -> None:
    (site.root / LOCK_FILE).mkdir()
    proc = feeder(site, "build")
    err = proc.communicate(timeout=60)[1]
    assert proc.returncode == 1
    assert err == ".feeder.lock: cannot create the lock file: Is a directory\n"
    assert not site.public.exists()


def test_the_lock_file_is_ignored_by_git() -> None:
    from tests.conftest import REPO

    assert LOCK_FILE in (REPO / ".gitignore").read_text(encoding="utf-8").splitlines()


def test_lock_timeout_must_be_a_number_of_seconds(site: Project) -> None:
    site.settings('base_url = "https://news.example.com/"\nlock_timeout = -1\n')
    proc = feeder(site, "build")
    err = proc.communicate(timeout=60)[1]
    assert proc.returncode == 2
    assert err == "feeder.toml:2: lock_timeout: must not be negative, got -1\n"


def test_a_missing_project_folder_is_reported_as_such(tmp_path: Path) -> None:
    missing = tmp_path / "nowhere"
    proc = subprocess.run([sys.executable, "-m", "feeder", "build", "-q", "-C", str(missing)],
                          capture_output=True, text=True, check=False)
    assert proc.returncode == 2
    assert proc.stderr == "content: content folder not found; create it or set content_dir\n"
    assert not (missing / LOCK_FILE).exists()
