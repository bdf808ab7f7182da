"""Generate a seeded benchmark corpus of news briefs for feeder and Hugo.

Usage::

    python bench/corpus.py OUT_DIR --briefs 1000 --tags 200 --seed 1 [--style plain]

Writes, from one set of generated briefs:

* ``OUT_DIR/content/YYYY/...``: the briefs as feeder reads them, about half in the
  house layout (``YYYY-MM-DD-slug.txt``: title line, tags line, standfirst, label lines)
  and half as Markdown with YAML front matter (``slug.md`` or ``YYYY-MM-DD-slug.md``);
* ``OUT_DIR/feeder.toml``: the feeder project file, at feeder's defaults;
* ``OUT_DIR/hugo/``: a Hugo site reading the same briefs as Markdown with front matter,
  with three configurations (see ``hugo_config``) and the templates they share;
* ``OUT_DIR/bench-scenarios/``: the brief the "add" scenario adds and the edited copy of
  the brief the "edit" scenario edits, as feeder reads them (for bench/feeder_alone.sh);
* ``OUT_DIR/bench-manifest.json``: what was generated.

The default style, ``markdown``, writes briefs that use what real briefs use: links,
emphasis, lists, block quotes, now and then a table or a fenced code block. ``plain``
writes the same shapes in plain prose (no Markdown syntax at all).

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


LINK_HOSTS = _items(
    "https://www.example.com/news|https://apnews.example.org|https://data.example.net/reports|"
    "https://www.example.org/world|https://gov.example.com/press|https://example.net/analysis"
)
TABLE_HEADS = _items("Where|Figure|Change")
CODE_HEADS = _items("STATEMENT|RESOLUTION|TALLY|FILING|NOTICE|SCHEDULE")

STYLES = ("markdown", "plain")
BODY_MIN = 2048  # bytes of a brief's body (the Markdown after the front matter)
BODY_MAX = 4096


# --------------------------------------------------------------------------- model


@dataclass
class Brief:
    """One generated brief, independent of the file layout it is written in.

    Its blocks are Markdown text, the same in every layout; a layout only decides how the
    title, tags, date and labels are written around them.
    """

    slug: str
    title: str
    day: date
    tags: list[str]
    dek: str | None
    short: list[str]  # sentences of the one short paragraph
    longer: list[tuple[str, str]]  # ("p", paragraph), ("label", sub-label), ("block", Markdown)
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

    def relpaths(self) -> list[str]:
        return [self.feeder_relpath, self.hugo_relpath]


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


_WORD = re.compile(r"[A-Za-z][A-Za-z'-]*")


class Markup:
    """Markdown as briefs use it, laid over generated prose: links and emphasis inside
    paragraphs, and lists, block quotes, tables and fenced code as blocks of their own."""

    def __init__(self, gen: TextGen) -> None:
        self.gen = gen
        self.rng = gen.rng

    def inline(self, paragraph: str) -> str:
        """The paragraph with 0-3 links, sometimes an emphasis and a strong emphasis."""
        rng = self.rng
        words = paragraph.split(" ")
        free = [bool(_WORD.fullmatch(w)) for w in words]
        for kind in (
            ["link"] * rng.choice([0, 1, 1, 2, 2, 3])
            + ["em"] * (rng.random() < 0.5)
            + ["strong"] * (rng.random() < 0.25)
        ):
            span = {"link": rng.randint(2, 4), "em": 1, "strong": rng.randint(1, 2)}[kind]
            starts = [i for i in range(len(words) - span + 1) if all(free[i : i + span])]
            if not starts:
                continue
            i = rng.choice(starts)
            j = i + span - 1
            if kind == "link":
                path = "-".join(w.lower() for w in words[i : j + 1]).replace("'", "")
                url = f"{rng.choice(LINK_HOSTS)}/{rng.randint(2015, 2024)}/{path}"
                words[i] = "[" + words[i]
                words[j] = f"{words[j]}]({url})"
            else:
                mark = "*" if kind == "em" else "**"
                words[i] = mark + words[i]
                words[j] = words[j] + mark
            for k in range(max(0, i - 1), min(len(words), j + 2)):
                free[k] = False
        return " ".join(words)

    def bullets(self) -> str:
        numbered = self.rng.random() < 0.3
        items = []
        for n in range(1, self.rng.randint(3, 5) + 1):
            clause = self.gen.clause()
            text = self.inline(clause[0].upper() + clause[1:] + ".")
            items.append(f"{n}. {text}" if numbered else f"- {text}")
        return "\n".join(items)

    def quote(self) -> str:
        said = self.gen.pick(QUOTES)
        who = self.gen.pick(PEOPLE)
        lines = [f'> "{said[0].upper() + said[1:]}," {who} said {self.gen.pick(TIME_PHRASES)}.']
        if self.rng.random() < 0.5:
            lines += [">", f"> {self.gen.sentence()}"]
        return "\n".join(lines)

    def table(self) -> str:
        rows = [f"| {' | '.join(TABLE_HEADS)} |", "| --- | ---: | ---: |"]
        for _ in range(self.rng.randint(3, 5)):
            change = f"{self.rng.choice('+-')}{self.rng.randint(1, 40)}%"
            rows.append(
                f"| {self.gen.pick(COUNTRIES)} | {self.rng.randint(100, 99000):,} | {change} |"
            )
        return "\n".join(rows)

    def code(self) -> str:
        head = f"{self.gen.pick(CODE_HEADS)} {self.rng.randint(100, 2999)}"
        lines = [f"{self.gen.pick(NOUNS):<14} {self.rng.randint(1, 999):>4}" for _ in range(3)]
        return "\n".join(["```text", head, *lines, "```"])


def body_size(b: Brief) -> int:
    return len(render_md_body(b).encode())


def make_brief(
    gen: TextGen,
    slug_taken: set[str],
    day: date,
    tags: list[str],
    layout: str,
    style: str = "markdown",
) -> Brief:
    rng = gen.rng
    mark = Markup(gen)
    inline = mark.inline if style == "markdown" else (lambda text: text)
    title = gen.headline()
    words = [w for w in slugify(title).split("-") if len(w) > 2]
    slug = "-".join(words[: rng.randint(2, 4)]) or "brief"
    base, n = slug, 2
    while slug in slug_taken:
        slug = f"{base}-{n}"
        n += 1
    slug_taken.add(slug)
    dek = gen.dek() if rng.random() < 0.6 else None
    short = [inline(" ".join(gen.sentence() for _ in range(rng.randint(1, 3))))]
    longer: list[tuple[str, str]] = []
    n_paras = rng.randint(2, 4)
    sub_at = rng.randint(1, n_paras - 1) if rng.random() < 0.6 else -1
    blocks: list[str] = []
    if style == "markdown":
        chances = ((0.5, mark.bullets), (0.4, mark.quote), (0.08, mark.table), (0.05, mark.code))
        blocks = [make() for chance, make in chances if rng.random() < chance]
        rng.shuffle(blocks)
    for i in range(n_paras):
        if i == sub_at:
            longer.append(("label", rng.choice(SUB_LABELS)))
        longer.append(("p", inline(gen.paragraph(3, 5))))
        if blocks and rng.random() < 0.5:
            longer.append(("block", blocks.pop()))
    for block in blocks:  # the rest, each after one of the paragraphs
        after = rng.choice([i for i, (kind, _) in enumerate(longer) if kind == "p"])
        longer.insert(after + 1, ("block", block))
    takeaway = [inline(gen.paragraph(2, 4))]
    md_time = None
    if layout == "md" and rng.random() < 0.6:
        offset = rng.choice(["-05:00", "-04:00", "+00:00", "Z", "+01:00", "+02:00", "+09:00"])
        md_time = f"T{rng.randint(6, 20):02d}:{rng.choice([0, 15, 30, 45]):02d}:00{offset}"
    brief = Brief(
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
    # bodies of 2-4 KiB: another paragraph while short, the last paragraph off while long
    while body_size(brief) < BODY_MIN + rng.randint(0, 1024):
        brief.longer.append(("p", inline(gen.paragraph(2, 4))))
    while body_size(brief) > BODY_MAX and sum(k == "p" for k, _ in brief.longer) > 1:
        last = max(i for i, (k, _) in enumerate(brief.longer) if k == "p")
        del brief.longer[last]
    return brief


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


def generate(
    n_briefs: int,
    n_tags: int,
    seed: int,
    case_variation: float = 0.1,
    style: str = "markdown",
) -> Corpus:
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
        briefs.append(make_brief(gen, taken, day, spelled, layout, style))
    # the brief to add: newest of all, in the most popular tag, house layout
    xgen = TextGen(random.Random(f"extra-{seed}"))
    newest = days[-1] if days else start
    others = [t for t in pick_tags(xgen.rng, tags, weights, 2) if t != tags[0]]
    extra_tags = [tags[0], *others[:1]]
    extra = make_brief(xgen, set(taken), newest + timedelta(days=1), extra_tags, "txt", style)
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
    """The house layout, as content/2016-10-04-radio-silent.txt is written."""
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


FAMILIES = ("feeder", "hugo")


def rendering(b: Brief, family: str) -> tuple[str, str]:
    """(path relative to OUT_DIR, file text) of brief b as one tool family reads it."""
    if family == "feeder":
        return b.feeder_relpath, render_txt(b) if b.layout == "txt" else render_feeder_md(b)
    if family == "hugo":
        return b.hugo_relpath, render_hugo(b)
    raise ValueError(f"unknown tool family {family!r}")


def renderings(b: Brief) -> dict[str, str]:
    """relative path -> file text, for feeder and Hugo."""
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

HUGO_VARIANTS = ("hugo-all", "hugo-50", "hugo-feeds")
"""The Hugo configurations (hugo/<name>.toml, publishing to hugo/public-<name>/):

