from store.db import connect
from store.orders import orders_for_user
from store.products import products_in_category, search_products
from store.users import find_user, set_email


def test_find_user():
    assert find_user(connect(), "grace")[2] == "grace@example.com"
    assert find_user(connect(), "nobody") is None


def test_set_email():
    conn = connect()
    assert set_email(conn, 3, "torvalds@example.com") == 1
    assert find_user(conn, "linus")[2] == "torvalds@example.com"


def test_search_products():
    assert [r[1] for r in search_products(connect(), "key")] == ["Keyboard"]


def test_products_in_category():
    assert products_in_category(connect(), "hardware", 5000) == [(2, "Mouse")]


def test_orders_for_user():
    assert orders_for_user(connect(), "grace") == [(1, "Keyboard", 1), (2, "USB-C cable", 3)]
