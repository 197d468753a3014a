"""Claude Code, headless (`claude -p`), speaking Anthropic Messages to the metering proxy.

Its first request is ~76 KB with 24 tools. It refuses --dangerously-skip-permissions as root unless
IS_SANDBOX=1, which is true here: it runs whole inside bubblewrap. `--output-format json` prints one
summary object: num_turns, usage, and `subtype` error_max_turns (exit 1) at the turn limit.
"""

from __future__ import annotations

import json
from pathlib import Path

from orchestrator.harness.adapter import HarnessOutcome, HarnessRequest, Invocation, quiet_env

name = "claude-code"
version = "2.1.332"
api = "messages"
package = "@anthropic-ai/claude-code"
installer = "npm"
executable = "bin/claude"
leftovers = (".claude", ".claude/*", "CLAUDE.md.local")
tool_ops = {"Read": "read", "Write": "write", "Edit": "write", "MultiEdit": "write", "NotebookEdit": "write",
            "Grep": "search", "Glob": "search", "Bash": "bash"}
path_args = ("file_path", "notebook_path", "path")
min_context_tokens = 16384
"""Its first request is ~12.5k tokens (system prompt and tools) before the task says anything."""


def invocation(req: HarnessRequest, executable: Path) -> Invocation:
    env = quiet_env(req.state) | {
        "ANTHROPIC_BASE_URL": req.base_url, "ANTHROPIC_AUTH_TOKEN": "siliconbench", "ANTHROPIC_API_KEY": "",
        "ANTHROPIC_MODEL": req.model, "ANTHROPIC_SMALL_FAST_MODEL": req.model,
        "ANTHROPIC_DEFAULT_HAIKU_MODEL": req.model, "ANTHROPIC_DEFAULT_SONNET_MODEL": req.model,
        "ANTHROPIC_DEFAULT_OPUS_MODEL": req.model, "CLAUDE_CONFIG_DIR": str(req.state / ".claude"),
        "CLAUDE_CODE_MAX_OUTPUT_TOKENS": str(req.max_tokens),
        "CLAUDE_CODE_DISABLE_NONESSENTIAL_TRAFFIC": "1", "DISABLE_TELEMETRY": "1", "DISABLE_AUTOUPDATER": "1",
        "DISABLE_ERROR_REPORTING": "1", "DISABLE_BUG_COMMAND": "1", "DISABLE_COST_WARNINGS": "1",
        "CLAUDE_CODE_DISABLE_TERMINAL_TITLE": "1", "IS_SANDBOX": "1",
    }
    argv = [str(executable), "-p", req.prompt, "--output-format", "json", "--max-turns", str(req.max_turns),
            "--dangerously-skip-permissions", "--model", req.model]
    return Invocation(argv, env)


def parse(stdout: str, exit_code: int | None, state: Path) -> HarnessOutcome:
    summary = _last_json_object(stdout)
    if summary is None:
        return HarnessOutcome("harness_error", detail=_tail(stdout) or f"exit status {exit_code}, no summary")
    usage = summary.get("usage") or {}
    prompt = None
    if usage.get("input_tokens") is not None:
        prompt = (usage["input_tokens"] + (usage.get("cache_read_input_tokens") or 0)
                  + (usage.get("cache_creation_input_tokens") or 0))
    subtype = summary.get("subtype") or ""
    if subtype == "success" and not summary.get("is_error"):
        ended = "answer"
    elif subtype == "error_max_turns":
        ended = "max_turns"
    else:
        ended = "harness_error"
    return HarnessOutcome(ended, turns=summary.get("num_turns"), prompt_tokens=prompt,
                          completion_tokens=usage.get("output_tokens"),
                          final_answer=summary.get("result") if isinstance(summary.get("result"), str) else None,
                          detail=None if ended == "answer" else (str(summary.get("result") or "")[:300] or subtype))


def _last_json_object(text: str) -> dict | None:
    for line in reversed(text.strip().splitlines()):
        line = line.strip()
        if line.startswith("{"):
            try:
                data = json.loads(line)
            except ValueError:
                continue
            if isinstance(data, dict):
                return data
    return None


def _tail(text: str, limit: int = 300) -> str:
    return " ".join(text.split())[-limit:]
