"""The pages in a real browser: Debian's Chromium, headless, driven by Selenium and chromedriver.

`feeder serve` serves a build of the sample publication; the browser opens the index, follows
links to the tags, a tag page and a brief page, and back to another tag, checking on each that
the page rendered and names the right feeds in its head. It keeps a screenshot of the index
page; `pytest --update-golden` copies it to docs/screenshot-index.png for the README.
"""

from __future__ import annotations

import os
import shutil
import struct
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import REPO
from tests.serving import feeder_serve, fetch, sample_project, wait_for

CHROMIUM = Path("/usr/bin/chromium")
CHROMEDRIVER = Path("/usr/bin/chromedriver")
SCREENSHOT = REPO / "docs" / "screenshot-index.png"
FLAGS = ("--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
         "--disable-component-update", "--disable-sync", "--no-first-run",
         "--disable-dev-shm-usage", "--window-size=1000,1300", "--force-device-scale-factor=1")
ATOM, RSS, JSON = "application/atom+xml", "application/rss+xml", "application/feed+json"


@pytest.fixture(scope="module")
def browser(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Any]:
    if not (CHROMIUM.exists() and CHROMEDRIVER.exists()):
        if os.environ.get("CI"):
            pytest.fail("chromium and chromium-driver are not installed: .ci/run installs them")
        pytest.skip("needs Debian's chromium and chromium-driver (apt-get install ...)")
    from selenium import webdriver
    from selenium.webdriver.chrome.options import Options
    from selenium.webdriver.chrome.service import Service

    os.environ["SE_OFFLINE"] = "true"  # Selenium Manager must not try to download anything
    options = Options()
    options.binary_location = str(CHROMIUM)
    for flag in FLAGS:
        options.add_argument(flag)
    options.add_argument(f"--user-data-dir={tmp_path_factory.mktemp('chromium')}")
    driver = webdriver.Chrome(service=Service(str(CHROMEDRIVER)), options=options)
    driver.set_page_load_timeout(60)
    try:
        yield driver
    finally:
        driver.quit()


def head_feeds(driver: Any) -> list[tuple[str, str, str]]:
    """(type, absolute href, title) of each <link rel="alternate"> in the page's head."""
    from selenium.webdriver.common.by import By

    return [(link.get_attribute("type"), link.get_attribute("href"), link.get_attribute("title"))
            for link in driver.find_elements(By.CSS_SELECTOR, "head link[rel='alternate']")]


def check_rendered(driver: Any) -> None:
    """The page has content, its stylesheet applied, and no script (but the live reload one
    `feeder serve` adds)."""
    assert driver.execute_script("return Array.from(document.scripts).filter("
                                 "s => !s.text.includes('/.feeder-live')).length") == 0
    assert driver.execute_script("return document.styleSheets.length") == 1
    assert driver.execute_script(
        "return getComputedStyle(document.body).maxWidth") == "672px"  # 42rem: the stylesheet
    assert driver.execute_script("return document.querySelector('main').innerText.length") > 100


def check_feed_links(feeds: list[tuple[str, str, str]]) -> None:
    for media_type, href, _ in feeds:
        response = fetch(href)
        assert response.status == 200, href
        assert response.headers["content-type"] == media_type


