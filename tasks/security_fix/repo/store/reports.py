"""Back-office sales reports. Filters come straight from the report page's query string."""

import sqlite3


def revenue_by_category(conn: sqlite3.Connection, category: str | None = None) -> list[tuple]:
    """(category, revenue in cents), largest first; only one category when `category` is given."""
    sql = ("SELECT p.category, SUM(p.price_cents * o.quantity) FROM orders o "
           "JOIN products p ON p.id = o.product_id")
    if category:
        sql += " WHERE p.category = '" + category + "'"
    sql += " GROUP BY p.category ORDER BY 2 DESC, 1"
    return conn.execute(sql).fetchall()


def orders_since(conn: sqlite3.Connection, day: str) -> list[tuple]:
    """(order id, day) of the orders placed on or after `day` (YYYY-MM-DD), oldest first."""
    sql = "SELECT id, placed_on FROM orders WHERE placed_on >= '%s' ORDER BY placed_on, id" % day
    return conn.execute(sql).fetchall()


def customers_who_bought(conn: sqlite3.Connection, product_name: str) -> list[str]:
    """Usernames of the customers who ordered the product called `product_name`, alphabetically."""
    rows = conn.execute(
        "SELECT DISTINCT u.username FROM orders o JOIN users u ON u.id = o.user_id "
        f"JOIN products p ON p.id = o.product_id WHERE p.name = '{product_name}' ORDER BY u.username"
    ).fetchall()
    return [row[0] for row in rows]


def top_customers(conn: sqlite3.Connection, limit: int) -> list[tuple]:
    """(username, number of orders), most orders first, at most `limit` rows (the ?top= parameter)."""
    return conn.execute(
        "SELECT u.username, COUNT(*) FROM orders o JOIN users u ON u.id = o.user_id "
        f"GROUP BY u.id ORDER BY 2 DESC, u.username LIMIT {int(limit)}"
    ).fetchall()
