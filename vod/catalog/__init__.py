"""The catalog: events, talks and speakers, loaded from YAML files and validated."""

from vod.catalog.cache import catalog_cache_dir, load_catalog_cached, validate_catalog_cached
from vod.catalog.loader import catalog_files, load_catalog, validate_catalog
from vod.catalog.model import (
    TALK_KINDS,
    UNTITLED,
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
    "UNTITLED",
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
    "catalog_cache_dir",
    "catalog_files",
    "default_recording_key",
    "load_catalog",
    "load_catalog_cached",
    "validate_catalog",
    "validate_catalog_cached",
]
