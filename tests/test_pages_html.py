"""HTML pages, read as a browser would: parsed with html.parser, checked by element and label.

Most tests use the session `client` (the bundled Systems @Scale 2024 catalog, no recordings).
A tiny made-up catalog (`sample_client`) covers what the bundled one lacks: sessions, a
multi-day event, timed talks listed out of order, former slugs and a recording with a duration.
"""

from __future__ import annotations

import itertools
import re
import textwrap
from collections.abc import Iterator
from html.parser import HTMLParser
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import pytest
from starlette.testclient import TestClient

from vod.catalog import Catalog
from vod.config import BUNDLED_CATALOG, Settings
from vod.web.app import create_app

SNOWFLAKE = "training-arctic-at-snowflake"
EVENT = "systems-scale-2024"

# ---- a tiny DOM built with the standard library --------------------------------------------

VOID = {
    "area",
    "base",
    "br",
    "col",
    "embed",
    "hr",
    "img",
    "input",
    "link",
    "meta",
    "source",
    "track",
    "wbr",
}


class Node:
    def __init__(self, tag: str, attrs: dict[str, str | None], parent: Node | None) -> None:
        self.tag = tag
        self.attrs = attrs
        self.parent = parent
        self.children: list[Node | str] = []

    def text(self) -> str:
        parts = [c if isinstance(c, str) else c.text() for c in self.children]
        return re.sub(r"\s+", " ", "".join(parts)).strip()

    @property
    def classes(self) -> set[str]:
        return set((self.attrs.get("class") or "").split())

    def iter(self) -> Iterator[Node]:
        for child in self.children:
            if isinstance(child, Node):
                yield child
                yield from child.iter()

    def find_all(self, tag: str | None = None, cls: str | None = None, **attrs: str) -> list[Node]:
        return [
            n
            for n in self.iter()
            if (tag is None or n.tag == tag)
            and (cls is None or cls in n.classes)
            and all(n.attrs.get(k.rstrip("_")) == v for k, v in attrs.items())
        ]

    def find(self, tag: str | None = None, cls: str | None = None, **attrs: str) -> Node:
        found = self.find_all(tag, cls, **attrs)
        assert found, f"no <{tag or '*'} class={cls!r} {attrs}> in the page"
        return found[0]

    def next_sibling(self) -> Node | None:
        assert self.parent is not None
        siblings = [c for c in self.parent.children if isinstance(c, Node)]
        i = siblings.index(self)
        return siblings[i + 1] if i + 1 < len(siblings) else None

    def previous_sibling(self) -> Node | None:
        assert self.parent is not None
        siblings = [c for c in self.parent.children if isinstance(c, Node)]
        i = siblings.index(self)
        return siblings[i - 1] if i > 0 else None


