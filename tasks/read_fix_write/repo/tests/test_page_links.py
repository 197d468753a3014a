from utils.pagination import page_links


def test_short_pager_has_no_gaps():
    assert page_links(2, 4) == [1, 2, 3, 4]


def test_long_pager_has_gaps():
    assert page_links(10, 20) == [1, None, 8, 9, 10, 11, 12, None, 20]
