"""One build of a project at a time: an advisory lock on `<project>/.feeder.lock`.

An `fcntl.flock` lock is released by the kernel however the build ends, a SIGKILL included.
The empty file stays: deleting it while another build holds it would let a third one in.
"""

from __future__ import annotations

import errno
import fcntl
import os
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

from feeder.errors import OutputError, Problem

LOCK_FILE = ".feeder.lock"
_POLL = 0.05


def _try_lock(fd: int) -> bool:
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except OSError as exc:
        if exc.errno in (errno.EWOULDBLOCK, errno.EAGAIN, errno.EACCES):
            return False
        raise
    return True


@contextmanager
def project_lock(path: Path, *, timeout: float, display: str | None = None,
                 on_wait: Callable[[str], None] | None = None) -> Iterator[None]:
    """Hold the exclusive lock on `path` for the duration of the `with` block, waiting
    (after telling `on_wait`) up to `timeout` seconds for another process to release it.
    OutputError on timeout or when the lock file cannot be created."""
    where = display or path.as_posix()
    if not path.parent.is_dir():
        yield  # no project folder, so nothing to build: the build says what is missing
        return
    try:
        fd = os.open(path, os.O_RDWR | os.O_CREAT | os.O_CLOEXEC, 0o644)
    except OSError as exc:
        raise OutputError([Problem(where, None, "cannot create the lock file: "
                                                f"{exc.strerror or exc}")]) from None
    try:
        if not _try_lock(fd):
            if on_wait is not None:
                on_wait(f"waiting for another build of this project to finish "
                        f"(lock {where}, up to {timeout:g} s)...")
            deadline = time.monotonic() + timeout
            while not _try_lock(fd):
                left = deadline - time.monotonic()
                if left <= 0:
                    raise OutputError([Problem(where, None, (
                        f"another build of this project is still running after {timeout:g} s; "
                        "giving up (wait for it to finish, or raise the lock_timeout setting)"))])
                time.sleep(min(_POLL, left))
        yield
    finally:
        os.close(fd)
