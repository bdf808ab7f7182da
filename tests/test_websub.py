"""WebSub: feeds announce their hubs, and builds tell a real local hub exactly what changed."""

from __future__ import annotations

import json
import os
import shutil
import socket
import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qsl

import pytest
from click.testing import CliRunner, Result
from lxml import etree

from feeder import websub
from feeder.cli import cli
from feeder.websub import changed_feed_urls, changed_files, ping_hubs
from tests.conftest import ATOM, Project, house

BASE = "https://news.example.com/"
JAPAN = "tags/%E6%97%A5%E6%9C%AC/"  # the folder of the tag 日本, as a URL path


def feed_urls(*folders: str) -> list[str]:
    return [f"{BASE}{folder}{name}" for folder in folders
            for name in ("atom.xml", "rss.xml", "feed.json")]


@dataclass(frozen=True)
class Received:
    method: str
    path: str
    content_type: str | None
    user_agent: str | None
    form: tuple[tuple[str, str], ...]


class _QuietServer(ThreadingHTTPServer):
    daemon_threads = True

    def handle_error(self, _request: Any, _client_address: Any) -> None:
        """A client that gave up (timed out) is expected here, not an error."""


class Hub:
    """A WebSub hub on 127.0.0.1 that records every request and answers as `answer` says.

    `answer(feed URL)` gives the HTTP status, or None for a hub that never answers.
    """

    def __init__(self, answer: Callable[[str], int | None]) -> None:
        self.answer = answer
        self.received: list[Received] = []
        self.lock = threading.Lock()
        self.release = threading.Event()
        hub = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers.get("Content-Length", "0")))
                form = tuple(parse_qsl(body.decode("ascii"), keep_blank_values=True,
                                       strict_parsing=True))
                self._record("POST", form)
                status = hub.answer(dict(form).get("hub.url", ""))
                if status is None:
                    hub.release.wait(30)
                    return
                self.send_response(status)
                if 300 <= status < 400:
                    self.send_header("Location", f"{hub.url}/moved")
                text = b"" if status < 300 else f"hub says {status}\n\n  for a reason".encode()
                self.send_header("Content-Length", str(len(text)))
                self.end_headers()
                self.wfile.write(text)

            def do_GET(self) -> None:
                self._record("GET", ())
                self.send_response(404)
                self.send_header("Content-Length", "0")
                self.end_headers()

            def _record(self, method: str, form: tuple[tuple[str, str], ...]) -> None:
                with hub.lock:
                    hub.received.append(Received(method, self.path,
                                                 self.headers.get("Content-Type"),
                                                 self.headers.get("User-Agent"), form))

            def log_message(self, format: str, *args: Any) -> None:
                pass

        self.server = _QuietServer(("127.0.0.1", 0), Handler)
        self.thread = threading.Thread(target=self.server.serve_forever, args=(0.02,),
                                       daemon=True)
        self.thread.start()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server.server_address[1]}/hub"

    def pinged(self) -> list[str]:
        """The feed URLs received so far, in order."""
        with self.lock:
            return [dict(r.form)["hub.url"] for r in self.received if r.method == "POST"]

    def stop(self) -> None:
        self.release.set()
        self.server.shutdown()
        self.server.server_close()
        self.thread.join(5)


@pytest.fixture
def start_hub() -> Iterator[Callable[..., Hub]]:
    hubs: list[Hub] = []

    def start(answer: Callable[[str], int | None] = lambda _url: 204) -> Hub:
        hubs.append(Hub(answer))
        return hubs[-1]

    yield start
    for hub in hubs:
        hub.stop()


@pytest.fixture
def fast_retries(monkeypatch: pytest.MonkeyPatch) -> None:
    """Retries wait 10 ms, 20 ms instead of 0.5 s, 1 s: the same code, a faster suite."""
    monkeypatch.setattr(websub, "BACKOFF", 0.01)


def closed_port_url() -> str:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    return f"http://127.0.0.1:{port}/hub"


def with_hubs(project: Project, *hubs: str) -> None:
    project.settings(f'title = "Test Briefs"\nbase_url = "{BASE}"\nhubs = {json.dumps(hubs)}\n')


