"""Hidden: the checkout endpoint works, lives where the patterns say, and is tested."""

import ast
import re
from pathlib import Path

from library import db
from library.db import connect
from library.routes import handle


def test_checkout_succeeds_and_returns_the_book():
    status, book = handle(connect(), "POST", "/books/2/checkout")
    assert status == 200
    assert book["id"] == 2 and book["title"] == "Neuromancer" and book["available"] is False


def test_checkout_of_a_missing_book_is_404():
    assert handle(connect(), "POST", "/books/99/checkout")[0] == 404


def test_checkout_changes_the_database_and_only_that_book():
    conn = connect()
    handle(conn, "POST", "/books/1/checkout")
    assert db.get_book(conn, 1)["available"] is False
    assert handle(conn, "GET", "/books/1")[1]["available"] is False
    assert [b["available"] for b in db.list_books(conn)] == [False, True, True]


def test_second_checkout_conflicts():
    conn = connect()
    assert handle(conn, "POST", "/books/3/checkout")[0] == 200
    assert handle(conn, "POST", "/books/3/checkout")[0] == 409


def test_sql_stays_in_the_db_layer():
    routes = Path("library/routes.py").read_text()
    assert "execute" not in routes and "sqlite3" not in routes and "UPDATE" not in routes.upper()
    assert re.search(r"UPDATE\s+books", Path("library/db.py").read_text(), re.IGNORECASE)


def test_the_visible_tests_exercise_the_new_endpoint():
    source = Path("tests/test_app.py").read_text()
    tree = ast.parse(source)
    tests = [n for n in tree.body if isinstance(n, ast.FunctionDef) and n.name.startswith("test")]
    assert len(tests) > 3, "no new test function"
    assert "/checkout" in source
