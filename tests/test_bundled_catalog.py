"""The bundled Systems @Scale 2024 catalog states what the sources confirm, and nothing more.

The sources are the event's agenda page as copied into shared/seeds/000_213a29cb37db8aad.txt and
the facts in shared/data/systems-scale-2024.md. shared/ lives beside the checkout (in CI, a copy
of it sits beside the fresh clone).
"""

from __future__ import annotations

from datetime import date, datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from vod.catalog import Catalog

SHARED = Path(__file__).resolve().parents[2] / "shared"
SEED = SHARED / "seeds" / "000_213a29cb37db8aad.txt"
EVENT = "systems-scale-2024"
PT = ZoneInfo("America/Los_Angeles")

# The agenda's 11 slots in the seed's order: (slug, title or None when not published, the first
# words of the abstract in the seed or None for the opening remarks, which have none).
SLOTS = [
    ("systems-scale-2024-opening-remarks", "Opening Remarks", None),
    ("systems-scale-2024-keynote", "Keynote", "The AI revolution has created"),
    (
        "building-at-scale-with-h100-eos-dgx-superpod",
        "Building at Scale with H100: Eos as a DGX SuperPOD Reference Model for Large Data "
        "Center Builds",
        "With language models getting larger",
    ),
    ("systems-scale-2024-ai-cluster-maintenance", None, "In just two years, Meta"),
    ("systems-scale-2024-storage-for-llama-training", None, "GenAI training needs flipped"),
    ("training-arctic-at-snowflake", "Training Arctic at Snowflake", "In this case study"),
    (
        "megascale-scaling-large-language-model-training-to-more-than-10000-gpus",
        "MegaScale: Scaling Large Language Model Training to More Than 10,000 GPUs",
        "In this presentation, I will discuss",
    ),
    ("systems-scale-2024-serverless-workflow-orchestration", None, "Join us as we talk"),
    ("systems-scale-2024-cluster-management", None, "We will talk about the next evolution"),
    ("systems-scale-2024-llm-serving", None, "The advent of open-source large language"),
    ("systems-scale-2024-genai-infrastructure", None, "The impact of GenAI on Infrastructure"),
]
SLUGS = [slug for slug, _, _ in SLOTS]

# Who presents live, per talk: only what the sources confirm or imply (one matching bio).
# A talk missing here, or a name added to any talk, is a fact invented.
SPEAKERS = {
    "systems-scale-2024-opening-remarks": ("alex-boyko",),
    "systems-scale-2024-keynote": ("surupa-biswas",),
    "building-at-scale-with-h100-eos-dgx-superpod": ("julie-nvidia",),
    "systems-scale-2024-ai-cluster-maintenance": (),
    "systems-scale-2024-storage-for-llama-training": (),
    "training-arctic-at-snowflake": ("jeff-rasley", "lawrence-moore"),
    "megascale-scaling-large-language-model-training-to-more-than-10000-gpus": (
        "haibin-bytedance",
    ),
    "systems-scale-2024-serverless-workflow-orchestration": ("upasana-meta",),
    "systems-scale-2024-cluster-management": ("shankar-meta", "cedric-goh"),
    "systems-scale-2024-llm-serving": (),
    "systems-scale-2024-genai-infrastructure": (),
}
RECORDING_SPEAKERS = {**SPEAKERS, "training-arctic-at-snowflake": ("jeff-rasley", "hyungtae-kim")}

# The seed's speaker list, in its order (21 people).
SPEAKER_SLUGS = [
    "alex-boyko",
    "surupa-biswas",
    "julie-nvidia",
    "saranyan-vigraham",
    "benjamin-leonhardi",
    "robin-meta",
    "sumit",
    "lawrence-moore",
    "jeff-rasley",
    "hyungtae-kim",
    "haibin-bytedance",
    "maneet-bansal",
    "upasana-meta",
    "shawn-wang",
    "shankar-meta",
    "cedric-goh",
    "maria-meta",
    "unnamed-machine-learning-expert",
    "adi-meta",
    "jenya-lee",
    "kishore-meta",
]
READ_MORE = " read more"
SNOWFLAKE_NOTE = (
    "Live remarks will be presented by Jeff Rasley and Lawrence Moore. The post event video on "
    "demand will feature Jeff Rasley and Hyungtae Kim."
)


def normalise(text: str) -> str:
    return " ".join(text.split())


@pytest.fixture(scope="module")
def seed_lines() -> list[str]:
    if not SHARED.is_dir():
        pytest.skip(f"needs ../shared (the seed the bundled catalog was written from): no {SHARED}")
    return [line.strip() for line in SEED.read_text(encoding="utf-8").splitlines() if line.strip()]


