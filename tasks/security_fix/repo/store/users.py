"""User lookups and updates."""

import sqlite3


def find_user(conn: sqlite3.Connection, username: str) -> tuple | None:
    """(id, username, email, role) of one user, or None."""
    row = conn.execute(f"SELECT id, username, email, role FROM users WHERE username = '{username}'").fetchone()
    return row


def set_email(conn: sqlite3.Connection, user_id: int, email: str) -> int:
    """Change one user's email; returns the number of rows changed."""
    cursor = conn.execute(f"UPDATE users SET email = '{email}' WHERE id = {int(user_id)}")
    conn.commit()
    return cursor.rowcount
