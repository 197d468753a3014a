"""A pytest plugin for the hidden test: which collected tests drove POST /books/<id>/checkout, and
did they pass? Loaded with `-p checkout_probe` into a pytest run of the workspace's own tests/.

It wraps library.routes.handle, and the handler registered for the checkout route, before any test
module is imported, so a test reaches them however it imports them (directly, through a helper, a
fixture or a class). The result goes to the JSON file named by CHECKOUT_PROBE_OUT."""

import json
import os
import re

import pytest

CHECKOUT = re.compile(r"^/books/\d+/checkout/?$")
calls: dict[str, int] = {}
outcomes: dict[str, str] = {}
current: list[str | None] = [None]


def _count() -> None:
    if current[0] is not None:
        calls[current[0]] = calls.get(current[0], 0) + 1


def pytest_configure(config):
    try:
        from library import routes
    except Exception:  # the workspace's own tests will report the import error
        return
    original = routes.handle

    def handle(conn, method, path, *args, **kwargs):
        if str(method).upper() == "POST" and CHECKOUT.match(str(path)):
            _count()
        return original(conn, method, path, *args, **kwargs)
    routes.handle = handle
    for i, entry in enumerate(list(getattr(routes, "ROUTES", []))):
        try:
            method, regex, handler = entry
            hit = method == "POST" and regex.match("/books/1/checkout")
        except (TypeError, ValueError, AttributeError):
            continue
        if hit:
            def wrapped(*args, _handler=handler, **kwargs):
                _count()
                return _handler(*args, **kwargs)
            routes.ROUTES[i] = (method, regex, wrapped)
            if getattr(routes, getattr(handler, "__name__", ""), None) is handler:
                setattr(routes, handler.__name__, wrapped)


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_call(item):
    current[0] = item.nodeid
    yield
    current[0] = None


def pytest_runtest_logreport(report):
    if report.when == "call" or report.outcome != "passed":
        outcomes.setdefault(report.nodeid, report.outcome)


def pytest_sessionfinish(session):
    out = os.environ.get("CHECKOUT_PROBE_OUT")
    if out:
        data = {n: {"outcome": o, "checkout_calls": calls.get(n, 0)} for n, o in outcomes.items()}
        with open(out, "w") as f:
            json.dump(data, f)
