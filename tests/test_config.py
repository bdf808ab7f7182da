"""Settings: defaults, feeder.toml, [tool.feeder], overrides, and the errors of bad ones."""

from __future__ import annotations

from pathlib import Path

import pytest

from feeder.config import PLACEHOLDER_BASE_URL, Author, load_config, parse_config
from feeder.errors import ConfigError


def messages(exc: pytest.ExceptionInfo[ConfigError]) -> list[str]:
    return [str(p) for p in exc.value.problems]


def test_defaults(tmp_path: Path) -> None:
    config, warnings = load_config(tmp_path)
    assert config.title == "Briefs"
    assert config.base_url == PLACEHOLDER_BASE_URL
    assert config.content_dir == tmp_path / "content"
    assert config.output_dir == tmp_path / "public"
    assert config.cache_dir == tmp_path / ".feeder-cache"
    assert config.max_entries == 50
    assert config.summary_labels == ("The Short of It",)
    assert config.formats == ("atom", "rss", "json")
    assert config.feed_files == ("atom.xml", "rss.xml", "feed.json")
    assert [p.severity for p in warnings] == ["warning"]


def test_settings_file_and_overrides(tmp_path: Path) -> None:
    (tmp_path / "feeder.toml").write_text(
        'title = "T"\nbase_url = "https://a.example.com/news"\ncontent_dir = "briefs"\n'
        'summary_labels = ["In Brief:", "In Brief"]\nhubs = ["https://hub.example.com/"]\n'
        '[author]\nname = "Desk"\nemail = "d@a.example.com"\n')
    config, warnings = load_config(tmp_path, {"title": "Override", "max_entries": 5})
    assert warnings == ()
    assert config.title == "Override"
    assert config.base_url == "https://a.example.com/news/"
    assert config.domain == "a.example.com"
    assert config.content_dir == tmp_path / "briefs"
    assert config.summary_labels == ("In Brief",)
    assert config.max_entries == 5
    assert config.hubs == ("https://hub.example.com/",)
    assert config.author == Author("Desk", "d@a.example.com")


def test_feeder_toml_wins_over_pyproject_with_a_warning(tmp_path: Path) -> None:
    (tmp_path / "pyproject.toml").write_text('[tool.feeder]\ntitle = "From pyproject"\n')
    assert load_config(tmp_path)[0].title == "From pyproject"
    (tmp_path / "feeder.toml").write_text('title = "From feeder.toml"\n')
    config, warnings = load_config(tmp_path)
    assert config.title == "From feeder.toml"
    assert "both feeder.toml and [tool.feeder] in pyproject.toml exist" in str(warnings[0])


