from shop.invoice import money, render


def test_money_formats_cents():
    assert money(1299) == "12.99"
    assert money(5) == "0.05"


def test_invoice_lists_totals():
    text = render([("KB-01", 1)])
    assert "Mechanical keyboard" in text and "total" in text
