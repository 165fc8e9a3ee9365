"""Paging long lists: slices, neighbours, and pages that do not exist (issue #11)."""

from __future__ import annotations

import pytest

from vod.paging import PAGE_SIZE, PageOutOfRange, Paging, paginate


def test_pages_of_a_long_list() -> None:
    items = list(range(100))
    chunk, paging = paginate(items, 1)
    assert list(chunk) == list(range(48)) and PAGE_SIZE == 48
    assert (paging.page, paging.pages, paging.total, paging.prev, paging.next) == (
        1,
        3,
        100,
        None,
        2,
    )
    chunk, paging = paginate(items, 3)
    assert list(chunk) == list(range(96, 100))
    assert (paging.prev, paging.next, paging.first) == (2, None, 97)


@pytest.mark.parametrize(("total", "page"), [(100, 4), (100, 0), (48, 2), (0, 2)])
def test_pages_past_the_end_do_not_exist(total: int, page: int) -> None:
    with pytest.raises(PageOutOfRange):
        paginate(list(range(total)), page)


def test_an_empty_list_has_one_page() -> None:
    empty: list[int] = []
    chunk, paging = paginate(empty, 1)
    assert list(chunk) == [] and not paging.is_paged


def test_query_keeps_the_other_parameters() -> None:
    paging = Paging(2, 3, 100)
    params = [("sort", "title"), ("page", "2"), ("event", "a")]
    assert paging.query(3, params) == "?sort=title&event=a&page=3"
    assert paging.query(1, params) == "?sort=title&event=a"
    assert paging.query(1) == ""