@pytest.fixture(scope="module")
def seed_abstracts(seed_lines: list[str]) -> dict[str, str]:
    """The seed's abstracts by slug: its paragraphs between the agenda header and the bios."""
    start = max(i for i, line in enumerate(seed_lines) if line.startswith("Event times below"))
    end = next(i for i, line in enumerate(seed_lines) if line.endswith(READ_MORE))
    paragraphs = seed_lines[start + 1 : end]
    assert SNOWFLAKE_NOTE in paragraphs  # a note on presenters, not part of an abstract
    openings = {opening: slug for slug, _, opening in SLOTS if opening}
    abstracts: dict[str, list[str]] = {}
    current: str | None = None
    for paragraph in paragraphs:
        if paragraph == SNOWFLAKE_NOTE:
            continue
        slug = next((s for o, s in openings.items() if paragraph.startswith(o)), None)
        if slug is not None:
            current = slug
            abstracts[current] = []
        assert current is not None, f"a paragraph before any abstract: {paragraph[:40]!r}"
        abstracts[current].append(paragraph)  # a second paragraph continues the abstract
    # The seed order is the agenda order.
    assert list(abstracts) == [slug for slug, _, opening in SLOTS if opening]
    assert len(abstracts["systems-scale-2024-ai-cluster-maintenance"]) == 2
    return {slug: normalise(" ".join(parts)) for slug, parts in abstracts.items()}


@pytest.fixture(scope="module")
def seed_bios(seed_lines: list[str]) -> list[str]:
    bios = [line.removesuffix(READ_MORE) for line in seed_lines if line.endswith(READ_MORE)]
    assert len(bios) == 21
    return bios


def test_the_event(bundled_catalog: Catalog) -> None:
    assert list(bundled_catalog.events) == [EVENT]
    event = bundled_catalog.event(EVENT)
    assert event.name == "Systems @Scale 2024"
    assert (event.start_date, event.end_date) == (date(2024, 6, 12), date(2024, 6, 12))
    assert event.timezone == "America/Los_Angeles"
    assert event.location is None  # the venue is not confirmed
    assert event.url == "https://atscaleconference.com/events/systems-scale-2024/"


def test_all_eleven_slots_in_seed_order(bundled_catalog: Catalog) -> None:
    assert len(bundled_catalog.talks) == 11
    assert [t.slug for t in bundled_catalog.event_talks(EVENT)] == SLUGS
    assert list(bundled_catalog.talks) == SLUGS  # the file lists them in the same order


def test_titles_published_and_not(bundled_catalog: Catalog) -> None:
    titles = {slug: bundled_catalog.talk(slug).title for slug in SLUGS}
    assert titles == {slug: title for slug, title, _ in SLOTS}
    untitled = [slug for slug, title in titles.items() if title is None]
    assert untitled == [
        "systems-scale-2024-ai-cluster-maintenance",
        "systems-scale-2024-storage-for-llama-training",
        "systems-scale-2024-serverless-workflow-orchestration",
        "systems-scale-2024-cluster-management",
        "systems-scale-2024-llm-serving",
        "systems-scale-2024-genai-infrastructure",
    ]
    for slug in untitled:
        assert bundled_catalog.talk(slug).display_title == "Title not published"


def test_kinds(bundled_catalog: Catalog) -> None:
    kinds = {slug: bundled_catalog.talk(slug).kind for slug in SLUGS}
    assert kinds == {
        **{slug: "talk" for slug in SLUGS},
        "systems-scale-2024-opening-remarks": "remarks",
        "systems-scale-2024-keynote": "keynote",
    }


def test_times_only_where_published(bundled_catalog: Catalog) -> None:
    times = {
        slug: (bundled_catalog.talk(slug).start, bundled_catalog.talk(slug).end) for slug in SLUGS
    }

    def at(hour: int, minute: int) -> datetime:
        return datetime(2024, 6, 12, hour, minute, tzinfo=PT)

    assert times == {
        **{slug: (None, None) for slug in SLUGS},
        "systems-scale-2024-opening-remarks": (at(10, 0), at(10, 5)),
        "systems-scale-2024-keynote": (at(10, 5), at(10, 25)),
        "building-at-scale-with-h100-eos-dgx-superpod": (at(10, 25), at(10, 45)),
    }
    first = bundled_catalog.talk(SLUGS[0]).start
    assert first is not None
    assert first.isoformat() == "2024-06-12T10:00:00-07:00"  # PDT


def test_sessions_are_not_published(bundled_catalog: Catalog) -> None:
    assert [t.session for t in bundled_catalog.talks.values()] == [None] * 11


def test_each_seed_abstract_appears_verbatim_in_exactly_one_talk(
    bundled_catalog: Catalog, seed_abstracts: dict[str, str]
) -> None:
    assert len(seed_abstracts) == 10
    abstracts = {t.slug: normalise(t.abstract or "") for t in bundled_catalog.talks.values()}
    for slug, seed_text in seed_abstracts.items():
        holders = [s for s, text in abstracts.items() if seed_text in text]
        assert holders == [slug], f"abstract of {slug} is held by {holders}"
        assert abstracts[slug] == seed_text  # the whole abstract, nothing added
    assert bundled_catalog.talk("systems-scale-2024-opening-remarks").abstract is None


