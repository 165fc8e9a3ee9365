"""A merged speaker keeps their links (issue #14): after an alias merge and a re-import,
`/speakers/<old-slug>` (and its feed) answers 301 to the speaker it became."""

from __future__ import annotations

from pathlib import Path

import yaml
from conftest import DATA
from starlette.testclient import TestClient

from vod.config import Settings
from vod.importers.pyvideo import import_pyvideo
from vod.web.app import create_app


def test_merged_speaker_pages_redirect(tmp_path: Path) -> None:
    catalog = tmp_path / "catalog"
    import_pyvideo(DATA / "pyvideo", catalog)
    speakers_file = catalog / "speakers.yaml"
    data = yaml.safe_load(speakers_file.read_text())
    for speaker in data["speakers"]:
        if speaker["slug"] == "julien-palard":
            speaker["aliases"] = ["Tracy Osborn"]  # not true: a test of the mechanism
    speakers_file.write_text(yaml.safe_dump(data, allow_unicode=True, sort_keys=False))
    import_pyvideo(DATA / "pyvideo", catalog)
    settings = Settings(catalog=catalog, index_dir=tmp_path / "index", media_dir=tmp_path / "m")
    with TestClient(create_app(settings)) as client:
        page = client.get("/speakers/tracy-osborn?x=1", follow_redirects=False)
        assert page.status_code == 301
        assert page.headers["location"] == "/speakers/julien-palard?x=1"
        feed = client.get("/speakers/tracy-osborn/feed.xml", follow_redirects=False)
        assert (feed.status_code, feed.headers["location"]) == (
            301,
            "/speakers/julien-palard/feed.xml",
        )
        api = client.get("/api/speakers/tracy-osborn", follow_redirects=False)
        assert (api.status_code, api.headers["location"]) == (301, "/api/speakers/julien-palard")
        assert client.get("/speakers/julien-palard").status_code == 200
        assert client.get("/speakers/nobody-at-all").status_code == 404
