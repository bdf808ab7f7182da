"""The plan: every file of the site as its path, the key of what it is made from (a rebuild
makes only the outputs whose key changed), and how to make its bytes. Pure.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, replace
from functools import partial

from feeder.attachments import Asset
from feeder.config import Config
from feeder.extras import extra_outputs
from feeder.feeds import RENDERERS
from feeder.opml import OPML_FILE, opml_bytes
from feeder.pages import plan_pages
from feeder.render import Rendered
from feeder.site import Entry, Feed, Site, with_html
from feeder.static import StaticFiles


@dataclass(frozen=True, slots=True)
class Output:
    """One file of the site, not made yet."""

    key: bytes | None
    """SHA-256 of everything its bytes are made from; None: made by every build."""
    entries: tuple[Entry, ...]
    """The entries whose HTML it shows."""
    make: Callable[[Mapping[bytes, Rendered]], bytes]
    """Its bytes, given the HTML (by body digest) of those of `entries` that have none."""


def _feed_key(base: hashlib._Hash, feed: Feed) -> hashlib._Hash:
    digest = base.copy()
    digest.update(repr((feed.folder, feed.title, feed.subtitle, feed.home_url, feed.base_url,
                        feed.tag, feed.hubs, feed.archive, feed.archive_links,
                        feed.empty_updated)).encode("utf-8", "surrogatepass"))
    digest.update(b"".join([entry.digest for entry in feed.entries]))
    return digest


def _make_feed(render: Callable[[Feed, Config], bytes], feed: Feed, config: Config,
               html: Mapping[bytes, Rendered]) -> bytes:
    return render(replace(feed, entries=with_html(feed.entries, html)), config)


def _without_html(make: Callable[[], bytes], _html: Mapping[bytes, Rendered]) -> bytes:
    return make()


def plan_files(site: Site, config: Config, templates: Mapping[str, str] | None = None,
               static: StaticFiles | None = None) -> dict[str, Output]:
    """Every file of the site (feeds in each published format, pages, the OPML list, the
    sitemap, robots.txt, 404.html, the favicon and `static/`): relative POSIX path -> Output.
    `templates` are the publisher's page templates, `static` the files published as they are."""
    base = hashlib.sha256(repr(config).encode("utf-8", "surrogatepass"))
    plan: dict[str, Output] = {}
    for feed in site.feeds:
        key = _feed_key(base, feed)
        for name in config.feed_files:
            named = key.copy()
            named.update(name.encode())
            plan[feed.folder + name] = Output(named.digest(), feed.entries,
                                              partial(_make_feed, RENDERERS[name], feed, config))
    for rel, page in plan_pages(site, config, templates).items():
        plan[rel] = Output(page.key, page.entries, page.make)
    plan[OPML_FILE] = Output(None, (), partial(_without_html, partial(opml_bytes, site, config)))
    for rel, extra in extra_outputs(site, config, templates or {}, static or StaticFiles(),
                                    plan).items():
        plan[rel] = Output(extra.key, (), partial(_without_html, extra.made))
    return plan


def plan_outputs(site: Site, config: Config, templates: Mapping[str, str] | None = None,
                 static: StaticFiles | None = None) -> dict[str, bytes]:
    """Every file of the site: relative POSIX path -> bytes (every entry with its HTML)."""
    return {rel: output.make({})
            for rel, output in plan_files(site, config, templates, static).items()}


def asset_files(assets: Iterable[Asset], stamps: Mapping[str, tuple[int, int, int]],
                read: Callable[[str], bytes]) -> dict[str, Output]:
    """The files briefs bring (by path in the output folder), copied as they are, each keyed
    by its stamp in the content folder (size, modification time, inode). `read` gives a
    file's bytes by its path in the content folder."""
    return {asset.path: Output(hashlib.sha256(repr(("asset", asset.rel, stamps[asset.rel]))
                                              .encode("utf-8", "surrogatepass")).digest(),
                               (), partial(_without_html, partial(read, asset.rel)))
            for asset in assets}
