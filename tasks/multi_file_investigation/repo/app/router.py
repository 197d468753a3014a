"""Routes requests through the middleware chain to handlers; unexpected errors become a logged 500."""

import logging
import re
from typing import Callable

from .http import Request, Response

log = logging.getLogger("projects-api")
Handler = Callable[[Request], Response]


class App:
    def __init__(self):
        self.routes: list[tuple[str, re.Pattern, Handler]] = []
        self.middleware: list[Callable[[Request, Handler], Response]] = []

    def route(self, method: str, pattern: str):
        regex = re.compile("^" + re.sub(r"<(\w+)>", r"(?P<\1>[^/]+)", pattern) + "$")

        def register(handler: Handler) -> Handler:
            self.routes.append((method, regex, handler))
            return handler
        return register

    def _dispatch(self, request: Request) -> Response:
        for method, regex, handler in self.routes:
            match = regex.match(request.path)
            if match and method == request.method:
                request.context.update(match.groupdict())
                return handler(request)
        return Response(404, {"error": "not found"})

    def handle(self, request: Request) -> Response:
        handler = self._dispatch
        for middleware in reversed(self.middleware):
            handler = (lambda mw, nxt: (lambda req: mw(req, nxt)))(middleware, handler)
        try:
            return handler(request)
        except Exception:
            log.exception("unhandled error for %s %s", request.method, request.path)
            return Response(500, {"error": "internal server error"})
