from library.db import connect
from library.routes import handle


def test_list_books():
    status, body = handle(connect(), "GET", "/books")
    assert status == 200 and [b["title"] for b in body["books"]] == ["Dune", "Neuromancer", "Hyperion"]


def test_get_book_and_not_found():
    conn = connect()
    assert handle(conn, "GET", "/books/2")[1]["author"] == "William Gibson"
    assert handle(conn, "GET", "/books/99")[0] == 404


def test_add_book():
    conn = connect()
    status, book = handle(conn, "POST", "/books", {"title": "Snow Crash", "author": "Neal Stephenson"})
    assert status == 201 and book["available"] is True
    assert handle(conn, "POST", "/books", {"title": "No author"})[0] == 400
