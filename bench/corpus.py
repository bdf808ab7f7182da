"""Generate a seeded benchmark corpus of news briefs for feeder, Hugo and Pelican.

Usage::

    python bench/corpus.py OUT_DIR --briefs 1000 --tags 200 --seed 1

Writes, from one set of generated briefs:

* ``OUT_DIR/content/YYYY/...``: the briefs as feeder reads them, about half in the
  house ``.txt`` layout (``YYYY-MM-DD-slug.txt``) and half as Markdown with YAML
  front matter (``slug.md`` or ``YYYY-MM-DD-slug.md``);
* ``OUT_DIR/feeder.toml``: the feeder project file (every format: Atom, RSS, JSON Feed);
* ``OUT_DIR/feeder-ar/feeder.toml``: a second feeder project on the same ``content/``,
  publishing Atom and RSS only (setting ``formats``), the feeds the peers write;
* ``OUT_DIR/hugo/``: a Hugo site (``hugo.toml`` = every item per feed,
  ``hugo-limit50.toml`` = 50 items per feed) with RSS and Atom templates that carry
  the full content;
* ``OUT_DIR/pelican/``: a Pelican site (``pelicanconf.py`` = every item,
  ``pelicanconf-limit50.py`` = 50 items) with a bare one-template theme;
* ``OUT_DIR/bench-manifest.json``: what was generated.

Standard library only; no network. The same seed gives the same corpus.
"""

from __future__ import annotations

import argparse
import json
import random
import re
import shutil
import unicodedata
from dataclasses import dataclass, field, replace
from datetime import date, timedelta
from pathlib import Path

BASE_URL = "https://bench.example.org/"
SITE_TITLE = "Bench Briefs"
FIRST_YEAR = 2015
LAST_YEAR = 2024
DEFAULT_FEED_LIMIT = 50

SHORT_LABEL = "The Short of It"
LONGER_LABEL = "The Longer Version of It"
TAKEAWAY_LABEL = "The Takeaway"
SUB_LABELS = [
    "Here's what happened",
    "Why it matters",
    "What's next",
    "The background",
    "How we got here",
    "What they're saying",
]

# --------------------------------------------------------------------------- vocabulary


def _items(text: str) -> list[str]:
    return text.split("|")


