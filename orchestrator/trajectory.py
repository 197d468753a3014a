"""What happened in one task run, as the graders see it: the contract between the loop and the tasks.

The agent loop builds a Trajectory from a live model; `siliconbench tasks check` builds one by replaying
a trajectory file. The graders judge the final workspace plus these facts, never the model's prose alone.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Literal

# The fixed list of primary failure reasons (../shared/TASKS.md). A passed run has reason None.
FAILURE_REASONS = (
    "no_tool_calls",
    "invalid_tool_calls",
    "out_of_turns",
    "never_wrote",
    "wrong_fix",
    "no_verification",
    "wrong_answer",
    "collateral_damage",
    "looping",
    "parser_dropped_call",
    "truncated",
    "infra_error",
)

Ended = Literal["answer", "max_turns", "infra_error"]


@dataclass
class ToolEvent:
    """One tool call as executed (or refused) against the workspace."""

    turn: int
    """1-based turn in which the model made the call."""
    name: str
    """Tool name as the model sent it (may be unknown)."""
    arguments: dict[str, Any] | None
    """Parsed arguments; None when they were not a JSON object."""
    raw_arguments: str
    """Arguments exactly as the model sent them."""
    result: str
    """The text returned to the model as the tool result."""
    malformed: bool = False
    """Not JSON, unknown tool, or a missing argument: the model's failure, counted."""
    error: str | None = None
    """A tool error (path refused, file missing...): returned to the model, not a malformed call."""
    call_id: str = ""
    """The id the server gave the call, echoed back in the tool message."""


@dataclass
class Trajectory:
    events: list[ToolEvent] = field(default_factory=list)
    assistant_texts: list[str] = field(default_factory=list)
    """Raw content of every assistant message, in order (tool-call markup left in)."""
    final_answer: str | None = None
    """Content of the last assistant message that had no tool calls."""
    turns: int = 0
    ended: Ended = "answer"
    dropped_call_turns: list[int] = field(default_factory=list)
    """Turns that made no structured call although the model's work shows one was lost: call markup
    in the text, finish_reason `tool_calls` with no call, or generated tokens with an empty message."""
    truncated_turns: list[int] = field(default_factory=list)
    """Turns with no call that the token cap ended (finish_reason `length`)."""

    @property
    def tool_calls(self) -> int:
        return len(self.events)

    @property
    def malformed_calls(self) -> int:
        return sum(1 for e in self.events if e.malformed)
