"""Unit tests of vod.storage: LocalStorage, safe_key, and Recordings (cache, backoff, health)."""

from __future__ import annotations

import dataclasses
import shutil
import types
from collections.abc import Iterator
from pathlib import Path

import pytest
from starlette.testclient import TestClient

from vod.catalog import Caption, Catalog, Recording, Talk
from vod.config import Settings
from vod.errors import ConfigError, StorageUnavailable
from vod.keys import safe_key
from vod.storage import (
    OUTAGE_BACKOFF,
    PLACEHOLDER_PATH,
    LocalStorage,
    Recordings,
    S3Storage,
    storage_from_settings,
)
from vod.web.app import create_app

REPO = Path(__file__).resolve().parent.parent
PLACEHOLDER = REPO / "vod" / "static" / "placeholder.mp4"
SLUG = "training-arctic-at-snowflake"
KEY = f"systems-scale-2024/{SLUG}.mp4"

UNSAFE_KEYS = [
    "",
    ".",
    "./",
    "..",
    "../x",
    "../secret.txt",
    "/etc/passwd",
    "//etc/passwd",
    "a/../../b",
    "a/../b",
    "a/..",
    "a\\..\\..\\b",
    "..\\secret.txt",
    "a\x00b",
    "a.mp4\x00.txt",
]


# ---- safe_key --------------------------------------------------------------------------------


@pytest.mark.parametrize("key", UNSAFE_KEYS)
def test_safe_key_refuses_keys_that_could_escape(key: str) -> None:
    with pytest.raises(ValueError, match="unsafe store key"):
        safe_key(key)


@pytest.mark.parametrize(
    ("key", "normal"),
    [
        ("systems-scale-2024/keynote.mp4", "systems-scale-2024/keynote.mp4"),
        ("a//b.mp4", "a/b.mp4"),
        ("a/./b.mp4", "a/b.mp4"),
        ("./b.mp4", "b.mp4"),
        ("a/b/", "a/b"),
        ("%2e%2e/x", "%2e%2e/x"),  # an encoded form is a literal name here, never decoded
        ("...", "..."),
        ("a b/c+d@e~.mp4", "a b/c+d@e~.mp4"),
    ],
)
def test_safe_key_normalises_safe_keys(key: str, normal: str) -> None:
    assert safe_key(key) == normal


# ---- LocalStorage ----------------------------------------------------------------------------


@pytest.fixture
def media(tmp_path: Path) -> Path:
    """A media folder holding one recording, next to a secret file it must never serve."""
    root = tmp_path / "media"
    (root / "systems-scale-2024").mkdir(parents=True)
    shutil.copyfile(PLACEHOLDER, root / KEY)
    (tmp_path / "secret.txt").write_text("not a recording")
    (tmp_path / "x").write_text("outside")
    return root


def test_local_exists_and_path_for(media: Path) -> None:
    store = LocalStorage(media)
    assert store.kind == "local"
    assert store.exists(KEY)
    assert store.path_for(KEY) == (media / KEY).resolve()
    assert store.path_for("systems-scale-2024//" + f"{SLUG}.mp4") == (media / KEY).resolve()
    assert not store.exists("systems-scale-2024/absent.mp4")
    assert store.path_for("systems-scale-2024/absent.mp4") is None
    assert not store.exists("systems-scale-2024")  # a folder is not a recording
    assert str(media.resolve()) in store.describe()


def test_local_root_is_resolved(tmp_path: Path, media: Path) -> None:
    link = tmp_path / "media-link"
    link.symlink_to(media, target_is_directory=True)
    store = LocalStorage(link)
    assert store.root == media.resolve()
    assert store.path_for(KEY) == (media / KEY).resolve()


def test_local_url_for_quotes_the_key(media: Path) -> None:
    store = LocalStorage(media)
    assert store.url_for(KEY) == f"/media/{KEY}"
    assert store.url_for("event/a b#c?.mp4") == "/media/event/a%20b%23c%3F.mp4"
    assert store.url_for("a//b.mp4") == "/media/a/b.mp4"


