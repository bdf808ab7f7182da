"""`feeder serve`: preview the site on 127.0.0.1, rebuilt whenever a brief or a setting changes.

The server behaves like a good static host (feeds with their own media types, ETag, 304 for a
conditional GET that matches, hidden files not served) and adds a live-reload script to the
pages it sends. Builds write atomically: a request during a rebuild gets a whole file.
"""

from __future__ import annotations

import errno
import hashlib
import ipaddress
import mimetypes
import re
import socket
import threading
import time
import traceback
from collections.abc import Callable
from datetime import datetime, timezone
from email.message import Message
from email.utils import formatdate, parsedate_to_datetime
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path, PurePosixPath
from typing import Any
from urllib.parse import quote, unquote, urlsplit

from watchdog.events import FileSystemEvent, FileSystemEventHandler
from watchdog.observers import Observer

from feeder.config import PYPROJECT_FILE, SETTINGS_FILE, TEMPLATES_FOLDER, Config
from feeder.errors import ConfigError, FeederError, Problem, Stopped, one_line
from feeder.feeds import FORMATS
from feeder.opml import OPML_TYPE
from feeder.pipeline import Options, build
from feeder.static import STATIC_FOLDER

HOST = "127.0.0.1"
SETTLE_SECONDS = 0.3
"""How long the files must stay quiet before a rebuild: an editor's save is several events."""
_WRITE_EVENTS = frozenset({"created", "modified", "deleted", "moved", "closed"})
"""Events that change a file (watchdog also reports opening and reading, which do not)."""
_SEGMENT = re.compile(r"[^/\\\x00-\x1f\x7f]{1,255}")
"""A path segment the server looks up: no slash, backslash or control character once
decoded, and no longer than a file name can be."""
_TEXT = "text/plain; charset=utf-8"
_TYPES = {"html": "text/html; charset=utf-8", "css": "text/css; charset=utf-8",
          "opml": f"{OPML_TYPE}; charset=utf-8", "xml": "application/xml",
          "json": "application/json", "txt": _TEXT}
_LIVE_PATH = "/.feeder-live"
_LIVE_SCRIPT = ('<script>(function(){{setInterval(function(){{fetch("/.feeder-live",'
                '{{cache:"no-store"}}).then(function(r){{return r.text()}}).then(function(t){{'
                'if(t!=="{build}"){{location.reload()}}}}).catch(function(){{}})}},1000)}})();'
                "</script>\n")
"""Polls the number of the last build and reloads the page when it changes."""
_BAD_ADDRESS = frozenset({errno.EADDRNOTAVAIL, errno.EAFNOSUPPORT, socket.EAI_NONAME})
Echo = Callable[[str], None]


def media_type(name: str) -> str:
    """The Content-Type the server sends for a file called `name`."""
    known = FORMATS.get(name) or _TYPES.get(PurePosixPath(name).suffix[1:].lower())
    return known or mimetypes.guess_type(name, strict=False)[0] or "application/octet-stream"


def _fresh(request: Message, etag: str, mtime: float) -> bool:
    """Whether a conditional GET matches: If-None-Match, compared weakly (RFC 9110 13.1.2),
    wins over If-Modified-Since; a malformed date is ignored, as the RFC says."""
    tags = request.get("If-None-Match")
    if tags is not None:
        return tags.strip() == "*" or any(tag.strip().removeprefix("W/") == etag
                                          for tag in tags.split(","))
    try:
        since = parsedate_to_datetime(request.get("If-Modified-Since", ""))
        if since.tzinfo is None:
            since = since.replace(tzinfo=timezone.utc)
        return int(mtime) <= since.timestamp()
    except (TypeError, ValueError, IndexError, OverflowError):
        return False


class LiveReload:
    """The number of the last build, which the pages `feeder serve` sends poll (_LIVE_SCRIPT):
    a page reloads itself when it changes. Only served pages carry the script, never the
    files built."""

    def __init__(self) -> None:
        self.builds = 0

    def inject(self, page: bytes) -> bytes:
        """`page` with the script before its `</body>` (at its end when it has none)."""
        script = _LIVE_SCRIPT.format(build=self.builds).encode()
        at = page.rfind(b"</body>")
        return page + script if at == -1 else page[:at] + script + page[at:]


