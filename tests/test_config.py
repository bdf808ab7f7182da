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
    ],
    ids=["zero", "text-for-number", "timezone", "language", "author-key", "email", "query",
         "hub", "bool", "labels", "typo", "same-folders"],
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


def test_control_characters_are_removed_from_settings() -> None:
    assert parse_config({"title": "A\x00B\x1f"}, root=Path("/p")).title == "AB"
