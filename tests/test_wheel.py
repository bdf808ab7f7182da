"""feeder installs and runs anywhere: its wheel, in a new virtual environment outside the
repository, starts a site with `feeder init` and builds it."""

from __future__ import annotations

import os
import subprocess
import sys
import zipfile
from pathlib import Path

import feedparser
import pytest

from tests.conftest import REPO


def _run(args: list[str | Path], cwd: Path) -> subprocess.CompletedProcess[str]:
    env = {key: value for key, value in os.environ.items()
           if key not in ("PYTHONPATH", "VIRTUAL_ENV", "PYTHONHOME")}
    done = subprocess.run([str(arg) for arg in args], cwd=cwd, env=env, capture_output=True,
                          text=True, timeout=600, check=False)
    assert done.returncode == 0, f"{args}\n{done.stdout}\n{done.stderr}"
    return done


@pytest.mark.slow
def test_the_wheel_installs_in_a_new_venv_and_starts_and_builds_a_site(tmp_path: Path) -> None:
    wheels = tmp_path / "wheels"
    _run([sys.executable, "-m", "pip", "wheel", "--no-deps", "-q", "-w", wheels, REPO],
         cwd=tmp_path)
    (wheel,) = wheels.glob("*.whl")
    assert wheel.name.startswith("feeder_briefs-")
    with zipfile.ZipFile(wheel) as archive:
        names = set(archive.namelist())
    assert {"feeder/cli.py", "feeder/templates/base.html", "feeder/templates/404.html"} <= names
    assert not any(name.startswith(("tests/", "content/", "public/")) for name in names)

    venv = tmp_path / "venv"
    _run([sys.executable, "-m", "venv", venv], cwd=tmp_path)
    scripts = venv / ("Scripts" if os.name == "nt" else "bin")
    _run([scripts / "python", "-m", "pip", "install", "-q", wheel], cwd=tmp_path)
    site = tmp_path / "elsewhere" / "my-news"
    site.parent.mkdir()
    feeder = scripts / "feeder"
    _run([feeder, "init", site, "--title", "My News", "--base-url", "https://news.example.net/"],
         cwd=site.parent)
    built = _run([feeder, "build"], cwd=site)
    assert "written" in built.stderr
    # The package it ran is the wheel's, not this repository's.
    where = _run([scripts / "python", "-c", "import feeder; print(feeder.__file__)"], cwd=site)
    assert Path(where.stdout.strip()).is_relative_to(venv)

    feed = feedparser.parse((site / "public" / "atom.xml").read_bytes())
    assert feed.bozo == 0
    assert feed.feed.title == "My News"
    assert len(feed.entries) == 1
    assert feed.entries[0].link.startswith("https://news.example.net/")
    assert (site / "public" / "sitemap.xml").is_file()