class _TreeBuilder(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.root = Node("#document", {}, None)
        self.current = self.root

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        node = Node(tag, dict(attrs), self.current)
        self.current.children.append(node)
        if tag not in VOID:
            self.current = node

    def handle_startendtag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.current.children.append(Node(tag, dict(attrs), self.current))

    def handle_endtag(self, tag: str) -> None:
        node: Node | None = self.current
        while node is not None and node.tag != tag:
            node = node.parent
        assert node is not None and node.parent is not None, f"stray </{tag}>"
        self.current = node.parent

    def handle_data(self, data: str) -> None:
        self.current.children.append(data)


def parse(html: str) -> Node:
    builder = _TreeBuilder()
    builder.feed(html)
    builder.close()
    return builder.root


def get_page(client: TestClient, url: str, status: int = 200) -> Node:
    response = client.get(url)
    assert response.status_code == status, (url, response.status_code, response.text[:300])
    assert response.headers["content-type"].startswith("text/html")
    return parse(response.text)


def talk_slugs(container: Node) -> list[str]:
    """Slugs of the talk cards in `container`, in page order."""
    return [
        card.find("a").attrs["href"].removeprefix("/talks/")  # type: ignore[union-attr]
        for card in container.find_all("article", cls="talk-card")
    ]


def heading_level(node: Node) -> int:
    return int(node.attrs.get("aria-level") or node.tag[1])


def dt_for(dd: Node) -> str:
    dt = dd.previous_sibling()
    assert dt is not None and dt.tag == "dt"
    return dt.text()


# ---- a made-up catalog with what the bundled one lacks -------------------------------------

SAMPLE_YAML = textwrap.dedent(
    """\
    event:
      slug: demo-conf-2030
      name: Demo Conf 2030
      start_date: 2030-03-01
      end_date: 2030-03-02
      timezone: Europe/Berlin
      location: Example Hall

    talks:
      - slug: day-two-closing
        title: Closing on Day Two
        session: Day two
        start: "2030-03-02 09:00"
        end: "2030-03-02 09:30"
        speakers: [ada-example]
      - slug: untimed-first
        title: Untimed First
        speakers: [bob-example]
      - slug: morning-opening
        title: Morning Opening
        session: Morning
        start: "10:00"
        end: "10:20"
        speakers: [ada-example]
        recording_speakers: [bob-example]
        former_slugs: [old-morning-opening, older-morning-opening]
        abstract: "First paragraph about zebras.\\n\\nSecond paragraph about yaks."
        recording:
          duration: "10:00"
          chapters: [{start: 90, title: Intro}]
      - slug: morning-second
        title: Morning Second
        session: Morning
        start: "11:00"
        end: "11:30"
      - slug: untimed-second
        abstract: An untitled talk about quokkas.

    speakers:
      - slug: ada-example
        name: Ada Example
        company: Example Corp
      - slug: bob-example
        name: Bob Example
    """
)
SAMPLE_AGENDA = [
    "morning-opening",
    "morning-second",
    "day-two-closing",
    "untimed-first",
    "untimed-second",
]


@pytest.fixture(scope="module")
def sample_client(tmp_path_factory: pytest.TempPathFactory) -> Iterator[TestClient]:
    root = tmp_path_factory.mktemp("sample")
    (root / "demo.yaml").write_text(SAMPLE_YAML, encoding="utf-8")
    settings = Settings(
        catalog=root / "demo.yaml", index_dir=root / "index", media_dir=root / "media"
    )
    with TestClient(create_app(settings)) as test_client:
        yield test_client


# ---- every page: a document a screen reader can walk -----------------------------------------

PAGES = [
    ("/", 200),
    (f"/events/{EVENT}", 200),
    (f"/talks/{SNOWFLAKE}", 200),
    (f"/talks/{SNOWFLAKE}?t=90", 200),
    ("/talks/systems-scale-2024-llm-serving", 200),
    ("/speakers/jeff-rasley", 200),
    ("/speakers/unnamed-machine-learning-expert", 200),
    ("/search", 200),
    ("/search?q=snowflake", 200),
    ("/search?q=systems&page=2", 200),
    ("/search?q=*", 400),
    ("/talks/no-such-talk", 404),
    ("/events/no-such-event", 404),
    ("/speakers/no-such-speaker", 404),
    ("/no/such/page", 404),
]


@pytest.mark.parametrize(("url", "status"), PAGES)
def test_page_is_an_accessible_document(client: TestClient, url: str, status: int) -> None:
    check_accessible(get_page(client, url, status), url)


@pytest.mark.parametrize(
    "url",
    [
        "/events/demo-conf-2030",
        "/talks/morning-opening",
        "/talks/untimed-second",
        "/speakers/ada-example",
    ],
)
def test_sample_page_is_an_accessible_document(sample_client: TestClient, url: str) -> None:
    check_accessible(get_page(sample_client, url), url)


def check_accessible(doc: Node, url: str) -> None:
    assert doc.find("html").attrs.get("lang") == "en"
    assert doc.find("title").text()
    assert len(doc.find_all("h1")) == 1
    main = doc.find("main")
    assert doc.find("a", cls="skip").attrs["href"] == "#" + str(main.attrs["id"])
    # Headings never skip a level on the way down.
    levels = [heading_level(h) for h in doc.iter() if re.fullmatch(r"h[1-6]", h.tag)]
    assert levels[0] == 1
    for before, after in itertools.pairwise(levels):
        assert after <= before + 1, (url, levels)
    # Every field has a label; every id is unique.
    ids = [n.attrs["id"] for n in doc.iter() if n.attrs.get("id")]
    assert len(ids) == len(set(ids))
    labelled = {n.attrs.get("for") for n in doc.find_all("label")}
    for field in doc.find_all("input") + doc.find_all("select"):
        if field.attrs.get("type") in ("hidden", "submit"):
            continue
        assert field.attrs.get("id") in labelled or field.attrs.get("aria-label"), field.attrs
    for img in doc.find_all("img"):
        assert "alt" in img.attrs


@pytest.mark.parametrize(
    ("url", "title"),
    [
        ("/", "vod · conference recordings"),
        (f"/events/{EVENT}", "Systems @Scale 2024 · vod"),
        (f"/talks/{SNOWFLAKE}", "Training Arctic at Snowflake · Systems @Scale 2024 · vod"),
        ("/speakers/jeff-rasley", "Jeff Rasley · vod"),
        ("/search?q=snowflake", "snowflake · Search · vod"),
    ],
)
def test_page_titles(client: TestClient, url: str, title: str) -> None:
    assert get_page(client, url).find("title").text() == title


# ---- home -----------------------------------------------------------------------------------


def test_home_lists_events_talks_and_a_search_box(
    client: TestClient, bundled_catalog: Catalog
) -> None:
    doc = get_page(client, "/")
    events = doc.find("ol", cls="event-cards")  # cards with covers since issue #11
    assert events.find("a").attrs["href"] == f"/events/{EVENT}"
    assert f"{len(bundled_catalog.talks)} talks" in events.text()
    assert set(talk_slugs(doc)) <= set(bundled_catalog.talks)
    assert SNOWFLAKE in talk_slugs(doc)
    form = doc.find("form", cls="search-big")
    assert form.attrs["action"] == "/search"
    assert form.find("label").attrs["for"] == form.find("input").attrs["id"]


# ---- event agenda ---------------------------------------------------------------------------


def test_bundled_agenda_is_timed_talks_then_untimed_in_catalog_order(
    client: TestClient, bundled_catalog: Catalog
) -> None:
    talks = list(bundled_catalog.talks.values())  # catalog (file) order
    timed = sorted((t for t in talks if t.start), key=lambda t: t.start)  # type: ignore[arg-type,return-value]
    untimed = [t for t in talks if t.start is None]
    doc = get_page(client, f"/events/{EVENT}")
    assert talk_slugs(doc.find("section", **{"aria-labelledby": "agenda-h"})) == [
        t.slug for t in timed + untimed
    ]
    assert timed and untimed  # the bundled catalog has both kinds
    # An archive event (issue #11): no "not published yet", the order explained.
    note = doc.find("p", cls="untimed-note").text()
    assert note.startswith(f"{len(untimed)} of these talks have no recorded time")
    assert "not published yet" not in doc.text()


def test_agenda_orders_by_time_across_days_and_groups_sessions(sample_client: TestClient) -> None:
    doc = get_page(sample_client, "/events/demo-conf-2030")
    agenda = doc.find("section", **{"aria-labelledby": "agenda-h"})
    assert talk_slugs(agenda) == SAMPLE_AGENDA
    # Grouped by day, then session (issue #11); an upcoming event's unknown day says so.
    days = [d.find("h3").text() for d in agenda.find_all("section", cls="agenda-day")]
    assert days == ["Friday, March 1, 2030", "Saturday, March 2, 2030", "Day not published yet"]
    sessions = [
        s for s in agenda.find_all("section", cls="session") if s.find_all(cls="session-name")
    ]
    names = [s.find(cls="session-name").text() for s in sessions]
    assert names == ["Morning", "Day two"]
    for section in agenda.find_all("section", cls="session"):
        # A talk title sits one level below the heading above it, for assistive technology.
        named = section.find_all(cls="session-name")
        head = heading_level(named[0]) if named else 3  # the day's h3
        assert {heading_level(c.find("h3")) for c in section.find_all("article")} == {head + 1}
    assert "Agenda (5 talks)" in agenda.find("h2").text()
    assert "March 1 – March 2, 2030" in doc.find("p", cls="meta").text()
    assert "Europe/Berlin" in doc.find("p", cls="meta").text()


def test_agenda_card_says_what_is_not_published(client: TestClient) -> None:
    doc = get_page(client, f"/events/{EVENT}")
    cards = {c.find("a").attrs["href"]: c for c in doc.find_all("article", cls="talk-card")}
    untitled = cards["/talks/systems-scale-2024-llm-serving"]
    assert untitled.find("a").text() == "Title not published"
    # An archive event (issue #11): the day, and no "not published yet" for the missing time.
    assert untitled.find("time").text() == "Jun 12, 2024"
    assert "not published yet" not in untitled.text().lower()
    assert "Presenters not published" in untitled.text()
    keynote = cards["/talks/systems-scale-2024-keynote"]
    assert keynote.find("time").attrs["datetime"] == "2024-06-12T10:05:00-07:00"
    assert keynote.find("time").text() == "10:05–10:25 PDT"
    snowflake = cards[f"/talks/{SNOWFLAKE}"]
    labels = [p.text() for p in snowflake.find_all("p", cls="people")]
    assert labels == [
        "Live: Jeff Rasley (Snowflake), Lawrence Moore",
        "In the recording: Jeff Rasley (Snowflake), Hyungtae Kim (Snowflake)",
    ]


# ---- talk page ------------------------------------------------------------------------------


def test_snowflake_talk_labels_live_and_recording_presenters(client: TestClient) -> None:
    doc = get_page(client, f"/talks/{SNOWFLAKE}")
    live = doc.find("dd", cls="live-speakers")
    recorded = doc.find("dd", cls="recording-speakers")
    assert [a.text() for a in live.find_all("a")] == ["Jeff Rasley", "Lawrence Moore"]
    assert [a.text() for a in recorded.find_all("a")] == ["Jeff Rasley", "Hyungtae Kim"]
    assert "live" in dt_for(live).lower() and "recording" not in dt_for(live).lower()
    assert "recording" in dt_for(recorded).lower()
    assert [a.attrs["href"] for a in recorded.find_all("a")] == [
        "/speakers/jeff-rasley",
        "/speakers/hyungtae-kim",
    ]


def test_talk_with_one_presenter_list_says_it_is_both(client: TestClient) -> None:
    doc = get_page(client, "/talks/systems-scale-2024-keynote")
    live = doc.find("dd", cls="live-speakers")
    assert live.text() == "Surupa Biswas (Meta)"
    label = dt_for(live).lower()
    assert "live" in label and "recording" in label
    assert not doc.find_all(cls="recording-speakers")


@pytest.mark.parametrize(
    ("slug", "facts"),
    [
        (
            SNOWFLAKE,
            # An archive event (issue #11): no "not published yet", no empty session row.
            {"When": "Wednesday, June 12, 2024 · time not recorded", "Session": None},
        ),
        (
            "systems-scale-2024-keynote",
            {
                "When": "Wednesday, June 12, 2024, 10:05–10:25 PDT",
                "Session": None,
                "Length": "20 min",
            },
        ),
        (
            "systems-scale-2024-llm-serving",
            {"Presented live and in the recording by": "Not published"},
        ),
    ],
)
def test_talk_facts(client: TestClient, slug: str, facts: dict[str, str | None]) -> None:
    doc = get_page(client, f"/talks/{slug}")
    dl = doc.find("dl", cls="facts")
    shown = {dt.text(): dt.next_sibling().text() for dt in dl.find_all("dt")}  # type: ignore[union-attr]
    for label, value in facts.items():
        assert shown.get(label) == value


def test_untitled_talk_says_so_plainly(client: TestClient) -> None:
    doc = get_page(client, "/talks/systems-scale-2024-llm-serving")
    h1 = doc.find("h1")
    assert h1.text() == "Title not published" and "untitled" in h1.classes
    assert "not been published" in doc.find("header", cls="page-head").text()
    abstract = doc.find("section", **{"aria-labelledby": "abstract-h"})
    assert "sticky routing" in abstract.text()


def test_talk_page_shows_abstract_links_and_related(
    client: TestClient, bundled_catalog: Catalog
) -> None:
    doc = get_page(client, f"/talks/{SNOWFLAKE}")
    assert doc.find("h1").text() == "Training Arctic at Snowflake"
    assert doc.find("p", cls="crumbs").find("a").attrs["href"] == f"/events/{EVENT}"
    abstract = doc.find("section", **{"aria-labelledby": "abstract-h"}).text()
    assert abstract.startswith("Abstract In this case study")
    assert "data governance standards." in abstract
    links = doc.find("section", **{"aria-labelledby": "links-h"})
    assert links.find("a").attrs["href"].startswith("https://atscaleconference.com/")  # type: ignore[union-attr]
    related = talk_slugs(doc.find("section", **{"aria-labelledby": "related-h"}))
    assert related and SNOWFLAKE not in related and set(related) <= set(bundled_catalog.talks)
    canonical = doc.find("link", rel="canonical").attrs["href"]
    assert canonical == f"http://testserver/talks/{SNOWFLAKE}"


@pytest.fixture(scope="module")
def empty_store_client(tmp_path_factory: pytest.TempPathFactory) -> Iterator[TestClient]:
    """The bundled catalog, its index built by the app against an empty store: the index says
    every recording kept in the store is missing (the session `client`'s index, built without
    a store, trusts the catalog)."""
    root = tmp_path_factory.mktemp("empty-store")
    settings = Settings(catalog=BUNDLED_CATALOG, index_dir=root / "index", media_dir=root / "media")
    with TestClient(create_app(settings)) as test_client:
        yield test_client


def cards_by_slug(container: Node) -> dict[str, Node]:
    return dict(
        zip(talk_slugs(container), container.find_all("article", cls="talk-card"), strict=True)
    )


def test_related_cards_are_the_cards_every_list_shows(empty_store_client: TestClient) -> None:
    """Issue #11: a related talk's card says what its recording is, as the event page's card of
    the same talk does, with the same thumbnail and length."""

    def shown(card: Node) -> tuple[list[str], dict[str, str | None], list[str]]:
        badges = [b.text() for b in card.find_all(cls="badge")]
        return badges, card.find("img").attrs, [d.text() for d in card.find_all(cls="duration")]

    listed = cards_by_slug(get_page(empty_store_client, f"/events/{EVENT}"))
    doc = get_page(empty_store_client, f"/talks/{SNOWFLAKE}")
    related = cards_by_slug(doc.find("section", **{"aria-labelledby": "related-h"}))
    assert related
    for slug, card in related.items():
        assert shown(card) == shown(listed[slug]), slug
    badges = [shown(card)[0] for card in related.values()]
    assert ["Placeholder clip"] in badges
    assert all(b in (["Placeholder clip"], ["On atscaleconference.com"]) for b in badges)


def test_talk_page_splits_abstract_paragraphs_and_lists_chapters(
    sample_client: TestClient,
) -> None:
    doc = get_page(sample_client, "/talks/morning-opening")
    paragraphs = doc.find("section", **{"aria-labelledby": "abstract-h"}).find_all("p")
    assert [p.text() for p in paragraphs] == [
        "First paragraph about zebras.",
        "Second paragraph about yaks.",
    ]
    chapter = doc.find("ol", cls="chapters").find("a")
    assert chapter.attrs["href"] == "/talks/morning-opening?t=90"
    assert chapter.attrs["data-seek"] == "90" and chapter.text() == "1:30"
    facts = doc.find("dl", cls="facts")
    shown = {dt.text(): dt.next_sibling().text() for dt in facts.find_all("dt")}  # type: ignore[union-attr]
    # On a multi-day event the talk's own day is shown, not the event's range.
    assert shown["When"] == "Friday, March 1, 2030, 10:00–10:20 CET"
    assert shown["Session"] == "Morning"
    assert shown["Length"] == "10 min"
    assert shown["Presented live by"] == "Ada Example (Example Corp)"
    assert shown["In the recording"] == "Bob Example"


def test_placeholder_playback_is_labelled(client: TestClient) -> None:
    # The keynote: the Snowflake talk's real recording is on the event's site (next test).
    doc = get_page(client, "/talks/systems-scale-2024-keynote")
    player = doc.find("div", cls="player")
    assert player.find("source").attrs["src"] == "/static/placeholder.mp4"
    note = player.find("p", cls="placeholder-note")
    assert note.text().startswith("Placeholder:")
    assert "not available here yet" in note.text()
    assert player.find("video").attrs["aria-label"] == "Recording: Keynote"
    assert player.find("track").attrs["kind"] == "captions"
    assert not player.find_all(cls="watch-elsewhere")


def test_recording_on_the_event_site_is_the_primary_action(client: TestClient) -> None:
    """Issue #11: the bundled talks whose video page is on atscaleconference.com lead there."""
    player = get_page(client, f"/talks/{SNOWFLAKE}").find("div", cls="player")
    watch = player.find(cls="watch-elsewhere")
    button = watch.find("a", cls="button")
    assert button.attrs["href"] == f"https://atscaleconference.com/videos/{SNOWFLAKE}/"
    assert button.text().startswith("Watch on atscaleconference.com")
    # The sample clip stays, behind a click, and says what it is.
    clip = player.find("details", cls="sample-clip")
    assert clip.find("source").attrs["src"] == "/static/placeholder.mp4"
    assert "not the talk" in clip.find("p", cls="placeholder-note").text()
    embed = get_page(client, f"/embed/{SNOWFLAKE}")
    assert embed.find(cls="watch-elsewhere").find("a").attrs["target"] == "_blank"


def test_real_recording_plays_without_placeholder_note(settings: Settings, tmp_path: Path) -> None:
    media = tmp_path / "media"
    (media / EVENT).mkdir(parents=True)
    (media / EVENT / f"{SNOWFLAKE}.mp4").write_bytes(b"\x00" * 64)
    with TestClient(create_app(settings.replace(media_dir=media))) as local:
        doc = get_page(local, f"/talks/{SNOWFLAKE}")
        assert doc.find("source").attrs["src"] == f"/media/{EVENT}/{SNOWFLAKE}.mp4"
        assert not doc.find_all(cls="placeholder-note")
        assert "Placeholder" not in doc.find("div", cls="player").text()
        # Another talk of the same event still plays, and says, the placeholder.
        other = get_page(local, "/talks/systems-scale-2024-keynote")
        assert other.find_all(cls="placeholder-note")


@pytest.mark.parametrize(
    ("t", "seconds", "label"),
    [
        ("754", 754, "12:34"),
        ("90s", 90, "1:30"),
        ("1m30s", 90, "1:30"),
        ("1h2m3s", 3723, "1:02:03"),
        ("12:34", 754, "12:34"),
        ("1:02:03", 3723, "1:02:03"),
        (" 90 ", 90, "1:30"),
    ],
)
def test_start_time_from_t(client: TestClient, t: str, seconds: int, label: str) -> None:
    response = client.get(f"/talks/{SNOWFLAKE}", params={"t": t})
    assert response.status_code == 200
    doc = parse(response.text)
    player = doc.find("div", cls="player")
    assert player.attrs["data-start"] == str(seconds)
    assert player.find("source").attrs["src"].endswith(f"#t={seconds}")  # type: ignore[union-attr]
    dl = doc.find("dl", cls="facts")
    starts = next(dt for dt in dl.find_all("dt") if dt.text() == "Starts at")
    assert starts.next_sibling().text() == f"{label} (play from the beginning)"  # type: ignore[union-attr]


@pytest.mark.parametrize(
    "t",
    [
        "-5",
        "abc",
        "",
        "0",
        "1:2:3",
        "12:60",
        "99999999",
        "1e3",
        "1.5",
        "\x00",
        "½",
        "²",
        "1m99999999s",
        "--",
        "9" * 40,
    ],
)
def test_bad_start_time_is_ignored(client: TestClient, t: str) -> None:
    response = client.get(f"/talks/{SNOWFLAKE}", params={"t": t})
    assert response.status_code == 200
    doc = parse(response.text)
    assert "data-start" not in doc.find("div", cls="player").attrs
    assert "#t=" not in doc.find("source").attrs["src"]  # type: ignore[operator]
    assert "Starts at" not in doc.find("dl", cls="facts").text()


def test_start_time_past_the_end_plays_from_the_start(sample_client: TestClient) -> None:
    inside = parse(sample_client.get("/talks/morning-opening?t=599").text)
    assert inside.find("div", cls="player").attrs["data-start"] == "599"
    past = parse(sample_client.get("/talks/morning-opening?t=600").text)
    assert "data-start" not in past.find("div", cls="player").attrs


# ---- speaker --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("speaker", "role"),
    [
        ("jeff-rasley", "Presented live and in the recording"),
        ("lawrence-moore", "Presented live (not in the recording)"),
        ("hyungtae-kim", "In the recording (did not present live)"),
    ],
)
def test_speaker_page_lists_the_talk_with_the_role(
    client: TestClient, speaker: str, role: str
) -> None:
    doc = get_page(client, f"/speakers/{speaker}")
    # Talks are grouped under a heading per role since issue #11.
    groups = doc.find_all("section", cls="role-group")
    assert [talk_slugs(g) for g in groups] == [[SNOWFLAKE]]
    assert groups[0].find("h3").text() == f"{role} (1)"


