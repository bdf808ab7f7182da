"""WebSub (W3C 2018, section 6): telling the hubs which feeds changed, so that subscribers
get a new brief in seconds. One form-encoded POST `hub.mode=publish&hub.url=<feed URL>` per
hub and feed URL (a hub may read only the first of repeated `hub.url`s); any 2xx means the hub
took it. Unsent, unanswered or 5xx: retried with backoff; 3xx and 4xx: final; a hub still
failing after every attempt is down, and the feeds left for it are not sent.
"""

from __future__ import annotations

import contextlib
import http.client
import re
import socket
import threading
import time
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from feeder import HOME, __version__
from feeder.errors import Problem, Severity
from feeder.feeds import FORMATS
from feeder.site import Site

TIMEOUT = 10.0
"""Seconds an attempt may take, from connecting to the last byte of the answer read (a hub
that answers one byte at a time is cut off too)."""
ATTEMPTS = 3
"""Requests per feed URL and hub, the first included."""
BACKOFF = 0.5
"""Seconds before the first retry; doubled before each further one."""
USER_AGENT = f"feeder/{__version__} (WebSub publisher; +{HOME})"
FORM_TYPE = "application/x-www-form-urlencoded"
_DETAIL_CHARS = 200


def changed_feed_urls(site: Site, changed: Iterable[str]) -> tuple[str, ...]:
    """The URLs of the subscription feed files among `changed` (paths in the output folder),
    never archive documents; ordered as `site.feeds`, each in Atom, RSS, JSON Feed order."""
    paths = set(changed)
    return tuple(feed.url(name) for feed in site.feeds if not feed.archive
                 for name in FORMATS if feed.folder + name in paths)


def changed_files(before: Mapping[str, str], after: Mapping[str, str]) -> tuple[str, ...]:
    """The files of `after` (path -> SHA-256) that are new or differ from `before`, sorted."""
    return tuple(sorted(path for path, digest in after.items() if before.get(path) != digest))


@dataclass(frozen=True, slots=True)
class Answer:
    """What one hub answered about one feed URL."""

    hub: str
    url: str
    status: int | None
    """The HTTP status of the last attempt; None when there was no answer."""
    detail: str
    """The status's reason and the start of the body, or why there was no answer."""
    attempts: int
    """Requests made: 0 when the hub had already failed and this URL was not sent."""

    @property
    def ok(self) -> bool:
        return self.status is not None and 200 <= self.status < 300

    def describe(self) -> str:
        if self.attempts == 0:
            return "not sent: the hub failed on an earlier feed"
        what = self.detail if self.status is None else f"HTTP {self.status} {self.detail}".rstrip()
        tries = f" (after {self.attempts} attempts)" if self.attempts > 1 else ""
        return what + tries


@dataclass(frozen=True, slots=True)
class PingReport:
    """What every hub answered about every feed URL."""

    hubs: tuple[str, ...]
    answers: tuple[Answer, ...]

    @property
    def failed(self) -> tuple[Answer, ...]:
        return tuple(answer for answer in self.answers if not answer.ok)

    def summary(self) -> tuple[str, ...]:
        """One line per hub: how many feeds it accepted, with the statuses it answered."""
        lines = []
        for hub in self.hubs:
            answers = [answer for answer in self.answers if answer.hub == hub]
            accepted = [answer for answer in answers if answer.ok]
            statuses = sorted({answer.status for answer in accepted if answer.status})
            codes = f" (HTTP {', '.join(map(str, statuses))})" if statuses else ""
            lines.append(f"{hub}: {len(accepted)} of {len(answers)} changed feeds accepted{codes}")
        return tuple(lines)

    def details(self) -> tuple[str, ...]:
        """One line per hub and feed URL."""
        return tuple(f"{answer.hub}: {answer.url}: {answer.describe()}"
                     for answer in self.answers)

    def problems(self, severity: Severity = "warning") -> tuple[Problem, ...]:
        """A problem (named after the hub) for each feed that a hub did not accept."""
        problems = []
        for hub in self.hubs:
            failed = [answer for answer in self.failed if answer.hub == hub]
            problems += [Problem(hub, None, f"{answer.url} not accepted: {answer.describe()}",
                                 severity) for answer in failed if answer.attempts]
            skipped = sum(1 for answer in failed if not answer.attempts)
            if skipped:
                problems.append(Problem(hub, None, f"{skipped} more changed feeds not sent, "
                                                   "since the hub is failing", severity))
        return tuple(problems)


def ping_hubs(hubs: Sequence[str], urls: Sequence[str], *, timeout: float = TIMEOUT,
              attempts: int = ATTEMPTS, backoff: float | None = None,
              sleep: Callable[[float], None] = time.sleep) -> PingReport:
    """Tell every hub that every one of `urls` changed: one POST per hub and URL.

    Network failures do not raise: they are in the report. `backoff` (default `BACKOFF`)
    is the wait before the first retry, doubled before each further one.
    """
    first_wait = BACKOFF if backoff is None else backoff
    answers: list[Answer] = []
    for hub in hubs:
        down = False
        for url in urls:
            if down:
                answers.append(Answer(hub, url, None, "", 0))
                continue
            answer = _publish(hub, url, timeout=timeout, attempts=max(1, attempts),
                              backoff=first_wait, sleep=sleep)
            answers.append(answer)
            # No answer or a 5xx after every attempt: the hub is down, not refusing one feed.
            down = answer.status is None or answer.status >= 500
    return PingReport(tuple(hubs), tuple(answers))


