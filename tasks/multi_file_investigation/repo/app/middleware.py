"""Middleware: who is calling, and request logging."""

import logging

from .http import Request, Response
from .tenants import API_KEYS

log = logging.getLogger("projects-api")
PUBLIC_PATHS = {"/health"}


def tenant_middleware(request: Request, call_next) -> Response:
    """Attach the caller's tenant, from the X-Api-Key header, for the handlers."""
    if request.path in PUBLIC_PATHS:
        return call_next(request)
    key = request.headers.get("X-Api-Key")
    tenant = API_KEYS.get(key) if key else None
    if tenant:
        request.context["tenant"] = tenant
    return call_next(request)


def logging_middleware(request: Request, call_next) -> Response:
    response = call_next(request)
    log.info("%s %s -> %s", request.method, request.path, response.status)
    return response
