import pytest

from shop.pricing import discount_percent, quote


def test_small_order_has_no_discount():
    q = quote([("CB-03", 2)])
    assert (q.subtotal_cents, q.discount_cents) == (2598, 0)
    assert q.tax_cents == 208


def test_books_are_not_taxed():
    assert quote([("EB-04", 1)]).tax_cents == 0


def test_discount_tiers():
    assert discount_percent(9999) == 0
    assert discount_percent(30000) == 10
    assert discount_percent(60000) == 15


def test_discount_starts_at_exactly_100():
    # Support ticket SUP-4411: a customer's cart of exactly 100.00 got no discount.
    assert discount_percent(10000) == 5
    q = quote([("HS-05", 2)])  # 2 x 50.00
    assert (q.subtotal_cents, q.discount_cents) == (10000, 500)


def test_quantity_must_be_positive():
    with pytest.raises(ValueError):
        quote([("KB-01", 0)])
