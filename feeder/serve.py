"""`feeder serve`: preview the site on 127.0.0.1, rebuilt whenever a brief or a setting changes.

Three parts, each small:

- `make_server`: an HTTP server for the output folder that behaves like a good static host:
  feeds with their own media types (`application/atom+xml`, `application/rss+xml`,
  `application/feed+json`, `text/x-opml`), `ETag` and `Last-Modified` on every file, and
  `304 Not Modified` for a conditional GET that matches. Hidden files are not served.
- `Rebuilder`: watches the content folder, the settings files and `templates/` with watchdog
  (inotify, FSEvents or ReadDirectoryChangesW, whichever the system has), lets a burst of
  changes settle, then rebuilds. A rebuild that fails prints its problems and the server goes
  on serving the last good build.
- `serve`: one build, then both of the above until Ctrl-C.

Builds write atomically (see output.py), so a request during a rebuild gets the old file or
the new one, never half of one.
"""

from __future__ import annotations

import hashlib
import mimetypes
import re
import signal
import threading
import time
import traceback
from collections.abc import Callable
from datetime import datetime, timezone
from email.utils import formatdate, parsedate_to_datetime
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from types import FrameType
from typing import Any
from urllib.parse import quote, unquote, urlsplit

from watchdog.events import FileSystemEvent, FileSystemEventHandler
from watchdog.observers import Observer

from feeder.config import PYPROJECT_FILE, SETTINGS_FILE, TEMPLATES_FOLDER, Config
from feeder.errors import ConfigError, FeederError, Problem, Stopped, one_line
from feeder.feeds import FORMATS
from feeder.opml import OPML_TYPE
from feeder.pipeline import Options, build

HOST = "127.0.0.1"
SETTLE_SECONDS = 0.3
"""How long the files must stay quiet before a rebuild: an editor's save is several events."""
_WRITE_EVENTS = frozenset({"created", "modified", "deleted", "moved", "closed"})
"""Events that change a file (watchdog also reports opening and reading, which do not)."""

Echo = Callable[[str], None]
Build = Callable[[Config], str]
"""Builds the site of a Config and returns a one-line summary; raises FeederError."""


_SEGMENT = re.compile(r"[^/\\\x00-\x1f\x7f]{1,255}")
"""A path segment the server looks up: no slash, backslash or control character once
decoded, and no longer than a file name can be."""


def media_type(name: str) -> str:
    """The Content-Type the server sends for a file called `name`."""
    if name in FORMATS:
        return FORMATS[name]
    suffix = name.rpartition(".")[2].lower() if "." in name else ""
    known = {"html": "text/html; charset=utf-8", "css": "text/css; charset=utf-8",
             "opml": f"{OPML_TYPE}; charset=utf-8", "xml": "application/xml",
             "json": "application/json", "txt": "text/plain; charset=utf-8"}
    if suffix in known:
        return known[suffix]
    guessed, _ = mimetypes.guess_type(name, strict=False)
    return guessed or "application/octet-stream"


def _etag(data: bytes) -> str:
    return '"' + hashlib.sha256(data).hexdigest()[:32] + '"'


def _etag_matches(header: str, etag: str) -> bool:
    """If-None-Match uses the weak comparison: `W/` prefixes are ignored (RFC 9110 13.1.2)."""
    if header.strip() == "*":
        return True
    return any(tag.strip().removeprefix("W/") == etag for tag in header.split(","))


def _not_modified_since(header: str, mtime: float) -> bool:
    try:
        since = parsedate_to_datetime(header)
        if since.tzinfo is None:
            since = since.replace(tzinfo=timezone.utc)
        return int(mtime) <= since.timestamp()
    except (TypeError, ValueError, IndexError, OverflowError):
        return False  # a malformed date is ignored, as the RFC says


