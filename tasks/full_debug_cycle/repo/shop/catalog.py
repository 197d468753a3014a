"""Products and their list prices, in cents."""

from dataclasses import dataclass


@dataclass(frozen=True)
class Product:
    sku: str
    name: str
    price_cents: int
    category: str


CATALOG = {
    "KB-01": Product("KB-01", "Mechanical keyboard", 8900, "hardware"),
    "MS-02": Product("MS-02", "Wireless mouse", 2950, "hardware"),
    "CB-03": Product("CB-03", "USB-C cable", 1299, "accessories"),
    "EB-04": Product("EB-04", "Python cookbook (ebook)", 3499, "books"),
    "HS-05": Product("HS-05", "USB headset", 5000, "hardware"),
}


def lookup(sku: str) -> Product:
    try:
        return CATALOG[sku]
    except KeyError:
        raise KeyError(f"unknown sku {sku}") from None