class _Handler(BaseHTTPRequestHandler):
    """Serves the files of `root`; with `live`, answers _LIVE_PATH and puts the live-reload
    script in pages. `make_server` sets the three."""

    root: Path
    log: Echo | None
    live: LiveReload | None
    default_request_version = "HTTP/1.0"
    """So that the answer to a request line that is not HTTP at all has a status line too."""

    def version_string(self) -> str:
        return "feeder"

    def handle(self) -> None:
        try:
            super().handle()
        except (ConnectionError, TimeoutError):  # the client went away: nothing to answer
            self.close_connection = True

    def log_message(self, format: str, *args: Any) -> None:
        if self.log is not None:
            self.log(one_line(f"{self.address_string()} {format % args}"))

    def _file(self, url_path: str) -> tuple[str, bytes, float] | str | None:
        """The name, bytes and modification time of the file for `url_path`, a redirect
        target (str) for a folder without its trailing slash, or None. A segment that is
        hidden (`.x`, `..`), or holds a slash, a backslash or NUL once decoded (`%2F`), or
        that no file system could name, finds nothing."""
        parts = [unquote(part, errors="strict") for part in url_path.split("/") if part]
        if any(part.startswith(".") or not _SEGMENT.fullmatch(part) for part in parts):
            return None
        try:
            resolved = self.root.joinpath(*parts).resolve()
            if not resolved.is_relative_to(self.root.resolve()):
                return None
            if resolved.is_dir():
                if not url_path.endswith("/"):
                    return quote(url_path) + "/"
                resolved = resolved / "index.html"
            if not resolved.is_file():
                return None
            return resolved.name, resolved.read_bytes(), resolved.stat().st_mtime
        except (OSError, RuntimeError, ValueError):  # too long, a loop of links, just removed...
            return None

    def do_GET(self) -> None:
        try:
            url_path = urlsplit(self.path).path or "/"
            found = self._file(url_path)
        except (UnicodeError, ValueError):  # not UTF-8 once decoded; not a URL at all
            self._send(HTTPStatus.BAD_REQUEST, _TEXT, b"Bad request\n")
            return
        if self.live is not None and url_path == _LIVE_PATH:
            self._send(HTTPStatus.OK, _TEXT, str(self.live.builds).encode(),
                       {"Cache-Control": "no-store"})
            return
        if isinstance(found, str):
            self._send_headers(HTTPStatus.MOVED_PERMANENTLY, {"Location": found,
                                                              "Content-Length": "0"})
            return
        if found is None:
            self._send(HTTPStatus.NOT_FOUND, _TEXT, b"Not found\n")
            return
        name, data, mtime = found
        content_type = media_type(name)
        headers = {"ETag": '"' + hashlib.sha256(data).hexdigest()[:32] + '"',
                   "Last-Modified": formatdate(mtime, usegmt=True), "Cache-Control": "no-cache"}
        if self.live is not None and content_type.startswith("text/html"):
            # The page carries the build's number: never "304 Not Modified" for a page from
            # an older build, which would reload itself again and again.
            data = self.live.inject(data)
        elif _fresh(self.headers, headers["ETag"], mtime):
            self._send_headers(HTTPStatus.NOT_MODIFIED, headers)
            return
        self._send(HTTPStatus.OK, content_type, data, headers)

    do_HEAD = do_GET  # the same headers; _send leaves out the body

    def _send(self, status: HTTPStatus, content_type: str, data: bytes,
              headers: dict[str, str] | None = None) -> None:
        self._send_headers(status, {"Content-Type": content_type, "Content-Length": str(len(data)),
                                    "X-Content-Type-Options": "nosniff", **(headers or {})})
        if self.command != "HEAD":
            self.wfile.write(data)

    def _send_headers(self, status: HTTPStatus, headers: dict[str, str]) -> None:
        self.send_response(status)
        for key, value in headers.items():
            self.send_header(key, value)
        self.end_headers()


def make_server(root: Path, port: int, *, log: Echo | None = None, host: str = HOST,
                live: LiveReload | None = None) -> ThreadingHTTPServer:
    """An HTTP server for the files in `root` on `host`:`port` (0: any free port); with
    `live`, pages reload themselves after each build.

    Raises ConfigError when the address or port cannot be used.
    """
    handler = type("Handler", (_Handler,), {"root": root, "log": staticmethod(log)
                                            if log else None, "live": live})
    server_class: type[ThreadingHTTPServer] = ThreadingHTTPServer if ":" not in host else \
        type("Server6", (ThreadingHTTPServer,), {"address_family": socket.AF_INET6})
    try:
        return server_class((host, port), handler)
    except OSError as exc:
        option = "--bind" if exc.errno in _BAD_ADDRESS else "--port"
        raise ConfigError([Problem(option, None, f"cannot serve on {_host(host)}:{port}: "
                                   f"{exc.strerror or exc}; pick another {option}")]) from None


def _loopback(host: str) -> bool:
    """Whether `host` is an address of this machine only (127.0.0.1, ::1, localhost)."""
    try:
        return host == "localhost" or ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def _host(host: str) -> str:
    return f"[{host}]" if ":" in host else host