@pytest.mark.parametrize(
    ("settings", "expected"),
    [
        ({"max_entries": 0}, "settings: max_entries: must be at least 1, got 0"),
        ({"max_entries": "5"}, "settings: max_entries: expected a whole number, got text"),
        ({"timezone": "Mars/Olympus"}, "settings: timezone: unknown timezone 'Mars/Olympus'; use "
                                        "an IANA name such as 'UTC' or 'America/New_York'"),
        ({"language": "english!"}, "settings: language: expected a language tag such as 'en' or "
                                   "'en-US', got 'english!'"),
        ({"author": {"name": "A", "mail": "x"}}, "settings: author: unknown author field 'mail' "
                                                 "(known: name, email, uri)"),
        ({"author": {"name": "A", "email": "nope"}}, "settings: author: not an email address: "
                                                     "'nope'"),
        ({"base_url": "https://a.example.com/?q=1"}, "settings: base_url: must not have a query "
                                                     "or fragment, got 'https://a.example.com/?q=1'"),
        ({"hubs": ["mailto:x@y"]}, "settings: hubs: expected an absolute http(s) hub URL, got "
                                   "'mailto:x@y'"),
        ({"allow_raw_html": "yes"}, "settings: allow_raw_html: expected true or false, got text"),
        ({"summary_labels": []}, "settings: summary_labels: expected a list of labels, e.g. "
                                 "[\"The Short of It\"]"),
        ({"titel": "x"}, "settings: unknown setting 'titel'; did you mean 'title'?"),
        ({"output_dir": "content"}, "settings: content_dir and output_dir must be different "
                                    "folders"),
        ({"formats": "rss"}, 'settings: formats: expected a list of feed formats, e.g. ["rss"], '
                             "got text"),
        ({"formats": []}, "settings: formats: must name at least one feed format (atom, rss, "
                          "json)"),
        ({"formats": ["atom", "xml"]}, "settings: formats: unknown feed format 'xml' (known: "
                                       "atom, rss, json)"),
        ({"formats": ["JSON"]}, "settings: formats: unknown feed format 'JSON'; did you mean "
                                "'json'?"),
        ({"formats": [["rss"]]}, "settings: formats: expected the name of a feed format (atom, "
                                 "rss, json), got a list"),
    ],
    ids=["zero", "text-for-number", "timezone", "language", "author-key", "email", "query",
         "hub", "bool", "labels", "typo", "same-folders", "formats-text", "formats-empty",
         "formats-unknown", "formats-case", "formats-nested"],
)
def test_bad_settings(settings: dict[str, object], expected: str) -> None:
    with pytest.raises(ConfigError) as exc:
        parse_config(settings, root=Path("/p"))
    assert messages(exc) == [expected]
    assert exc.value.exit_code == 2


def test_every_bad_setting_is_reported_with_its_line(tmp_path: Path) -> None:
    (tmp_path / "feeder.toml").write_text('title = "ok"\n\nmax_entries = -1\nbase_url = 3\n')
    with pytest.raises(ConfigError) as exc:
        load_config(tmp_path)
    assert messages(exc) == ["feeder.toml:3: max_entries: must be at least 1, got -1",
                             "feeder.toml:4: base_url: expected text, got a number"]


@pytest.mark.parametrize(
    ("given", "formats", "files"),
    [(["rss"], ("rss",), ("rss.xml",)),
     (["json", "atom", "json"], ("atom", "json"), ("atom.xml", "feed.json")),
     ([" json", "rss", "atom"], ("atom", "rss", "json"), ("atom.xml", "rss.xml", "feed.json"))],
    ids=["one", "reordered-with-duplicate", "all-reversed"],
)
def test_formats_are_kept_once_each_in_the_one_order(given: list[str], formats: tuple[str, ...],
                                                     files: tuple[str, ...]) -> None:
    config = parse_config({"formats": given}, root=Path("/p"))
    assert config.formats == formats
    assert config.feed_files == files
    # however they were listed, the same setting: the same build cache and output
    assert config == parse_config({"formats": list(formats)}, root=Path("/p"))


@pytest.mark.parametrize(
    ("value", "message"),
    [('"rss"', 'expected a list of feed formats, e.g. ["rss"], got text'),
     ("[]", "must name at least one feed format (atom, rss, json)"),
     ('[\n  "atom",\n  "xml",\n]', "unknown feed format 'xml' (known: atom, rss, json)")],
    ids=["text", "empty", "unknown-in-a-long-list"],
)
@pytest.mark.parametrize("where", ["feeder.toml", "pyproject.toml"])
def test_a_bad_formats_setting_names_the_file_and_line(tmp_path: Path, where: str, value: str,
                                                       message: str) -> None:
    header, source = ("", "feeder.toml") if where == "feeder.toml" else \
        ('[project]\nname = "x"\n\n[tool.feeder]\n', "pyproject.toml [tool.feeder]")
    (tmp_path / where).write_text(f'{header}title = "T"\n\nformats = {value}\n')
    with pytest.raises(ConfigError) as exc:
        load_config(tmp_path)
    line = header.count("\n") + 3
    assert messages(exc) == [f"{source}:{line}: formats: {message}"]
    assert exc.value.exit_code == 2


def test_control_characters_are_removed_from_settings() -> None:
    assert parse_config({"title": "A\x00B\x1f"}, root=Path("/p")).title == "AB"
