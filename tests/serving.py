"""Helpers for the tests that talk to a running `feeder serve`: start it, wait for it, stop it.

Every wait has a generous deadline (CI has two cores), ports are chosen by the system
(`--port 0`, the command prints the address), and the server is always stopped.
"""

from __future__ import annotations

import http.client
import os
import re
import shutil
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit

from feeder.serve import make_server, server_url
from tests.conftest import REPO

START_TIMEOUT = 60.0
CHANGE_TIMEOUT = 60.0
_ADDRESS = re.compile(r"at (http://127\.0\.0\.1:\d+/)")


@dataclass
class Response:
    status: int
    headers: dict[str, str]
    body: bytes


def fetch(url: str, headers: dict[str, str] | None = None, method: str = "GET") -> Response:
    """One request, no redirects followed, headers by lowercase name."""
    parts = urlsplit(url)
    connection = http.client.HTTPConnection(parts.hostname or "", parts.port, timeout=30)
    try:
        connection.request(method, parts.path or "/", headers=headers or {})
        response = connection.getresponse()
        body = response.read()
        return Response(response.status, {k.lower(): v for k, v in response.getheaders()}, body)
    finally:
        connection.close()


def wait_for(condition: Callable[[], object], timeout: float, what: str) -> object:
    deadline = time.monotonic() + timeout
    while True:
        value = condition()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout:.0f} s waiting for {what}")
        time.sleep(0.05)


class Served:
    """A `feeder serve` process: its address and what it printed so far."""

    def __init__(self, process: subprocess.Popen[bytes], stdout: Path, stderr: Path) -> None:
        self.process = process
        self.stdout_path = stdout
        self.stderr_path = stderr
        self.url = ""

    @property
    def stdout(self) -> str:
        return self.stdout_path.read_text(encoding="utf-8", errors="replace")

    @property
    def stderr(self) -> str:
        return self.stderr_path.read_text(encoding="utf-8", errors="replace")

    def wait_for_output(self, text: str, *, after: int = 0) -> None:
        """Wait until stderr holds `text` past its first `after` characters."""
        wait_for(lambda: text in self.stderr[after:] or self._died(), CHANGE_TIMEOUT,
                 f"{text!r} in the output of feeder serve")
        assert self.process.poll() is None, f"feeder serve died:\n{self.stderr}"


    def _died(self) -> bool:
        return self.process.poll() is not None


@contextmanager
def feeder_serve(project: Path, *args: str, logs: Path | None = None) -> Iterator[Served]:
    """Run `python -m feeder serve -C project --port 0 ARGS` until the block ends."""
    logs = logs or project.parent
    stdout, stderr = logs / "serve.out", logs / "serve.err"
    env = {**os.environ, "PYTHONUNBUFFERED": "1"}
    with stdout.open("wb") as out, stderr.open("wb") as err:
        process = subprocess.Popen(
            [sys.executable, "-m", "feeder", "serve", "-C", str(project), "--port", "0", *args],
            stdout=out, stderr=err, stdin=subprocess.DEVNULL, env=env, cwd=str(project))
    served = Served(process, stdout, stderr)
    try:
        match = wait_for(lambda: _ADDRESS.search(served.stdout) or served._died(),
                         START_TIMEOUT, "feeder serve to start")
        assert isinstance(match, re.Match), f"feeder serve did not start:\n{served.stderr}"
        served.url = match.group(1)
        yield served
    finally:
        if process.poll() is None:
            process.send_signal(signal.SIGTERM)
            try:
                process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait(timeout=30)


@contextmanager
def serve_folder(root: Path) -> Iterator[str]:
    """feeder's HTTP server for `root`, in this process, on a free port."""
    server = make_server(root, 0)
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05},
                              daemon=True)
    thread.start()
    try:
        yield server_url(server)
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=30)


def sample_project(tmp_path: Path) -> Path:
    """A copy of the repository's sample publication (content/ and feeder.toml)."""
    root = tmp_path / "sample"
    shutil.copytree(REPO / "content", root / "content")
    shutil.copy(REPO / "feeder.toml", root / "feeder.toml")
    return root