def server_url(server: ThreadingHTTPServer) -> str:
    """The URL to open: on this machine (127.0.0.1) when the server listens everywhere."""
    host, port = server.server_address[:2]
    host = {"0.0.0.0": HOST, "::": "::1"}.get(str(host), str(host))  # noqa: S104
    return f"http://{_host(host)}:{port}/"


class _Changes(FileSystemEventHandler):
    """Watches what the build reads (the content folder, the settings files, the favicon,
    templates/ and static/) with watchdog, and sets `changed` when one of them is written."""

    def __init__(self) -> None:
        self.changed = threading.Event()
        self.observer = Observer()
        self.watched: set[Path] = set()

    def watch(self, config: Config) -> None:
        """Watch the files of `config` (again before each build): folders not watched yet are
        scheduled, the project folder (for the settings files and the favicon) without its
        subfolders."""
        self.output = config.output_dir
        # Absolute but not resolved: watchdog names paths under the folders as scheduled.
        self.settings = {config.root / SETTINGS_FILE, config.root / PYPROJECT_FILE}
        if config.favicon is not None:
            self.settings.add(config.root / config.favicon)
        self.folders = (config.content_dir, config.root / TEMPLATES_FOLDER,
                        config.root / STATIC_FOLDER)
        for folder in (config.root, *self.folders):
            if folder not in self.watched and folder.is_dir():
                self.observer.schedule(self, str(folder), recursive=folder != config.root)
                self.watched.add(folder)

    def _relevant(self, raw: str | bytes) -> bool:
        path = Path(raw if isinstance(raw, str) else raw.decode(errors="replace"))
        if path.is_relative_to(self.output) or path.name.endswith("~"):
            return False
        if path in self.settings:
            return True
        for folder in self.folders:
            if path.is_relative_to(folder):
                return not any(part.startswith(".") for part in path.relative_to(folder).parts)
        return False

    def on_any_event(self, event: FileSystemEvent) -> None:
        paths = [event.src_path, getattr(event, "dest_path", "")]
        if event.event_type in _WRITE_EVENTS and any(self._relevant(p) for p in paths if p):
            self.changed.set()

    def wait(self) -> None:
        """Wait for a change, then until the files were quiet for SETTLE_SECONDS."""
        while not self.changed.wait(0.5):  # not for ever at once: Ctrl-C ends it on Windows too
            pass
        while self.changed.is_set():
            self.changed.clear()
            time.sleep(SETTLE_SECONDS)


def serve(config: Config, *, port: int, load: Callable[[], Config],
          clock: Callable[[], datetime], options: Options, echo: Echo, announce: Echo,
          log: Echo | None = None, host: str = HOST) -> None:
    """Serve the output folder on `host`, build, and rebuild on changes until Ctrl-C or
    SIGTERM; open pages reload themselves after each build. A build that fails is reported
    and serving goes on.

    `load` reads the settings again for each rebuild, `clock` the time of each build; `echo`
    prints results and problems, `announce` the address served (on stdout, for scripts), `log`
    each request. Raises ConfigError when the address or port cannot be used.
    """
    live = LiveReload()
    server = make_server(config.output_dir, port, log=log, host=host, live=live)
    if not _loopback(host):
        echo(f"warning: serving on {_host(host)}, not only to this machine: anyone who can "
             "reach it can read the site, drafts included when built with --drafts")
    changes = _Changes()

    def build_live(load: Callable[[], Config], done: str, failed: str) -> None:
        """Load the settings, watch their files, build, and print the problems and the
        summary line (`done` before it) or `failed`; pages reload after a build."""
        try:
            config = load()
            changes.watch(config)
            started = time.perf_counter()
            result = build(config, now=clock(), options=options)
        except FeederError as err:
            lines = [*map(str, err.problems), failed]
        except Exception:  # a bug: show it, but keep the preview alive
            lines = [traceback.format_exc().rstrip(), failed]
        else:
            live.builds += 1
            lines = [*map(str, result.problems), f"{done} " + result.summary(
                config.display_path(config.output_dir), time.perf_counter() - started)]
        for line in lines:
            echo(line)

    threading.Thread(target=server.serve_forever, name="feeder-serve", daemon=True).start()
    changes.observer.start()
    try:
        build_live(lambda: config, "built", "build failed; serving what the output folder "
                   "holds, and rebuilding on the next change")
        announce(f"Serving {config.display_path(config.output_dir)}/ at {server_url(server)} "
                 "(Ctrl-C to stop)")
        try:
            while True:
                changes.wait()
                build_live(load, "rebuilt", "build failed; still serving the last good build")
        except (KeyboardInterrupt, Stopped):
            echo("stopped")
    finally:
        changes.observer.stop()
        changes.observer.join(timeout=10)
        server.shutdown()
        server.server_close()
