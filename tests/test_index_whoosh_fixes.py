"""The Whoosh internals vod/index/whoosh_fixes.py patches are there and behave as it assumes.

The fixes replace two private members of whoosh-reloaded. A release that renames or reworks
them would undo a fix silently, or break every search; these tests say which, first and loudly.
"""

from __future__ import annotations

import importlib.metadata
import inspect
import struct
from collections.abc import Iterator
from pathlib import Path

import pytest
from whoosh import index as whoosh_index
from whoosh.codec import whoosh3
from whoosh.filedb import structfile

from vod.index import current_version, whoosh_fixes

WHAT_TO_DO = (
    "vod/index/whoosh_fixes.py patches private internals of whoosh-reloaded "
    f"{whoosh_fixes.WHOOSH_VERSION}: check W3PerDocReader._cached_reader, "
    "BufferFile.__init__ and SubFile (its _file, _offset, _length and _pos) in the installed "
    "release, adapt the fixes, then move WHOOSH_VERSION "
    "and the pin in pyproject.toml together"
)


def test_the_installed_whoosh_is_the_release_the_fixes_were_written_for() -> None:
    installed = importlib.metadata.version("whoosh-reloaded")
    assert installed == whoosh_fixes.WHOOSH_VERSION, f"whoosh-reloaded {installed}: {WHAT_TO_DO}"


def test_the_patched_members_keep_the_signatures_the_fixes_call() -> None:
    reader = whoosh3.W3PerDocReader._cached_reader
    buffer_init = structfile.BufferFile.__init__
    # apply() has run (importing vod.index does it), and kept each original as __wrapped__.
    assert hasattr(reader, "__wrapped__") and hasattr(buffer_init, "__wrapped__"), WHAT_TO_DO
    params = list(inspect.signature(reader.__wrapped__).parameters)
    assert params == ["self", "fieldname", "column"], f"_cached_reader{params}: {WHAT_TO_DO}"
    params = list(inspect.signature(buffer_init.__wrapped__).parameters)
    assert params == ["self", "buf", "name", "onclose"], f"BufferFile{params}: {WHAT_TO_DO}"


@pytest.fixture
def perdoc(bundled_index_dir: Path) -> Iterator[whoosh3.W3PerDocReader]:
    info = current_version(bundled_index_dir)
    assert info is not None
    ix = whoosh_index.open_dir(str(info.path))
    reader = ix.reader()
    try:
        segment = reader.leaf_readers()[0][0]
        found = getattr(segment, "_perdoc", None)
        assert isinstance(found, whoosh3.W3PerDocReader), f"no per-document reader: {WHAT_TO_DO}"
        yield found
    finally:
        reader.close()
        ix.close()


def test_a_missing_length_column_is_looked_for_once(
    perdoc: whoosh3.W3PerDocReader, monkeypatch: pytest.MonkeyPatch
) -> None:
    # The fix keeps the original's cache, a dict of field name to column reader, and adds None.
    assert isinstance(getattr(perdoc, "_readers", None), dict), WHAT_TO_DO
    asked: list[str] = []
    has_column = perdoc.has_column

    def counting(fieldname: str) -> bool:
        asked.append(fieldname)
        return bool(has_column(fieldname))

    monkeypatch.setattr(perdoc, "has_column", counting)
    for _ in range(3):
        assert perdoc._cached_reader("_slug_L", whoosh3.LENGTHS_COLUMN) is None
    assert asked == ["_slug_L"], f"the file system is asked every time: {WHAT_TO_DO}"
    assert perdoc.doc_field_length(0, "title") > 0  # a field with lengths still has them


def test_buffer_files_read_the_buffer_without_copying_it() -> None:
    data = struct.pack(">i", 7) + b"hello world"
    buf = memoryview(bytearray(data))
    file = structfile.BufferFile(buf, name="part")
    assert isinstance(file.file, whoosh_fixes.ViewFile), WHAT_TO_DO
    assert file._buf is buf  # no copy
    assert file.read_int() == 7
    assert file.read(5) == b"hello"
    assert file.get(4, 5) == b"hello"
    assert file.subset(10, 5).read(5) == b"world"
    assert list(file.get_array(0, "i", 1)) == [7]
    assert (file._name, file.is_real, file.is_closed) == ("part", False, False)


def test_an_index_reads_back_through_both_fixes(bundled_index_dir: Path) -> None:
    from vod.index import SearchIndex

    assert SearchIndex(bundled_index_dir).search("snowflake").total > 0


class CountingFile:
    """A file over bytes that counts its reads (the parent of a compound file's SubFile)."""

    def __init__(self, data: bytes) -> None:
        self.data = data
        self.pos = 0
        self.reads = 0

    def seek(self, pos: int) -> None:
        self.pos = pos

    def read(self, size: int) -> bytes:
        self.reads += 1
        out = self.data[self.pos : self.pos + size]
        self.pos += len(out)
        return out


def test_a_pickle_in_a_compound_file_is_read_at_once_and_left_behind() -> None:
    import pickle

    from whoosh.filedb.compound import SubFile

    assert SubFile.peek is whoosh_fixes._peek, WHAT_TO_DO
    info = (128, 20_713, 3.5, 2, 7, 200)  # a block's info tuple, as W3 postings write it
    pickled = pickle.dumps(info, -1)
    parent = CountingFile(b"head" + pickled + b"tail after")
    part = structfile.StructFile(SubFile(parent, 4, len(pickled) + 10))
    assert part.file.peek(3) == pickled[:3] and part.tell() == 0  # peeking does not move
    parent.reads = 0
    assert part.read_pickle() == info
    assert part.tell() == len(pickled)  # right after the pickle, where the postings start
    assert part.read(4) == b"tail"
    assert parent.reads <= 3, parent.reads  # a peek, the move past it, the read above
    # A pickle longer than a peek is read on, as before.
    long = pickle.dumps(list(range(500)), -1)
    assert len(long) > whoosh_fixes.PEEK_BYTES
    part = structfile.StructFile(SubFile(CountingFile(long), 0, len(long)))
    assert part.read_pickle() == list(range(500)) and part.tell() == len(long)
