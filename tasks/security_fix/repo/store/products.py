"""Product search and catalogue maintenance."""

import sqlite3


def get_product(conn: sqlite3.Connection, product_id: int) -> tuple | None:
    """(id, name, category, price_cents) of one product, or None."""
    return conn.execute("SELECT id, name, category, price_cents FROM products WHERE id = ?",
                        (product_id,)).fetchone()


def search_products(conn: sqlite3.Connection, term: str) -> list[tuple]:
    """Products whose name contains `term` (case-insensitive), cheapest first."""
    sql = "SELECT id, name, price_cents FROM products WHERE name LIKE '%" + term + "%' ORDER BY price_cents, id"
    return conn.execute(sql).fetchall()


def products_in_category(conn: sqlite3.Connection, category: str, max_price_cents: int) -> list[tuple]:
    """Products of one category up to a price, by id."""
    sql = "SELECT id, name FROM products WHERE category = '%s' AND price_cents <= %d ORDER BY id" % (
        category, max_price_cents)
    return conn.execute(sql).fetchall()


def rename_product(conn: sqlite3.Connection, product_id: str, name: str) -> int:
    """Rename one product; `product_id` is the raw path segment of PUT /products/<id>. Rows changed."""
    cursor = conn.execute("UPDATE products SET name = '" + name + "' WHERE id = " + str(product_id))
    conn.commit()
    return cursor.rowcount