def test_pages_render_and_link_to_each_other_in_chromium(browser: Any, tmp_path: Path,
                                                        update_golden: bool) -> None:
    from selenium.webdriver.common.by import By

    root = sample_project(tmp_path)
    with feeder_serve(root) as served:
        url = served.url
        # the index
        browser.get(url)
        assert browser.title == "The Short of It"
        assert browser.find_element(By.TAG_NAME, "h1").text == "The Short of It"
        check_rendered(browser)
        feeds = head_feeds(browser)
        assert feeds == [(ATOM, url + "atom.xml", "The Short of It (Atom)"),
                         (RSS, url + "rss.xml", "The Short of It (RSS)"),
                         (JSON, url + "feed.json", "The Short of It (JSON Feed)")]
        check_feed_links(feeds)
        articles = browser.find_elements(By.CSS_SELECTOR, "main article")
        assert len(articles) == 29
        shot = tmp_path / "screenshot-index.png"
        assert browser.save_screenshot(str(shot))

        # the tags, through the navigation
        browser.find_element(By.LINK_TEXT, "Tags").click()
        assert browser.current_url == url + "tags/"
        check_rendered(browser)
        assert browser.find_element(By.TAG_NAME, "h1").text == "Tags"
        browser.find_element(By.LINK_TEXT, "russia").click()

        # a tag page: that tag's feeds only, and a subscribe link for each
        assert browser.current_url == url + "tags/russia/"
        check_rendered(browser)
        assert browser.find_element(By.TAG_NAME, "h1").text == "Briefs tagged russia"
        feeds = head_feeds(browser)
        assert [(t, h) for t, h, _ in feeds] == [
            (ATOM, url + "tags/russia/atom.xml"), (RSS, url + "tags/russia/rss.xml"),
            (JSON, url + "tags/russia/feed.json")]
        check_feed_links(feeds)
        subscribe = browser.find_elements(By.CSS_SELECTOR, "section.subscribe a")
        assert [(a.text, a.get_attribute("href")) for a in subscribe] == [
            ("Subscribe (Atom)", url + "tags/russia/atom.xml"),
            ("Subscribe (RSS)", url + "tags/russia/rss.xml"),
            ("Subscribe (JSON Feed)", url + "tags/russia/feed.json")]
        titles = [a.text for a in browser.find_elements(By.CSS_SELECTOR, "main article h3 a")]
        assert titles == ["Eleven Quiet Hours in Aleppo",
                          "Missiles Next Door: Russia Moves Iskanders Into Kaliningrad",
                          "We Don't Talk Anymore: Russia and US Go Radio Silent"]
        browser.find_element(By.LINK_TEXT, titles[-1]).click()

        # a brief page: the full text, its tags linked, the feeds in its head
        assert browser.current_url == url + "2016/10/04/radio-silent/"
        check_rendered(browser)
        assert browser.find_element(By.TAG_NAME, "h1").text == titles[-1]
        headings = [h.text for h in browser.find_elements(By.CSS_SELECTOR, ".content h2")]
        assert headings == ["The Short of It", "The Longer Version of It", "The Takeaway"]
        assert "Point blank" in browser.find_element(By.CSS_SELECTOR, ".content").text
        feeds = head_feeds(browser)
        assert [h for _, h, _ in feeds][:3] == [url + "atom.xml", url + "rss.xml",
                                                url + "feed.json"]
        assert url + "tags/politics/atom.xml" in [h for _, h, _ in feeds]
        check_feed_links(feeds)
        tags = browser.find_elements(By.CSS_SELECTOR, "article header a[rel='tag']")
        assert [a.text for a in tags] == ["russia", "US", "politics"]
        tags[1].click()
        assert browser.current_url == url + "tags/us/"
        assert browser.find_element(By.TAG_NAME, "h1").text == "Briefs tagged US"

        # a brief with a chart: the picture loads, at the size its attributes reserve
        browser.get(url + "2016/10/10/matthew-by-the-numbers/")
        check_rendered(browser)
        assert browser.execute_script(
            "const img = document.querySelector('.content img');"
            "return [img.complete, img.naturalWidth, img.naturalHeight,"
            " img.getAttribute('width'), img.getAttribute('height')]") == [
            True, 1200, 630, "1200", "630"]

        # and back home through the masthead
        browser.find_element(By.CSS_SELECTOR, ".masthead .name a").click()
        assert browser.current_url == url

        # readable on a phone: nothing wider than the screen
        browser.set_window_size(390, 844)
        for path in ("", "tags/", "tags/russia/", "2016/10/04/radio-silent/"):
            browser.get(url + path)
            assert browser.execute_script(
                "return document.documentElement.scrollWidth <= window.innerWidth"), path
        browser.set_window_size(1000, 1300)

        # live reload: a brief edited and saved, the page open on it shows the edit by itself
        browser.get(url + "2016/10/04/radio-silent/")
        browser.execute_script("window.feederMark = 1")
        brief = root / "content" / "2016-10-04-radio-silent.txt"
        brief.write_text(brief.read_text(encoding="utf-8").replace(
            "We Don't Talk Anymore", "We Still Don't Talk", 1), encoding="utf-8")
        wait_for(lambda: _reloaded(browser, "We Still Don't Talk"), 60, "the page to reload")

    width, height = png_size(shot)
    assert width >= 900
    assert height >= 900
    if update_golden:
        SCREENSHOT.parent.mkdir(exist_ok=True)
        shutil.copyfile(shot, SCREENSHOT)
    assert SCREENSHOT.is_file(), "run pytest tests/test_browser.py --update-golden"
    assert png_size(SCREENSHOT)[0] >= 900


def _reloaded(driver: Any, title: str) -> bool:
    try:
        return bool(driver.execute_script(
            "return window.feederMark === undefined && document.querySelector('h1') !== null"
            " && document.querySelector('h1').innerText.startsWith(arguments[0])", title))
    except Exception:  # the page is loading
        return False


def png_size(path: Path) -> tuple[int, int]:
    data = path.read_bytes()
    assert data[:8] == b"\x89PNG\r\n\x1a\n"
    width, height = struct.unpack(">II", data[16:24])
    return width, height