@pytest.mark.parametrize("key", UNSAFE_KEYS)
def test_local_refuses_traversal(media: Path, key: str) -> None:
    store = LocalStorage(media)
    assert store.path_for(key) is None
    assert not store.exists(key)
    with pytest.raises(ValueError):
        store.url_for(key)


def test_local_refuses_symlink_pointing_outside(tmp_path: Path, media: Path) -> None:
    (media / "leak.mp4").symlink_to(tmp_path / "secret.txt")
    (media / "leakdir").symlink_to(tmp_path, target_is_directory=True)
    store = LocalStorage(media)
    assert (media / "leak.mp4").is_file()  # the link works: only the store refuses it
    assert store.path_for("leak.mp4") is None
    assert store.path_for("leakdir/secret.txt") is None
    assert not store.exists("leak.mp4")


def test_local_follows_symlink_inside_the_folder(media: Path) -> None:
    (media / "alias.mp4").symlink_to(media / KEY)
    assert LocalStorage(media).path_for("alias.mp4") == (media / KEY).resolve()


def test_local_odd_names_are_absent_not_errors(media: Path) -> None:
    # Regression: a too-long name (ENAMETOOLONG) or a symlink loop made path_for raise,
    # so /media/<such a name> answered 500 instead of 404.
    (media / "loop").symlink_to(media / "loop")
    store = LocalStorage(media)
    for key in ("a" * 300, "x/" + "b" * 5000, "loop", "loop/x.mp4"):
        assert store.path_for(key) is None
        assert not store.exists(key)


@pytest.fixture
def media_client(settings: Settings, media: Path) -> Iterator[TestClient]:
    with TestClient(create_app(settings.replace(media_dir=media))) as client:
        yield client


@pytest.mark.parametrize(
    "path",
    [
        "/media/%2e%2e/secret.txt",
        "/media/%2E%2E/secret.txt",
        "/media/..%2Fsecret.txt",
        "/media/..%2fsecret.txt",
        "/media/%2e%2e%2fsecret.txt",
        "/media/..%5Csecret.txt",
        "/media/%2Fetc%2Fpasswd",
        "/media//etc/passwd",
        "/media/systems-scale-2024/%2e%2e/%2e%2e/secret.txt",
        "/media/a%00b.mp4",
        "/media/%252e%252e/secret.txt",
        "/media/" + "a" * 300,
    ],
)
def test_media_route_refuses_escapes(media_client: TestClient, path: str) -> None:
    response = media_client.get(path)
    assert response.status_code == 404, path
    assert "not a recording" not in response.text
    assert "root:" not in response.text


def test_media_route_serves_ranges(media_client: TestClient) -> None:
    body = PLACEHOLDER.read_bytes()
    full = media_client.get(f"/media/{KEY}")
    assert full.status_code == 200
    assert full.content == body
    part = media_client.get(f"/media/{KEY}", headers={"Range": "bytes=100-199"})
    assert part.status_code == 206
    assert part.content == body[100:200]
    assert part.headers["content-range"] == f"bytes 100-199/{len(body)}"


# ---- storage_from_settings -------------------------------------------------------------------


def test_storage_from_settings_local(tmp_path: Path) -> None:
    store = storage_from_settings(Settings(media_dir=tmp_path / "not-yet"))
    assert isinstance(store, LocalStorage)
    assert store.root == (tmp_path / "not-yet").resolve()


def test_storage_from_settings_refuses_a_file_as_media_dir(tmp_path: Path) -> None:
    not_a_folder = tmp_path / "media"
    not_a_folder.write_text("")
    with pytest.raises(ConfigError, match="VOD_MEDIA_DIR"):
        storage_from_settings(Settings(media_dir=not_a_folder))