def run(runner: CliRunner, project: Project, *args: str) -> Result:
    return runner.invoke(cli, [*args, "-C", str(project.root)])


def failed(result: Result, code: int) -> None:
    assert result.exit_code == code, result.output
    assert isinstance(result.exception, SystemExit)
    assert "Traceback" not in result.output


# --- the feeds announce the hubs ---------------------------------------------------------------

def test_every_feed_announces_the_hubs_in_every_format(project: Project) -> None:
    with_hubs(project, "https://hub.example.net/", "https://hub2.example.org/publish")
    project.brief("2016-10-04-a.txt", house("A", "x, 日本"))
    project.build()
    hubs = ["https://hub.example.net/", "https://hub2.example.org/publish"]
    for folder in ("", "tags/x/", "tags/日本/"):
        atom = project.feed(folder + "atom.xml").feed
        assert [link.href for link in atom.links if link.rel == "hub"] == hubs
        assert [link.href for link in atom.links if link.rel == "self"] == [
            f"{BASE}{folder.replace('tags/日本/', JAPAN)}atom.xml"]
        channel = etree.fromstring((project.public / folder / "rss.xml").read_bytes())[0]
        assert [link.get("href") for link in channel.iter(f"{ATOM}link")
                if link.get("rel") == "hub"] == hubs
        data = json.loads((project.public / folder / "feed.json").read_bytes())
        assert data["hubs"] == [{"type": "WebSub", "url": hub} for hub in hubs]


def test_without_hubs_no_feed_mentions_one(project: Project) -> None:
    project.brief("2016-10-04-a.txt", house("A", "x"))
    project.build()
    for rel in ("atom.xml", "rss.xml", "tags/x/atom.xml"):
        assert b'rel="hub"' not in (project.public / rel).read_bytes()
    assert "hubs" not in json.loads((project.public / "feed.json").read_bytes())


# --- which feeds changed -------------------------------------------------------------------------

def test_changed_feed_urls_are_the_subscription_feeds_whose_bytes_changed(
        project: Project) -> None:
    project.brief("2016-10-04-a.txt", house("A", "x"))
    project.brief("2016-10-05-b.txt", house("B", "日本"))
    first = project.build()
    assert changed_feed_urls(first.site, first.report.written) == tuple(
        feed_urls("", "tags/x/", JAPAN))
    project.brief("2016-10-06-c.txt", house("C", "日本"))
    second = project.build()
    assert changed_feed_urls(second.site, second.report.written) == tuple(feed_urls("", JAPAN))
    assert changed_feed_urls(second.site, ()) == ()  # what a rebuild with no change writes
    assert project.build().report.written == ()


def test_pages_the_manifest_and_archive_documents_are_never_pinged(project: Project) -> None:
    project.settings(f'base_url = "{BASE}"\nmax_entries = 1\narchive_page_size = 1\n')
    project.brief("2016-10-04-a.txt", house("A", "x"))
    project.brief("2016-10-05-b.txt", house("B", "x"))
    project.build()
    project.brief("2016-10-06-c.txt", house("C", "x"))
    result = project.build()
    assert {"archive/2/atom.xml", "tags/x/archive/2/rss.xml", "index.html",
            "tags/x/index.html"} <= set(result.report.written)
    assert any(feed.archive for feed in result.site.feeds)
    assert changed_feed_urls(result.site, result.report.written) == tuple(
        feed_urls("", "tags/x/"))
    assert changed_feed_urls(result.site, ["index.html", "tags/x/index.html", "feeds.opml",
                                           ".feeder-manifest.json", "atom.xml/"]) == ()


def test_only_the_published_formats_are_pinged(project: Project) -> None:
    project.settings(f'base_url = "{BASE}"\nformats = ["json"]\n')
    project.brief("2016-10-04-a.txt", house("A", "x"))
    result = project.build()
    assert changed_feed_urls(result.site, result.report.written) == (
        f"{BASE}feed.json", f"{BASE}tags/x/feed.json")