def test_speaker_page_shows_job_and_bio(client: TestClient) -> None:
    doc = get_page(client, "/speakers/hyungtae-kim")
    assert doc.find("h1").text() == "Hyungtae Kim"
    assert doc.find("p", cls="meta").text() == (
        "Principal Software Engineer, Arctic research team, Snowflake"
    )
    assert doc.find("section", cls="bio").text().startswith("Hyungtae is a principal")


def test_unnamed_speaker_says_the_name_is_not_published(client: TestClient) -> None:
    doc = get_page(client, "/speakers/unnamed-machine-learning-expert")
    assert doc.find("h1").text() == "Name not published"
    assert "has not been published" in doc.find("p", cls="notice").text()
    assert "No talk in the catalog" in doc.find("main").text()


# ---- search ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "query",
    [
        "Jeff Rasley",
        "Lawrence Moore",
        "Hyungtae Kim",
        "rasley",
        "moore",
        "hyungtae",
        "speaker:kim",
        '"Hyungtae Kim"',
    ],
)
def test_search_for_each_snowflake_presenter_lists_the_talk(client: TestClient, query: str) -> None:
    doc = get_page(client, "/search?" + _qs(query))
    results = doc.find("ol", cls="results")
    assert SNOWFLAKE in talk_slugs(results)
    item = next(li for li in results.find_all("li") if SNOWFLAKE in talk_slugs(li))
    snippet = item.find("p", cls="snippet")
    marked = {m.text().lower() for m in snippet.find_all("mark")}
    assert marked & set(query.lower().replace('"', "").removeprefix("speaker:").split())


