"""mini-swe-agent (`mini --yolo`): one bash tool and a ~3 KB prompt, the bare baseline of harnesses.

It calls the model through litellm without streaming (the proxy streams toward the server anyway, to
time the first token). Its turn limit is `agent.step_limit`; it ends by running
`echo COMPLETE_TASK_AND_SUBMIT_FINAL_OUTPUT` and saves a trajectory with exit_status and api_calls.
"""

from __future__ import annotations

import json
from pathlib import Path

from orchestrator.harness.adapter import HarnessOutcome, HarnessRequest, Invocation, quiet_env

name = "mini-swe-agent"
version = "2.4.6"
api = "chat"
package = "mini-swe-agent"
installer = "pip"
executable = "mini-swe-agent/bin/mini"
leftovers = ()
tool_ops = {"bash": "bash"}
path_args = ()
min_context_tokens = 4096
"""Its first request is ~1k tokens."""
TRAJECTORY = "trajectory.json"
ENDINGS = {"Submitted": "answer", "LimitsExceeded": "max_turns", "TimeExceeded": "time_limit"}


def invocation(req: HarnessRequest, executable: Path) -> Invocation:
    env = quiet_env(req.state) | {
        "MSWEA_CONFIGURED": "true", "MSWEA_SILENT_STARTUP": "1", "MSWEA_GLOBAL_CONFIG_DIR": str(req.state / "mini"),
        "LITELLM_LOCAL_MODEL_COST_MAP": "True", "LITELLM_TELEMETRY": "False", "OPENAI_API_KEY": "siliconbench",
    }
    argv = [str(executable), "-t", req.prompt, "-m", f"openai/{req.model}", "--yolo", "--exit-immediately",
            "-c", "mini.yaml",
            "-c", f"model.model_kwargs.api_base={req.base_url}/v1",
            "-c", f"model.model_kwargs.max_tokens={req.max_tokens}",
            "-c", "model.cost_tracking=ignore_errors",
            "-c", f"agent.step_limit={req.max_turns}", "-c", "agent.cost_limit=0",
            "-o", str(req.state / TRAJECTORY)]
    return Invocation(argv, env)


def parse(stdout: str, exit_code: int | None, state: Path) -> HarnessOutcome:
    path = state / TRAJECTORY
    try:
        data = json.loads(path.read_text())
    except (OSError, ValueError):
        return HarnessOutcome("harness_error", detail=f"no trajectory written (exit status {exit_code}): "
                                                       + " ".join(stdout.split())[-300:])
    info = data.get("info") or {}
    status = info.get("exit_status") or ""
    prompt = completion = 0
    known = False
    for message in data.get("messages") or []:
        usage = ((message.get("extra") or {}).get("response") or {}).get("usage") or {}
        if usage:
            known = True
            prompt += usage.get("prompt_tokens") or 0
            completion += usage.get("completion_tokens") or 0
    return HarnessOutcome(ENDINGS.get(status, "harness_error"),
                          turns=(info.get("model_stats") or {}).get("api_calls"),
                          prompt_tokens=prompt if known else None, completion_tokens=completion if known else None,
                          final_answer=info.get("submission") or _last_assistant_text(data),
                          detail=None if status == "Submitted" else status or f"exit status {exit_code}")


def _last_assistant_text(data: dict) -> str | None:
    for message in reversed(data.get("messages") or []):
        if message.get("role") == "assistant" and isinstance(message.get("content"), str):
            return message["content"]
    return None
