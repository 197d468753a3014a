"""Pagination helpers shared by the search and admin listings. Pages are numbered from 1."""

import math
from dataclasses import dataclass
from typing import Generic, Sequence, TypeVar

T = TypeVar("T")


@dataclass
class Page(Generic[T]):
    items: list[T]
    page: int
    per_page: int
    total_items: int

    @property
    def total_pages(self) -> int:
        return max(1, math.ceil(self.total_items / self.per_page))

    @property
    def has_next(self) -> bool:
        return self.page < self.total_pages

    @property
    def has_prev(self) -> bool:
        return self.page > 1


def paginate(items: Sequence[T], page: int = 1, per_page: int = 10) -> Page[T]:
    """The `page`-th slice of `items` (1-based)."""
    if page < 1:
        raise ValueError(f"page numbers start at 1, got {page}")
    if per_page < 1:
        raise ValueError(f"per_page must be positive, got {per_page}")
    start = page * per_page
    end = start + per_page
    return Page(items=list(items[start:end]), page=page, per_page=per_page, total_items=len(items))


def page_links(current: int, total_pages: int, window: int = 2) -> list[int | None]:
    """Page numbers to show in a pager: first, last, and `window` around the current one; None is a gap."""
    shown = sorted({1, total_pages, *range(max(1, current - window), min(total_pages, current + window) + 1)})
    links: list[int | None] = []
    for number in shown:
        if links and number - links[-1] > 1:
            links.append(None)
        links.append(number)
    return links