COUNTRIES = _items(
    "Russia|Syria|China|India|Brazil|Mexico|Canada|Germany|France|Italy|Spain|Japan|"
    "Turkey|Iran|Iraq|Israel|Egypt|Nigeria|Kenya|Ethiopia|Argentina|Chile|Colombia|"
    "Venezuela|Peru|Australia|Indonesia|Pakistan|Afghanistan|Ukraine|Poland|Greece|"
    "Sweden|Norway|Finland|Portugal|Ireland|Scotland|South Africa|South Korea|"
    "North Korea|Vietnam|Thailand|Myanmar|the Philippines|Saudi Arabia|Qatar|Lebanon|"
    "Jordan|Cuba|Côte d'Ivoire|Zürich|São Paulo"
)
ORGS = _items(
    "the US|the UK|the EU|the UN|NATO|the White House|Congress|the Senate|"
    "the Supreme Court|the Pentagon|the IMF|the World Bank|OPEC|the WHO|"
    "the Federal Reserve|the European Commission|the Kremlin|Parliament|"
    "the State Department|the G20|AT&T|the central bank|the opposition|the rebels|"
    "the governor's office"
)
PEOPLE = _items(
    "the president|the prime minister|the foreign minister|the chancellor|the mayor|"
    "the UN's special envoy|the health minister|a senior official|the spokesperson|"
    "the party leader|the defense secretary|the governor|the chief executive|"
    "a federal judge|the treasury secretary"
)
NOUNS = _items(
    "talks|deal|ceasefire|agreement|election|vote|bill|budget|economy|market|tariffs|"
    "sanctions|protests|investigation|report|summit|policy|reform|strike|campaign|"
    "crisis|trial|ruling|debate|negotiations|proposal|plan|program|outbreak|merger|"
    "pipeline|referendum|coalition|airstrikes|refugees|inflation|unemployment|"
    "interest rates|emissions|heatwave|wildfires|flooding|vaccine|data breach|"
    "lawsuit|border|stimulus|subsidies|recall|scandal|treaty|hearing|audit"
)
ADJECTIVES = _items(
    "bilateral|controversial|long-awaited|short-lived|fragile|sweeping|temporary|"
    "landmark|unexpected|bipartisan|disputed|record|emergency|preliminary|"
    "multibillion-dollar|fresh|major|surprise|renewed|delayed|stalled|historic|"
    "narrow|costly"
)
VERBS_PAST = _items(
    "announced|suspended|approved|rejected|launched|blocked|criticized|defended|"
    "delayed|signed|proposed|postponed|confirmed|denied|backed|questioned|expanded|"
    "cut|ended|revived|negotiated|challenged|welcomed|condemned|unveiled|scrapped|"
    "extended|investigated|pushed for|pulled out of"
)
VERBS_PRESENT = _items(
    "Suspend|Approve|Reject|Launch|Block|Sign|Delay|Unveil|Scrap|Extend|Revive|"
    "Challenge|Back|End|Expand|Cut"
)
PREPOSITIONS = _items("over|after|amid|despite|ahead of|following|during")
TIME_PHRASES = _items(
    "on Monday|on Tuesday|on Wednesday|on Thursday|on Friday|over the weekend|"
    "yesterday|last week|last month|earlier this year|late last night|this morning|"
    "for the first time in years"
)
CONNECTIVES = _items("while|although|because|even though|just as|since|after")
ASIDES = _items(
    "(Kind of a big mistake.)|(Not great.)|(Yes, again.)|(That's a lot.)|(Awkward.)|"
    "(Stay tuned.)|(Big if true.)"
)
QUOTES = _items(
    "this isn't working|we will not back down|the door remains open|"
    "nothing is off the table|deeply regrets the outcome|a positive step forward|"
    "a clear violation of the agreement|the numbers speak for themselves|"
    "we need more time"
)
AMOUNTS = _items(
    "nearly half a million|more than 300|about 40 percent|$3.2 billion|"
    "roughly 12,000|two-thirds|at least 75|almost $900 million|around 1.5 million|"
    "less than 5 percent|a dozen"
)
HEADLINE_HOOKS = _items(
    "We Don't Talk Anymore|Back to the Table|Not So Fast|Hold the Line|"
    "Follow the Money|Mixed Signals|A Long Road|Second Thoughts|Game Over|"
    "Mind the Gap|Breaking Point|All Eyes On|Under Pressure|No Deal|Crunch Time|"
    "Round Two|Close Call|Trade & Tariffs|Sound the Alarm|Deal or No Deal|"
    "The Waiting Game|Cold Feet"
)

TAG_TOPICS = _items(
    "politics|economy|climate|health|technology|elections|trade|energy|education|"
    "immigration|security|diplomacy|courts|labor|housing|transport|science|space|"
    "media|culture|sports|agriculture|finance|markets|crime|human rights|environment|"
    "public health|cybersecurity|defense|oil|banking|tax|budget|infrastructure|"
    "privacy|artificial intelligence|social media|refugees|terrorism|nuclear|weather|"
    "wildfires|water|food|tourism|aviation|shipping|mining|startups"
)
TAG_PLACES = _items(
    "russia|US|EU|UK|UN|NATO|china|india|brazil|mexico|canada|germany|france|italy|"
    "spain|japan|turkey|iran|iraq|israel|egypt|nigeria|kenya|argentina|colombia|"
    "venezuela|australia|indonesia|pakistan|afghanistan|ukraine|poland|greece|sweden|"
    "south africa|south korea|north korea|vietnam|saudi arabia|middle east|"
    "latin america|africa|asia|europe|syria|cuba|lebanon|opec|G20|WHO"
)
TAG_QUALIFIERS = _items("policy|reform|crisis|talks|report|outlook|watch")


# --------------------------------------------------------------------------- model


