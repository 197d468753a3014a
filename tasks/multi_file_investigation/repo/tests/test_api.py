from app.http import Request
from app.routes import app


def get(path, key=None):
    headers = {"X-Api-Key": key} if key else {}
    return app.handle(Request("GET", path, headers))


def test_health_needs_no_key():
    assert get("/health").status == 200


def test_projects_of_a_tenant():
    response = get("/projects", "k-acme-7f3a")
    assert response.status == 200 and response.body["tenant"] == "acme"
    assert [p["id"] for p in response.body["projects"]] == ["p1", "p2"]


def test_one_project():
    assert get("/projects/p9", "k-globex-19bc").body["name"] == "Hammock district"
    assert get("/projects/p1", "k-globex-19bc").status == 404