* hugo-all: what feeder writes by default, every item in every feed: RSS, Atom and JSON
  Feed for the combined list and every tag, a page per brief, a paged listing of every
  tag and of the home page, the list of tags;
* hugo-50: the same with 50 items (--feed-limit) per feed;
* hugo-feeds: the 50-item feeds only (the brief pages are not written, only linked).
"""


def hugo_config(variant: str, limit: int) -> str:
    items = -1 if variant == "hugo-all" else limit
    pages = variant != "hugo-feeds"
    html = '"html", ' if pages else ""
    kinds = '"section", "sitemap", "robotstxt", "404"' + ("" if pages else ', "taxonomy"')
    text = f"""# Hugo site for the feeder benchmark (generated by bench/corpus.py): {variant}
baseURL = "{BASE_URL}"
title = "{SITE_TITLE}"
publishDir = "public-{variant}"
timeZone = "UTC"
disableKinds = [{kinds}]

[taxonomies]
tag = "tags"

[permalinks.page]
posts = "/:year/:month/:day/:slug/"

[pagination]
pagerSize = {limit}

# items per feed, read by the feed templates in layouts/; -1 = every item
[services.rss]
limit = {items}

[mediaTypes."application/atom+xml"]
suffixes = ["xml"]

[mediaTypes."application/feed+json"]
suffixes = ["json"]