@dataclass
class Brief:
    """One generated brief, independent of the file layout it is written in."""

    slug: str
    title: str
    day: date
    tags: list[str]
    dek: str | None
    short: list[str]  # sentences of the one short paragraph
    longer: list[tuple[str, str]]  # ("p", paragraph) or ("label", sub-label)
    takeaway: list[str]  # paragraphs
    layout: str  # "txt" or "md"
    md_time: str | None = None  # "T09:00:00-04:00" when the .md carries a time
    md_dated_name: bool = True  # .md file name carries the date too
    extra: dict[str, str] = field(default_factory=dict)

    @property
    def date_value(self) -> str:
        """The date as front matter carries it (ISO date, or date-time with zone)."""
        if self.layout == "md" and self.md_time:
            return self.day.isoformat() + self.md_time
        return self.day.isoformat()

    @property
    def feeder_relpath(self) -> str:
        if self.layout == "txt" or self.md_dated_name:
            name = f"{self.day.isoformat()}-{self.slug}.{self.layout}"
        else:
            name = f"{self.slug}.md"
        return f"content/{self.day.year}/{name}"

    @property
    def hugo_relpath(self) -> str:
        return f"hugo/content/posts/{self.day.year}/{self.slug}.md"

    @property
    def pelican_relpath(self) -> str:
        return f"pelican/content/{self.day.year}/{self.slug}.md"

    def relpaths(self) -> list[str]:
        return [self.feeder_relpath, self.hugo_relpath, self.pelican_relpath]


def slugify(text: str) -> str:
    ascii_text = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode()
    return re.sub(r"[^a-z0-9]+", "-", ascii_text.lower()).strip("-")


def title_case(text: str) -> str:
    small = {"a", "an", "and", "the", "of", "to", "in", "on", "for", "over", "as"}
    words = text.split(" ")
    out = []
    for i, word in enumerate(words):
        if i and word in small:
            out.append(word)
        elif word[:1].islower():
            out.append(word[:1].upper() + word[1:])
        else:
            out.append(word)
    return " ".join(out)


class TextGen:
    """A small seeded grammar for news-like English prose."""

    def __init__(self, rng: random.Random) -> None:
        self.rng = rng

    def pick(self, seq: list[str]) -> str:
        return self.rng.choice(seq)

    def subject(self) -> str:
        r = self.rng.random()
        if r < 0.3:
            return self.pick(COUNTRIES)
        if r < 0.55:
            return self.pick(ORGS)
        if r < 0.75:
            return self.pick(PEOPLE)
        if r < 0.9:
            return f"the {self.pick(ADJECTIVES)} {self.pick(NOUNS)}"
        owner = self.pick(COUNTRIES)
        owner = owner[4:] if owner.startswith("the ") else owner
        return f"{owner}'s {self.pick(NOUNS)}"

    def obj(self) -> str:
        r = self.rng.random()
        if r < 0.55:
            return f"the {self.pick(ADJECTIVES)} {self.pick(NOUNS)}"
        if r < 0.8:
            return f"its {self.pick(NOUNS)}"
        return f"{self.pick(AMOUNTS)} in {self.pick(NOUNS)}"

    def clause(self) -> str:
        parts = [self.subject(), self.pick(VERBS_PAST), self.obj()]
        if self.rng.random() < 0.5:
            parts.append(f"{self.pick(PREPOSITIONS)} {self.obj()}")
        return " ".join(parts)

    def sentence(self) -> str:
        r = self.rng.random()
        if r < 0.12:
            s = (
                f"{self.subject()} said {self.pick(TIME_PHRASES)} that "
                f'"{self.pick(QUOTES)}" and that {self.clause()}'
            )
        elif r < 0.22:
            left = self.pick(["waiting", "uncertain", "out of work", "displaced", "in limbo"])
            s = f"{self.clause()}, leaving {self.pick(AMOUNTS)} residents {left}"
        elif r < 0.26:
            s = f"Note on this issue: {self.clause()}, while {self.clause()}"
        else:
            s = self.clause()
            if self.rng.random() < 0.5:
                s += " " + self.pick(TIME_PHRASES)
            if self.rng.random() < 0.55:
                s += f", {self.pick(CONNECTIVES)} {self.clause()}"
        s = s[0].upper() + s[1:]
        end = "?" if self.rng.random() < 0.03 else "."
        s += end
        if self.rng.random() < 0.05:
            s += " " + self.pick(ASIDES)
        return s

    def paragraph(self, lo: int, hi: int) -> str:
        return " ".join(self.sentence() for _ in range(self.rng.randint(lo, hi)))

    def headline(self) -> str:
        r = self.rng.random()
        subj = self.pick(COUNTRIES + ORGS)
        subj = subj[4:] if subj.startswith("the ") else subj
        body = f"{subj} {self.pick(VERBS_PRESENT)} {self.pick(ADJECTIVES)} {self.pick(NOUNS)}"
        if r < 0.6:
            return f"{self.pick(HEADLINE_HOOKS)}: {title_case(body)}"
        if r < 0.8:
            other = self.pick(COUNTRIES)
            other = other[4:] if other.startswith("the ") else other
            return title_case(f"{subj} and {other} {self.pick(VERBS_PRESENT)} {self.pick(NOUNS)}")
        return title_case(body)

    def dek(self) -> str:
        options = [
            "This conversation is over.",
            "Here we go again.",
            "Not everyone is happy.",
            "The clock is ticking.",
            "It's complicated.",
            "Nobody saw this coming.",
            "Expect more of this.",
            "Cue the lawyers.",
            "A small step, but a step.",
        ]
        return self.pick(options)


