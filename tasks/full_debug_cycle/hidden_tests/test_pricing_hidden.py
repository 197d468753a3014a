"""Hidden: every tier boundary is inclusive, and nothing else about pricing changed."""

import pytest

from shop.invoice import render
from shop.pricing import discount_percent, quote


@pytest.mark.parametrize("subtotal, percent", [
    (0, 0), (9999, 0), (10000, 5), (10001, 5), (24999, 5), (25000, 10), (49999, 10), (50000, 15), (10**7, 15),
])
def test_tiers_are_inclusive_at_every_boundary(subtotal, percent):
    assert discount_percent(subtotal) == percent


def test_mixed_cart_over_250_gets_ten_percent_and_taxes_the_discounted_amount():
    q = quote([("KB-01", 2), ("MS-02", 2), ("EB-04", 1), ("CB-03", 1), ("CB-03", 1), ("CB-03", 1),
               ("CB-03", 1)])  # 178.00 + 59.00 + 34.99 + 4 x 12.99 = 323.95
    assert q.subtotal_cents == 32395 and q.discount_cents == 3240
    # taxable 288.96 (the book is exempt) less 10% (28.90) = 260.06; 8% = 20.8048 -> 20.80
    assert q.tax_cents == 2080


def test_mixed_cart_over_500_gets_fifteen_percent():
    q = quote([("CB-03", 1), ("KB-01", 5), ("EB-04", 1), ("CB-03", 2)])
    assert q.subtotal_cents == 44500 + 3499 + 3897
    assert q.discount_cents == 7784  # 15% of 518.96 = 77.844 -> 77.84


@pytest.mark.parametrize("quantity, subtotal, discount, tax", [
    (2, 10000, 500, 760),      # exactly 100.00: 5%, 8% of 95.00
    (5, 25000, 2500, 1800),    # exactly 250.00: 10%, 8% of 225.00
    (10, 50000, 7500, 3400),   # exactly 500.00: 15%, 8% of 425.00
])
def test_quotes_exactly_on_a_boundary(quantity, subtotal, discount, tax):
    q = quote([("HS-05", quantity)])
    assert (q.subtotal_cents, q.discount_cents, q.tax_cents) == (subtotal, discount, tax)
    assert q.total_cents == subtotal - discount + tax


def test_books_stay_tax_exempt_and_rounding_is_half_up():
    assert quote([("EB-04", 3)]).tax_cents == 0
    assert quote([("CB-03", 1)]).tax_cents == 104  # 8% of 12.99 = 1.0392


def test_invalid_input_still_refused():
    with pytest.raises(ValueError):
        quote([("KB-01", -1)])
    with pytest.raises(KeyError):
        quote([("NOPE", 1)])


def test_invoice_still_renders():
    assert "discount" in render([("KB-01", 2)])


@pytest.mark.parametrize("lines, subtotal, discount, tax", [
    ([("KB-01", 1), ("MS-02", 1)], 11850, 593, 901),                  # 5% of 118.50 = 5.925 -> 5.93
    ([("KB-01", 1), ("MS-02", 1), ("EB-04", 5)], 29345, 2935, 853),   # 10% of 293.45 = 29.345 -> 29.35
    ([("KB-01", 6), ("MS-02", 1)], 56350, 8453, 3832),                # 15% of 563.50 = 84.525 -> 84.53
])
def test_half_cents_round_up_not_to_even(lines, subtotal, discount, tax):
    """The docstring's rule: cents are rounded half up. Python's round() goes to the even cent here."""
    q = quote(lines)
    assert (q.subtotal_cents, q.discount_cents, q.tax_cents) == (subtotal, discount, tax)
