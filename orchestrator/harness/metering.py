"""One metered harness request -> one line in turns.jsonl, the same keys as a raw turn plus what the
harness sent: its wire format, whether the proxy translated it, the request's size and tools offered
(a harness's own prompt overhead: Claude Code's first request is ~76 KB with 24 tools)."""

from __future__ import annotations

import json
from typing import Any

from orchestrator.harness.proxy import Metered
from orchestrator.metrics.turn_record import TokenCounter, build_turn_record
from orchestrator.results.records import TurnRecord


def turn_record(base: dict[str, Any], turn: int, metered: Metered, memory: dict[str, Any],
                count_tokens: TokenCounter | None, warm: bool) -> TurnRecord | None:
    """None for a request that never reached the model (refused by the proxy or the server). A request
    cut mid-way (the harness stopped at its limit, the server broke off) is recorded with what came."""
    if metered.result is None:
        return None
    result = metered.result
    rec = build_turn_record(base, turn, result, len(result.tool_calls),
                            sum(1 for c in result.tool_calls if not _is_json_object(c.arguments)),
                            memory, count_tokens, warm)
    return TurnRecord(**{**rec.model_dump(), "api": metered.api, "translated": metered.translated,
                         "request_bytes": metered.request_bytes, "tools_offered": metered.tools_offered})


def _is_json_object(text: str) -> bool:
    try:
        return isinstance(json.loads(text or "{}"), dict)
    except ValueError:
        return False