def test_search_names_the_recording_only_presenter(client: TestClient) -> None:
    doc = get_page(client, "/search?q=hyungtae")
    item = doc.find("ol", cls="results").find("li")
    assert "in the recording" in item.find("p", cls="snippet").text()
    assert "appears in the recording" in item.find("p", cls="via").text()


def test_search_results_show_count_query_and_highlights(client: TestClient) -> None:
    doc = get_page(client, "/search?q=snowflake")
    assert doc.find("h2", id="results-h").text() == "1 talk found"
    assert doc.find("input", id="search-q").attrs["value"] == "snowflake"
    assert doc.find("input", id="site-q").attrs["value"] == "snowflake"
    snippet = doc.find("p", cls="snippet")
    assert snippet.text().startswith("In the abstract:")
    assert [m.text() for m in snippet.find_all("mark")][:1] == ["Snowflake"]


def test_search_snippet_escapes_text(client: TestClient) -> None:
    # The LLM-serving abstract says "we'll": the quote comes out as an entity, never raw.
    response = client.get("/search?q=strategies")
    assert response.status_code == 200
    snippet_html = re.search(r'<p class="snippet">(.*?)</p>', response.text, re.S)
    assert snippet_html is not None
    assert "we&#x27;ll" in snippet_html.group(1) or "we&#39;ll" in snippet_html.group(1)
    assert "<mark>strategies</mark>" in snippet_html.group(1).lower()