class _Handler(BaseHTTPRequestHandler):
    """Serves the files of `root` (set by `make_server`)."""

    root: Path
    log: Echo | None
    default_request_version = "HTTP/1.0"
    """So that the answer to a request line that is not HTTP at all has a status line too."""

    def version_string(self) -> str:
        return "feeder"

    def handle(self) -> None:
        try:
            super().handle()
        except (ConnectionError, TimeoutError):  # the client went away: nothing to answer
            self.close_connection = True

    def do_GET(self) -> None:
        self._respond(body=True)

    def do_HEAD(self) -> None:
        self._respond(body=False)

    def log_message(self, format: str, *args: Any) -> None:
        if self.log is not None:
            self.log(one_line(f"{self.address_string()} {format % args}"))

    def _file(self, url_path: str) -> Path | str | None:
        """The file for `url_path`, a redirect target (str) for a folder without its
        trailing slash, or None. A segment that is hidden (`.x`, `..`), or holds a slash, a
        backslash or NUL once decoded (`%2F`), or that no file system could name, finds
        nothing."""
        parts = [unquote(part, errors="strict") for part in url_path.split("/") if part]
        if any(part.startswith(".") or not _SEGMENT.fullmatch(part) for part in parts):
            return None
        target = self.root.joinpath(*parts)
        try:
            resolved = target.resolve()
            if not resolved.is_relative_to(self.root.resolve()):
                return None
            if resolved.is_dir():
                if not url_path.endswith("/"):
                    return quote(url_path) + "/"
                resolved = resolved / "index.html"
            return resolved if resolved.is_file() else None
        except (OSError, RuntimeError, ValueError):  # too long, a loop of links...
            return None

    def _respond(self, *, body: bool) -> None:
        try:
            url_path = urlsplit(self.path).path or "/"
            found = self._file(url_path)
        except (UnicodeError, ValueError):  # not UTF-8 once decoded; not a URL at all
            self._send(HTTPStatus.BAD_REQUEST, b"Bad request\n", "text/plain; charset=utf-8",
                       {}, body=body)
            return
        if isinstance(found, str):
            self.send_response(HTTPStatus.MOVED_PERMANENTLY)
            self.send_header("Location", found)
            self.send_header("Content-Length", "0")
            self.end_headers()
            return
        if found is None:
            self._send(HTTPStatus.NOT_FOUND, b"Not found\n", "text/plain; charset=utf-8",
                       {}, body=body)
            return
        try:
            data = found.read_bytes()
            mtime = found.stat().st_mtime
        except OSError:  # removed by a rebuild in between
            self._send(HTTPStatus.NOT_FOUND, b"Not found\n", "text/plain; charset=utf-8",
                       {}, body=body)
            return
        headers = {"ETag": _etag(data), "Last-Modified": formatdate(mtime, usegmt=True),
                   "Cache-Control": "no-cache"}
        if_none_match = self.headers.get("If-None-Match")
        if_modified_since = self.headers.get("If-Modified-Since")
        if if_none_match is not None:
            fresh = _etag_matches(if_none_match, headers["ETag"])
        else:
            fresh = if_modified_since is not None and _not_modified_since(if_modified_since,
                                                                             mtime)
        if fresh:
            self.send_response(HTTPStatus.NOT_MODIFIED)
            for key, value in headers.items():
                self.send_header(key, value)
            self.end_headers()
            return
        self._send(HTTPStatus.OK, data, media_type(found.name), headers, body=body)

    def _send(self, status: HTTPStatus, data: bytes, content_type: str,
              headers: dict[str, str], *, body: bool) -> None:
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(data)))
        self.send_header("X-Content-Type-Options", "nosniff")
        for key, value in headers.items():
            self.send_header(key, value)
        self.end_headers()
        if body:
            self.wfile.write(data)


def make_server(root: Path, port: int, *, log: Echo | None = None) -> ThreadingHTTPServer:
    """An HTTP server for the files in `root` on 127.0.0.1:`port` (0: any free port).

    Raises ConfigError when the port cannot be used.
    """
    handler = type("Handler", (_Handler,), {"root": root, "log": staticmethod(log)
                                            if log else None})
    try:
        server = ThreadingHTTPServer((HOST, port), handler)
    except OSError as exc:
        raise ConfigError([Problem("--port", None, f"cannot serve on {HOST}:{port}: "
                                                   f"{exc.strerror or exc}; pick another "
                                                   "--port")]) from None
    server.daemon_threads = True
    return server


def server_url(server: ThreadingHTTPServer) -> str:
    host, port = server.server_address[:2]
    return f"http://{host!s}:{port}/"


class _Changes(FileSystemEventHandler):
    """Sets `changed` when a file that the build reads is written."""

    def __init__(self, config: Config, changed: threading.Event) -> None:
        self.changed = changed
        self.watch(config)

    def watch(self, config: Config) -> None:
        # Absolute but not resolved: watchdog names paths under the folders as scheduled.
        self.content = config.content_dir
        self.output = config.output_dir
        self.settings = {config.root / SETTINGS_FILE, config.root / PYPROJECT_FILE}
        self.templates = config.root / TEMPLATES_FOLDER

    def relevant(self, raw: str | bytes) -> bool:
        path = Path(raw if isinstance(raw, str) else raw.decode(errors="replace"))
        if path.is_relative_to(self.output) or path.name.endswith("~"):
            return False
        if path in self.settings or path == self.templates:
            return True
        for folder in (self.content, self.templates):
            if path.is_relative_to(folder):
                return not any(part.startswith(".") for part in path.relative_to(folder).parts)
        return False

    def on_any_event(self, event: FileSystemEvent) -> None:
        if event.event_type not in _WRITE_EVENTS:
            return
        paths = [event.src_path, getattr(event, "dest_path", "")]
        if any(self.relevant(path) for path in paths if path):
            self.changed.set()


