"""Pages of a long list: which slice `?page=N` shows, and the links to its neighbours.

Any list of more than PAGE_SIZE talks is paged (issue #11): the page, its JSON twin and its
canonical link all carry the page number, so every page is a stable address.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import TypeVar
from urllib.parse import urlencode

PAGE_SIZE = 48  # talks per page: full rows in a grid of 1, 2, 3 or 4 columns
MAX_PAGE = 10_000  # the largest page number a URL may ask for

T = TypeVar("T")


class PageOutOfRange(ValueError):
    """A page number past the last page of a list."""

    def __init__(self, page: int, pages: int) -> None:
        super().__init__(f"there are only {pages} pages")
        self.page = page
        self.pages = pages


@dataclass(frozen=True)
class Paging:
    """Where one page sits in a list: its number, how many pages, and the list's size."""

    page: int
    pages: int
    total: int
    size: int = PAGE_SIZE

    @property
    def first(self) -> int:
        """The list position (from 1) of this page's first item."""
        return (self.page - 1) * self.size + 1

    @property
    def prev(self) -> int | None:
        return self.page - 1 if self.page > 1 else None

    @property
    def next(self) -> int | None:
        return self.page + 1 if self.page < self.pages else None

    @property
    def is_paged(self) -> bool:
        return self.pages > 1

    def query(self, page: int, params: Sequence[tuple[str, str]] = ()) -> str:
        """The query string of `page` with the list's other parameters (no `page=1`)."""
        pairs = [(k, v) for k, v in params if k != "page"]
        if page > 1:
            pairs.append(("page", str(page)))
        return "?" + urlencode(pairs) if pairs else ""


def paginate(items: Sequence[T], page: int, size: int = PAGE_SIZE) -> tuple[Sequence[T], Paging]:
    """Return page `page` of `items` and where it sits; PageOutOfRange past the last page.

    Page 1 of an empty list exists (it says the list is empty); any other missing page is an
    error, so a crawler never finds endless empty pages.
    """
    pages = max(1, -(-len(items) // size))
    if not 1 <= page <= pages:
        raise PageOutOfRange(page, pages)
    start = (page - 1) * size
    return items[start : start + size], Paging(page, pages, len(items), size)