def _publish(hub: str, url: str, *, timeout: float, attempts: int, backoff: float,
             sleep: Callable[[float], None]) -> Answer:
    body = urllib.parse.urlencode({"hub.mode": "publish", "hub.url": url}).encode("ascii")
    for attempt in range(1, attempts + 1):
        if attempt > 1:
            sleep(backoff * 2 ** (attempt - 2))
        status, detail = _post(hub, body, timeout)
        if status is not None and status < 500:
            break
    return Answer(hub, url, status, detail, attempt)


def _post(hub: str, body: bytes, timeout: float) -> tuple[int | None, str]:
    """One POST to `hub`: its status and detail, or None and why there was no answer (also
    when the whole attempt took more than `timeout` seconds)."""
    request = urllib.request.Request(  # noqa: S310 - config.py accepts only http(s) hubs
        hub, data=body, method="POST",
        headers={"Content-Type": FORM_TYPE, "User-Agent": USER_AGENT})
    no_answer = f"no answer within {timeout:g} s"
    deadline = _Deadline(timeout)
    # The handlers of urllib.request.build_opener but those of errors and redirects: every
    # status is an answer, and a 3xx is not followed (urllib would turn the POST into a GET).
    opener = urllib.request.OpenerDirector()
    for handler in (urllib.request.ProxyHandler(), urllib.request.UnknownHandler(), deadline):
        opener.add_handler(handler)
    answer: tuple[int | None, str]
    try:
        with opener.open(request, timeout=timeout) as response:
            detail = _detail(response)
            location = response.headers.get("Location")
            if 300 <= response.status < 400 and location:
                detail += f"; redirects to {_printable(location)} (put that URL in hubs)"
            answer = response.status, detail
    except urllib.error.URLError as exc:
        if isinstance(exc.reason, TimeoutError):
            answer = None, no_answer
        else:
            reason = exc.reason.strerror if isinstance(exc.reason, OSError) else None
            answer = None, f"cannot connect: {(reason or str(exc.reason)).lower()}"
    except TimeoutError:
        answer = None, no_answer
    except (OSError, http.client.HTTPException) as exc:
        answer = None, f"connection failed: {exc or type(exc).__name__}"
    finally:
        if deadline.timer is not None:
            deadline.timer.cancel()
    return (None, no_answer) if deadline.expired else answer


_CONTROL = re.compile("[\x00-\x08\x0e-\x1f\x7f-\x9f\u200e\u200f\u202a-\u202e\u2066-\u2069]")
"""Control characters (and the marks that reorder text on a terminal), removed from what a
hub answers; white space is made single spaces."""


def _printable(text: str) -> str:
    return " ".join(_CONTROL.sub("", text).split())


def _detail(response: http.client.HTTPResponse) -> str:
    """The reason phrase and the start of the body, on one line, with no control character."""
    try:
        body = response.read(_DETAIL_CHARS * 4)
    except (OSError, http.client.HTTPException):
        body = b""
    text = _printable(body.decode("utf-8", "replace"))
    if len(text) > _DETAIL_CHARS:
        text = text[:_DETAIL_CHARS] + "..."
    reason_text = _printable(response.reason or "")
    return f"{reason_text}: {text}" if reason_text and text else reason_text or text


class _Deadline(urllib.request.HTTPHandler, urllib.request.HTTPSHandler):
    """Opens the http(s) connection of one attempt, and shuts its socket down `seconds` after
    the attempt began, which ends any read or write under way (a per-read timeout never fires
    on a hub that sends a byte a second)."""

    def __init__(self, seconds: float) -> None:
        super().__init__()
        self.end = time.monotonic() + seconds
        self.timer: threading.Timer | None = None
        self.expired = False

    def http_open(self, req: urllib.request.Request) -> http.client.HTTPResponse:
        return self.do_open(_HTTPConnection, req, deadline=self)

    def https_open(self, req: urllib.request.Request) -> http.client.HTTPResponse:
        return self.do_open(_HTTPSConnection, req, deadline=self)

    def watch(self, sock: socket.socket) -> None:
        self.timer = threading.Timer(self.end - time.monotonic(), self._shut, [sock])
        self.timer.daemon = True
        self.timer.start()

    def _shut(self, sock: socket.socket) -> None:
        self.expired = True
        with contextlib.suppress(OSError):
            sock.shutdown(socket.SHUT_RDWR)


class _HTTPConnection(http.client.HTTPConnection):
    """Hands its socket to the deadline of its attempt, once connected."""

    def __init__(self, *args: Any, deadline: _Deadline | None = None, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.deadline = deadline

    def connect(self) -> None:
        super().connect()
        if self.deadline is not None and self.sock is not None:
            self.deadline.watch(self.sock)


class _HTTPSConnection(_HTTPConnection, http.client.HTTPSConnection):
    pass