class Rebuilder:
    """Rebuilds the site after each burst of changes, until `stop`."""

    def __init__(self, config: Config, load: Callable[[], Config], build: Build,
                 echo: Echo) -> None:
        self.config = config
        self.load = load
        self.build = build
        self.echo = echo
        self.changed = threading.Event()
        self.stopping = threading.Event()
        self.handler = _Changes(config, self.changed)
        self.observer = Observer()
        self.watched: set[Path] = set()
        self.thread = threading.Thread(target=self._loop, name="feeder-rebuild", daemon=True)

    def _watch(self) -> None:
        """Watch the content folder, the project folder (for the settings files) and
        templates/ when it exists; each once."""
        config = self.config
        wanted = [(config.content_dir, True), (config.root, False),
                  (config.root / TEMPLATES_FOLDER, True)]
        for folder, recursive in wanted:
            if folder not in self.watched and folder.is_dir():
                self.observer.schedule(self.handler, str(folder), recursive=recursive)
                self.watched.add(folder)

    def start(self) -> None:
        self._watch()
        self.observer.start()
        self.thread.start()

    def stop(self) -> None:
        self.stopping.set()
        self.changed.set()
        self.observer.stop()
        self.observer.join(timeout=10)
        self.thread.join(timeout=60)

    def _loop(self) -> None:
        while True:
            self.changed.wait()
            # Let the burst settle: rebuild once the files were quiet for SETTLE_SECONDS.
            while self.changed.is_set() and not self.stopping.is_set():
                self.changed.clear()
                self.stopping.wait(SETTLE_SECONDS)
            if self.stopping.is_set():
                return
            self.rebuild()

    def rebuild(self) -> None:
        """Reload the settings and build; report problems instead of raising them."""
        try:
            self.config = self.load()
            self.handler.watch(self.config)
            self._watch()
            self.echo(f"rebuilt {self.build(self.config)}")
        except FeederError as err:
            report_problems(err.problems, self.echo)
            self.echo("build failed; still serving the last good build")
        except Exception:  # a bug: show it, but keep the preview alive
            self.echo(traceback.format_exc().rstrip())
            self.echo("build failed; still serving the last good build")


def report_problems(problems: tuple[Problem, ...], echo: Echo) -> None:
    for problem in problems:
        echo(str(problem))


def pipeline_build(clock: Callable[[], datetime], options: Options, echo: Echo) -> Build:
    """A `Build` that runs `feeder build` (with the time from `clock`) and prints warnings."""
    def run(config: Config) -> str:
        started = time.perf_counter()
        result = build(config, now=clock(), options=options)
        report_problems(result.problems, echo)
        report = result.report
        return (f"{config.display_path(config.output_dir)}: {len(report.written)} written, "
                f"{len(report.removed)} removed, {len(report.unchanged)} unchanged "
                f"in {time.perf_counter() - started:.2f} s")
    return run


def _stop_on_sigterm() -> None:
    def stop(signum: int, frame: FrameType | None) -> None:  # noqa: ARG001
        raise KeyboardInterrupt

    if threading.current_thread() is threading.main_thread():
        signal.signal(signal.SIGTERM, stop)


def serve(config: Config, *, port: int, load: Callable[[], Config], build: Build,
          echo: Echo, announce: Echo, log: Echo | None = None) -> None:
    """Build, then serve the output folder and rebuild on changes until Ctrl-C (or SIGTERM).

    `load` reads the settings again before each rebuild; `echo` prints build results and
    problems; `announce` prints the address served (on stdout, for scripts); `log`, if
    given, prints each request. A build that fails is reported and the server starts
    anyway. Raises ConfigError when the port cannot be used.
    """
    server = make_server(config.output_dir, port, log=log)
    rebuilder = Rebuilder(config, load, build, echo)
    try:
        try:
            echo(f"built {build(config)}")
        except FeederError as err:
            report_problems(err.problems, echo)
            echo("build failed; serving what the output folder holds, and rebuilding on "
                 "the next change")
        rebuilder.start()
        announce(f"Serving {config.display_path(config.output_dir)}/ at {server_url(server)} "
                 "(Ctrl-C to stop)")
        _stop_on_sigterm()
        try:
            server.serve_forever()
        except (KeyboardInterrupt, Stopped):
            echo("stopped")
    finally:
        rebuilder.stop()
        server.server_close()