def test_changed_files_compares_two_manifests() -> None:
    before = {"atom.xml": "1", "rss.xml": "2", "gone.xml": "3"}
    after = {"atom.xml": "1", "rss.xml": "9", "tags/x/atom.xml": "4"}
    assert changed_files(before, after) == ("rss.xml", "tags/x/atom.xml")
    assert changed_files({}, after) == ("atom.xml", "rss.xml", "tags/x/atom.xml")
    assert changed_files(after, after) == ()


# --- the ping client against a real hub ----------------------------------------------------------

def test_build_ping_sends_exactly_the_changed_feeds(
        runner: CliRunner, project: Project, start_hub: Callable[..., Hub]) -> None:
    hub = start_hub()
    with_hubs(project, hub.url)
    project.brief("2016-10-04-a.txt", house("A", "x"))
    project.brief("2016-10-05-b.txt", house("B", "日本"))
    result = run(runner, project, "build", "--ping")
    assert result.exit_code == 0, result.output
    everything = feed_urls("", "tags/x/", JAPAN)
    assert hub.pinged() == everything
    for request in hub.received:  # one form-encoded POST per feed URL, nothing else
        assert (request.method, request.path) == ("POST", "/hub")
        assert request.content_type == "application/x-www-form-urlencoded"
        assert request.user_agent is not None
        assert request.user_agent.startswith("feeder/")
        assert [key for key, _ in request.form] == ["hub.mode", "hub.url"]
        assert dict(request.form)["hub.mode"] == "publish"
    assert result.stderr.splitlines()[1:] == [
        f"{hub.url}: 9 of 9 changed feeds accepted (HTTP 204)"]

    for _ in range(3):  # the second and third no-op builds may replay the build cache
        again = run(runner, project, "build", "--ping")
        assert again.exit_code == 0, again.output
        assert again.stderr.splitlines()[1:] == ["no feed changed: no hub pinged"]
    assert len(hub.received) == 9

    project.brief("2016-10-05-b.txt", house("B", "日本", short="A corrected short version."))
    edited = run(runner, project, "build", "--ping", "-v")
    assert edited.exit_code == 0, edited.output
    assert hub.pinged()[9:] == feed_urls("", JAPAN)
    assert f"{hub.url}: {BASE}{JAPAN}rss.xml: HTTP 204 No Content" in edited.stderr.splitlines()


@pytest.mark.usefixtures("fast_retries")
def test_a_hub_answering_500_is_retried_then_reported_and_strict_fails(
        runner: CliRunner, project: Project, start_hub: Callable[..., Hub]) -> None:
    hub = start_hub(lambda _url: 500)
    with_hubs(project, hub.url)
    project.brief("2016-10-04-a.txt", house("A", "x"))
    result = run(runner, project, "build", "--ping")
    assert result.exit_code == 0, result.output
    assert hub.pinged() == [f"{BASE}atom.xml"] * 3  # retried, then the hub counts as down
    assert result.stderr.splitlines()[1:] == [
        f"{hub.url}: 0 of 6 changed feeds accepted",
        f"{hub.url}: warning: {BASE}atom.xml not accepted: HTTP 500 Internal Server Error: "
        "hub says 500 for a reason (after 3 attempts)",
        f"{hub.url}: warning: 5 more changed feeds not sent, since the hub is failing",
    ]
    assert [e.title for e in project.feed("atom.xml").entries] == ["A"]  # the build stands

    project.brief("2016-10-05-b.txt", house("B", "x"))
    strict = run(runner, project, "build", "--ping", "--strict", "-q")
    failed(strict, 1)
    assert strict.stderr.splitlines() == [
        f"{hub.url}: {BASE}atom.xml not accepted: HTTP 500 Internal Server Error: "
        "hub says 500 for a reason (after 3 attempts)",
        f"{hub.url}: 5 more changed feeds not sent, since the hub is failing",
    ]
    assert [e.title for e in project.feed("atom.xml").entries] == ["B", "A"]


