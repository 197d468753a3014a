"""Order history (already uses bound parameters everywhere)."""

import sqlite3

ORDER_ROW = ("SELECT o.id, p.name, o.quantity FROM orders o JOIN users u ON u.id = o.user_id "
             "JOIN products p ON p.id = o.product_id")


def orders_for_user(conn: sqlite3.Connection, username: str) -> list[tuple]:
    """(order id, product name, quantity) of one user's orders."""
    return conn.execute(f"{ORDER_ROW} WHERE u.username = ? ORDER BY o.id", (username,)).fetchall()


def orders_by_ids(conn: sqlite3.Connection, order_ids: list[int]) -> list[tuple]:
    """The same rows for a list of order ids (the basket page), by id."""
    if not order_ids:
        return []
    placeholders = ", ".join("?" for _ in order_ids)
    return conn.execute(f"{ORDER_ROW} WHERE o.id IN ({placeholders}) ORDER BY o.id", list(order_ids)).fetchall()
