"""The index's Whoosh codec: Whoosh 3's, with each document's stored fields kept uncompressed.

Whoosh 3 writes a document's stored fields (its slug, title, abstract and the word streams its
snippets are marked from, snippets.py) as one pickle compressed with zlib. Reading one back for
a search hit took 40 µs on the pyvideo index, 30 of them in `zlib.decompress` (which sets up a
32 kB window per call), and a search page reads eight to ten: a tenth of the page's time under
load (issue #12). Stored uncompressed, a hit's fields read in a third of that; the index grows by
about 33 MB on pyvideo (134 -> 167 MB), read through the page cache, not held by workers.

Each segment records the codec that wrote it, so a segment of an older index (compressed) is
still read as it was written, and one index may hold both kinds while versions change. Only the
stored-fields column differs from Whoosh's W3Codec: the same files, names and everything else.
The column is swapped where Whoosh creates and reads it (`_create_column`, `_cached_reader` of
whoosh-reloaded 2.7.5, pinned with the other fixes in whoosh_fixes.py).

Whoosh writes the codec into each segment's entry of the index's table of contents by its
module and class name: moving or renaming PlainStoredCodec makes existing indexes unreadable,
so do that only with a new INDEX_FORMAT (build.py), which rebuilds them.
"""

from __future__ import annotations

from typing import Any

from whoosh import columns
from whoosh.codec import whoosh3

STORED = "_stored"  # Whoosh's name for the stored-fields column
PLAIN_STORED_COLUMN = columns.PickleColumn(columns.VarBytesColumn())


class PlainStoredCodec(whoosh3.W3Codec):  # type: ignore[misc]
    """W3Codec writing and reading stored fields as plain pickles (no zlib)."""

    def per_document_writer(self, storage: Any, segment: Any) -> Any:
        return _PerDocWriter(self, storage, segment)

    def per_document_reader(self, storage: Any, segment: Any) -> Any:
        return _PerDocReader(storage, segment)


class _PerDocWriter(whoosh3.W3PerDocWriter):  # type: ignore[misc]
    def _create_column(self, fieldname: str, column: Any) -> None:
        if fieldname == STORED:
            column = PLAIN_STORED_COLUMN
        super()._create_column(fieldname, column)


class _PerDocReader(whoosh3.W3PerDocReader):  # type: ignore[misc]
    def _cached_reader(self, fieldname: str, column: Any) -> Any:
        if fieldname == STORED:
            column = PLAIN_STORED_COLUMN
        return super()._cached_reader(fieldname, column)


def codec() -> PlainStoredCodec:
    """The codec new segments are written with."""
    return PlainStoredCodec()
