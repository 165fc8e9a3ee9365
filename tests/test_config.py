"""Settings: one table (SETTINGS) gives every variable, its default and how it is read."""

from __future__ import annotations

from dataclasses import fields
from pathlib import Path
from typing import Any

import pytest

from vod.config import BUNDLED_CATALOG, SETTINGS, Setting, Settings, default_index_dir
from vod.errors import ConfigError

NOT_IN_THE_ENVIRONMENT = {"templates_dir", "static_dir", "index_dir_keyed"}  # derived


def test_every_setting_is_a_row_of_the_table() -> None:
    attrs = [s.attr for s in SETTINGS]
    assert len(set(attrs)) == len(attrs)
    assert {f.name for f in fields(Settings)} - NOT_IN_THE_ENVIRONMENT == set(attrs)


@pytest.mark.parametrize(
    "setting", [s for s in SETTINGS if s.attr != "index_dir"], ids=lambda s: s.env
)
def test_defaults_come_from_the_table(setting: Setting) -> None:
    assert getattr(Settings(), setting.attr) == setting.value(setting.default)
    assert getattr(Settings.from_env({}), setting.attr) == setting.value(setting.default)


def test_the_index_folder_follows_the_catalog_unless_given() -> None:
    # The table gives no default for VOD_INDEX_DIR: it is derived from the catalog.
    assert next(s for s in SETTINGS if s.attr == "index_dir").default is None
    assert Settings().index_dir == default_index_dir(BUNDLED_CATALOG)
    assert Settings.from_env({}).index_dir == default_index_dir(BUNDLED_CATALOG)


def test_the_defaults_as_they_read() -> None:
    settings = Settings()
    assert settings.catalog == BUNDLED_CATALOG
    assert settings.media_dir == Path("media")
    assert (settings.presign_expiry, settings.s3_timeout, settings.index_poll) == (3600, 2.0, 30.0)
    assert (settings.s3_bucket, settings.base_url, settings.admin_token) == (None, None, None)
    assert (settings.s3_prefix, settings.fetch_allow) == ("", ())


@pytest.mark.parametrize(
    ("env", "raw", "attr", "expected"),
    [
        ("VOD_INDEX_DIR", "/srv/index", "index_dir", Path("/srv/index")),
        ("VOD_PRESIGN_EXPIRY", "60", "presign_expiry", 60),
        ("VOD_S3_TIMEOUT", "0.5", "s3_timeout", 0.5),
        ("VOD_S3_PREFIX", "/talks/", "s3_prefix", "talks"),
        ("VOD_BASE_URL", "https://vod.example/", "base_url", "https://vod.example"),
        (
            "VOD_FETCH_ALLOW",
            "intranet.example, 10.0.0.0/8",
            "fetch_allow",
            ("intranet.example", "10.0.0.0/8"),
        ),
        ("VOD_PRESIGN_EXPIRY", "", "presign_expiry", 3600),  # empty: the default
    ],
)
def test_variables_are_read_as_the_table_says(env: str, raw: str, attr: str, expected: Any) -> None:
    assert getattr(Settings.from_env({env: raw}), attr) == expected


@pytest.mark.parametrize(
    ("env", "raw"),
    [("VOD_PRESIGN_EXPIRY", "soon"), ("VOD_S3_TIMEOUT", "-1"), ("VOD_MEDIA_URL", "ftp://x")],
)
def test_bad_values_name_their_variable(env: str, raw: str) -> None:
    with pytest.raises(ConfigError, match=env):
        Settings.from_env({env: raw})


def test_to_env_gives_the_same_settings_to_another_process() -> None:
    settings = Settings.from_env(
        {"VOD_S3_BUCKET": "videos", "VOD_FETCH_ALLOW": "a.example,b.example", "VOD_INDEX_POLL": "5"}
    )
    assert Settings.from_env(settings.to_env()) == settings
