"""Product search."""

import sqlite3


def search_products(conn: sqlite3.Connection, term: str) -> list[tuple]:
    """Products whose name contains `term` (case-insensitive), cheapest first."""
    sql = "SELECT id, name, price_cents FROM products WHERE name LIKE '%" + term + "%' ORDER BY price_cents, id"
    return conn.execute(sql).fetchall()


def products_in_category(conn: sqlite3.Connection, category: str, max_price_cents: int) -> list[tuple]:
    """Products of one category up to a price, by id."""
    sql = "SELECT id, name FROM products WHERE category = '%s' AND price_cents <= %d ORDER BY id" % (
        category, max_price_cents)
    return conn.execute(sql).fetchall()