def make_tags(n_tags: int, rng: random.Random) -> list[str]:
    """n_tags distinct tag spellings (distinct slugs), most popular first."""
    pool = list(TAG_PLACES) + list(TAG_TOPICS)
    rng.shuffle(pool)
    combos = [
        f"{place.lower() if place.islower() else place} {topic}"
        for place in TAG_PLACES
        for topic in TAG_TOPICS[:20] + TAG_QUALIFIERS
    ]
    rng.shuffle(combos)
    tags: list[str] = []
    seen: set[str] = set()
    for name in pool + combos:
        key = slugify(name)
        if key in seen or not key:
            continue
        seen.add(key)
        tags.append(name)
        if len(tags) == n_tags:
            return tags
    raise SystemExit(f"cannot make {n_tags} distinct tags (at most {len(tags)})")


def zipf_weights(n: int, s: float = 1.0) -> list[float]:
    return [1.0 / (rank**s) for rank in range(1, n + 1)]


def spell(tag: str, rng: random.Random, case_variation: float) -> str:
    """How an author writes the tag this time (occasionally a different case)."""
    if case_variation and rng.random() < case_variation:
        return tag.capitalize() if tag[:1].islower() else tag.lower()
    return tag


def pick_tags(rng: random.Random, tags: list[str], weights: list[float], k: int) -> list[str]:
    chosen: list[str] = []
    while len(chosen) < k:
        tag = rng.choices(tags, weights=weights)[0]
        if tag not in chosen:
            chosen.append(tag)
    return chosen


def make_brief(
    gen: TextGen,
    slug_taken: set[str],
    day: date,
    tags: list[str],
    layout: str,
) -> Brief:
    rng = gen.rng
    title = gen.headline()
    words = [w for w in slugify(title).split("-") if len(w) > 2]
    slug = "-".join(words[: rng.randint(2, 4)]) or "brief"
    base, n = slug, 2
    while slug in slug_taken:
        slug = f"{base}-{n}"
        n += 1
    slug_taken.add(slug)
    dek = gen.dek() if rng.random() < 0.6 else None
    short = [gen.sentence() for _ in range(rng.randint(1, 3))]
    longer: list[tuple[str, str]] = []
    n_paras = rng.randint(2, 4)
    sub_at = rng.randint(1, n_paras - 1) if rng.random() < 0.45 else -1
    for i in range(n_paras):
        if i == sub_at:
            longer.append(("label", rng.choice(SUB_LABELS)))
        longer.append(("p", gen.paragraph(3, 6)))
    takeaway = [gen.paragraph(2, 4)]
    md_time = None
    if layout == "md" and rng.random() < 0.6:
        offset = rng.choice(["-05:00", "-04:00", "+00:00", "Z", "+01:00", "+02:00", "+09:00"])
        md_time = f"T{rng.randint(6, 20):02d}:{rng.choice([0, 15, 30, 45]):02d}:00{offset}"
    return Brief(
        slug=slug,
        title=title,
        day=day,
        tags=tags,
        dek=dek,
        short=short,
        longer=longer,
        takeaway=takeaway,
        layout=layout,
        md_time=md_time,
        md_dated_name=rng.random() < 0.5,
    )


@dataclass
class Corpus:
    briefs: list[Brief]
    tags: list[str]
    seed: int
    extra: Brief  # the brief the "add one brief" scenario adds
    edit_target: Brief  # the brief the "edit one brief" scenario edits

    def tag_counts(self) -> dict[str, int]:
        counts = {slugify(t): 0 for t in self.tags}
        for b in self.briefs:
            for t in b.tags:
                counts[slugify(t)] += 1
        return counts


