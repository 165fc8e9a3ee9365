"""The command line: argument parsing (with the work mocked) and real runs into tmp_path."""

from __future__ import annotations

import json
import socket
from pathlib import Path

import click
import pytest
import uvicorn
from click.testing import CliRunner

from vod import cli
from vod.config import BUNDLED_CATALOG
from vod.index import current_version


@pytest.fixture
def runner(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> CliRunner:
    # Each test starts from a clean environment: no VOD_* from the developer's shell.
    for name in list(__import__("os").environ):
        if name.startswith("VOD_"):
            monkeypatch.delenv(name)
    monkeypatch.chdir(tmp_path)
    return CliRunner()


def test_index_runs_below_the_servers_priority(
    runner: CliRunner, tmp_path: Path, renice_calls: list[int]
) -> None:
    result = runner.invoke(cli.main, ["index", "--index-dir", str(tmp_path / "i")])
    assert result.exit_code == 0, result.output
    assert renice_calls == [cli.BUILD_NICENESS] and cli.BUILD_NICENESS > 0


def test_index_builds_for_real(runner: CliRunner, tmp_path: Path) -> None:
    result = runner.invoke(cli.main, ["index", "--index-dir", str(tmp_path / "ix")])
    assert result.exit_code == 0, result.output
    assert "11 talks, now live" in result.output
    info = current_version(tmp_path / "ix")
    assert info is not None and info.documents == 11


def test_search_finds_recording_presenter(runner: CliRunner, tmp_path: Path) -> None:
    result = runner.invoke(cli.main, ["search", "Hyungtae Kim", "--index-dir", str(tmp_path / "i")])
    assert result.exit_code == 0, result.output
    assert "Training Arctic at Snowflake" in result.output
    assert "/talks/training-arctic-at-snowflake" in result.output


def test_search_json(runner: CliRunner, tmp_path: Path) -> None:
    result = runner.invoke(
        cli.main, ["search", "sticky routing", "--json", "--index-dir", str(tmp_path / "i")]
    )
    assert result.exit_code == 0, result.output
    data = json.loads(result.output[result.output.index("{") :])
    assert data["total"] == 1
    assert data["results"][0]["slug"] == "systems-scale-2024-llm-serving"
    assert "<mark>sticky</mark>" in data["results"][0]["snippet"]


@pytest.mark.parametrize("query", ["(", '"', "*", "x" * 3000])
def test_search_bad_query_is_a_clean_error(runner: CliRunner, tmp_path: Path, query: str) -> None:
    result = runner.invoke(cli.main, ["search", query, "--index-dir", str(tmp_path / "i")])
    assert result.exit_code == 1
    assert "Error:" in result.output
    assert "Traceback" not in result.output


def test_broken_catalog_is_a_clean_error(runner: CliRunner, tmp_path: Path) -> None:
    bad = tmp_path / "bad.yaml"
    bad.write_text("event:\n  slug: Not A Slug\n")
    result = runner.invoke(cli.main, ["index", "--catalog", str(bad)])
    assert result.exit_code == 1
    assert f"{bad}:2: event.slug:" in result.output
    assert "Traceback" not in result.output


def test_bad_setting_names_the_variable(runner: CliRunner, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("VOD_PRESIGN_EXPIRY", "soon")
    result = runner.invoke(cli.main, ["index"])
    assert result.exit_code == 1
    assert "VOD_PRESIGN_EXPIRY" in result.output


@pytest.mark.parametrize("expiry", ["0", "5", "29", "604801", "31536000"])
def test_presign_expiry_is_bounded(
    runner: CliRunner, monkeypatch: pytest.MonkeyPatch, expiry: str
) -> None:
    """S3 accepts 1 s to 7 days, and a URL must outlive the cached page holding it (#10)."""
    monkeypatch.setenv("VOD_PRESIGN_EXPIRY", expiry)
    result = runner.invoke(cli.main, ["index"])
    assert result.exit_code == 1
    assert "VOD_PRESIGN_EXPIRY must be between 30" in result.output


def test_presign_expiry_covers_the_talk_page_cache() -> None:
    from vod.config import TALK_PAGE_MAX_AGE, Settings
    from vod.web.responses import TALK_CACHE

    assert TALK_CACHE.endswith(f"max-age={TALK_PAGE_MAX_AGE}")
    for ok in ("30", "3600", "604800"):
        assert Settings.from_env({"VOD_PRESIGN_EXPIRY": ok}).presign_expiry == int(ok)


def test_serve_get_renders_one_page(runner: CliRunner, tmp_path: Path) -> None:
    result = runner.invoke(
        cli.main, ["serve", "--index-dir", str(tmp_path / "i"), "--get", "/healthz"]
    )
    assert result.exit_code == 0, result.output
    body = json.loads(result.output[result.output.index("{") :])
    assert body["catalog"]["talks"] == 11


def test_serve_passes_options_to_uvicorn(
    runner: CliRunner, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    calls = []
    monkeypatch.setattr("uvicorn.run", lambda *a, **kw: calls.append((a, kw)))
    media = tmp_path / "m"
    result = runner.invoke(
        cli.main,
        [
            "serve",
            "--port",
            "8123",
            "--host",
            "0.0.0.0",
            "--index-dir",
            str(tmp_path / "i"),
            "--media-dir",
            str(media),
        ],
    )
    assert result.exit_code == 0, result.output
    ((args, kwargs),) = calls
    assert args == ("vod.web.app:create_app_from_env",)
    assert kwargs["factory"] is True
    assert (kwargs["host"], kwargs["port"], kwargs["workers"]) == ("0.0.0.0", 8123, 1)
    # Workers read settings from the environment, so the CLI's choices are exported.
    assert __import__("os").environ["VOD_MEDIA_DIR"] == str(media)
    assert current_version(tmp_path / "i") is not None  # built before serving


def test_serve_with_workers_gives_each_its_own_socket(
    runner: CliRunner, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    configs: list[uvicorn.Config] = []
    monkeypatch.setattr("uvicorn.run", lambda *a, **kw: pytest.fail("one shared socket"))
    monkeypatch.setattr("vod.web.workers.run", configs.append)
    args = ["serve", "--workers", "2", "--port", "8123", "--index-dir", str(tmp_path / "i")]
    result = runner.invoke(cli.main, args)
    assert result.exit_code == 0, result.output
    (config,) = configs
    assert (config.app, config.factory) == ("vod.web.app:create_app_from_env", True)
    assert (config.host, config.port, config.workers) == ("127.0.0.1", 8123, 2)


def test_serve_says_when_the_port_is_taken(runner: CliRunner, tmp_path: Path) -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        args = ["serve", "--workers", "2", "--port", str(port), "--index-dir", str(tmp_path / "i")]
        result = runner.invoke(cli.main, args)
    assert result.exit_code == 1
    assert f"cannot listen on 127.0.0.1:{port}" in result.output


def test_serve_builds_only_when_needed(
    runner: CliRunner, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr("uvicorn.run", lambda *a, **kw: None)
    args = ["serve", "--index-dir", str(tmp_path / "i")]
    first = runner.invoke(cli.main, args)
    assert "building it first" in first.output
    second = runner.invoke(cli.main, args)
    assert second.exit_code == 0
    assert "building" not in second.output


def test_default_catalog_is_bundled() -> None:
    assert BUNDLED_CATALOG.is_dir()
    assert (BUNDLED_CATALOG / "systems-scale-2024.yaml").is_file()


def test_version(runner: CliRunner) -> None:
    result = runner.invoke(cli.main, ["--version"])
    assert result.exit_code == 0
    assert "vod, version" in result.output
    assert Path(cli.__file__).exists()


@pytest.mark.parametrize("group", [[], ["import"], ["export"]], ids=["vod", "import", "export"])
def test_help_lists_each_commands_whole_first_sentence(runner: CliRunner, group: list[str]) -> None:
    # Issue 14: click cut descriptions at 45 characters with "...", even on a wide terminal.
    result = runner.invoke(cli.main, [*group, "--help"], terminal_width=80)
    assert result.exit_code == 0, result.output
    listing = " ".join(result.output.split("Commands:")[1].split())
    command = cli.main.commands[group[0]] if group else cli.main
    assert isinstance(command, click.Group)
    for sub in command.commands.values():
        assert sub.help is not None
        sentence = " ".join(sub.help.split("\n\n")[0].split())
        assert f"{sub.name} {sentence}" in listing
    assert "..." not in listing
