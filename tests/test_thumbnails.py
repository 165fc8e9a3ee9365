"""Card thumbnails: the order they are chosen in, and their sizes (issue #11)."""

from __future__ import annotations

import threading
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest

from vod.catalog import Catalog, Recording, Talk, load_catalog
from vod.config import BUNDLED_CATALOG
from vod.listing import (
    CardFacts,
    event_site_video,
    has_recording,
    plays_here,
    recording_badge,
    talk_card,
    thumbnails_for,
)
from vod.storage import LocalStorage
from vod.thumbnails import Thumbnail, Thumbnails, provider_poster, resolve

SNOWFLAKE = "training-arctic-at-snowflake"
CARD = "/cards/t.png"


def talk_with(bundled_catalog: Catalog, **recording: object) -> Talk:
    talk = bundled_catalog.talks["systems-scale-2024-keynote"]
    return replace(talk, recording=Recording(**recording))  # type: ignore[arg-type]


def test_media_poster_comes_first(bundled_catalog: Catalog) -> None:
    talk = talk_with(bundled_catalog, key="k.mp4", poster="https://img.example.org/p.jpg")
    thumb = resolve(talk, CARD, media_poster="/media/k.poster.jpg")
    assert (thumb.kind, thumb.src) == ("media", "/media/k.poster.jpg")


@pytest.mark.parametrize(
    ("poster", "src", "srcset"),
    [
        # pyvideo keeps YouTube's largest image; cards get the sizes that always exist.
        (
            "https://i.ytimg.com/vi/o1FZ_Bd4DSM/maxresdefault.jpg",
            "https://i.ytimg.com/vi/o1FZ_Bd4DSM/hqdefault.jpg",
            "https://i.ytimg.com/vi/o1FZ_Bd4DSM/mqdefault.jpg 320w, "
            "https://i.ytimg.com/vi/o1FZ_Bd4DSM/hqdefault.jpg 480w",
        ),
        (
            "https://i1.ytimg.com/vi/MCmNGmFh6wE/hqdefault.jpg",
            "https://i.ytimg.com/vi/MCmNGmFh6wE/hqdefault.jpg",
            "https://i.ytimg.com/vi/MCmNGmFh6wE/mqdefault.jpg 320w, "
            "https://i.ytimg.com/vi/MCmNGmFh6wE/hqdefault.jpg 480w",
        ),
        (
            "https://archive.org/services/img/pyvideo_3382",
            "https://archive.org/services/img/pyvideo_3382",
            "",
        ),
    ],
)
def test_catalog_poster(bundled_catalog: Catalog, poster: str, src: str, srcset: str) -> None:
    thumb = resolve(talk_with(bundled_catalog, key="k.mp4", poster=poster), CARD)
    assert (thumb.kind, thumb.src, thumb.srcset) == ("poster", src, srcset)
    assert (thumb.width, thumb.height) == (480, 270)
    assert thumb.alt == "Poster of Keynote"


def test_plain_http_poster_is_skipped(bundled_catalog: Catalog) -> None:
    """The pages' CSP and mixed-content rules would block it: the next choice is used."""
    talk = talk_with(
        bundled_catalog, url="https://youtu.be/o1FZ_Bd4DSM", poster="http://a.images.blip.tv/x.png"
    )
    thumb = resolve(talk, CARD)
    assert (thumb.kind, thumb.src) == (
        "provider",
        "https://i.ytimg.com/vi/o1FZ_Bd4DSM/hqdefault.jpg",
    )


@pytest.mark.parametrize(
    ("url", "src"),
    [
        (
            "https://www.youtube.com/watch?v=o1FZ_Bd4DSM",
            "https://i.ytimg.com/vi/o1FZ_Bd4DSM/hqdefault.jpg",
        ),
        ("https://archive.org/details/pyvideo_1", "https://archive.org/services/img/pyvideo_1"),
        ("https://vimeo.com/123456", None),  # Vimeo's image names need an API call
        ("https://video.example.org/w/9c9de5e8-0a1e-484a-b099-e80766180a6d", None),  # PeerTube too
        ("https://dl.afpy.org/pycon-fr-17/talk.mp4", None),
    ],
)
def test_provider_poster(url: str, src: str | None) -> None:
    found = provider_poster(url)
    assert (found[0] if found else None) == src


def test_title_card_is_the_last_resort(bundled_catalog: Catalog) -> None:
    talk = bundled_catalog.talks[SNOWFLAKE]
    thumb = resolve(talk, f"/cards/{SNOWFLAKE}.png")
    assert thumb.kind == "card" and thumb.is_card
    assert thumb.src == f"/cards/{SNOWFLAKE}.png?w=480"
    assert thumb.srcset == ", ".join(f"/cards/{SNOWFLAKE}.png?w={w} {w}w" for w in (320, 480, 640))
    assert thumb.alt == "Title card: Training Arctic at Snowflake"


def test_every_talk_has_one(bundled_catalog: Catalog) -> None:
    thumbs = Thumbnails(bundled_catalog)
    assert len(thumbs) == len(bundled_catalog.talks)
    assert {thumbs[slug].kind for slug in bundled_catalog.talks} == {"card"}


