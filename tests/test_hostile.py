"""Hostile names, links, settings and templates in the project folder: a clean error (exit 1
for briefs, 2 for settings and templates) naming the file on one line, never a traceback,
and public/ exactly as it was. docs/RELIABILITY.md lists these cases.

Every case is run through the command line on real files: links that loop, FIFOs, names
that are not UTF-8 (made from bytes), settings files that are folders.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import signal
import socket
import socketserver
import struct
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from click.testing import CliRunner, Result

from feeder.cli import cli
from tests.conftest import Project, house

SETTINGS = 'title = "Test Briefs"\nbase_url = "https://news.example.com/"\n'
BRIEF = house("Another", "x")


def run(runner: CliRunner, project: Project, *args: str) -> Result:
    return runner.invoke(cli, [*args, "-C", str(project.root)])


def failed(result: Result, code: int) -> list[str]:
    """The lines on stderr of a run that ended cleanly with `code`."""
    assert result.exit_code == code, result.output
    assert isinstance(result.exception, SystemExit), result.exception
    assert "Traceback" not in result.output
    return result.stderr.splitlines()


@pytest.fixture
def published(runner: CliRunner, project: Project) -> Project:
    project.brief("2016-10-04-first.txt", house("First", "x"))
    result = runner.invoke(cli, ["build", "-C", str(project.root)], catch_exceptions=False)
    assert result.exit_code == 0, result.output
    return project


def brief_bytes(project: Project, name: bytes) -> None:
    """A valid brief whose file name is `name` (any bytes)."""
    path = os.fsencode(project.content) + b"/" + name
    with open(path, "wb") as handle:  # noqa: PTH123 - a bytes path
        handle.write(BRIEF.encode())


# --- names in content/ -----------------------------------------------------------------------

NAMES: dict[str, tuple[bytes, str]] = {
    "not-utf-8": (b"2016-10-05-caf\xe9.txt", "content/2016-10-05-caf\\xe9.txt: the name is not "
                  "valid UTF-8; rename it (feeds and URLs need UTF-8 names)"),
    "newline": (b"2016-10-05-a\nb.txt", "content/2016-10-05-a\\nb.txt: the name holds a control "
                "character (such as a newline or a tab); rename it"),
    "escape": (b"2016-10-05-\x1b[31mred.txt", "content/2016-10-05-\\x1b[31mred.txt: the name "
               "holds a control character (such as a newline or a tab); rename it"),
    "folder-not-utf-8": (b"\xff\xfe", "content/\\xff\\xfe: the name is not valid UTF-8; rename "
                         "it (feeds and URLs need UTF-8 names)"),
}


@pytest.mark.parametrize(("name", "expected"), NAMES.values(), ids=NAMES.keys())
def test_a_bad_file_name_is_one_line_naming_it(runner: CliRunner, published: Project,
                                               name: bytes, expected: str) -> None:
    before = published.snapshot()
    if name.startswith(b"\xff"):  # a folder, with a valid brief in it
        os.mkdir(os.fsencode(published.content) + b"/" + name)  # noqa: PTH102 - bytes
        brief_bytes(published, name + b"/2016-10-05-inside.txt")
    else:
        brief_bytes(published, name)
    assert failed(run(runner, published, "build"), 1) == [expected]
    assert failed(run(runner, published, "check"), 1) == [
        expected, "checked 2 brief files: 1 error, 0 warnings"]
    assert published.snapshot() == before
    # --keep-going publishes the other briefs, and still names the file
    assert failed(run(runner, published, "build", "--keep-going"), 1)[0] == expected
    assert [e.title for e in published.feed("atom.xml").entries] == ["First"]


def test_a_slug_too_long_for_a_file_name_is_cut_to_fit(runner: CliRunner,
                                                       published: Project) -> None:
    # 90 letters of four bytes each: 360 bytes, more than any file system takes in a name
    published.brief("2016-10-05-long.md", "---\nslug: " + "\U00020000" * 90 + "\n---\n" + BRIEF,
                    dedent=False)
    for command in ("check", "build"):
        result = run(runner, published, command)
        assert result.exit_code == 0, result.output
    day = published.public / "2016" / "10" / "05"
    (folder,) = day.iterdir()
    assert len(os.fsencode(folder.name)) <= 255
    assert (folder / "index.html").is_file()
    assert [e.title for e in published.feed("atom.xml").entries] == ["Another", "First"]


# --- symbolic link loops -----------------------------------------------------------------------

LOOP = "symbolic link loop (it leads back to itself through links); remove it or point it at a file"
LOOPS: dict[str, tuple[dict[str, str], list[str]]] = {
    "to-itself": ({"self.md": "self.md"}, ["content/self.md"]),
    "two": ({"a.md": "b.md", "b.md": "a.md"}, ["content/a.md", "content/b.md"]),
    "three": ({"a.txt": "b.txt", "b.txt": "c.txt", "c.txt": "a.txt"},
              ["content/a.txt", "content/b.txt", "content/c.txt"]),
    "folder": ({"sub": "sub"}, ["content/sub"]),
    "in-a-subfolder": ({"deep/x.md": "y.md", "deep/y.md": "x.md"},
                       ["content/deep/x.md", "content/deep/y.md"]),
}


@pytest.mark.parametrize(("links", "named"), LOOPS.values(), ids=LOOPS.keys())
def test_a_symlink_loop_is_named_by_every_command(runner: CliRunner, published: Project,
                                                  links: dict[str, str],
                                                  named: list[str]) -> None:
    before = published.snapshot()
    for link, target in links.items():
        path = published.content / link
        path.parent.mkdir(exist_ok=True)
        path.symlink_to(target)
    expected = [f"{name}: {LOOP}" for name in named]
    total = [f"feeder: {len(named)} errors"] if len(named) > 1 else []
    assert failed(run(runner, published, "build"), 1) == expected + total
    assert failed(run(runner, published, "check"), 1)[:-1] == expected
    assert failed(run(runner, published, "tags"), 1) == expected
    assert published.snapshot() == before
    assert failed(run(runner, published, "build", "--keep-going"), 1)[:len(named)] == expected
    assert [e.title for e in published.feed("atom.xml").entries] == ["First"]


# --- settings ------------------------------------------------------------------------------------

def _replace_settings(make: Callable[[Path], None]) -> Callable[[Project], None]:
    def setup(project: Project) -> None:
        (project.root / "feeder.toml").unlink()
        make(project.root / "feeder.toml")
    return setup


def _append(text: str) -> Callable[[Project], None]:
    def setup(project: Project) -> None:
        project.settings(SETTINGS + text)
    return setup


def _pyproject(text: str) -> Callable[[Project], None]:
    def setup(project: Project) -> None:
        (project.root / "feeder.toml").unlink()
        (project.root / "pyproject.toml").write_text(text)
    return setup


HOME = str(Path("~").expanduser())
SETTING_CASES: dict[str, tuple[Callable[[Project], None], str]] = {
    "output-is-project": (_append('output_dir = "."\n'), "feeder.toml: output_dir is the "
                          "project folder ({root}); a build replaces the files of its output "
                          "folder: name a folder of its own, such as public"),
    "output-is-parent": (_append('output_dir = ".."\n'), "feeder.toml: output_dir {parent} "
                         "holds the project folder; a build replaces the files of its output "
                         "folder: name a folder of its own, such as public"),
    "output-is-root": (_append('output_dir = "/"\n'), "feeder.toml: output_dir is the file "
                       "system root (/); a build replaces the files of its output folder: name "
                       "a folder of its own, such as public"),
    "output-is-home": (_append(f'output_dir = "{HOME}"\n'), "feeder.toml: output_dir is your "
                       f"home folder ({Path(HOME).resolve().as_posix()}); a build replaces the "
                       "files of its output folder: name a folder of its own, such as public"),
    "output-holds-content": (_append('output_dir = "."\ncontent_dir = "public/briefs"\n'),
                             "feeder.toml: output_dir is the project folder ({root}); a build "
                             "replaces the files of its output folder: name a folder of its "
                             "own, such as public"),
    "content-in-output": (_append('output_dir = "site"\ncontent_dir = "site/briefs"\n'),
                          "feeder.toml: output_dir and content_dir must not be inside one "
                          "another"),
    "cache-in-output": (_append('cache_dir = "public/.cache"\n'), "feeder.toml: cache_dir and "
                        "output_dir must not be inside one another (the cache would be "
                        "published, or the output taken for the cache)"),
    "output-in-cache": (_append('cache_dir = "build"\noutput_dir = "build/public"\n'),
                        "feeder.toml: cache_dir and output_dir must not be inside one another "
                        "(the cache would be published, or the output taken for the cache)"),
    "settings-fifo": (_replace_settings(lambda path: os.mkfifo(path)),
                      "feeder.toml: is not a regular file; feeder reads its settings from this "
                      "file: make it one, or remove it"),
    "settings-folder": (_replace_settings(lambda path: path.mkdir()),
                        "feeder.toml: is not a regular file; feeder reads its settings from "
                        "this file: make it one, or remove it"),
    "settings-dangling-link": (_replace_settings(lambda path: path.symlink_to("nowhere")),
                               "feeder.toml: is not a regular file; feeder reads its settings "
                               "from this file: make it one, or remove it"),
    "pyproject-fifo": (lambda project: os.mkfifo(project.root / "pyproject.toml"),
                       "pyproject.toml: is not a regular file; feeder reads its settings from "
                       "this file: make it one, or remove it"),
    "nested-arrays": (_append("x = " + "[" * 50_000 + "]" * 50_000 + "\n"),
                      "feeder.toml: invalid TOML: nested too deeply"),
    "nested-tables": (_append("x = " + "{a=" * 50_000 + "}" * 50_000 + "\n"),
                      "feeder.toml: invalid TOML: nested too deeply"),
    "tool-feeder-text": (_pyproject('[tool]\nfeeder = "oops"\n'), "pyproject.toml:2: [tool] "
                         "feeder: expected a table of settings ([tool.feeder]), got text"),
    "lock-timeout-nan": (_append("lock_timeout = nan\n"), "feeder.toml:3: lock_timeout: expected "
                         "a number of seconds, got nan"),
    "lock-timeout-inf": (_append("lock_timeout = inf\n"), "feeder.toml:3: lock_timeout: expected "
                         "a number of seconds, got inf"),
    "lock-timeout-year": (_append("lock_timeout = 31536000\n"), "feeder.toml:3: lock_timeout: "
                          "must be at most 86400 seconds (a day), got 3.1536e+07"),
    "huge-number": (_append("max_entries = 9223372036854775807\n"), "feeder.toml:3: "
                    "max_entries: must be at most 1,000,000,000,000, got "
                    "9,223,372,036,854,775,807"),
    "url-with-space": (_append('hubs = ["https://hub.example.com/a b"]\n'), "feeder.toml:3: "
                       "hubs: a URL cannot hold ' ' (write it %-encoded), got "
                       "'https://hub.example.com/a b'"),
    "url-with-newline": (lambda p: p.settings('base_url = "https://news.example.com/\\nx"\n'),
                         "feeder.toml:1: base_url: a URL cannot hold '\\n' (write it "
                         "%-encoded), got 'https://news.example.com/\\nx'"),
    "url-with-quote": (lambda p: p.settings('base_url = "https://news.example.com/\\"x"\n'),
                       "feeder.toml:1: base_url: a URL cannot hold '\"' (write it %-encoded), "
                       "got 'https://news.example.com/\"x'"),
    "url-with-angle": (_append('[author]\nname = "A"\nuri = "https://a.example.com/<b>"\n'),
                       "feeder.toml: author: a URL cannot hold '<' (write it %-encoded), got "
                       "'https://a.example.com/<b>'"),
    "url-bad-port": (lambda p: p.settings('base_url = "https://news.example.com:99999/"\n'),
                     "feeder.toml:1: base_url: invalid port in 'https://news.example.com:99999/'"),
    "url-port-not-number": (lambda p: p.settings('base_url = "https://news.example.com:x/"\n'),
                            "feeder.toml:1: base_url: invalid port in "
                            "'https://news.example.com:x/'"),
    "url-with-password": (lambda p: p.settings('base_url = "https://me:pw@news.example.com/"\n'),
                          "feeder.toml:1: base_url: must not hold a user name or password, got "
                          "'https://me:pw@news.example.com/'"),
    "label-only-punctuation": (_append('section_labels = ["The Takeaway", "::"]\n'),
                               "feeder.toml:3: section_labels: label '::' has no letter or "
                               "digit"),
    "max-tags-zero": (_append("max_tags = 0\n"), "feeder.toml:3: max_tags: must be at least 1, "
                      "got 0"),
}


@pytest.mark.parametrize(("setup", "expected"), SETTING_CASES.values(), ids=SETTING_CASES.keys())
def test_a_bad_setting_exits_2_and_writes_nothing(runner: CliRunner, published: Project,
                                                  setup: Callable[[Project], None],
                                                  expected: str) -> None:
    before = published.snapshot()
    setup(published)
    message = expected.format(root=published.root.resolve().as_posix(),
                              parent=published.root.resolve().parent.as_posix())
    for command in ("build", "check"):
        assert failed(run(runner, published, command), 2) == [message]
        assert published.snapshot() == before


# --- templates/ ---------------------------------------------------------------------------------

def _template(name: str, text: str) -> Callable[[Path], None]:
    def make(folder: Path) -> None:
        (folder / name).write_text(text)
    return make


def _link(name: str, target: str) -> Callable[[Path], None]:
    def make(folder: Path) -> None:
        (folder / name).symlink_to(target)
    return make


RECURSION = ("template error: endless recursion (a template that includes or extends itself, "
             "or a macro that calls itself)")
TEMPLATE_CASES: dict[str, tuple[Callable[[Path], None], str]] = {
    "link-loop": (_link("index.html", "index.html"), f"templates/index.html: {LOOP}"),
    "link-outside": (_link("index.html", "/etc/passwd"), "templates/index.html: symbolic link "
                     "points outside the templates folder; refusing to read it"),
    "fifo": (lambda folder: os.mkfifo(folder / "index.html"), "templates/index.html: not a "
             "regular file (a FIFO, socket or device); a template must be a file"),
    "not-utf-8-name": (lambda folder: (Path(os.fsdecode(os.fsencode(folder) + b"/x\xff.html"))
                                       .write_text("x")),
                       "templates/x\\xff.html: the name is not valid UTF-8; rename it (feeds and "
                       "URLs need UTF-8 names)"),
    "not-utf-8-text": (lambda folder: (folder / "index.html").write_bytes(b"ok\n\xff\n"),
                       "templates/index.html: cannot read template: not valid UTF-8 (invalid "
                       "start byte at byte 3)"),
    "syntax": (_template("index.html", "a\n{{ site. }}\n"),
               "templates/index.html:2: template error: expected name or number"),
    "undefined": (_template("index.html", "a\n\n{{ nothing.here }}\n"),
                  "templates/index.html:3: template error: 'nothing' is undefined"),
    "runtime": (_template("index.html", "a\n{{ 1 / 0 }}\n"),
                "templates/index.html:2: template error: ZeroDivisionError: division by zero"),
    "missing-include": (_template("index.html", "a\n{% include 'nope.html' %}\n"),
                        "templates/index.html:2: template error: no template named 'nope.html'"),
    "includes-itself": (_template("tags.html", "a\n{% include 'tags.html' %}\n"),
                        f"templates/tags.html:2: {RECURSION}"),
    "extends-itself": (_template("index.html", "{% extends 'index.html' %}\n"),
                       f"templates/index.html:1: {RECURSION}"),
    "macro-calls-itself": (_template("brief.html", "{% macro f() %}{{ f() }}{% endmacro %}\n"
                                                   "{{ f() }}\n"),
                           f"templates/brief.html:1: {RECURSION}"),
    "in-a-subfolder": (lambda folder: ((folder / "part").mkdir(),
                                       (folder / "part" / "x.html").write_text("{{ 1/0 }}"),
                                       (folder / "index.html").write_text(
                                           "{% include 'part/x.html' %}")),
                       "templates/part/x.html:1: template error: ZeroDivisionError: division "
                       "by zero"),
}


@pytest.mark.parametrize(("make", "expected"), TEMPLATE_CASES.values(),
                         ids=TEMPLATE_CASES.keys())
def test_a_bad_template_is_one_line_naming_it_and_exit_2(
        runner: CliRunner, published: Project, make: Callable[[Path], None],
        expected: str) -> None:
    before = published.snapshot()
    (published.root / "templates").mkdir()
    make(published.root / "templates")
    for args in (["build"], ["build", "--keep-going"], ["build", "--clean"]):
        assert failed(run(runner, published, *args), 2) == [expected]
        assert published.snapshot() == before
    if ":" not in expected.split(" ")[0][:-1]:  # a file that cannot be read: check says so too
        assert failed(run(runner, published, "check"), 2) == [expected]


# --- tags ----------------------------------------------------------------------------------------

def test_a_brief_over_the_tag_limit_is_an_error_naming_it(runner: CliRunner,
                                                          published: Project) -> None:
    before = published.snapshot()
    published.brief("2016-10-05-many.txt", house("Many", ", ".join(f"t{i}" for i in range(51))))
    message = "content/2016-10-05-many.txt: 51 tags, over the limit of 50 (setting max_tags)"
    assert failed(run(runner, published, "build"), 1) == [message]
    assert failed(run(runner, published, "check"), 1) == [
        message, "checked 2 brief files: 1 error, 0 warnings"]
    assert published.snapshot() == before
    published.settings(SETTINGS + "max_tags = 51\n")
    result = run(runner, published, "build")
    assert result.exit_code == 0, result.output
    (many, _) = published.feed("atom.xml").entries
    assert len(many.tags) == 51


def test_fifty_thousand_tags_are_refused_quickly(runner: CliRunner, published: Project) -> None:
    published.brief("2016-10-05-many.txt", house("Many", ", ".join(f"t{i}" for i in range(50_000))))
    started = time.monotonic()
    lines = failed(run(runner, published, "build"), 1)
    assert lines == ["content/2016-10-05-many.txt: 50,000 tags, over the limit of 50 "
                     "(setting max_tags)"]
    assert time.monotonic() - started < 30  # it took more than 15 minutes


# --- WebSub hubs ----------------------------------------------------------------------------------

class _Dripping(socketserver.BaseRequestHandler):
    """A hub that reads the request, then answers one byte every 50 ms, for ever."""

    stop: threading.Event

    def handle(self) -> None:
        self.request.settimeout(5)
        with contextlib.suppress(OSError):
            self.request.recv(65536)
            answer = b"HTTP/1.1 204 No Content\r\nX-Slow: " + b"a" * 1_000_000
            for byte in answer:
                if self.stop.wait(0.05):
                    return
                self.request.sendall(bytes([byte]))


class _Rude(socketserver.BaseRequestHandler):
    """A hub whose answer is full of terminal escapes and line breaks."""

    def handle(self) -> None:
        with contextlib.suppress(OSError):
            self.request.recv(65536)
            body = b"bad\x1b[2J\x1b]0;owned\x07\nsecond line\r\n\x9b31m"
            self.request.sendall(b"HTTP/1.1 400 No\x1b[31mpe\r\nContent-Length: "
                                 + str(len(body)).encode() + b"\r\nConnection: close\r\n\r\n"
                                 + body)


@contextlib.contextmanager
def local_hub(handler: type[socketserver.BaseRequestHandler]) -> Iterator[str]:
    stop = threading.Event()
    server = socketserver.ThreadingTCPServer(("127.0.0.1", 0),
                                             type("Hub", (handler,), {"stop": stop}))
    server.daemon_threads = True
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}/hub"
    finally:
        stop.set()
        server.shutdown()
        server.server_close()
        thread.join(5)


def feeder(project: Project, *args: str, timeout: float = 120) -> subprocess.CompletedProcess[str]:
    """`python -m feeder ARGS -C project` in a process of its own."""
    return subprocess.run([sys.executable, "-m", "feeder", *args, "-C", str(project.root)],
                          capture_output=True, text=True, timeout=timeout, check=False,
                          encoding="utf-8", errors="replace")


def test_a_hub_answering_one_byte_at_a_time_is_cut_off_on_time(published: Project) -> None:
    with local_hub(_Dripping) as hub:
        published.settings(SETTINGS + f'hubs = ["{hub}"]\n')
        started = time.monotonic()
        result = feeder(published, "ping", "--hub-timeout", "1", "--strict")
        elapsed = time.monotonic() - started
    assert result.returncode == 1, result.stderr
    assert "Traceback" not in result.stderr
    assert f"{hub}: https://news.example.com/atom.xml not accepted: no answer within 1 s " \
           "(after 3 attempts)" in result.stderr.splitlines()
    # three attempts of at most 1 s, 0.5 s and 1 s of backoff, start-up: not minutes
    assert elapsed < 20


def test_a_hubs_answer_is_printed_on_one_line_without_control_characters(
        published: Project) -> None:
    with local_hub(_Rude) as hub:
        published.settings(SETTINGS + f'hubs = ["{hub}"]\n')
        result = feeder(published, "ping", "--verbose")
    assert result.returncode == 0, result.stderr
    lines = [line for line in result.stderr.splitlines() if "HTTP 400" in line]
    assert lines
    for line in lines:
        assert not any(ord(char) < 32 or 0x7F <= ord(char) <= 0x9F for char in line), line
        assert "HTTP 400 No[31mpe: bad[2J]0;owned second line \ufffd31m" in line


# --- feeder serve ---------------------------------------------------------------------------------

@contextlib.contextmanager
def serving(project: Project) -> Iterator[tuple[int, Callable[[], str]]]:
    """`python -m feeder serve` on a free port: the port, and what it printed on stderr so
    far (read once it stopped)."""
    process = subprocess.Popen(
        [sys.executable, "-m", "feeder", "serve", "-v", "-p", "0", "-C", str(project.root)],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, encoding="utf-8",
        errors="replace")
    assert process.stdout is not None
    try:
        line = process.stdout.readline()
        assert "Serving" in line, process.communicate(timeout=30)
        port = int(line.split("127.0.0.1:")[1].split("/")[0])
        errors: list[str] = []

        def stderr() -> str:
            if not errors:
                process.terminate()
                errors.append(process.communicate(timeout=30)[1])
            return errors[0]

        yield port, stderr
    finally:
        if process.poll() is None:
            process.terminate()
            process.communicate(timeout=30)


def request(port: int, raw: bytes) -> bytes:
    """The status line the server answers `raw` with (b"" when it drops the connection)."""
    with socket.create_connection(("127.0.0.1", port), timeout=10) as sock:
        sock.sendall(raw)
        data = b""
        while b"\r\n" not in data:
            chunk = sock.recv(4096)
            if not chunk:
                break
            data += chunk
    return data.split(b"\r\n")[0]


ODD_REQUESTS: dict[str, tuple[bytes, bytes]] = {
    "encoded-slash-to-hidden": (b"GET /tags%2F..%2F.secret HTTP/1.0\r\n\r\n", b"404"),
    "encoded-slash": (b"GET /tags%2Fx%2Fatom.xml HTTP/1.0\r\n\r\n", b"404"),
    "encoded-dot-dot": (b"GET /%2e%2e/%2e%2e/etc/passwd HTTP/1.0\r\n\r\n", b"404"),
    "hidden": (b"GET /%2Esecret HTTP/1.0\r\n\r\n", b"404"),
    "long-segment": (b"GET /" + b"a" * 5000 + b" HTTP/1.0\r\n\r\n", b"404"),
    "long-segment-in-folder": (b"GET /" + b"a" * 300 + b"/x HTTP/1.0\r\n\r\n", b"404"),
    "long-multibyte-segment": (b"GET /" + b"%F0%A0%80%80" * 70 + b" HTTP/1.0\r\n\r\n", b"404"),
    "not-utf-8": (b"GET /%ff%fe HTTP/1.0\r\n\r\n", b"400"),
    "nul": (b"GET /%00 HTTP/1.0\r\n\r\n", b"404"),
    "escape": (b"GET /%1b[2J HTTP/1.0\r\n\r\n", b"404"),
    "bad-date": (b"GET /atom.xml HTTP/1.0\r\nIf-Modified-Since: Mon, 99 Foo 2016 99:99 GMT"
                 b"\r\n\r\n", b"200"),
    "huge-year": (b"GET /atom.xml HTTP/1.0\r\nIf-Modified-Since: Tue, 01 Jan "
                  b"99999999999999999999 00:00:00 GMT\r\n\r\n", b"200"),
    "year-zero": (b"GET /atom.xml HTTP/1.0\r\nIf-Modified-Since: Tue, 01 Jan 0000 00:00:00 "
                  b"+9999\r\n\r\n", b"200"),
    "binary-header": (b"GET /atom.xml HTTP/1.0\r\nIf-None-Match: \xff\x00\r\n\r\n", b"200"),
    "garbage": (b"\x16\x03\x01\x02\x00\x01\x00\x01\xfc\x03\x03\r\n\r\n", b"400"),
}


def test_odd_requests_get_an_answer_and_no_traceback(published: Project) -> None:
    (published.public / ".secret").write_text("secret")
    with serving(published) as (port, stderr):
        answers = {name: request(port, raw) for name, (raw, _) in ODD_REQUESTS.items()}
        # a client that goes away before the answer
        with socket.create_connection(("127.0.0.1", port)) as sock:
            sock.sendall(b"GET /atom.xml HTTP/1.0\r\n\r\n")
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
        assert request(port, b"GET /atom.xml HTTP/1.0\r\n\r\n").split()[1] == b"200"
        log = stderr()
    assert {name: answer.split(b" ")[1:2] for name, answer in answers.items()} == {
        name: [status] for name, (_, status) in ODD_REQUESTS.items()}
    assert "Traceback" not in log
    assert "\x1b" not in log


def test_serve_names_a_symlink_loop_and_keeps_serving(published: Project) -> None:
    (published.content / "loop.md").symlink_to("loop.md")
    with serving(published) as (port, stderr):
        assert request(port, b"GET /atom.xml HTTP/1.0\r\n\r\n").split()[1] == b"200"
        log = stderr()
    assert f"content/loop.md: {LOOP}" in log.splitlines()
    assert "Traceback" not in log


# --- SIGTERM and SIGINT during a build ------------------------------------------------------------

def _many_briefs(project: Project, count: int) -> None:
    longer = "Words of the longer version. " * 150
    for i in range(count):
        project.brief(f"2016-{i % 12 + 1:02d}-{i % 28 + 1:02d}-b{i}.txt",
                      house(f"Brief {i}", f"t{i % 30}, all", longer=longer))


@pytest.mark.parametrize(("signum", "when"), [(signal.SIGTERM, "staging"),
                                               (signal.SIGINT, "reading")],
                         ids=["SIGTERM-while-staging", "SIGINT-while-reading"])
def test_a_signal_during_a_build_ends_it_quietly_with_public_as_it_was(
        project: Project, signum: int, when: str) -> None:
    _many_briefs(project, 800)
    assert feeder(project, "build", "-q").returncode == 0
    before = project.snapshot()
    for path in project.content.iterdir():  # every brief changes: a long build
        path.write_text(path.read_text().replace("The takeaway.", "A new takeaway."))
    process = subprocess.Popen([sys.executable, "-m", "feeder", "build", "--clean", "-C",
                                str(project.root)], stdout=subprocess.PIPE,
                               stderr=subprocess.PIPE, text=True)
    deadline = time.monotonic() + 60
    if when == "reading":
        time.sleep(0.8)
    else:
        while not any(project.public.glob(".feeder-staging*")) and process.poll() is None \
                and time.monotonic() < deadline:
            time.sleep(0.002)
    assert process.poll() is None, "the build ended before the signal: make it longer"
    process.send_signal(signum)
    _, stderr = process.communicate(timeout=60)
    assert process.returncode == 128 + signum, stderr
    assert stderr == f"feeder: stopped by {signal.Signals(signum).name}\n"
    assert project.snapshot() == before
    assert not any(project.public.glob(".feeder-staging*"))
    # and the next build is a whole one
    assert feeder(project, "build", "-q").returncode == 0
    assert "A new takeaway." in (project.public / "atom.xml").read_text()


# --- a read-only output folder ----------------------------------------------------------------

def _read_only(folder: Path, *, on: bool) -> None:
    """Make `folder` and all in it read-only (or writable again): with chattr's immutable
    flag for root, whom file modes do not stop."""
    paths = [folder, *folder.rglob("*")]
    if os.geteuid() != 0:
        for path in paths:
            path.chmod((0o555 if path.is_dir() else 0o444) if on else 0o755)
        return
    done = subprocess.run(["chattr", "+i" if on else "-i", *map(str, paths)],
                          capture_output=True, check=False)
    if done.returncode != 0:
        pytest.skip(f"chattr cannot make files immutable here: {done.stderr!r}")


@pytest.mark.parametrize("briefs", [0, 150], ids=["small", "staged-by-workers"])
def test_a_clean_build_into_a_read_only_folder_that_is_up_to_date_succeeds(
        runner: CliRunner, published: Project, briefs: int) -> None:
    if shutil.which("chattr") is None and os.geteuid() == 0:
        pytest.skip("chattr is needed to make a folder read-only for root")
    for i in range(briefs):
        published.brief(f"2016-11-{i % 28 + 1:02d}-b{i}.txt", house(f"B{i}", f"t{i % 9}, x"))
    if briefs:
        assert run(runner, published, "build").exit_code == 0
    before = published.snapshot()
    _read_only(published.public, on=True)
    try:
        result = run(runner, published, "build", "--clean")
    finally:
        _read_only(published.public, on=False)
    assert result.exit_code == 0, result.output
    assert " 0 written, 0 removed, " in result.stderr
    assert published.snapshot() == before
    # a change cannot be written there: one line, and the folder as it was
    published.brief("2016-12-01-new.txt", house("New", "x"))
    _read_only(published.public, on=True)
    try:
        lines = failed(run(runner, published, "build"), 1)
    finally:
        _read_only(published.public, on=False)
    assert len(lines) == 1
    assert lines[0].endswith("public was left as it was"), lines
    assert published.snapshot() == before


@pytest.mark.parametrize(("make", "expected"), [
    (lambda path: os.mkfifo(path), "not a regular file"),
    (lambda path: path.write_text('{"files": ' + "[" * 200_000 + "]" * 200_000 + "}"),
     "not a copy of feeder's build record (.feeder-cache/feeder.sqlite)"),
], ids=["fifo", "nested"])
def test_ping_since_a_hostile_manifest_is_one_line_not_a_hang(
        published: Project, make: Callable[[Path], None], expected: str) -> None:
    published.settings(SETTINGS + 'hubs = ["http://127.0.0.1:9/hub"]\n')
    since = published.root / "deployed.json"
    make(since)
    result = feeder(published, "ping", "--since", str(since), timeout=60)
    # ignored with one warning line (every feed then counts); the hub here refuses the pings
    assert result.stderr.splitlines()[0] == (f"{since.as_posix()}: warning: {expected}: "
                                             "ignored, so every feed counts as changed")
    assert "Traceback" not in result.stderr