def generate(n_briefs: int, n_tags: int, seed: int, case_variation: float = 0.1) -> Corpus:
    rng = random.Random(seed)
    gen = TextGen(rng)
    tags = make_tags(n_tags, random.Random(f"tags-{seed}"))
    weights = zipf_weights(n_tags)
    start = date(FIRST_YEAR, 1, 1)
    span = (date(LAST_YEAR, 12, 31) - start).days
    days = sorted(start + timedelta(days=rng.randrange(span + 1)) for _ in range(n_briefs))
    chosen_tags = [pick_tags(rng, tags, weights, rng.choice([1, 2, 2, 3, 3, 4])) for _ in days]
    # every tag gets at least one brief, so every tag has a feed in every tool
    used = {t for ts in chosen_tags for t in ts}
    for tag in tags:
        if tag not in used and n_briefs:
            for _ in range(100):
                i = rng.randrange(n_briefs)
                if len(chosen_tags[i]) < 4:
                    chosen_tags[i].append(tag)
                    break
    taken: set[str] = set()
    briefs = []
    for day, btags in zip(days, chosen_tags, strict=True):
        layout = "txt" if rng.random() < 0.5 else "md"
        spelled = [spell(t, rng, case_variation) for t in btags]
        briefs.append(make_brief(gen, taken, day, spelled, layout))
    # the brief to add: newest of all, in the most popular tag, house layout
    xgen = TextGen(random.Random(f"extra-{seed}"))
    newest = days[-1] if days else start
    others = [t for t in pick_tags(xgen.rng, tags, weights, 2) if t != tags[0]]
    extra_tags = [tags[0], *others[:1]]
    extra = make_brief(xgen, set(taken), newest + timedelta(days=1), extra_tags, "txt")
    extra = replace(extra, slug="bench-added-" + extra.slug)
    edit_target = briefs[-1] if briefs else extra
    return Corpus(briefs, tags, seed, extra, edit_target)


def edited(brief: Brief, marker: str) -> Brief:
    """A copy of brief with one sentence (carrying marker) added to its longer version."""
    longer = list(brief.longer)
    for i, (kind, text) in enumerate(longer):
        if kind == "p":
            longer[i] = (
                kind,
                f"{text} Update: officials confirmed the figures in a note tagged {marker}.",
            )
            break
    return replace(brief, longer=longer)


# --------------------------------------------------------------------------- renderers


def render_txt(b: Brief) -> str:
    lines = [b.title, "", ", ".join(b.tags), ""]
    if b.dek:
        lines += [b.dek, ""]
    lines += [f"{SHORT_LABEL}:", "", " ".join(b.short), "", f"{LONGER_LABEL}:", ""]
    for kind, text in b.longer:
        lines += [f"{text}:" if kind == "label" else text, ""]
    lines += [f"{TAKEAWAY_LABEL}:", ""]
    for para in b.takeaway:
        lines += [para, ""]
    return "\n".join(lines[:-1]) + "\n"


def render_md_body(b: Brief) -> str:
    parts = []
    if b.dek:
        parts.append(b.dek)
    parts += [f"## {SHORT_LABEL}", " ".join(b.short), f"## {LONGER_LABEL}"]
    for kind, text in b.longer:
        parts.append(f"### {text}" if kind == "label" else text)
    parts.append(f"## {TAKEAWAY_LABEL}")
    parts += b.takeaway
    return "\n\n".join(parts) + "\n"


def yaml_str(text: str) -> str:
    return json.dumps(text, ensure_ascii=False)  # a JSON string is a valid YAML string


def render_feeder_md(b: Brief) -> str:
    head = [
        "---",
        f"title: {yaml_str(b.title)}",
        f"date: {b.date_value}",
        f"tags: [{', '.join(b.tags)}]",
        "---",
    ]
    return "\n".join(head) + "\n" + render_md_body(b)


def render_hugo(b: Brief) -> str:
    head = [
        "---",
        f"title: {yaml_str(b.title)}",
        f"date: {b.date_value}",
        f"slug: {b.slug}",
        f"tags: [{', '.join(yaml_str(t) for t in b.tags)}]",
        "---",
    ]
    return "\n".join(head) + "\n" + render_md_body(b)


def render_pelican(b: Brief) -> str:
    head = [
        f"Title: {b.title}",
        f"Date: {b.date_value}",
        f"Tags: {', '.join(b.tags)}",
        f"Slug: {b.slug}",
        "",
    ]
    return "\n".join(head) + "\n" + render_md_body(b)