def test_search_pagination(client: TestClient, bundled_catalog: Catalog) -> None:
    total = len(bundled_catalog.talks)
    assert total > 10  # "systems" is in every talk's event: more than one page of 10
    first = get_page(client, "/search?q=systems")
    assert first.find("h2", id="results-h").text() == f"{total} talks found"
    nav = first.find("nav", cls="pagination")
    assert nav.attrs["aria-label"]
    assert not nav.find_all("a", rel="prev")
    assert nav.find("span", **{"aria-current": "page"}).text() == "Page 1 of 2"
    href = nav.find("a", rel="next").attrs["href"]
    assert href is not None and parse_qs(urlsplit(href).query) == {"q": ["systems"], "page": ["2"]}
    second = get_page(client, href)
    assert second.find("ol", cls="results").attrs["start"] == "11"
    assert second.find("nav", cls="pagination").find("a", rel="prev")
    assert not second.find("nav", cls="pagination").find_all("a", rel="next")
    seen = talk_slugs(first.find("ol", cls="results")) + talk_slugs(
        second.find("ol", cls="results")
    )
    assert sorted(seen) == sorted(bundled_catalog.talks)


def test_search_page_past_the_results_says_so(client: TestClient) -> None:
    doc = get_page(client, "/search?q=snowflake&page=3")
    main = doc.find("main").text()
    assert "no results on page 3" in main
    assert "Nothing matches" not in main


