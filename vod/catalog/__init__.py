"""The catalog: events, talks and speakers, loaded from YAML files and validated."""

from vod.catalog.loader import catalog_files, load_catalog, validate_catalog
from vod.catalog.model import (
    TALK_KINDS,
    Caption,
    Catalog,
    Chapter,
    Event,
    Link,
    Recording,
    SessionGroup,
    Speaker,
    SpeakerRole,
    Talk,
    default_recording_key,
)

__all__ = [
    "TALK_KINDS",
    "Caption",
    "Catalog",
    "Chapter",
    "Event",
    "Link",
    "Recording",
    "SessionGroup",
    "Speaker",
    "SpeakerRole",
    "Talk",
    "catalog_files",
    "default_recording_key",
    "load_catalog",
    "validate_catalog",
]
