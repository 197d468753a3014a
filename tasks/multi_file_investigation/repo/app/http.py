"""A tiny request/response model (no web framework needed for this service)."""

import json
from dataclasses import dataclass, field


@dataclass
class Request:
    method: str
    path: str
    headers: dict[str, str] = field(default_factory=dict)
    context: dict[str, object] = field(default_factory=dict)
    """Filled by middleware (e.g. the caller's tenant) for the route handlers."""


@dataclass
class Response:
    status: int
    body: dict

    def json(self) -> str:
        return json.dumps(self.body, sort_keys=True)
