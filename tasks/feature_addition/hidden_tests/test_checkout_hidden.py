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


SQL = re.compile(r"\b(UPDATE\s+\W?books\W?\s+SET|SELECT\s.*?\sFROM\s+\W?books|INSERT\s+INTO\s+\W?books|DELETE\s+FROM\s+\W?books)\b",
                 re.IGNORECASE)


def test_sql_stays_in_the_db_layer():
    tree = ast.parse(Path("library/routes.py").read_text())
    for node in ast.walk(tree):
        if isinstance(node, (ast.Import, ast.ImportFrom)):
            names = [a.name for a in node.names] + [getattr(node, "module", None) or ""]
            assert not any("sqlite3" in n for n in names), "routes.py imports sqlite3"
        if isinstance(node, ast.Attribute):
            assert node.attr not in {"execute", "executemany", "executescript", "cursor"}, \
                f"routes.py runs SQL itself (.{node.attr})"
        if isinstance(node, ast.Constant) and isinstance(node.value, str):
            assert not SQL.search(node.value), f"SQL in routes.py: {node.value!r}"
    assert re.search(r"UPDATE\s+\W?books\W?\s+SET", Path("library/db.py").read_text(), re.IGNORECASE), \
        "the db layer has no UPDATE of books"


def test_the_visible_tests_exercise_the_new_endpoint():
    """A new test function (anywhere under tests/, plain or in a class) that drives /checkout."""
    found = []
    for path in sorted(Path("tests").rglob("*.py")):
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)) and node.name.startswith("test"):
                if "checkout" in ast.unparse(node).lower():
                    found.append(f"{path}::{node.name}")
    assert found, "no test exercises the checkout endpoint"
