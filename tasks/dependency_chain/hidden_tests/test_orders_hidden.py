"""Hidden: the orders route answers 200 with the orders, through the real config, with code intact."""

import tomllib
from pathlib import Path

from api.routes import handle
from db.connection import load_settings


def test_orders_route_works():
    status, body = handle("GET", "/api/orders")
    assert status == 200, body
    assert [o["id"] for o in body["orders"]] == [1042, 1041, 1040]


def test_the_config_holds_the_pooler_port():
    assert int(load_settings()["port"]) == 6432
    data = tomllib.loads(Path("config/database.toml").read_text())["database"]
    assert data["host"] == "db.internal" and data["name"] == "orders" and data["user"] == "orders_app"


def test_health_still_fine():
    assert handle("GET", "/api/health")[0] == 200