def test_storage_from_settings_s3_ignores_media_dir(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Building the client makes no network call; the media folder is not looked at.
    monkeypatch.setenv("AWS_DEFAULT_REGION", "us-east-1")
    not_a_folder = tmp_path / "media"
    not_a_folder.write_text("")
    store = storage_from_settings(
        Settings(media_dir=not_a_folder, s3_bucket="recordings", s3_prefix="vod")
    )
    assert isinstance(store, S3Storage)
    assert store.object_key("e/t.mp4") == "vod/e/t.mp4"
    store.client.close()


# ---- Recordings ------------------------------------------------------------------------------


class FakeStorage:
    """A store in memory that can be switched down, counting the questions it is asked."""

    kind = "fake"
    stable_urls = True

    def __init__(self, present: set[str] | None = None, *, down: bool = False) -> None:
        self.present = set(present or ())
        self.down = down
        self.calls: list[str] = []

    def exists(self, key: str) -> bool:
        self.calls.append(key)
        if self.down:
            raise StorageUnavailable("fake store is not answering")
        return key in self.present

    def url_for(self, key: str) -> str:
        return "https://cdn.example/" + safe_key(key)

    def read_text(self, key: str, limit: int) -> str | None:
        self.calls.append(key)
        if self.down:
            raise StorageUnavailable("fake store is not answering")
        return "WEBVTT\n" if key in self.present else None

    def describe(self) -> str:
        return "fake store"


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def monotonic(self) -> float:
        return self.now


@pytest.fixture
def clock(monkeypatch: pytest.MonkeyPatch) -> Clock:
    """Replace the time vod.storage sees (only there: pytest's own clock is left alone)."""
    fake = Clock()
    monkeypatch.setattr("vod.storage.time", types.SimpleNamespace(monotonic=fake.monotonic))
    return fake


@pytest.fixture
def talk(bundled_catalog: Catalog) -> Talk:
    return bundled_catalog.talk(SLUG)


def test_talk_recording_key_default(talk: Talk) -> None:
    assert talk.recording.key == KEY


def test_playback_placeholder_when_absent(talk: Talk) -> None:
    pb = Recordings(FakeStorage()).playback(talk)
    assert pb.status == "placeholder"
    assert pb.is_placeholder
    assert pb.src == PLACEHOLDER_PATH
    assert pb.media_type == "video/mp4"
    assert pb.note and "placeholder" in pb.note
    assert [c[0] for c in pb.captions] == ["en"]


def test_playback_ok_when_present(talk: Talk) -> None:
    pb = Recordings(FakeStorage({KEY})).playback(talk)
    assert pb.status == "ok"
    assert not pb.is_placeholder
    assert pb.src == f"https://cdn.example/{KEY}"
    assert pb.note is None


def test_playback_ok_with_local_storage(talk: Talk, media: Path) -> None:
    pb = Recordings(LocalStorage(media)).playback(talk)
    assert (pb.status, pb.src) == ("ok", f"/media/{KEY}")


def test_playback_unavailable_when_store_is_down(talk: Talk) -> None:
    pb = Recordings(FakeStorage({KEY}, down=True)).playback(talk)
    assert pb.status == "unavailable"
    assert pb.src is None
    assert pb.note and "temporarily unavailable" in pb.note
    assert not pb.is_placeholder


def test_playback_external_url_never_asks_the_store(talk: Talk) -> None:
    store = FakeStorage(down=True)
    external = dataclasses.replace(
        talk,
        recording=Recording(
            url="https://videos.example/t.mp4",
            captions=(Caption("en", "English", url="https://v.example/en.vtt"),),
        ),
    )
    pb = Recordings(store).playback(external)
    assert (pb.status, pb.src) == ("external", "https://videos.example/t.mp4")
    assert pb.captions == (("en", "English", "https://v.example/en.vtt"),)
    assert store.calls == []


def test_playback_captions_from_the_store(talk: Talk) -> None:
    with_captions = dataclasses.replace(
        talk,
        recording=Recording(
            key=KEY,
            captions=(
                Caption("en", "English", key="systems-scale-2024/arctic.en.vtt"),
                Caption("xx", "Broken", key="../escape.vtt"),  # unsafe: dropped, not an error
            ),
        ),
    )
    pb = Recordings(FakeStorage({KEY})).playback(with_captions)
    assert pb.captions == (
        ("en", "English", "https://cdn.example/systems-scale-2024/arctic.en.vtt"),
    )


def test_exists_is_cached_for_the_ttl(clock: Clock) -> None:
    store = FakeStorage({"a.mp4"})
    recordings = Recordings(store, ttl=60)
    assert recordings.exists("a.mp4")
    assert recordings.exists("a.mp4")
    assert not recordings.exists("b.mp4")
    assert not recordings.exists("b.mp4")
    assert store.calls == ["a.mp4", "b.mp4"]
    store.present = {"b.mp4"}
    clock.now += 59
    assert recordings.exists("a.mp4") and not recordings.exists("b.mp4")
    assert len(store.calls) == 2
    clock.now += 2  # past the TTL: asked again, and the new answer is seen
    assert not recordings.exists("a.mp4")
    assert recordings.exists("b.mp4")
    assert store.calls == ["a.mp4", "b.mp4", "a.mp4", "b.mp4"]


def test_ttl_zero_always_asks() -> None:
    store = FakeStorage({"a.mp4"})
    recordings = Recordings(store, ttl=0)
    for _ in range(3):
        assert recordings.exists("a.mp4")
    assert store.calls == ["a.mp4"] * 3


def test_outage_backs_off_then_recovers(clock: Clock) -> None:
    store = FakeStorage({"a.mp4", "b.mp4"})
    recordings = Recordings(store, ttl=0.5)
    assert recordings.exists("a.mp4")
    assert recordings.health() == {"kind": "fake", "status": "ok", "detail": None}

    store.down = True
    clock.now += 1
    with pytest.raises(StorageUnavailable, match="not answering"):
        recordings.exists("b.mp4")
    assert len(store.calls) == 2
    health = recordings.health()
    assert health["status"] == "degraded"
    assert "not answering" in health["detail"]

    # During the backoff the store is not asked again: pages do not wait on timeouts.
    store.down = False
    clock.now += OUTAGE_BACKOFF - 1
    for key in ("a.mp4", "b.mp4", "c.mp4"):
        with pytest.raises(StorageUnavailable, match="not answering"):
            recordings.exists(key)
    assert len(store.calls) == 2
    assert recordings.health()["status"] == "degraded"

    # Past the backoff, and with no question asked yet, the outage is still what we know.
    clock.now += 2
    assert recordings.health()["status"] == "degraded"
    assert recordings.exists("b.mp4")
    assert len(store.calls) == 3
    assert recordings.health() == {"kind": "fake", "status": "ok", "detail": None}


def test_cached_answers_survive_an_outage(clock: Clock) -> None:
    store = FakeStorage({"a.mp4"})
    recordings = Recordings(store, ttl=60)
    assert recordings.exists("a.mp4")
    store.down = True
    with pytest.raises(StorageUnavailable):
        recordings.exists("b.mp4")
    assert recordings.exists("a.mp4")  # still within its TTL
    assert store.calls == ["a.mp4", "b.mp4"]


def test_playback_during_outage_and_after(talk: Talk, clock: Clock) -> None:
    store = FakeStorage({KEY}, down=True)
    recordings = Recordings(store, ttl=0)
    assert recordings.playback(talk).status == "unavailable"
    store.down = False
    assert recordings.playback(talk).status == "unavailable"  # backing off
    assert store.calls == [KEY]
    clock.now += OUTAGE_BACKOFF + 0.1
    assert recordings.playback(talk).status == "ok"
    assert recordings.health()["status"] == "ok"


def test_health_through_the_app(settings: Settings, tmp_path: Path) -> None:
    with TestClient(create_app(settings.replace(media_dir=tmp_path))) as client:
        body = client.get("/healthz").json()
    assert body["storage"] == {"kind": "local", "status": "ok", "detail": None}


def test_fake_storage_is_a_storage() -> None:
    # Keep the fake honest: it has every member of the Storage protocol.
    from vod.storage import Storage

    members = {m for m in vars(Storage) if not m.startswith("_")}
    assert members <= set(vars(FakeStorage)) | {"kind"}
