from store.db import connect
from store.orders import orders_by_ids, orders_for_user
from store.products import get_product, products_in_category, rename_product, search_products
from store.reports import customers_who_bought, orders_since, revenue_by_category, top_customers
from store.users import find_user, set_email, user_count, users_with_role


def test_find_user():
    assert find_user(connect(), "grace")[2] == "grace@example.com"
    assert find_user(connect(), "nobody") is None


def test_users_with_role():
    assert [u[1] for u in users_with_role(connect(), "admin")] == ["ada"]
    assert user_count(connect()) == 4


def test_set_email():
    conn = connect()
    assert set_email(conn, 3, "torvalds@example.com") == 1
    assert find_user(conn, "linus")[2] == "torvalds@example.com"


def test_search_products():
    assert [r[1] for r in search_products(connect(), "key")] == ["Keyboard"]


def test_products_in_category():
    assert products_in_category(connect(), "hardware", 5000) == [(2, "Mouse")]


def test_rename_product():
    conn = connect()
    assert rename_product(conn, "5", "USB-C cable (2 m)") == 1
    assert get_product(conn, 5)[1] == "USB-C cable (2 m)"


def test_orders():
    conn = connect()
    assert orders_for_user(conn, "grace") == [(1, "Keyboard", 1), (2, "USB-C cable", 3)]
    assert orders_by_ids(conn, [3, 1]) == [(1, "Keyboard", 1), (3, "Python Cookbook", 1)]


def test_reports():
    conn = connect()
    assert revenue_by_category(conn) == [("hardware", 8900), ("books", 6097), ("accessories", 3897)]
    assert orders_since(conn, "2024-04-01") == [(3, "2024-04-11"), (4, "2024-04-20")]
    assert customers_who_bought(conn, "Keyboard") == ["grace"]
    assert top_customers(conn, 1) == [("grace", 2)]
