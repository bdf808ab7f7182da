"""`feeder serve`: preview the site on 127.0.0.1, rebuilt whenever a brief or a setting changes.

Three parts, each small:

- `make_server`: an HTTP server for the output folder that behaves like a good static host:
  feeds with their own media types (`application/atom+xml`, `application/rss+xml`,
  `application/feed+json`, `text/x-opml`), `ETag` and `Last-Modified` on every file, and
  `304 Not Modified` for a conditional GET that matches. Hidden files are not served.
- `watch.Rebuilder`: rebuilds whenever the project's files change (see feeder/watch.py).
- `serve`: one build, then both of the above until Ctrl-C.

Builds write atomically (see output.py), so a request during a rebuild gets the old file or
the new one, never half of one.
"""

from __future__ import annotations

import errno
import hashlib
import ipaddress
import mimetypes
import re
import signal
import socket
import threading
import time
from collections.abc import Callable
from datetime import datetime, timezone
from email.utils import formatdate, parsedate_to_datetime
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from types import FrameType
from typing import Any
from urllib.parse import quote, unquote, urlsplit

from feeder.config import Config
from feeder.errors import ConfigError, FeederError, Problem, Stopped, one_line
from feeder.feeds import FORMATS
from feeder.opml import OPML_TYPE
from feeder.pipeline import Options, build
from feeder.watch import Build, Echo, Rebuilder, report_problems

HOST = "127.0.0.1"

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


class LiveReload:
    """The number of the last build, which the pages `feeder serve` sends poll (`SCRIPT`):
    a page reloads itself when it changes. Only served pages carry the script, never the
    files built."""

    PATH = "/.feeder-live"
    SCRIPT = ('<script>(function(){{setInterval(function(){{fetch("/.feeder-live",'
              '{{cache:"no-store"}}).then(function(r){{return r.text()}}).then(function(t){{'
              'if(t!=="{build}"){{location.reload()}}}}).catch(function(){{}})}},1000)}})();'
              "</script>\n")

    def __init__(self) -> None:
        self.builds = 0

    def built(self) -> None:
        self.builds += 1

    def inject(self, page: bytes) -> bytes:
        """`page` with the script, which knows the build it came from, before its `</body>`
        (at its end when it has none)."""
        script = self.SCRIPT.format(build=self.builds).encode()
        at = page.rfind(b"</body>")
        return page + script if at == -1 else page[:at] + script + page[at:]


class _LiveHandler(_Handler):
    """The handler, with live reload: answers LiveReload.PATH and puts the script in pages."""

    live: LiveReload

    def do_GET(self) -> None:
        path = urlsplit(self.path).path
        if path == LiveReload.PATH:
            data = str(self.live.builds).encode()
            self._send(HTTPStatus.OK, data, "text/plain; charset=utf-8",
                       {"Cache-Control": "no-store"}, body=True)
            return
        last = path.rpartition("/")[2]
        if last.endswith(".html") or "." not in last:
            # A page's bytes carry the build number: never "304 Not Modified" for a page
            # from an older build, which would reload itself again and again.
            del self.headers["If-None-Match"], self.headers["If-Modified-Since"]
        super().do_GET()

    def _send(self, status: HTTPStatus, data: bytes, content_type: str,
              headers: dict[str, str], *, body: bool) -> None:
        if content_type.startswith("text/html"):
            data = self.live.inject(data)
        super()._send(status, data, content_type, headers, body=body)


def make_server(root: Path, port: int, *, log: Echo | None = None, host: str = HOST,
                live: LiveReload | None = None) -> ThreadingHTTPServer:
    """An HTTP server for the files in `root` on `host`:`port` (0: any free port); with
    `live`, pages reload themselves after each build (see LiveReload).

    Raises ConfigError when the address or port cannot be used.
    """
    base = _Handler if live is None else _LiveHandler
    handler = type("Handler", (base,), {"root": root, "log": staticmethod(log)
                                        if log else None, "live": live})
    server_class: type[ThreadingHTTPServer] = ThreadingHTTPServer if ":" not in host else \
        type("Server6", (ThreadingHTTPServer,), {"address_family": socket.AF_INET6})
    try:
        server = server_class((host, port), handler)
    except OSError as exc:
        option = "--bind" if exc.errno in _BAD_ADDRESS else "--port"
        raise ConfigError([Problem(option, None, f"cannot serve on {_host(host)}:{port}: "
                                   f"{exc.strerror or exc}; pick another {option}")]) from None
    server.daemon_threads = True
    return server


_BAD_ADDRESS = frozenset({errno.EADDRNOTAVAIL, errno.EAFNOSUPPORT, socket.EAI_NONAME})


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


def pipeline_build(clock: Callable[[], datetime], options: Options, echo: Echo) -> Build:
    """A `Build` that runs `feeder build` (with the time from `clock`) and prints warnings."""
    def run(config: Config) -> str:
        started = time.perf_counter()
        result = build(config, now=clock(), options=options)
        report_problems(result.problems, echo)
        return result.summary(config.display_path(config.output_dir),
                              time.perf_counter() - started)
    return run


def _stop_on_sigterm() -> None:
    def stop(signum: int, frame: FrameType | None) -> None:  # noqa: ARG001
        raise KeyboardInterrupt

    if threading.current_thread() is threading.main_thread():
        signal.signal(signal.SIGTERM, stop)


def serve(config: Config, *, port: int, load: Callable[[], Config], build: Build,
          echo: Echo, announce: Echo, log: Echo | None = None, host: str = HOST) -> None:
    """Build, then serve the output folder on `host` and rebuild on changes until Ctrl-C (or
    SIGTERM); pages open in a browser reload themselves after each rebuild.

    `load` reads the settings again before each rebuild; `echo` prints build results and
    problems; `announce` prints the address served (on stdout, for scripts); `log`, if
    given, prints each request. A build that fails is reported and the server starts
    anyway. Raises ConfigError when the address or port cannot be used.
    """
    live = LiveReload()
    server = make_server(config.output_dir, port, log=log, host=host, live=live)
    if not _loopback(host):
        echo(f"warning: serving on {_host(host)}, not only to this machine: anyone who can "
             "reach it can read the site, drafts included when built with --drafts")

    def build_live(config: Config) -> str:
        summary = build(config)
        live.built()
        return summary

    rebuilder = Rebuilder(config, load, build_live, echo)
    try:
        try:
            echo(f"built {build_live(config)}")
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
