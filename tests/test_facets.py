"""Filters read from a search URL (vod.index.facets.Filters.from_query)."""

from __future__ import annotations

import pytest
from starlette.datastructures import QueryParams

from vod.errors import QueryError
from vod.index import Filters


def test_filters_from_query_keeps_each_value_once_in_order() -> None:
    params = QueryParams("q=x&event=b&event=a&event=b&year=2024&recording=1&speaker=+&page=2")
    filters = Filters.from_query(params)
    assert filters == Filters(event=("b", "a"), year=("2024",), recording=("1",))
    assert filters.active == ("event", "year", "recording")


def test_filters_from_query_without_filters_is_empty() -> None:
    assert Filters.from_query(QueryParams("q=python&sort=newest")) == Filters()


@pytest.mark.parametrize(
    ("query", "message"),
    [
        ("year=24", "A year filter is a year"),
        ("year=２０２４", "A year filter is a year"),
        ("recording=yes", "The recording filter is recording=1"),
        ("&".join(f"event=e{i}" for i in range(21)), "Too many or too long event filters"),
        ("speaker=" + "x" * 201, "Too many or too long speaker filters"),
    ],
)
def test_filters_from_query_refuses_malformed_filters(query: str, message: str) -> None:
    with pytest.raises(QueryError, match=message):
        Filters.from_query(QueryParams(query))
