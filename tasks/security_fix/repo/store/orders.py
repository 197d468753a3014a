"""Order history (already uses bound parameters)."""

import sqlite3


def orders_for_user(conn: sqlite3.Connection, username: str) -> list[tuple]:
    """(order id, product name, quantity) of one user's orders."""
    return conn.execute(
        "SELECT o.id, p.name, o.quantity FROM orders o JOIN users u ON u.id = o.user_id "
        "JOIN products p ON p.id = o.product_id WHERE u.username = ? ORDER BY o.id",
        (username,),
    ).fetchall()
