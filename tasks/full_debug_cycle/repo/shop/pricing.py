"""Order pricing: volume discounts, then tax, all in integer cents.

Business rules (from the pricing policy, PRC-7):
- Volume discount on the subtotal: 5% from 100.00, 10% from 250.00, 15% from 500.00 (inclusive).
- Books are exempt from tax; everything else pays 8% on the discounted amount.
- Cents are rounded half up, once, on the tax.
"""

from dataclasses import dataclass

from .catalog import lookup

DISCOUNT_TIERS = [(50000, 15), (25000, 10), (10000, 5)]  # (subtotal from, percent), largest first
TAX_PERCENT = 8
TAX_EXEMPT = {"books"}


@dataclass
class Quote:
    subtotal_cents: int
    discount_cents: int
    tax_cents: int

    @property
    def total_cents(self) -> int:
        return self.subtotal_cents - self.discount_cents + self.tax_cents


def discount_percent(subtotal_cents: int) -> int:
    for threshold, percent in DISCOUNT_TIERS:
        if subtotal_cents > threshold:
            return percent
    return 0


def _round_half_up(numerator: int, denominator: int) -> int:
    return (numerator * 2 + denominator) // (denominator * 2)


def quote(lines: list[tuple[str, int]]) -> Quote:
    """Price an order given as (sku, quantity) lines."""
    subtotal = 0
    taxable = 0
    for sku, quantity in lines:
        if quantity <= 0:
            raise ValueError(f"quantity must be positive, got {quantity} for {sku}")
        product = lookup(sku)
        amount = product.price_cents * quantity
        subtotal += amount
        if product.category not in TAX_EXEMPT:
            taxable += amount
    percent = discount_percent(subtotal)
    discount = _round_half_up(subtotal * percent, 100)
    taxable_after_discount = taxable - _round_half_up(taxable * percent, 100)
    tax = _round_half_up(taxable_after_discount * TAX_PERCENT, 100)
    return Quote(subtotal, discount, tax)
