"""README documents every setting and every command."""

from __future__ import annotations

from pathlib import Path

import pytest
from click.testing import CliRunner

from vod.cli import main
from vod.config import SETTINGS, Setting

README = (Path(__file__).parents[1] / "README.md").read_text()


@pytest.mark.parametrize("setting", SETTINGS, ids=lambda s: s.env)
def test_every_setting_is_in_readme(setting: Setting) -> None:
    assert f"`{setting.env}`" in README


@pytest.mark.parametrize("command", sorted(main.commands))
def test_every_command_is_in_readme_and_has_help(command: str) -> None:
    assert f"`vod {command}" in README
    result = CliRunner().invoke(main, [command, "--help"])
    assert result.exit_code == 0
    assert "Usage:" in result.output


def test_top_level_help_lists_commands_and_settings() -> None:
    result = CliRunner().invoke(main, ["--help"])
    assert result.exit_code == 0
    for command in ("serve", "index", "check", "search"):
        assert command in result.output
    for setting in SETTINGS:
        assert setting.env in result.output
