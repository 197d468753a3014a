"""Hidden: every query is parameterised (no SQL text built from a function's arguments, by AST), injection
payloads return no extra rows and change nothing, and normal behaviour is kept.

A fix may refuse malformed input with an exception (int() raising ValueError, a date check, sqlite
refusing a type): that leaks nothing, so every injection test accepts it; what they refuse is an extra
row or a changed one.
"""

import sqlite3
import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent))  # sql_taint sits beside this file
from sql_taint import scan_sources  # noqa: E402

from store.db import connect
from store.orders import orders_by_ids, orders_for_user
from store.products import get_product, products_in_category, rename_product, search_products
from store.reports import customers_who_bought, orders_since, revenue_by_category, top_customers
from store.users import find_user, set_email, user_count, users_with_role

REJECTED = (ValueError, TypeError, sqlite3.Error)


def refused_or(call, default=None):
    """The call's result, or `default` when it refused the input with an exception."""
    try:
        return call()
    except REJECTED:
        return default


def test_no_sql_text_is_built_from_arguments():
    sources = {p.as_posix(): p.read_text() for p in sorted(Path("store").glob("*.py"))}
    findings = scan_sources(sources)
    assert not findings, "not parameterised: " + "; ".join(map(str, findings))


def snapshot(conn):
    return [conn.execute(f"SELECT * FROM {t} ORDER BY id").fetchall() for t in ("users", "products", "orders")]


# users.py --------------------------------------------------------------------------------------

@pytest.mark.parametrize("payload", ["' OR '1'='1", "x' OR 1=1 --", "' UNION SELECT 1, 'x', 'y', 'admin' --"])
def test_find_user_is_not_injectable(payload):
    assert refused_or(lambda: find_user(connect(), payload)) is None


def test_set_email_cannot_rewrite_other_rows_or_columns():
    conn = connect()
    before = snapshot(conn)
    payload = "evil@example.com', role = 'admin' --"
    refused_or(lambda: set_email(conn, 2, payload))
    after = snapshot(conn)
    assert [a[0] for a, b in zip(after[0], before[0]) if a != b] in ([2], [])  # only grace, if anyone
    assert find_user(conn, "grace")[3] == "customer"  # the role is untouched
    assert after[1:] == before[1:]


# products.py -----------------------------------------------------------------------------------

@pytest.mark.parametrize("payload", ["%' OR '1'='1", "zzz%' UNION SELECT id, username, 0 FROM users --"])
def test_search_is_not_injectable(payload):
    assert refused_or(lambda: search_products(connect(), payload), []) == []


def test_category_is_not_injectable():
    conn = connect()
    assert refused_or(lambda: products_in_category(conn, "books' OR '1'='1", 10**9), []) == []
    assert refused_or(lambda: products_in_category(conn, "x' UNION SELECT id, email FROM users --", 10**9), []) == []


def test_rename_cannot_touch_other_rows():
    conn = connect()
    before = snapshot(conn)
    try:
        rename_product(conn, "1 OR 1=1", "pwned")
    except REJECTED:
        pass
    assert snapshot(conn) == before


def test_rename_stores_the_name_literally():
    conn = connect()
    payload = "Mouse', category = 'free"
    assert rename_product(conn, "2", payload) == 1
    assert get_product(conn, 2) == (2, payload, "hardware", 2950)
    assert [get_product(conn, i)[1] for i in (1, 3, 4, 5)] == ["Keyboard", "Python Cookbook",
                                                                "O'Reilly Pocket Guide", "USB-C cable"]


# reports.py ------------------------------------------------------------------------------------

@pytest.mark.parametrize("payload", ["books' OR '1'='1", "x' UNION SELECT username, 0 FROM users --"])
def test_revenue_filter_is_not_injectable(payload):
    assert refused_or(lambda: revenue_by_category(connect(), payload), []) == []


@pytest.mark.parametrize("payload", ["2099-01-01' OR '1'='1", "2099-01-01' UNION SELECT id, email FROM users --"])
def test_orders_since_is_not_injectable(payload):
    assert refused_or(lambda: orders_since(connect(), payload), []) == []


@pytest.mark.parametrize("payload", ["x' OR '1'='1", "x' UNION SELECT email FROM users --"])
def test_customers_who_bought_is_not_injectable(payload):
    assert refused_or(lambda: customers_who_bought(connect(), payload), []) == []


# normal behaviour, quotes included ---------------------------------------------------------------

def test_legitimate_quotes_work():
    conn = connect()
    assert find_user(conn, "o'brien")[2] == "ob@example.ie"
    assert [r[1] for r in search_products(conn, "o'reilly")] == ["O'Reilly Pocket Guide"]
    assert customers_who_bought(conn, "O'Reilly Pocket Guide") == ["o'brien"]


def test_normal_behaviour_kept():
    conn = connect()
    assert [r[1] for r in search_products(conn, "O")] == ["O'Reilly Pocket Guide", "Mouse", "Python Cookbook",
                                                           "Keyboard"]  # cheapest first
    assert products_in_category(conn, "books", 5000) == [(3, "Python Cookbook"), (4, "O'Reilly Pocket Guide")]
    assert products_in_category(conn, "books", 2000) == [(4, "O'Reilly Pocket Guide")]
    assert set_email(conn, 1, "lovelace@example.com") == 1
    assert find_user(conn, "ada") == (1, "ada", "lovelace@example.com", "admin")
    assert [u[1] for u in users_with_role(conn, "customer")] == ["grace", "linus", "o'brien"]
    assert user_count(conn) == 4
    assert revenue_by_category(conn, "books") == [("books", 6097)]
    assert revenue_by_category(conn, None) == [("hardware", 8900), ("books", 6097), ("accessories", 3897)]
    assert orders_since(conn, "2024-03-09") == [(2, "2024-03-09"), (3, "2024-04-11"), (4, "2024-04-20")]
    assert customers_who_bought(conn, "Python Cookbook") == ["linus"]
    assert top_customers(conn, 2) == [("grace", 2), ("linus", 1)]


def test_the_safe_orders_module_still_works():
    conn = connect()
    assert orders_for_user(conn, "linus") == [(3, "Python Cookbook", 1)]
    assert refused_or(lambda: orders_for_user(conn, "x' OR '1'='1"), []) == []
    assert orders_by_ids(conn, [4, 2]) == [(2, "USB-C cable", 3), (4, "O'Reilly Pocket Guide", 2)]
    assert orders_by_ids(conn, [1]) == [(1, "Keyboard", 1)]
    assert orders_by_ids(conn, []) == []