@pytest.mark.parametrize(
    ("query", "status", "message"),
    [
        ("*", 400, "punctuation alone finds nothing"),
        ("(((", 400, "punctuation alone finds nothing"),
        ("x" * 3000, 400, "3,000 characters"),
        ("zzqqxx", 200, "Nothing matches"),
    ],
)
def test_search_explains_queries_it_cannot_answer(
    client: TestClient, query: str, status: int, message: str
) -> None:
    doc = get_page(client, "/search?" + _qs(query), status)
    assert message in doc.find("main").text()
    if status == 400:
        assert doc.find("p", cls="error-message").attrs["role"] == "alert"


def test_empty_search_shows_the_form_only(client: TestClient) -> None:
    doc = get_page(client, "/search?q=")
    assert doc.find("input", id="search-q").attrs["value"] == ""
    assert not doc.find_all("ol", cls="results")
    assert not doc.find_all(cls="error-message")


def _qs(query: str) -> str:
    from urllib.parse import urlencode

    return urlencode({"q": query})


# ---- not found and moved --------------------------------------------------------------------


@pytest.mark.parametrize(
    ("url", "message", "suggestion"),
    [
        (
            "/talks/training-arctic-at-snowflak",
            "There is no talk at this address.",
            "training arctic at snowflak",
        ),
        ("/embed/no-such-talk", "There is no talk at this address.", "no such talk"),
        ("/events/no-such-event", "There is no event at this address.", None),
        ("/speakers/no-such-person", "There is no speaker at this address.", None),
        ("/no-such-page", "There is no page at this address.", "no such page"),
    ],
)
def test_not_found_page(client: TestClient, url: str, message: str, suggestion: str | None) -> None:
    response = client.get(url)
    assert response.status_code == 404
    assert response.headers["content-type"].startswith("text/html")
    assert "max-age" not in response.headers.get("cache-control", "")  # never cached as a page
    doc = parse(response.text)
    assert doc.find("h1").text() == "Not found"
    assert doc.find("p", cls="error-message").text() == message
    forms = doc.find_all("form", cls="search-big")
    if suggestion is None:
        assert not forms
    else:
        form = forms[0]
        assert form.attrs["action"] == "/search"
        field = form.find("input", id="error-q")
        assert field.attrs["name"] == "q" and field.attrs["value"] == suggestion
    assert doc.find("section", cls="error-page").find("a", href="/").text() == (
        "Go to the home page"
    )


