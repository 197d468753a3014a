"""Order queries."""

from db.connection import get_connection


def list_orders(limit: int = 20) -> list[dict]:
    conn = get_connection()
    rows = conn.query("SELECT id, customer, total_cents FROM orders ORDER BY id DESC LIMIT %s", (limit,))
    return [{"id": r[0], "customer": r[1], "total_cents": r[2]} for r in rows]
