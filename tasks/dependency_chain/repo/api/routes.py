"""HTTP routes of the orders API (framework-free: handle(method, path) -> (status, body))."""

import logging

from services import orders

log = logging.getLogger("orders-api")


def handle(method: str, path: str) -> tuple[int, dict]:
    if (method, path) == ("GET", "/api/health"):
        return 200, {"status": "ok"}
    if (method, path) == ("GET", "/api/orders"):
        try:
            return 200, {"orders": orders.list_orders()}
        except Exception as err:
            log.error("GET /api/orders failed: %s", err)
            return 500, {"error": "internal server error"}
    return 404, {"error": "not found"}
