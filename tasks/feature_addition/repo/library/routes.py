"""HTTP routes: parse the request, call the DB layer, shape the response. No SQL here."""

import re

from . import db

ROUTES = []


def route(method: str, pattern: str):
    regex = re.compile("^" + re.sub(r"<int:(\w+)>", r"(?P<\1>\\d+)", pattern) + "$")

    def register(handler):
        ROUTES.append((method, regex, handler))
        return handler
    return register


def handle(conn, method: str, path: str, body: dict | None = None) -> tuple[int, dict]:
    for route_method, regex, handler in ROUTES:
        match = regex.match(path)
        if match and route_method == method:
            args = {k: int(v) for k, v in match.groupdict().items()}
            return handler(conn, body or {}, **args)
    return 404, {"error": "not found"}


@route("GET", "/books")
def list_books(conn, body):
    return 200, {"books": db.list_books(conn)}


@route("GET", "/books/<int:book_id>")
def get_book(conn, body, book_id):
    book = db.get_book(conn, book_id)
    if book is None:
        return 404, {"error": f"no book {book_id}"}
    return 200, book


@route("POST", "/books")
def add_book(conn, body):
    title, author = body.get("title"), body.get("author")
    if not title or not author:
        return 400, {"error": "title and author are required"}
    return 201, db.add_book(conn, title, author)