[outputFormats.atom]
mediaType = "application/atom+xml"
baseName = "atom"
isPlainText = false
rel = "alternate"
isHTML = false
noUgly = true
permalinkable = false

[outputFormats.jsonfeed]
mediaType = "application/feed+json"
baseName = "feed"
isPlainText = true
rel = "alternate"
noUgly = true
permalinkable = false

[outputs]
home = [{html}"rss", "atom", "jsonfeed"]
term = [{html}"rss", "atom", "jsonfeed"]
"""
    if pages:
        return text + 'taxonomy = ["html"]\npage = ["html"]\n'
    # the feeds link to the brief pages: they keep their address but are not written
    return (
        text
        + """page = ["html"]

[[cascade]]
[cascade.build]
render = "link"
[cascade.target]
kind = "page"
"""
    )


HUGO_FEED_PAGES = """{{- $pages := cond .IsHome site.RegularPages .Pages -}}
{{- $limit := site.Config.Services.RSS.Limit -}}
{{- if ge $limit 1 }}{{ $pages = first $limit $pages }}{{ end -}}
{{- $title := cond .IsHome site.Title (printf "%s on %s" .Title site.Title) -}}
"""

HUGO_RSS = (
    HUGO_FEED_PAGES
    + """{{- printf "<?xml version=\\"1.0\\" encoding=\\"utf-8\\"?>" | safeHTML }}