FAMILIES = ("feeder", "hugo", "pelican")


def rendering(b: Brief, family: str) -> tuple[str, str]:
    """(path relative to OUT_DIR, file text) of brief b as one tool family reads it."""
    if family == "feeder":
        return b.feeder_relpath, render_txt(b) if b.layout == "txt" else render_feeder_md(b)
    if family == "hugo":
        return b.hugo_relpath, render_hugo(b)
    if family == "pelican":
        return b.pelican_relpath, render_pelican(b)
    raise ValueError(f"unknown tool family {family!r}")


def renderings(b: Brief) -> dict[str, str]:
    """relative path -> file text, for feeder, Hugo and Pelican."""
    return dict(rendering(b, family) for family in FAMILIES)


def write_brief(out_dir: Path, b: Brief) -> list[Path]:
    written = []
    for rel, text in renderings(b).items():
        path = out_dir / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
        written.append(path)
    return written


def remove_brief(out_dir: Path, b: Brief) -> None:
    for rel in b.relpaths():
        (out_dir / rel).unlink(missing_ok=True)


# --------------------------------------------------------------------------- site configs

FEEDER_TOML = f"""title = "{SITE_TITLE}"
base_url = "{BASE_URL}"
content_dir = "content"
output_dir = "public"
"""
FEEDER_AR_TOML = f"""title = "{SITE_TITLE}"
base_url = "{BASE_URL}"
content_dir = "../content"
output_dir = "public"
formats = ["atom", "rss"]
"""


def hugo_config(limit: int, publish_dir: str) -> str:
    return f"""# Hugo site for the feeder benchmark (generated by bench/corpus.py).
baseURL = "{BASE_URL}"
title = "{SITE_TITLE}"
publishDir = "{publish_dir}"
timeZone = "UTC"
# only what the feeds need: one page per brief (the feed links point there),
# the home feeds and one pair of feeds per tag
disableKinds = ["taxonomy", "section", "sitemap", "robotstxt", "404"]

[taxonomies]
tag = "tags"

[permalinks.page]
posts = "/:year/:month/:day/:slug/"

# items per feed (RSS and Atom, read by the templates in layouts/); -1 = every item
[services.rss]
limit = {limit}

[mediaTypes."application/atom+xml"]
suffixes = ["xml"]

[outputFormats.atom]
mediaType = "application/atom+xml"
baseName = "atom"
isPlainText = false
rel = "alternate"
isHTML = false
noUgly = true
permalinkable = false

[outputs]
home = ["rss", "atom"]
term = ["rss", "atom"]
page = ["html"]
"""


HUGO_FEED_PAGES = """{{- $pages := cond .IsHome site.RegularPages .Pages -}}
{{- $limit := site.Config.Services.RSS.Limit -}}
{{- if ge $limit 1 }}{{ $pages = first $limit $pages }}{{ end -}}
{{- $title := cond .IsHome site.Title (printf "%s on %s" .Title site.Title) -}}
"""

HUGO_RSS = (
    HUGO_FEED_PAGES
    + """{{- printf "<?xml version=\\"1.0\\" encoding=\\"utf-8\\"?>" | safeHTML }}
<rss version="2.0" xmlns:atom="http://www.w3.org/2005/Atom">
  <channel>
    <title>{{ $title }}</title>
    <link>{{ .Permalink }}</link>
    <description>{{ $title }}</description>
    <language>en</language>
    {{- with index $pages 0 }}
    {{- $rfc822 := "Mon, 02 Jan 2006 15:04:05 -0700" }}
    <lastBuildDate>{{ .Lastmod.Format $rfc822 | safeHTML }}</lastBuildDate>
    {{- end }}
    {{- with .OutputFormats.Get "rss" }}
    {{ printf "<atom:link href=%q rel=\\"self\\" type=%q />" .Permalink .MediaType | safeHTML }}
    {{- end }}
    {{- range $pages }}
    <item>
      <title>{{ .Title }}</title>
      <link>{{ .Permalink }}</link>
      <pubDate>{{ .Date.Format "Mon, 02 Jan 2006 15:04:05 -0700" | safeHTML }}</pubDate>
      <guid>{{ .Permalink }}</guid>
      {{- range .Params.tags }}
      <category>{{ . }}</category>
      {{- end }}
      <description>{{ .Content | transform.XMLEscape | safeHTML }}</description>
    </item>
    {{- end }}
  </channel>
</rss>
"""
)

