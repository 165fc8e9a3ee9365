"""The index's codec (vod/index/codec.py): stored fields written uncompressed, and segments
written by Whoosh's own codec (older indexes) still read as they were written."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from conftest import SAMPLE_CATALOG
from whoosh import columns
from whoosh.codec import whoosh3

from vod.catalog import load_catalog
from vod.index import SearchIndex, codec
from vod.index.incremental import update_index

STORAGE = "distributed-storage-without-tears"


def _segments(index: SearchIndex) -> list[Any]:
    return [sub.reader() for sub, _ in index._current().searcher.leaf_searchers()]


def _raw_stored(reader: Any, docnum: int) -> bytes:
    """A document's stored fields as the segment's file holds them (no unpickling)."""
    raw = reader._perdoc.column_reader(codec.STORED, columns.VarBytesColumn())
    return bytes(raw[docnum])


def test_a_built_index_stores_fields_as_plain_pickles(tmp_path: Path) -> None:
    catalog = load_catalog(SAMPLE_CATALOG)
    update_index(catalog, tmp_path / "index")
    index = SearchIndex(tmp_path / "index")
    (reader,) = _segments(index)
    assert isinstance(reader.segment().codec(), codec.PlainStoredCodec)
    assert _raw_stored(reader, 0).startswith(b"\x80")  # a pickle, not zlib's 0x78 header
    slugs = {reader.stored_fields(n)["slug"] for n in range(reader.doc_count_all())}
    assert slugs == set(catalog.talks)
    assert index.search("erasure coding").hits[0].slug == STORAGE


def test_segments_of_whooshs_codec_and_of_ours_read_side_by_side(tmp_path: Path) -> None:
    # An index written before format 10 has compressed stored fields; each segment records the
    # codec that wrote it, so segments of both kinds read right in one index.
    from whoosh import fields
    from whoosh import index as whoosh_index

    schema = fields.Schema(slug=fields.ID(stored=True), text=fields.TEXT(stored=True))
    ix = whoosh_index.create_in(str(tmp_path), schema)
    old = ix.writer(codec=whoosh3.W3Codec())
    for n in range(3):
        old.add_document(slug=f"old-{n}", text=f"compressed words {n} " * 20)
    old.commit()
    new = ix.writer(codec=codec.codec())
    for n in range(3):
        new.add_document(slug=f"new-{n}", text=f"plain words {n} " * 20)
    new.commit(merge=False)
    with ix.searcher() as searcher:
        readers = [sub.reader() for sub, _ in searcher.leaf_searchers()]
        kinds = [type(r.segment().codec()) for r in readers]
        assert kinds == [whoosh3.W3Codec, codec.PlainStoredCodec]
        assert _raw_stored(readers[0], 0).startswith(b"x")  # zlib's header
        assert _raw_stored(readers[1], 0).startswith(b"\x80")  # a pickle
        stored = [searcher.stored_fields(n) for n in range(6)]
        assert [d["slug"] for d in stored] == [
            *(f"old-{n}" for n in range(3)),
            *(f"new-{n}" for n in range(3)),
        ]
        assert stored[4]["text"].startswith("plain words 1 ")
    ix.close()
