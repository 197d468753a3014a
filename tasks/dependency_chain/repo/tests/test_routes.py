from api.routes import handle


def test_health():
    assert handle("GET", "/api/health") == (200, {"status": "ok"})


def test_unknown_route():
    assert handle("GET", "/api/nope")[0] == 404