HUGO_ATOM = (
    HUGO_FEED_PAGES
    + """{{- printf "<?xml version=\\"1.0\\" encoding=\\"utf-8\\"?>" | safeHTML }}
<feed xmlns="http://www.w3.org/2005/Atom" xml:lang="en">
  <title>{{ $title }}</title>
  <id>{{ .Permalink }}</id>
  <link href="{{ .Permalink }}"/>
  {{- with .OutputFormats.Get "atom" }}
  <link rel="self" type="application/atom+xml" href="{{ .Permalink }}"/>
  {{- end }}
  {{- with index $pages 0 }}
  <updated>{{ .Lastmod.Format "2006-01-02T15:04:05Z07:00" | safeHTML }}</updated>
  {{- end }}
  {{- range $pages }}
  <entry>
    <title>{{ .Title }}</title>
    <link href="{{ .Permalink }}"/>
    <id>{{ .Permalink }}</id>
    <published>{{ .Date.Format "2006-01-02T15:04:05Z07:00" | safeHTML }}</published>
    <updated>{{ .Lastmod.Format "2006-01-02T15:04:05Z07:00" | safeHTML }}</updated>
    {{- range .Params.tags }}
    <category term="{{ . }}"/>
    {{- end }}
    <content type="html">{{ .Content | transform.XMLEscape | safeHTML }}</content>
  </entry>
  {{- end }}
</feed>
"""
)

HUGO_SINGLE = """<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8"><title>{{ .Title }}</title></head>
<body><article><h1>{{ .Title }}</h1>
<time datetime="{{ .Date.Format "2006-01-02T15:04:05Z07:00" }}">
{{- .Date.Format "2 January 2006" }}</time>
{{ .Content }}
</article></body></html>
"""


def pelican_config(limit: int | None, output: str, cache: str) -> str:
    return f"""# Pelican site for the feeder benchmark (generated by bench/corpus.py).
SITENAME = "{SITE_TITLE}"
SITEURL = "{BASE_URL.rstrip("/")}"
FEED_DOMAIN = SITEURL
RELATIVE_URLS = False
TIMEZONE = "UTC"
DEFAULT_LANG = "en"
PATH = "content"
OUTPUT_PATH = "{output}"
THEME = "theme"  # one bare template: templates/article.html

# feeds: combined and per tag, Atom and RSS, full content
FEED_ALL_ATOM = "feeds/all.atom.xml"
FEED_ALL_RSS = "feeds/all.rss.xml"
TAG_FEED_ATOM = "feeds/tags/{{slug}}.atom.xml"
TAG_FEED_RSS = "feeds/tags/{{slug}}.rss.xml"
RSS_FEED_SUMMARY_ONLY = False
FEED_MAX_ITEMS = {limit!r}  # None = every item
FEED_ATOM = None
FEED_RSS = None
CATEGORY_FEED_ATOM = None
CATEGORY_FEED_RSS = None
AUTHOR_FEED_ATOM = None
AUTHOR_FEED_RSS = None
TRANSLATION_FEED_ATOM = None
TRANSLATION_FEED_RSS = None

# pages: keep the article pages (the feed links point there), nothing else
ARTICLE_URL = "{{date:%Y}}/{{date:%m}}/{{date:%d}}/{{slug}}/"
ARTICLE_SAVE_AS = "{{date:%Y}}/{{date:%m}}/{{date:%d}}/{{slug}}/index.html"
DIRECT_TEMPLATES = []
TAG_SAVE_AS = ""
CATEGORY_SAVE_AS = ""
AUTHOR_SAVE_AS = ""
PAGE_PATHS = []
STATIC_PATHS = []
THEME_STATIC_PATHS = []
USE_FOLDER_AS_CATEGORY = False
DEFAULT_CATEGORY = "news"
DEFAULT_PAGINATION = False

# content cache for rebuilds
CACHE_PATH = "{cache}"
LOAD_CONTENT_CACHE = True
CACHE_CONTENT = True
CHECK_MODIFIED_METHOD = "mtime"
"""


PELICAN_ARTICLE = """<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8"><title>{{ article.title|striptags }}</title></head>
<body><article><h1>{{ article.title }}</h1>
<time datetime="{{ article.date.isoformat() }}">{{ article.locale_date }}</time>
{{ article.content }}
</article></body></html>
"""


