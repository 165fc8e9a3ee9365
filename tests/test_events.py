"""Conference names in free text and `event:<slug>` (issue #12, item 3)."""

from __future__ import annotations

import pytest
from tiny_index import found, tiny_index

from vod.index import SearchIndex
from vod.index.events import EventNames

EVENTS = {
    # Kiwi first: in index order it would come first among equals.
    "Kiwi PyCon 2019": [
        {"slug": "kiwi-async", "title": "Asyncio in anger", "abstract": "Asyncio, asyncio."},
        {"slug": "kiwi-other", "title": "Gardening"},
    ],
    "PyCon AU 2019": [{"slug": "au-async", "title": "Asyncio tricks"}],
    "PyCon US 2019": [
        {"slug": "us-async", "title": "Advanced asyncio"},
        {"slug": "us-other", "title": "Type hints"},
    ],
    "PyCon US 2018": [{"slug": "us-2018-async", "title": "Asyncio for everyone"}],
}


@pytest.fixture(scope="module")
def index(tmp_path_factory: pytest.TempPathFactory) -> SearchIndex:
    return tiny_index(tmp_path_factory.mktemp("events"), EVENTS)


def test_the_named_event_ranks_first_stop_words_and_all(index: SearchIndex) -> None:
    assert found(index, "PyCon US 2019 asyncio")[0] == "us-async"
    assert found(index, "pycon au 2019 asyncio")[0] == "au-async"
    assert found(index, "kiwi pycon 2019 asyncio")[0] == "kiwi-async"


def test_an_event_slug_in_a_field_matches_exactly(index: SearchIndex) -> None:
    results = index.search("event:pycon-us-2019")
    assert sorted(h.slug for h in results.hits) == ["us-async", "us-other"]
    assert found(index, "event:pycon-us-2019 asyncio")[:1] == ["us-async"]
    # A word of the field is still a word: every 2019 event's asyncio talk.
    results = index.search("event:2019 asyncio")
    every_word = {h.slug for h in results.hits[: results.all_words]}
    assert every_word == {"kiwi-async", "au-async", "us-async"}


def test_event_names_need_the_year_and_a_word_of_their_own() -> None:
    names = EventNames(
        [
            ("pycon-us-2019", "PyCon US 2019"),
            ("pycon-au-2019", "PyCon AU 2019"),
            ("python-brasil-2019", "Python Brasil 2019"),
            ("djangocon-2015", "DjangoCon US 2015"),
            ("djangocon-eu-2015", "DjangoCon Europe 2015"),
            ("chipy", "ChiPy"),
        ]
    )
    assert names.named("pycon us 2019 asyncio") == ("pycon-us-2019",)
    assert names.named("pycon-us-2019") == ("pycon-us-2019",)
    assert names.named("pycon us asyncio") == ()  # no year
    assert names.named("python 2019") == ()  # only a common word
    assert names.named("python brasil 2019") == ("python-brasil-2019",)
    assert names.named("djangocon 2015") == ("djangocon-2015",)  # fewest words missing
    assert names.named("chipy asyncio") == ("chipy",)
    assert names.named("asyncio") == ()