def test_every_seed_speaker_exists_with_the_seed_bio(
    bundled_catalog: Catalog, seed_bios: list[str]
) -> None:
    assert list(bundled_catalog.speakers) == SPEAKER_SLUGS
    bios = [bundled_catalog.speaker(slug).bio for slug in SPEAKER_SLUGS]
    assert bios == seed_bios


def test_speaker_names_are_only_what_sources_confirm(bundled_catalog: Catalog) -> None:
    names = {slug: bundled_catalog.speaker(slug).name for slug in SPEAKER_SLUGS}
    assert names == {
        "alex-boyko": "Alex Boyko",
        "surupa-biswas": "Surupa Biswas",
        "julie-nvidia": "Julie",
        "saranyan-vigraham": "Saranyan Vigraham",
        "benjamin-leonhardi": "Benjamin Leonhardi",
        "robin-meta": "Robin",
        "sumit": "Sumit",
        "lawrence-moore": "Lawrence Moore",
        "jeff-rasley": "Jeff Rasley",
        "hyungtae-kim": "Hyungtae Kim",
        "haibin-bytedance": "Haibin",
        "maneet-bansal": "Maneet Bansal",
        "upasana-meta": "Upasana",
        "shawn-wang": "Shawn Wang",
        "shankar-meta": "Shankar",
        "cedric-goh": "Cedric Goh",
        "maria-meta": "Maria",
        "unnamed-machine-learning-expert": None,
        "adi-meta": "Adi",
        "jenya-lee": "Jenya Lee",
        "kishore-meta": "Kishore",
    }
    # A name in the catalog is one the seed's bio (or the data file) spells out.
    confirmed_elsewhere = {
        "Alex Boyko",
        "Surupa Biswas",
        "Jeff Rasley",
        "Lawrence Moore",
        "Hyungtae Kim",
    }
    for slug, name in names.items():
        bio = bundled_catalog.speaker(slug).bio or ""
        if name is not None and name not in confirmed_elsewhere:
            assert bio.startswith(name) or f" {name} " in bio, slug


def test_the_snowflake_talk(bundled_catalog: Catalog, seed_lines: list[str]) -> None:
    assert SNOWFLAKE_NOTE in seed_lines
    talk = bundled_catalog.talk("training-arctic-at-snowflake")
    assert talk.title == "Training Arctic at Snowflake"
    assert talk.speakers == ("jeff-rasley", "lawrence-moore")
    assert talk.recording_speakers == ("jeff-rasley", "hyungtae-kim")
    assert talk.recording_speakers_differ
    roles = {
        slug: [(r.talk.slug, r.live, r.recorded) for r in bundled_catalog.speaker_roles(slug)]
        for slug in ("jeff-rasley", "lawrence-moore", "hyungtae-kim")
    }
    assert roles == {
        "jeff-rasley": [("training-arctic-at-snowflake", True, True)],
        "lawrence-moore": [("training-arctic-at-snowflake", True, False)],
        "hyungtae-kim": [("training-arctic-at-snowflake", False, True)],
    }


def test_no_invented_speaker_assignments(bundled_catalog: Catalog) -> None:
    assert {t.slug: t.speakers for t in bundled_catalog.talks.values()} == SPEAKERS
    assert {t.slug: t.recording_speakers for t in bundled_catalog.talks.values()} == (
        RECORDING_SPEAKERS
    )
    differ = [t.slug for t in bundled_catalog.talks.values() if t.recording_speakers_differ]
    assert differ == ["training-arctic-at-snowflake"]


def test_video_page_links_only_where_confirmed(bundled_catalog: Catalog) -> None:
    links = {t.slug: [(x.title, x.url) for x in t.links] for t in bundled_catalog.talks.values()}
    base = "https://atscaleconference.com/videos/"
    assert links == {
        **{slug: [] for slug in SLUGS},
        "training-arctic-at-snowflake": [
            ("Video page on atscaleconference.com", base + "training-arctic-at-snowflake/"),
        ],
        "megascale-scaling-large-language-model-training-to-more-than-10000-gpus": [
            (
                "Video page on atscaleconference.com",
                base + "megascale-scaling-large-language-model-training-to-more-than-10000-gpus",
            ),
        ],
    }


def test_no_redirects_and_default_recording_keys(bundled_catalog: Catalog) -> None:
    assert dict(bundled_catalog.redirects) == {}
    for talk in bundled_catalog.talks.values():
        assert talk.recording.key == f"{EVENT}/{talk.slug}.mp4"
        assert talk.recording.url is None
