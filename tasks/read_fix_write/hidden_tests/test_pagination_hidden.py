"""Hidden: 1-based pagination returns every item exactly once, across page sizes; names unchanged."""

import pytest

import utils.pagination as pagination
from search.api import search
from utils.pagination import Page, page_links, paginate


@pytest.mark.parametrize("count, per_page", [(0, 10), (1, 10), (10, 10), (11, 10), (57, 10), (7, 3), (25, 1)])
def test_pages_cover_every_item_once_in_order(count, per_page):
    items = list(range(count))
    first = paginate(items, 1, per_page)
    pages = [paginate(items, n, per_page) for n in range(1, first.total_pages + 1)]
    assert [x for p in pages for x in p.items] == items
    assert all(len(p.items) == per_page for p in pages[:-1])
    assert pages[-1].has_next is False and pages[0].has_prev is False


def test_page_one_starts_at_the_first_item():
    page = paginate(list("abcdefghijk"), 1, 5)
    assert page.items == list("abcde") and page.has_next and page.total_pages == 3
    assert paginate(list("abcdefghijk"), 3, 5).items == ["k"]


def test_past_the_end_is_empty_or_refused_and_bad_input_refused():
    # The docstring promises the page-th slice: past the end there is none, so either an empty page or
    # a ValueError is faithful; serving the last page again is not.
    try:
        assert paginate([1, 2, 3], 5, 2).items == []
    except (ValueError, IndexError):
        pass
    with pytest.raises(ValueError):
        paginate([1], 0)
    with pytest.raises(ValueError):
        paginate([1], 1, 0)


def test_search_shows_the_best_hits_first():
    first = search("release", 1)
    assert len(first["results"]) == 10 and first["total_pages"] == 6
    last = search("release", 6)
    assert len(last["results"]) == 7
    assert first["results"][0] == max(range(1, 58), key=lambda n: ((n * 37) % 100, -n))


def test_public_names_unchanged():
    for name in ("Page", "paginate", "page_links"):
        assert hasattr(pagination, name)
    assert page_links(1, 1) == [1] and isinstance(paginate([], 1), Page)