def write_site_files(out_dir: Path, feed_limit: int = DEFAULT_FEED_LIMIT) -> None:
    files = {
        "feeder.toml": FEEDER_TOML,
        "feeder-ar/feeder.toml": FEEDER_AR_TOML,
        "hugo/hugo.toml": hugo_config(-1, "public"),
        f"hugo/hugo-limit{feed_limit}.toml": hugo_config(feed_limit, f"public-limit{feed_limit}"),
        "hugo/layouts/home.rss.xml": HUGO_RSS,
        "hugo/layouts/term.rss.xml": HUGO_RSS,
        "hugo/layouts/home.atom.xml": HUGO_ATOM,
        "hugo/layouts/term.atom.xml": HUGO_ATOM,
        "hugo/layouts/page.html": HUGO_SINGLE,
        "pelican/pelicanconf.py": pelican_config(None, "output", "cache"),
        f"pelican/pelicanconf-limit{feed_limit}.py": pelican_config(
            feed_limit, f"output-limit{feed_limit}", f"cache-limit{feed_limit}"
        ),
        "pelican/theme/templates/article.html": PELICAN_ARTICLE,
    }
    for rel, text in files.items():
        path = out_dir / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")


def write_corpus(
    out_dir: Path,
    n_briefs: int,
    n_tags: int,
    seed: int,
    feed_limit: int = DEFAULT_FEED_LIMIT,
    case_variation: float = 0.1,
) -> Corpus:
    """Generate and write everything; returns the corpus (to add/edit briefs later)."""
    corpus = generate(n_briefs, n_tags, seed, case_variation)
    for sub in ("content", "hugo/content", "pelican/content"):
        shutil.rmtree(out_dir / sub, ignore_errors=True)
    write_site_files(out_dir, feed_limit)
    sizes = []
    for b in corpus.briefs:
        paths = write_brief(out_dir, b)
        sizes.append(paths[0].stat().st_size)
    counts = corpus.tag_counts()
    manifest = {
        "briefs": n_briefs,
        "tags": n_tags,
        "seed": seed,
        "case_variation": case_variation,
        "feed_limit": feed_limit,
        "txt_briefs": sum(b.layout == "txt" for b in corpus.briefs),
        "md_briefs": sum(b.layout == "md" for b in corpus.briefs),
        "bytes_total": sum(sizes),
        "bytes_mean": round(sum(sizes) / len(sizes)) if sizes else 0,
        "years": sorted({b.day.year for b in corpus.briefs}),
        "biggest_tags": sorted(counts.items(), key=lambda kv: -kv[1])[:10],
        "tags_used": sum(1 for c in counts.values() if c),
        "added_brief": corpus.extra.feeder_relpath,
        "edited_brief": corpus.edit_target.feeder_relpath,
    }
    (out_dir / "bench-manifest.json").write_text(json.dumps(manifest, indent=2) + "\n")
    return corpus


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("out_dir", type=Path, help="where to write content/, hugo/, pelican/")
    parser.add_argument("--briefs", type=int, default=1000, help="number of briefs (default 1000)")
    parser.add_argument(
        "--tags", type=int, default=200, help="number of distinct tags (default 200)"
    )
    parser.add_argument("--seed", type=int, default=1, help="random seed (default 1)")
    parser.add_argument(
        "--feed-limit",
        type=int,
        default=DEFAULT_FEED_LIMIT,
        help="items per feed of the limited Hugo/Pelican variants (default 50)",
    )
    parser.add_argument(
        "--case-variation",
        type=float,
        default=0.1,
        help="share of tag uses spelled in another case, e.g. Russia/russia (default 0.1)",
    )
    args = parser.parse_args(argv)
    if args.briefs < 1 or args.tags < 1:
        parser.error("--briefs and --tags must be positive")
    args.out_dir.mkdir(parents=True, exist_ok=True)
    write_corpus(
        args.out_dir, args.briefs, args.tags, args.seed, args.feed_limit, args.case_variation
    )
    manifest = json.loads((args.out_dir / "bench-manifest.json").read_text())
    print(
        f"wrote {manifest['briefs']} briefs ({manifest['txt_briefs']} .txt, "
        f"{manifest['md_briefs']} .md, mean {manifest['bytes_mean']} bytes) over "
        f"{manifest['tags_used']} tags to {args.out_dir}"
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
