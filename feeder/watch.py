"""Watching a project for `feeder serve`: rebuild whenever a brief, a setting, a template or
a static file changes.

`Rebuilder` watches the content folder, the settings files, `templates/` and `static/` with
watchdog (inotify, FSEvents or ReadDirectoryChangesW, whichever the system has), lets a
burst of changes settle, then rebuilds. A rebuild that fails prints its problems and the
server goes on serving the last good build.
"""

from __future__ import annotations

import threading
import traceback
from collections.abc import Callable
from pathlib import Path

from watchdog.events import FileSystemEvent, FileSystemEventHandler
from watchdog.observers import Observer

from feeder.config import PYPROJECT_FILE, SETTINGS_FILE, TEMPLATES_FOLDER, Config
from feeder.errors import FeederError, Problem
from feeder.static import STATIC_FOLDER

SETTLE_SECONDS = 0.3
"""How long the files must stay quiet before a rebuild: an editor's save is several events."""
_WRITE_EVENTS = frozenset({"created", "modified", "deleted", "moved", "closed"})
"""Events that change a file (watchdog also reports opening and reading, which do not)."""
Echo = Callable[[str], None]
Build = Callable[[Config], str]
"""Builds the site of a Config and returns a one-line summary; raises FeederError."""


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
        if config.favicon is not None:
            self.settings.add(config.root / config.favicon)
        self.templates = config.root / TEMPLATES_FOLDER
        self.static = config.root / STATIC_FOLDER

    def relevant(self, raw: str | bytes) -> bool:
        path = Path(raw if isinstance(raw, str) else raw.decode(errors="replace"))
        if path.is_relative_to(self.output) or path.name.endswith("~"):
            return False
        if path in self.settings or path in (self.templates, self.static):
            return True
        for folder in (self.content, self.templates, self.static):
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
        """Watch the content folder, the project folder (for the settings files and the
        favicon), and templates/ and static/ when they exist; each once."""
        config = self.config
        wanted = [(config.content_dir, True), (config.root, False),
                  (config.root / TEMPLATES_FOLDER, True), (config.root / STATIC_FOLDER, True)]
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
