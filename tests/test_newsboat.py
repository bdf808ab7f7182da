"""A real feed reader follows one tag: Debian's newsboat, against `feeder serve` on loopback.

newsboat runs without a terminal (`-x reload`), with its own urls file, cache and HOME in a
temporary folder; what it fetched is then read from its cache (SQLite).
"""

from __future__ import annotations

import os
import shutil
import sqlite3
import subprocess
from pathlib import Path

import pytest

from tests.conftest import Project, house
from tests.serving import feeder_serve


def newsboat(home: Path, urls: list[str]) -> sqlite3.Connection:
    """Subscribe newsboat to `urls`, reload them once, and open its cache."""
    (home / "urls").write_text("".join(f"{url}\n" for url in urls), encoding="utf-8")
    result = subprocess.run(
        ["newsboat", "-x", "reload", "-u", str(home / "urls"), "-c", str(home / "cache.db")],
        env={"HOME": str(home), "PATH": os.environ.get("PATH", ""), "TERM": "dumb",
             "LANG": "C.UTF-8"},
        stdin=subprocess.DEVNULL, capture_output=True, text=True, timeout=120, check=False)
    assert result.returncode == 0, result.stdout + result.stderr
    return sqlite3.connect(home / "cache.db")


@pytest.fixture
def reader_home(tmp_path: Path) -> Path:
    if shutil.which("newsboat") is None:
        if os.environ.get("CI"):
            pytest.fail("newsboat is not installed: .ci/run installs it")
        pytest.skip("newsboat is not installed (apt-get install newsboat)")
    home = tmp_path / "home"
    home.mkdir()
    return home


def test_newsboat_following_one_tag_gets_exactly_that_tags_briefs(
        project: Project, reader_home: Path) -> None:
    project.brief("2016-10-03-colombia.txt", house("Colombia Votes No", "Americas, politics"))
    project.brief("2016-10-04-radio-silent.txt", house("We Don't Talk Anymore", "Russia, US"))
    project.brief("2016-10-09-iskander.txt", house("Missiles Next Door", "russia, Europe"))
    project.brief("2016-10-14-dylan.txt", house("Dylan & the Nobel", "culture"))
    project.brief("2016-10-21-aleppo.txt", house("Eleven Quiet Hours in Aleppo",
                                                 "Russia, Syria"))
    with feeder_serve(project.root, "--verbose") as served:  # --verbose logs requests
        feed_url = served.url + "tags/russia/atom.xml"
        cache = newsboat(reader_home, [feed_url])
        with cache:
            items = cache.execute("SELECT feedurl, title, guid, url FROM rss_item "
                                  "ORDER BY pubDate DESC").fetchall()
            feeds = cache.execute("SELECT rssurl, title FROM rss_feed").fetchall()
        cache.close()
        assert feeds == [(feed_url, "Test Briefs: Russia")]
        assert items == [
            (feed_url, "Eleven Quiet Hours in Aleppo", "tag:news.example.com,2016-10-21:aleppo",
             "https://news.example.com/2016/10/21/aleppo/"),
            (feed_url, "Missiles Next Door", "tag:news.example.com,2016-10-09:iskander",
             "https://news.example.com/2016/10/09/iskander/"),
            (feed_url, "We Don't Talk Anymore", "tag:news.example.com,2016-10-04:radio-silent",
             "https://news.example.com/2016/10/04/radio-silent/"),
        ]

        # a reload changes nothing: same entries, nothing seen twice
        cache = newsboat(reader_home, [feed_url])
        with cache:
            again = cache.execute("SELECT feedurl, title, guid, url FROM rss_item "
                                  "ORDER BY pubDate DESC").fetchall()
        cache.close()
        assert again == items
        assert any("GET /tags/russia/atom.xml" in line for line in served.stderr.splitlines())


def test_newsboat_reads_the_rss_feed_of_a_tag_too(project: Project, reader_home: Path) -> None:
    project.brief("2016-10-04-a.txt", house("Tagged", "weather"))
    project.brief("2016-10-05-b.txt", house("Not tagged so", "sport"))
    with feeder_serve(project.root) as served:
        feed_url = served.url + "tags/weather/rss.xml"
        cache = newsboat(reader_home, [feed_url])
        with cache:
            titles = cache.execute("SELECT title FROM rss_item WHERE feedurl = ?",
                                   (feed_url,)).fetchall()
        cache.close()
    assert titles == [("Tagged",)]
