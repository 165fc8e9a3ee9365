"""What each talk's index document was made from, kept beside each index version.

An incremental update (incremental.py) compares these fingerprints with the catalog's to
re-index only the talks whose document would change: the talk itself, its event, any of its
speakers (names, companies and aliases go into the document), or whether its recording is there.
The facet record of each talk is kept too, so the new version's facets file is written without
asking the recording store about talks that did not change.

They are kept as JSON, which can only ever be read as data: a pickle in an index folder (or in
a snapshot) could run code in every process that read it (issue 10, item 4).
"""

from __future__ import annotations

import gc
import json
import logging
import os
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from vod.catalog.cache import digest

if TYPE_CHECKING:
    from vod.catalog import Catalog, Talk

log = logging.getLogger(__name__)

TALKS_FILE = "talks.json"
FORMAT = "vod-index-talks 2"
Fingerprint = tuple[bytes, bytes, tuple[bytes, ...], str]


def _cached(catalog: Catalog, key: str, value: Any) -> bytes:
    # The catalog cache keeps each object's digest from when its file was read (cache.py);
    # a catalog loaded without it computes them here, once.
    known = catalog.fingerprints.get(key)
    if known is None:
        known = catalog.fingerprints[key] = digest(value)
    return known


def talk_fingerprint(catalog: Catalog, talk: Talk, recording: str) -> Fingerprint:
    """Everything a talk's document depends on; `recording` is its has-a-recording flag."""
    people = dict.fromkeys(talk.speakers + talk.recording_speakers)
    speakers = catalog.speakers
    return (
        _cached(catalog, "t:" + talk.slug, talk),
        _cached(catalog, "e:" + talk.event, catalog.events[talk.event]),
        tuple(_cached(catalog, "s:" + s, speakers[s]) for s in people),
        recording,
    )


@dataclass(frozen=True)
class TalkState:
    """Per talk of an index version: its fingerprint and its facet record."""

    talks: dict[str, tuple[Fingerprint, dict[str, Any]]]


def write_talk_state(
    folder: Path,
    catalog: Catalog,
    records: Iterable[dict[str, Any]],
    known: dict[str, Fingerprint] | None = None,
) -> None:
    """Write the fingerprints and facet records of a version being built into `folder`.

    `known` holds fingerprints already computed (an incremental update has them all).
    """
    known = known or {}
    talks = {
        r["slug"]: (
            known.get(r["slug"])
            or talk_fingerprint(catalog, catalog.talks[r["slug"]], r["recording"]),
            r,
        )
        for r in records
    }
    body = {
        "format": FORMAT,
        "talks": {
            slug: [[fp[0].hex(), fp[1].hex(), [s.hex() for s in fp[2]], fp[3]], record]
            for slug, (fp, record) in talks.items()
        },
    }
    tmp = folder / f".{TALKS_FILE}.{os.getpid()}"
    tmp.write_text(json.dumps(body, ensure_ascii=False, separators=(",", ":")), encoding="utf-8")
    os.replace(tmp, folder / TALKS_FILE)


def read_talk_state(folder: Path) -> TalkState | None:
    """Read what `write_talk_state` wrote; None when absent or unreadable (then: full build)."""
    collecting = gc.isenabled()
    gc.disable()  # many small objects and no cycles: the collector only slows the load down
    try:
        body = json.loads((folder / TALKS_FILE).read_text(encoding="utf-8"))
        if body.get("format") != FORMAT:
            return None
        talks: dict[str, tuple[Fingerprint, dict[str, Any]]] = {}
        for slug, ((talk, event, speakers, recording), record) in body["talks"].items():
            fingerprint = (
                bytes.fromhex(talk),
                bytes.fromhex(event),
                tuple(bytes.fromhex(s) for s in speakers),
                str(recording),
            )
            if not isinstance(record, dict):
                return None
            talks[str(slug)] = (fingerprint, record)
    except Exception:  # absent, corrupt, from another vod: a full build redoes it
        return None
    finally:
        if collecting:
            gc.enable()
    return TalkState(talks)
