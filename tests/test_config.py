"""`sitegen.toml`: every setting declared once, typed, documented; bad files fail in one line."""

from __future__ import annotations

from pathlib import Path

import fsspec
import pytest

from sitegen.config import DEFAULT_MAX_FILE_SIZE, SETTINGS, Config, ConfigError, parse_config
from sitegen.library import Library, LibraryError

README = Path(__file__).resolve().parent.parent / "README.md"


def test_defaults_without_a_file() -> None:
    config = parse_config("", "sitegen.toml")
    assert config == Config(source="sitegen.toml")
    assert config.max_file_size == DEFAULT_MAX_FILE_SIZE and config.out == "site"
    assert config.roles.agents == ("**/agents/**/*.md",) and config.skills.include == ("**",)
    assert not config.given("out")


def test_every_setting_is_read_typed() -> None:
    config = parse_config(
        'title = "Acme"\nbase_url = "https://x.example/"\napi_url = "api/match"\n'
        'templates = "theme"\nout = "public"\nmax_file_size = "2MiB"\n'
        '[skills]\ninclude = ["skills/**"]\nexclude = "template"\n'
        '[roles]\ninclude = ["roles", "agents"]\nexclude = []\nagents = ["categories/*/*.md"]\n',
        "lib/sitegen.toml",
    )
    assert (config.title, config.base_url, config.api_url) == (
        "Acme",
        "https://x.example/",
        "api/match",
    )
    assert (config.templates, config.out, config.max_file_size) == ("theme", "public", 2 << 20)
    assert config.skills.include == ("skills/**",) and config.skills.exclude == ("template",)
    assert config.roles.agents == ("categories/*/*.md",)
    assert config.given("out") and config.where("out") == "lib/sitegen.toml:5"
    assert config.where("roles.agents") == "lib/sitegen.toml:13"


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("title = 3\n", "lib/sitegen.toml:1: title: expected a non-empty string, got a number"),
        ('\n\nout = ""\n', "lib/sitegen.toml:3: out: expected a non-empty string"),
        ("max_file_size = -5\n", "lib/sitegen.toml:1: max_file_size: expected a positive"),
        ("max_file_size = true\n", "lib/sitegen.toml:1: max_file_size: expected a size"),
        ('[roles]\nagents = ["a/**b"]\n', "lib/sitegen.toml:2: roles.agents: bad glob"),
        ('[skills]\nincludes = ["x"]\n', "lib/sitegen.toml:2: skills.includes: unknown setting"),
        ("skills = 1\n", "lib/sitegen.toml:1: skills: unknown setting"),
        ("title = \n", "lib/sitegen.toml:1: not valid TOML"),
        ('title = "a"\ntitle = "b"\n', "lib/sitegen.toml:2: not valid TOML"),
    ],
)
def test_bad_values_name_file_line_and_key(text: str, message: str) -> None:
    with pytest.raises(ConfigError) as info:
        parse_config(text, "lib/sitegen.toml")
    assert str(info.value).startswith(message), str(info.value)
    assert "\n" not in str(info.value)
    assert info.value.exit_code == 2


def test_readme_documents_every_setting() -> None:
    text = README.read_text()
    for setting in SETTINGS:
        assert f"| `{setting.key}` |" in text, setting.key


def test_config_is_read_from_any_filesystem() -> None:
    fs = fsspec.filesystem("memory")
    fs.pipe_file("/cfg-lib/sitegen.toml", b'title = "From memory"\n[skills]\nexclude = ["b"]\n')
    for name in ("a", "b"):
        fs.pipe_file(
            f"/cfg-lib/{name}/SKILL.md",
            f"---\nname: {name}\ndescription: Skill {name}.\n---\n".encode(),
        )
    library = Library("memory:///cfg-lib")
    assert library.config.title == "From memory"
    assert [e.name for e in library.read().entries] == ["a"]
    fs.pipe_file("/cfg-lib/sitegen.toml", b"\xff\xfe")
    with pytest.raises(LibraryError, match=r"sitegen.toml:1: not valid UTF-8"):
        Library("memory:///cfg-lib").read()
    fs.rm("/cfg-lib", recursive=True)