<rss version="2.0" xmlns:atom="http://www.w3.org/2005/Atom"
  xmlns:content="http://purl.org/rss/1.0/modules/content/">
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
      <description>{{ .Summary | transform.XMLEscape | safeHTML }}</description>
      <content:encoded>{{ .Content | transform.XMLEscape | safeHTML }}</content:encoded>
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
    <summary type="html">{{ .Summary | transform.XMLEscape | safeHTML }}</summary>
    <content type="html">{{ .Content | transform.XMLEscape | safeHTML }}</content>
  </entry>
  {{- end }}
</feed>
"""
)

HUGO_JSON = (
    HUGO_FEED_PAGES
    + """{
  "version": "https://jsonfeed.org/version/1.1",
  "title": {{ $title | jsonify }},
  "home_page_url": {{ site.BaseURL | jsonify }},
  "feed_url": {{ .Permalink | jsonify }},
  "items": [
  {{- range $i, $page := $pages }}{{ if $i }},{{ end }}
    {{ dict "id" .Permalink "url" .Permalink "title" .Title
      "summary" (.Summary | plainify) "content_html" .Content
      "date_published" (.Date.Format "2006-01-02T15:04:05Z07:00") "tags" .Params.tags
      | jsonify }}
  {{- end }}
  ]
}
"""
)

HUGO_HEAD = """<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8"><title>{{ .Title }}</title>
{{- range .AlternativeOutputFormats }}
<link rel="alternate" type="{{ .MediaType.Type }}" href="{{ .Permalink }}">
{{- end }}
</head>
"""

HUGO_SINGLE = (
    HUGO_HEAD
    + """<body><article><h1>{{ .Title }}</h1>
