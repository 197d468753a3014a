"""The database layer: every SQL statement of the app lives here."""

import sqlite3

SCHEMA = """
CREATE TABLE books (
    id INTEGER PRIMARY KEY,
    title TEXT NOT NULL,
    author TEXT NOT NULL,
    available INTEGER NOT NULL DEFAULT 1
);
"""
SEED = [("Dune", "Frank Herbert"), ("Neuromancer", "William Gibson"), ("Hyperion", "Dan Simmons")]


def connect(path: str = ":memory:") -> sqlite3.Connection:
    conn = sqlite3.connect(path)
    conn.row_factory = sqlite3.Row
    conn.executescript(SCHEMA)
    conn.executemany("INSERT INTO books (title, author) VALUES (?, ?)", SEED)
    conn.commit()
    return conn


def _as_dict(row: sqlite3.Row | None) -> dict | None:
    if row is None:
        return None
    return {"id": row["id"], "title": row["title"], "author": row["author"], "available": bool(row["available"])}


def list_books(conn: sqlite3.Connection) -> list[dict]:
    return [_as_dict(r) for r in conn.execute("SELECT * FROM books ORDER BY id")]


def get_book(conn: sqlite3.Connection, book_id: int) -> dict | None:
    return _as_dict(conn.execute("SELECT * FROM books WHERE id = ?", (book_id,)).fetchone())


def add_book(conn: sqlite3.Connection, title: str, author: str) -> dict:
    cursor = conn.execute("INSERT INTO books (title, author) VALUES (?, ?)", (title, author))
    conn.commit()
    return get_book(conn, cursor.lastrowid)
