"""A store that accepts connections and never answers: pages still render within 3 s."""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from s3server import isolate_env, requests_sent
from starlette.testclient import TestClient

from vod.config import Settings
from vod.web.app import create_app

SLOW_PAGE_LIMIT = 3.0  # the bound for a talk page while S3 hangs


@pytest.fixture
def blackhole() -> Iterator[str]:
    """An HTTP endpoint on 127.0.0.1 that accepts connections and never says a word."""
    server = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    server.bind(("127.0.0.1", 0))
    server.listen(64)
    held: list[socket.socket] = []
    stop = threading.Event()

    def accept() -> None:
        server.settimeout(0.1)
        while not stop.is_set():
            try:
                conn, _ = server.accept()
            except TimeoutError:
                continue
            except OSError:
                return
            held.append(conn)

    thread = threading.Thread(target=accept, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.getsockname()[1]}"
    stop.set()
    thread.join(2)
    for conn in held:
        conn.close()
    server.close()


@pytest.mark.s3
def test_talk_page_renders_while_the_store_hangs(
    blackhole: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    isolate_env(monkeypatch, tmp_path)
    monkeypatch.setenv("AWS_ENDPOINT_URL", blackhole)
    # The default timeouts: 2 s connect + 2 s read, two attempts. The page must not add them up.
    settings = Settings(index_dir=tmp_path / "index", s3_bucket="videos")
    with TestClient(create_app(settings)) as client:
        started = time.monotonic()
        page = client.get("/talks/training-arctic-at-snowflake")
        took = time.monotonic() - started
        assert page.status_code == 200
        assert "temporarily unavailable" in page.text
        assert took < SLOW_PAGE_LIMIT, f"talk page took {took:.2f} s with a hanging store"
        # The next pages skip the store during the backoff: no waiting at all.
        sent = requests_sent(client.app_state["vod"].recordings.storage.client)
        assert client.get("/talks/systems-scale-2024-keynote").status_code == 200
        # The first page's call may still be retrying in the background; this page asks nothing.
        assert [r for r in sent if "systems-scale-2024-keynote" in r] == []
        health = client.get("/healthz").json()
        assert health["storage"]["status"] == "degraded"
        assert client.get("/search?q=snowflake").status_code == 200  # the rest of the site works
