"""Hidden: the checkout endpoint works and persists, lives where the patterns say, and a new test that
pytest really collects drives it and passes."""

import ast
import json
import os
import re
import sqlite3
import subprocess
import sys
from pathlib import Path

from library import db
from library.db import connect
from library.routes import handle

HERE = Path(__file__).resolve().parent
ORIGINAL_TESTS = {"tests/test_app.py::test_list_books", "tests/test_app.py::test_get_book_and_not_found",
                  "tests/test_app.py::test_add_book"}


def test_checkout_succeeds_and_returns_the_updated_book():
    conn = connect()
    status, book = handle(conn, "POST", "/books/2/checkout")
    assert status == 200
    assert book == handle(conn, "GET", "/books/2")[1]  # the book as the API shows it, after the change
    assert book["id"] == 2 and book["title"] == "Neuromancer" and not book["available"]


def test_checkout_of_a_missing_book_is_404_and_changes_nothing():
    conn = connect()
    assert handle(conn, "POST", "/books/99/checkout")[0] == 404
    assert [b["available"] for b in db.list_books(conn)] == [True, True, True]


def test_checkout_changes_only_that_book():
    conn = connect()
    handle(conn, "POST", "/books/1/checkout")
    assert handle(conn, "GET", "/books/1")[1]["available"] is False
    assert [b["available"] for b in handle(conn, "GET", "/books")[1]["books"]] == [False, True, True]


def test_second_checkout_conflicts_and_others_still_work():
    conn = connect()
    assert handle(conn, "POST", "/books/3/checkout")[0] == 200
    assert handle(conn, "POST", "/books/3/checkout")[0] == 409
    assert handle(conn, "POST", "/books/1/checkout")[0] == 200


def test_the_change_is_committed(tmp_path):
    """Seen through a second connection, as another request of the app would see it."""
    path = str(tmp_path / "library.db")
    conn = connect(path)
    assert handle(conn, "POST", "/books/2/checkout")[0] == 200
    other = sqlite3.connect(path, timeout=0.5)
    try:
        rows = other.execute("SELECT id, available FROM books ORDER BY id").fetchall()
    finally:
        other.close()
    assert [tuple(r) for r in rows] == [(1, 1), (2, 0), (3, 1)]


SQL = re.compile(r"\b(UPDATE\s+\W?books\W?\s+SET|SELECT\s.*?\sFROM\s+\W?books|INSERT\s+INTO\s+\W?books|DELETE\s+FROM\s+\W?books)\b",
                 re.IGNORECASE | re.DOTALL)


def test_sql_stays_out_of_the_routes():
    """routes.py says "No SQL here" and the README says the SQL lives in the database layer."""
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
    layer = [p for p in Path("library").glob("*.py") if p.name != "routes.py"]
    assert any(re.search(r"UPDATE\s+\W?books\W?\s+SET", p.read_text(), re.IGNORECASE) for p in layer), \
        "no UPDATE of books in the database layer"


def test_a_new_collected_test_drives_the_endpoint_and_passes(tmp_path):
    """Runs the workspace's tests/ with a probe: some test pytest collects, other than the original
    three, must call POST /books/<id>/checkout and pass."""
    out = tmp_path / "probe.json"
    env = dict(os.environ, CHECKOUT_PROBE_OUT=str(out),
               PYTHONPATH=os.pathsep.join(p for p in (str(HERE), os.getcwd(), os.environ.get("PYTHONPATH")) if p))
    proc = subprocess.run([sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "-p", "checkout_probe",
                           "--rootdir", ".", "tests"], env=env, capture_output=True, text=True, timeout=60)
    assert out.exists(), f"pytest on tests/ did not finish: {proc.stdout[-500:]}{proc.stderr[-500:]}"
    seen = json.loads(out.read_text())
    new = {n: r for n, r in seen.items() if n not in ORIGINAL_TESTS}
    drove = {n: r for n, r in new.items() if r["checkout_calls"]}
    assert any(r["outcome"] == "passed" for r in drove.values()), (
        f"new tests collected: {sorted(new) or 'none'}; calling POST /books/<id>/checkout: {sorted(drove) or 'none'}; "
        f"outcomes: { {n: r['outcome'] for n, r in drove.items()} }")