@pytest.mark.parametrize("url", ["/", f"/talks/{SNOWFLAKE}", "/search?q=a"])
def test_wrong_method_is_an_error_page_with_allow(client: TestClient, url: str) -> None:
    response = client.post(url)
    assert response.status_code == 405
    assert "GET" in response.headers["allow"]
    doc = parse(response.text)
    assert doc.find("h1").text() == "That request cannot be answered"
    assert doc.find("p", cls="error-message").text() == "Method Not Allowed"


def test_unknown_talk_suggestion_finds_the_talk(client: TestClient) -> None:
    doc = get_page(client, "/talks/training-arctic", 404)
    words = doc.find("input", id="error-q").attrs["value"]
    results = get_page(client, "/search?" + _qs(str(words)))
    assert SNOWFLAKE in talk_slugs(results.find("ol", cls="results"))


@pytest.mark.parametrize(
    ("old", "new"),
    [
        ("/talks/old-morning-opening", "/talks/morning-opening"),
        ("/talks/older-morning-opening?t=90", "/talks/morning-opening?t=90"),
        ("/embed/old-morning-opening", "/embed/morning-opening"),
        ("/api/talks/old-morning-opening", "/api/talks/morning-opening"),
    ],
)
def test_former_slug_moves_permanently(sample_client: TestClient, old: str, new: str) -> None:
    response = sample_client.get(old, follow_redirects=False)
    assert response.status_code == 301
    assert response.headers["location"] == new
    final = sample_client.get(old)
    assert final.status_code == 200 and final.url.path == urlsplit(new).path