@pytest.mark.usefixtures("fast_retries")
def test_a_hub_that_never_answers_times_out(
        runner: CliRunner, project: Project, start_hub: Callable[..., Hub]) -> None:
    hub = start_hub(lambda _url: None)
    with_hubs(project, hub.url)
    project.brief("2016-10-04-a.txt", house("A", "x"))
    result = run(runner, project, "build", "--ping", "--hub-timeout", "0.2")
    assert result.exit_code == 0, result.output
    assert hub.pinged() == [f"{BASE}atom.xml"] * 3
    assert result.stderr.splitlines()[2:] == [
        f"{hub.url}: warning: {BASE}atom.xml not accepted: no answer within 0.2 s "
        "(after 3 attempts)",
        f"{hub.url}: warning: 5 more changed feeds not sent, since the hub is failing",
    ]
    project.brief("2016-10-05-b.txt", house("B", "x"))
    failed(run(runner, project, "build", "--ping", "--strict", "--hub-timeout", "0.2"), 1)


def test_a_hub_answering_4xx_is_not_retried(
        runner: CliRunner, project: Project, start_hub: Callable[..., Hub]) -> None:
    hub = start_hub(lambda url: 400 if url.endswith("rss.xml") else 202)
    with_hubs(project, hub.url)
    project.brief("2016-10-04-a.txt", house("A", "x"))
    result = run(runner, project, "build", "--ping")
    assert result.exit_code == 0, result.output
    assert hub.pinged() == feed_urls("", "tags/x/")  # each once: a refusal is final
    assert result.stderr.splitlines()[1:] == [
        f"{hub.url}: 4 of 6 changed feeds accepted (HTTP 202)",
        f"{hub.url}: warning: {BASE}rss.xml not accepted: HTTP 400 Bad Request: "
        "hub says 400 for a reason",
        f"{hub.url}: warning: {BASE}tags/x/rss.xml not accepted: HTTP 400 Bad Request: "
        "hub says 400 for a reason",
    ]


def test_retries_back_off_exponentially_and_a_recovered_hub_counts(
        start_hub: Callable[..., Hub]) -> None:
    answers = iter([503, 502, 204, 204])
    hub = start_hub(lambda _url: next(answers))
    waits: list[float] = []
    report = ping_hubs([hub.url], ["https://n.example/atom.xml", "https://n.example/rss.xml"],
                       sleep=waits.append)
    assert waits == [0.5, 1.0]
    assert [(a.status, a.attempts) for a in report.answers] == [(204, 3), (204, 1)]
    assert report.failed == ()
    assert report.problems() == ()
    assert report.summary() == (f"{hub.url}: 2 of 2 changed feeds accepted (HTTP 204)",)


def test_a_hub_that_is_down_does_not_stop_the_others(start_hub: Callable[..., Hub]) -> None:
    good = start_hub()
    down = closed_port_url()
    urls = ["https://n.example/atom.xml", "https://n.example/rss.xml"]
    waits: list[float] = []
    report = ping_hubs([down, good.url], urls, attempts=4, backoff=0.25, sleep=waits.append)
    assert waits == [0.25, 0.5, 1.0]  # the down hub's first URL only; then it is skipped
    assert good.pinged() == urls
    assert [str(p) for p in report.problems()] == [
        f"{down}: warning: https://n.example/atom.xml not accepted: cannot connect: "
        "connection refused (after 4 attempts)",
        f"{down}: warning: 1 more changed feeds not sent, since the hub is failing",
    ]
    assert [a.ok for a in report.answers] == [False, False, True, True]


def test_a_redirect_is_reported_not_followed(start_hub: Callable[..., Hub]) -> None:
    hub = start_hub(lambda _url: 307)
    report = ping_hubs([hub.url], ["https://n.example/atom.xml"], sleep=pytest.fail)
    assert [(r.method, r.path) for r in hub.received] == [("POST", "/hub")]
    assert report.answers[0].describe() == (
        f"HTTP 307 Temporary Redirect: hub says 307 for a reason; redirects to {hub.url}/moved "
        "(put that URL in hubs)")


def test_ping_without_hubs_is_a_settings_error(runner: CliRunner, project: Project) -> None:
    project.brief("2016-10-04-a.txt", house("A", "x"))
    result = run(runner, project, "build", "--ping")
    failed(result, 2)
    assert result.stderr == ('feeder.toml: no hubs to ping: set hubs, e.g. '
                             'hubs = ["https://pubsubhubbub.appspot.com/"]\n')
    assert not project.public.exists()