def test_store_posters_only_through_a_stable_url(bundled_catalog: Catalog) -> None:
    talk = talk_with(bundled_catalog, key="k.mp4", poster="systems-scale-2024/k.jpg")
    assert resolve(talk, CARD).kind == "card"  # no store given: never a broken image
    thumb = resolve(talk, CARD, store_url=lambda key: "/media/" + key)
    assert (thumb.kind, thumb.src) == ("poster", "/media/systems-scale-2024/k.jpg")


def test_event_site_video_and_badges(bundled_catalog: Catalog) -> None:
    event = bundled_catalog.events["systems-scale-2024"]
    snowflake = bundled_catalog.talks[SNOWFLAKE]
    keynote = bundled_catalog.talks["systems-scale-2024-keynote"]
    link = event_site_video(snowflake, event)
    assert link is not None and link.url.startswith("https://atscaleconference.com/videos/")
    assert event_site_video(keynote, event) is None
    plain = CardFacts.plain(bundled_catalog)
    assert recording_badge(snowflake, event, plain) == "video"  # no index: trust the catalog
    facts = CardFacts(plain.thumbnails, frozenset({SNOWFLAKE, keynote.slug}))
    assert recording_badge(snowflake, event, facts) == "elsewhere"
    assert recording_badge(keynote, event, facts) == "placeholder"


def test_a_talk_not_recorded_says_so(bundled_catalog: Catalog) -> None:
    """Speakers who asked not to be recorded (do_not_record): a "Not recorded" badge."""
    event = bundled_catalog.events["systems-scale-2024"]
    talk = replace(bundled_catalog.talks["systems-scale-2024-keynote"], do_not_record=True)
    facts = CardFacts.plain(bundled_catalog)
    assert recording_badge(talk, event, facts) == "not-recorded"
    assert not has_recording(talk, frozenset()) and not plays_here(talk, frozenset())


def test_the_media_manifest_poster_comes_first(bundled_catalog: Catalog) -> None:
    """`vod media` made a poster from the recording (issue #14): it beats the catalog's."""
    from vod.media.entry import MediaEntry
    from vod.media.tools import Probe

    key = "systems-scale-2024/systems-scale-2024-keynote.mp4"
    probe = Probe.from_dict(
        {
            "duration_s": 30.0,
            "size": 1,
            "width": 1920,
            "height": 1080,
            "video_codec": "h264",
            "audio_codec": "aac",
            "format": "mp4",
        }
    )
    entry = MediaEntry(
        key=key,
        source_size=1,
        source_version="1",
        probe=probe,
        poster="systems-scale-2024/systems-scale-2024-keynote.poster.jpg",
        poster_small="systems-scale-2024/systems-scale-2024-keynote.poster-small.jpg",
    )
    talk = talk_with(bundled_catalog, key=key, poster="https://img.example.org/p.jpg")
    talk = replace(talk, recording=replace(talk.recording, media=entry))
    thumb = resolve(talk, CARD, store_url=lambda k: "/media/" + k)
    assert thumb.kind == "media"
    assert thumb.src == "/media/systems-scale-2024/systems-scale-2024-keynote.poster-small.jpg"
    assert thumb.srcset.endswith("keynote.poster.jpg 1280w")
    # Without a store that gives stable URLs (presigned S3), the catalog's poster is used.
    assert resolve(talk, CARD).kind == "poster"


# ---- resolved lazily: a reload costs nothing until a page lists a talk ------------------------


def count_resolves(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """Record the slug of every talk whose thumbnail is resolved from here on."""
    import vod.thumbnails

    calls: list[str] = []
    real = vod.thumbnails.resolve

    def counting(talk: Talk, *args: Any) -> Thumbnail:
        calls.append(talk.slug)
        return real(talk, *args)

    monkeypatch.setattr(vod.thumbnails, "resolve", counting)
    return calls


def test_a_reloaded_catalog_resolves_only_the_talks_a_page_lists(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path, bundled_catalog: Catalog
) -> None:
    """The first page after a catalog (or media manifest) reload resolved every talk (0.16 s
    for the 21,713 of pyvideo's catalog); now a page pays for its own cards only, once."""
    calls = count_resolves(monkeypatch)
    storage = LocalStorage(tmp_path)
    fresh = load_catalog(BUNDLED_CATALOG)  # what a reload makes: another Catalog object
    assert fresh is not bundled_catalog and len(fresh.talks) > 2
    table = thumbnails_for(fresh, storage)
    assert calls == [] and len(table) == len(fresh.talks)
    card = talk_card(fresh, fresh.talks[SNOWFLAKE], CardFacts(table))
    assert calls == [SNOWFLAKE]
    assert card.thumb == resolve(fresh.talks[SNOWFLAKE], f"/cards/{SNOWFLAKE}.png")
    assert table[SNOWFLAKE] is card.thumb and thumbnails_for(fresh, storage) is table
    assert calls == [SNOWFLAKE]  # kept: asked again, nothing is resolved again
    with pytest.raises(KeyError):
        table["no-such-talk"]


def test_threads_asking_for_one_thumbnail_get_the_same_one(bundled_catalog: Catalog) -> None:
    table = Thumbnails(bundled_catalog)
    start = threading.Barrier(8)
    seen: list[Thumbnail] = []

    def ask() -> None:
        start.wait()
        seen.append(table[SNOWFLAKE])

    threads = [threading.Thread(target=ask) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len(seen) == 8 and all(thumb is seen[0] for thumb in seen)