def test_current_slug_is_not_redirected(sample_client: TestClient) -> None:
    assert sample_client.get("/talks/morning-opening", follow_redirects=False).status_code == 200


# ---- embed ----------------------------------------------------------------------------------


def test_embed_is_a_minimal_player_linking_back(client: TestClient) -> None:
    doc = get_page(client, f"/embed/{SNOWFLAKE}?t=90")
    assert doc.find("html").attrs["lang"] == "en"
    assert not doc.find_all("header") and not doc.find_all("footer")
    assert doc.find("div", cls="player").attrs["data-start"] == "90"
    link = doc.find("p", cls="embed-title").find("a")
    assert link.attrs["href"] == f"/talks/{SNOWFLAKE}"
    assert link.attrs["target"] == "_blank" and "noopener" in str(link.attrs["rel"])
    assert doc.find_all(cls="placeholder-note")


# ---- the shared test catalog (tests/data/catalog) ---------------------------------------------

SHARED_CATALOG = Path(__file__).parent / "data" / "catalog"


@pytest.fixture(scope="module")
def shared_client(tmp_path_factory: pytest.TempPathFactory) -> Iterator[TestClient]:
    root = tmp_path_factory.mktemp("shared")
    settings = Settings(catalog=SHARED_CATALOG, index_dir=root / "index", media_dir=root / "media")
    with TestClient(create_app(settings)) as test_client:
        yield test_client


@pytest.mark.parametrize(
    ("old", "new"),
    [
        ("/talks/keynote-2024", "/talks/testconf-2024-keynote"),
        ("/talks/testing-in-production?t=1m", "/talks/testconf-2024-keynote?t=1m"),
        ("/embed/keynote-2024", "/embed/testconf-2024-keynote"),
        ("/api/talks/testing-in-production", "/api/talks/testconf-2024-keynote"),
    ],
)
def test_shared_catalog_former_slugs_redirect(
    shared_client: TestClient, old: str, new: str
) -> None:
    response = shared_client.get(old, follow_redirects=False)
    assert response.status_code == 301
    assert response.headers["location"] == new


def test_shared_catalog_agenda_is_in_time_order(shared_client: TestClient) -> None:
    doc = get_page(shared_client, "/events/testconf-2024")
    assert talk_slugs(doc.find("section", **{"aria-labelledby": "agenda-h"})) == [
        "testconf-2024-keynote",
        "observability-for-rubber-ducks",
        "distributed-storage-without-tears",
        "streaming-from-elsewhere",
        "testconf-2024-open-discussion",
    ]
