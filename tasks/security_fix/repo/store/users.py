"""User lookups and updates (the account pages and the admin console call these)."""

import sqlite3

COLUMNS = "id, username, email, role"


def find_user(conn: sqlite3.Connection, username: str) -> tuple | None:
    """(id, username, email, role) of one user, or None. `username` comes from the login form."""
    row = conn.execute(f"SELECT {COLUMNS} FROM users WHERE username = '{username}'").fetchone()
    return row


def users_with_role(conn: sqlite3.Connection, role: str) -> list[tuple]:
    """All users of one role, by id."""
    return conn.execute(f"SELECT {COLUMNS} FROM users WHERE role = ? ORDER BY id", (role,)).fetchall()


def set_email(conn: sqlite3.Connection, user_id: int, email: str) -> int:
    """Change one user's email; returns the number of rows changed."""
    cursor = conn.execute(f"UPDATE users SET email = '{email}' WHERE id = {int(user_id)}")
    conn.commit()
    return cursor.rowcount


def user_count(conn: sqlite3.Connection) -> int:
    return conn.execute("SELECT COUNT(*) FROM users").fetchone()[0]
