"""Hidden: injection payloads return no extra rows and change nothing; normal behaviour is kept."""

import pytest

from store.db import connect
from store.orders import orders_for_user
from store.products import products_in_category, search_products
from store.users import find_user, set_email


def snapshot(conn):
    return [conn.execute(f"SELECT * FROM {t} ORDER BY id").fetchall() for t in ("users", "products", "orders")]


@pytest.mark.parametrize("payload", ["' OR '1'='1", "x' OR 1=1 --", "' UNION SELECT 1, 'x', 'y', 'admin' --"])
def test_find_user_is_not_injectable(payload):
    conn = connect()
    assert find_user(conn, payload) is None


def test_set_email_cannot_rewrite_other_rows():
    conn = connect()
    before = snapshot(conn)
    set_email(conn, 2, "evil@example.com' --")
    after = snapshot(conn)
    changed = [a for a, b in zip(after[0], before[0]) if a != b]
    assert [row[0] for row in changed] == [2]  # only grace
    assert find_user(conn, "grace")[2] == "evil@example.com' --"  # stored literally
    assert after[1:] == before[1:]


@pytest.mark.parametrize("payload", ["%' OR '1'='1", "zzz%' UNION SELECT id, username, 0 FROM users --"])
def test_search_is_not_injectable(payload):
    assert search_products(connect(), payload) == []


def test_category_is_not_injectable():
    conn = connect()
    assert products_in_category(conn, "books' OR '1'='1", 10**9) == []
    assert products_in_category(conn, "x' UNION SELECT id, email FROM users --", 10**9) == []


def test_legitimate_quotes_work():
    conn = connect()
    assert find_user(conn, "o'brien")[2] == "ob@example.ie"
    assert [r[1] for r in search_products(conn, "o'reilly")] == ["O'Reilly Pocket Guide"]


def test_normal_behaviour_kept():
    conn = connect()
    assert [r[1] for r in search_products(conn, "O")] == ["O'Reilly Pocket Guide", "Mouse", "Python Cookbook",
                                                           "Keyboard"]  # cheapest first
    assert products_in_category(conn, "books", 5000) == [(3, "Python Cookbook"), (4, "O'Reilly Pocket Guide")]
    assert set_email(conn, 1, "lovelace@example.com") == 1
    assert orders_for_user(conn, "linus") == [(3, "Python Cookbook", 1)]
