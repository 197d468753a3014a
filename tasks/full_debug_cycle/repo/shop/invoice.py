"""Plain-text invoices."""

from .catalog import lookup
from .pricing import quote


def money(cents: int) -> str:
    return f"{cents // 100}.{cents % 100:02d}"


def render(lines: list[tuple[str, int]]) -> str:
    q = quote(lines)
    rows = [f"{lookup(sku).name:<28}{qty:>4} x {money(lookup(sku).price_cents):>8}" for sku, qty in lines]
    rows += ["", f"{'subtotal':<40}{money(q.subtotal_cents):>8}",
             f"{'discount':<40}{'-' + money(q.discount_cents):>8}",
             f"{'tax':<40}{money(q.tax_cents):>8}",
             f"{'total':<40}{money(q.total_cents):>8}"]
    return "\n".join(rows)
