"""The API's routes."""

from .http import Request, Response
from .middleware import logging_middleware, tenant_middleware
from .router import App
from .tenants import PROJECTS

app = App()
app.middleware = [logging_middleware, tenant_middleware]


@app.route("GET", "/health")
def health(request: Request) -> Response:
    return Response(200, {"status": "ok"})


@app.route("GET", "/projects")
def list_projects(request: Request) -> Response:
    tenant = request.context["tenant"]
    return Response(200, {"tenant": tenant, "projects": PROJECTS.get(tenant, [])})


@app.route("GET", "/projects/<project_id>")
def get_project(request: Request) -> Response:
    tenant = request.context["tenant"]
    for project in PROJECTS.get(tenant, []):
        if project["id"] == request.context["project_id"]:
            return Response(200, project)
    return Response(404, {"error": "no such project"})