<time datetime="{{ .Date.Format "2006-01-02T15:04:05Z07:00" }}">
{{- .Date.Format "2 January 2006" }}</time>
<ul class="tags">{{ range .GetTerms "tags" }}
<li><a href="{{ .RelPermalink }}">{{ .Title }}</a></li>
{{- end }}</ul>
{{ .Content }}
</article></body></html>
"""
)

HUGO_LIST = (
    HUGO_HEAD
    + """<body><h1>{{ .Title }}</h1>
{{- $pages := cond .IsHome site.RegularPages .Pages }}
<ol class="briefs">
{{- range (.Paginate $pages).Pages }}
<li><article><h3><a href="{{ .RelPermalink }}">{{ .Title }}</a></h3>
<time datetime="{{ .Date.Format "2006-01-02T15:04:05Z07:00" }}">
{{- .Date.Format "2 January 2006" }}</time>
<ul class="tags">{{ range .GetTerms "tags" }}
<li><a href="{{ .RelPermalink }}">{{ .Title }}</a></li>
{{- end }}</ul>
<div class="summary">{{ .Summary }}</div></article></li>
{{- end }}
</ol>
{{- with .Paginator }}{{ with .Prev }}<a href="{{ .URL }}" rel="prev">Newer</a>{{ end }}
{{- with .Next }}<a href="{{ .URL }}" rel="next">Older</a>{{ end }}{{ end }}
</body></html>
"""
)

HUGO_TAGS = (
    HUGO_HEAD
    + """<body><h1>Tags</h1><ul>
{{- range .Data.Terms.ByCount }}
<li><a href="{{ .Page.RelPermalink }}">{{ .Page.Title }}</a> ({{ .Count }})</li>
{{- end }}
</ul></body></html>
"""
)


def write_site_files(out_dir: Path, feed_limit: int = DEFAULT_FEED_LIMIT) -> None:
    files = {
        "feeder.toml": FEEDER_TOML,
        "hugo/layouts/home.rss.xml": HUGO_RSS,
        "hugo/layouts/term.rss.xml": HUGO_RSS,
        "hugo/layouts/home.atom.xml": HUGO_ATOM,
        "hugo/layouts/term.atom.xml": HUGO_ATOM,
        "hugo/layouts/home.jsonfeed.json": HUGO_JSON,
        "hugo/layouts/term.jsonfeed.json": HUGO_JSON,
        "hugo/layouts/page.html": HUGO_SINGLE,
        "hugo/layouts/home.html": HUGO_LIST,
        "hugo/layouts/term.html": HUGO_LIST,
        "hugo/layouts/taxonomy.html": HUGO_TAGS,
    }
    for variant in HUGO_VARIANTS:
        files[f"hugo/{variant}.toml"] = hugo_config(variant, feed_limit)
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
    style: str = "markdown",
) -> Corpus:
    """Generate and write everything; returns the corpus (to add/edit briefs later)."""
    corpus = generate(n_briefs, n_tags, seed, case_variation, style)
    for sub in ("content", "hugo/content", "bench-scenarios"):
        shutil.rmtree(out_dir / sub, ignore_errors=True)
    write_site_files(out_dir, feed_limit)
    sizes, bodies = [], []
    for b in corpus.briefs:
        paths = write_brief(out_dir, b)
        sizes.append(paths[0].stat().st_size)
        bodies.append(body_size(b))
    scenarios = out_dir / "bench-scenarios"
    scenarios.mkdir()
    (scenarios / "added").write_text(rendering(corpus.extra, "feeder")[1], encoding="utf-8")
    edited_text = rendering(edited(corpus.edit_target, "zqxedit"), "feeder")[1]
    (scenarios / "edited").write_text(edited_text, encoding="utf-8")
    counts = corpus.tag_counts()
    hugo_texts = [render_md_body(b) for b in corpus.briefs]
    manifest = {
        "briefs": n_briefs,
        "tags": n_tags,
        "seed": seed,
        "style": style,
        "case_variation": case_variation,
        "feed_limit": feed_limit,
        "txt_briefs": sum(b.layout == "txt" for b in corpus.briefs),
        "md_briefs": sum(b.layout == "md" for b in corpus.briefs),
        "bytes_total": sum(sizes),
        "bytes_mean": round(sum(sizes) / len(sizes)) if sizes else 0,
        "body_bytes_min": min(bodies, default=0),
        "body_bytes_mean": round(sum(bodies) / len(bodies)) if bodies else 0,
        "body_bytes_max": max(bodies, default=0),
        "with_link": sum("](" in t for t in hugo_texts),
        "with_list": sum(bool(re.search(r"^(- |1\. )", t, re.M)) for t in hugo_texts),
        "with_quote": sum("\n> " in t for t in hugo_texts),
        "with_table": sum("\n| " in t for t in hugo_texts),
        "with_code": sum("```" in t for t in hugo_texts),
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
    parser.add_argument("out_dir", type=Path, help="where to write content/ and hugo/")
    parser.add_argument("--briefs", type=int, default=1000, help="number of briefs (default 1000)")
    parser.add_argument(
        "--tags", type=int, default=200, help="number of distinct tags (default 200)"
    )
    parser.add_argument("--seed", type=int, default=1, help="random seed (default 1)")
    parser.add_argument(
        "--style",
        choices=STYLES,
        default="markdown",
        help="markdown (links, emphasis, lists, quotes, tables, code; default) or plain prose",
    )
    parser.add_argument(
        "--feed-limit",
        type=int,
        default=DEFAULT_FEED_LIMIT,
        help="items per feed of the hugo-50 and hugo-feeds sites (default 50)",
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
        args.out_dir,
        args.briefs,
        args.tags,
        args.seed,
        args.feed_limit,
        args.case_variation,
        args.style,
    )
    m = json.loads((args.out_dir / "bench-manifest.json").read_text())
    print(
        f"wrote {m['briefs']} {m['style']} briefs ({m['txt_briefs']} .txt, {m['md_briefs']} .md; "
        f"bodies {m['body_bytes_min']}-{m['body_bytes_max']} bytes, mean {m['body_bytes_mean']})"
        f" over {m['tags_used']} tags to {args.out_dir}"
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
