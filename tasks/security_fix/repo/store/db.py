"""SQLite schema and demo data for the store."""

import sqlite3

SCHEMA = """
CREATE TABLE users (id INTEGER PRIMARY KEY, username TEXT UNIQUE NOT NULL, email TEXT NOT NULL, role TEXT NOT NULL);
CREATE TABLE products (id INTEGER PRIMARY KEY, name TEXT NOT NULL, category TEXT NOT NULL, price_cents INTEGER NOT NULL);
CREATE TABLE orders (id INTEGER PRIMARY KEY, user_id INTEGER NOT NULL, product_id INTEGER NOT NULL,
                     quantity INTEGER NOT NULL, placed_on TEXT NOT NULL);
"""

USERS = [(1, "ada", "ada@example.com", "admin"), (2, "grace", "grace@example.com", "customer"),
         (3, "linus", "linus@example.com", "customer"), (4, "o'brien", "ob@example.ie", "customer")]
PRODUCTS = [(1, "Keyboard", "hardware", 8900), (2, "Mouse", "hardware", 2950),
            (3, "Python Cookbook", "books", 3499), (4, "O'Reilly Pocket Guide", "books", 1299),
            (5, "USB-C cable", "accessories", 1299)]
ORDERS = [(1, 2, 1, 1, "2024-03-02"), (2, 2, 5, 3, "2024-03-09"), (3, 3, 3, 1, "2024-04-11"),
          (4, 4, 4, 2, "2024-04-20")]


def connect(path: str = ":memory:") -> sqlite3.Connection:
    conn = sqlite3.connect(path)
    conn.executescript(SCHEMA)
    conn.executemany("INSERT INTO users VALUES (?, ?, ?, ?)", USERS)
    conn.executemany("INSERT INTO products VALUES (?, ?, ?, ?)", PRODUCTS)
    conn.executemany("INSERT INTO orders VALUES (?, ?, ?, ?, ?)", ORDERS)
    conn.commit()
    return conn