# --- feeder ping, after a deploy -----------------------------------------------------------------

def test_ping_since_a_saved_record_sends_what_changed_since(
        runner: CliRunner, project: Project, start_hub: Callable[..., Hub]) -> None:
    hub = start_hub()
    with_hubs(project, hub.url)
    project.brief("2016-10-04-a.txt", house("A", "x"))
    failed(run(runner, project, "ping"), 1)  # nothing built yet
    assert run(runner, project, "build").exit_code == 0
    assert hub.received == []  # build without --ping sends nothing
    deployed = project.root / "deployed.sqlite"
    shutil.copy(project.database, deployed)
    project.brief("2016-10-05-b.txt", house("B", "日本"))
    assert run(runner, project, "build").exit_code == 0

    result = run(runner, project, "ping", "--since", str(deployed))
    assert result.exit_code == 0, result.output
    assert hub.pinged() == feed_urls("", JAPAN)
    assert result.stderr == f"{hub.url}: 6 of 6 changed feeds accepted (HTTP 204)\n"

    shutil.copy(project.database, deployed)
    nothing = run(runner, project, "ping", "--since", str(deployed))
    assert nothing.stderr == "no feed changed: no hub pinged\n"
    assert len(hub.received) == 6

    first_deploy = run(runner, project, "ping", "--since", str(project.root / "missing.json"))
    assert first_deploy.exit_code == 0, first_deploy.output
    assert first_deploy.stderr.splitlines()[0].endswith(
        "missing.json: not found, so every feed counts as changed")
    assert hub.pinged()[6:] == feed_urls("", "tags/x/", JAPAN)
    assert run(runner, project, "ping", "-q").stderr == ""
    assert hub.pinged()[15:] == feed_urls("", "tags/x/", JAPAN)

    # a saved record that is not one (edited by hand, damaged, a FIFO) is ignored, with one
    # warning: every feed is pinged
    deployed.write_text('{"not": "a manifest"}')
    bad = run(runner, project, "ping", "--since", str(deployed))
    assert bad.exit_code == 0, bad.output
    assert bad.stderr.splitlines()[0].endswith(
        "deployed.sqlite: warning: not a copy of feeder's build record "
        "(.feeder-cache/feeder.sqlite): ignored, so every feed counts as changed")
    assert hub.pinged()[-9:] == feed_urls("", "tags/x/", JAPAN)
    for hostile in (b"\0" * 40, b'{"version": 1, "files": {"\\ud800": 1}}',
                    b"[" * 200_000 + b"]" * 200_000):
        deployed.write_bytes(hostile)
        result = run(runner, project, "ping", "--since", str(deployed))
        assert result.exit_code == 0, result.output
        assert "ignored, so every feed counts as changed" in result.stderr
    deployed.unlink()
    os.mkfifo(deployed)
    fifo = run(runner, project, "ping", "--since", str(deployed))
    assert fifo.exit_code == 0, fifo.output
    assert "deployed.sqlite: warning: not a regular file: ignored" in fifo.stderr


def test_check_strict_passes_a_clean_project_for_ci(runner: CliRunner, project: Project) -> None:
    project.brief("2016-10-04-a.txt", house("A", "x"))
    result = run(runner, project, "check", "--strict")
    assert result.exit_code == 0, result.output
    assert result.stderr == "checked 1 brief file: 0 errors, 0 warnings\n"


def test_check_strict_shows_the_warnings_that_fail_it_even_when_quiet(
        runner: CliRunner, project: Project) -> None:
    project.brief("2016-10-04-a.txt", "---\ntitel: x\n---\n" + house("A", "x"), dedent=False)
    assert run(runner, project, "check", "-q").stderr == ""
    result = run(runner, project, "check", "--strict", "-q")
    failed(result, 1)
    assert result.stderr.splitlines() == [
        "content/2016-10-04-a.txt:2: warning: unknown front matter key 'titel' is ignored; did "
        "you mean 'title'?",
        "checked 1 brief file: 0 errors, 1 warning",
    ]
