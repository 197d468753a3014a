"""Hidden: a request without a (valid) key is refused with a 4xx on every tenant route; nothing else
changes."""

import pytest

from app.http import Request
from app.routes import app


def get(path, headers=None):
    return app.handle(Request("GET", path, dict(headers or {})))


@pytest.mark.parametrize("path", ["/projects", "/projects/p1"])
@pytest.mark.parametrize("headers", [{}, {"X-Api-Key": ""}, {"X-Api-Key": "k-wrong-0000"}])
def test_missing_or_unknown_key_gets_a_client_error(path, headers):
    status = get(path, headers).status
    assert 400 <= status < 500, status


def test_valid_keys_still_work():
    assert get("/projects", {"X-Api-Key": "k-globex-19bc"}).body["tenant"] == "globex"
    assert get("/projects/p2", {"X-Api-Key": "k-acme-7f3a"}).status == 200
    assert get("/projects/p9", {"X-Api-Key": "k-acme-7f3a"}).status == 404  # another tenant's project


def test_health_stays_public():
    assert get("/health").status == 200
    assert get("/health", {"X-Api-Key": "k-wrong-0000"}).status == 200


@pytest.mark.parametrize("error", [KeyError("tenant"), KeyError("boom"), LookupError("x"), RuntimeError("db down")])
def test_a_server_bug_with_a_valid_key_is_still_a_500(error):
    """The router's promise: unexpected errors become a logged 500. Turning every KeyError into a 4xx
    would blame the client for the server's own bugs."""
    path = f"/_hidden/boom-{type(error).__name__}-{error.args[0]}"

    @app.route("GET", path)
    def boom(request):
        raise error

    assert get(path, {"X-Api-Key": "k-acme-7f3a"}).status == 500
