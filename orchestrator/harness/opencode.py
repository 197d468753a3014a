"""OpenCode, headless (`opencode run --format json`), speaking chat completions: works with every backend.

The model comes from a config file naming an `@ai-sdk/openai-compatible` provider at the proxy; edits
and shell commands are allowed without asking (the whole harness is sandboxed). Output is JSON lines,
one event per line; `step_finish` events carry the tokens of each model step.

Its turn limit (`agent.build.steps`) is soft: at the last step it tells the model to stop and answer,
and a model that keeps calling tools goes on. Our wall-clock limit is the hard one. `--pure` keeps it
from loading (and, offline, trying to install) external plugins.
"""

from __future__ import annotations

import json
from pathlib import Path

from orchestrator.harness.adapter import HarnessOutcome, HarnessRequest, Invocation, quiet_env

name = "opencode"
version = "1.18.33"
api = "chat"
package = "opencode-ai"
installer = "npm"
executable = "bin/opencode"
leftovers = (".opencode", ".opencode/*")
tool_ops = {"read": "read", "write": "write", "edit": "write", "patch": "write", "multiedit": "write",
            "grep": "search", "glob": "search", "list": "search", "bash": "bash"}
path_args = ("filePath", "file_path", "path")
min_context_tokens = 12288
"""Its first request is ~7.5k tokens."""
PROVIDER = "siliconbench"


def config(req: HarnessRequest) -> dict:
    return {
        "$schema": "https://opencode.ai/config.json",
        "provider": {PROVIDER: {"npm": "@ai-sdk/openai-compatible", "name": "siliconbench proxy",
                                "options": {"baseURL": f"{req.base_url}/v1", "apiKey": "siliconbench"},
                                "models": {req.model: {"name": req.model,
                                                       "limit": {"context": 131072, "output": req.max_tokens}}}}},
        "model": f"{PROVIDER}/{req.model}",
        "small_model": f"{PROVIDER}/{req.model}",
        "permission": {"edit": "allow", "bash": "allow", "webfetch": "deny", "external_directory": "deny"},
        "agent": {"build": {"steps": req.max_turns}},
        "autoupdate": False,
        "share": "disabled",
        "lsp": False,
        "formatter": False,
    }


def invocation(req: HarnessRequest, executable: Path) -> Invocation:
    config_path = req.state / "opencode.json"
    env = quiet_env(req.state) | {
        "OPENCODE_CONFIG": str(config_path), "OPENCODE_DISABLE_AUTOUPDATE": "1",
        "OPENCODE_DISABLE_MODELS_FETCH": "1", "OPENCODE_DISABLE_DEFAULT_PLUGINS": "1",
        "OPENCODE_DISABLE_LSP_DOWNLOAD": "1", "OPENCODE_DISABLE_SHARE": "1", "OPENCODE_DISABLE_AUTOCOMPACT": "1",
        "OPENCODE_DISABLE_CLAUDE_CODE": "1",
    }
    argv = [str(executable), "run", req.prompt, "--format", "json", "--model", f"{PROVIDER}/{req.model}",
            "--agent", "build", "--pure"]
    return Invocation(argv, env, {config_path: json.dumps(config(req), indent=2)})


def parse(stdout: str, exit_code: int | None, state: Path) -> HarnessOutcome:
    steps, prompt, completion, texts, errors, step_limit = 0, 0, 0, [], [], False
    saw_tokens = False
    for line in stdout.splitlines():
        try:
            event = json.loads(line)
        except ValueError:
            continue
        if not isinstance(event, dict):
            continue
        part = event.get("part") or {}
        kind = event.get("type")
        if kind == "step_finish":
            steps += 1
            tokens = part.get("tokens") or {}
            if tokens:
                saw_tokens = True
                cache = tokens.get("cache") or {}
                prompt += (tokens.get("input") or 0) + (cache.get("read") or 0) + (cache.get("write") or 0)
                completion += (tokens.get("output") or 0) + (tokens.get("reasoning") or 0)
            step_limit = step_limit or part.get("reason") == "max_steps"
        elif kind == "text" and part.get("text"):
            texts.append(part["text"])
        elif kind == "error":
            errors.append(json.dumps(event.get("error") or event)[:300])
    if errors:
        ended = "harness_error"
    elif exit_code not in (0, None):
        ended = "harness_error"
    else:
        ended = "max_turns" if step_limit else "answer"
    return HarnessOutcome(ended, turns=steps or None, prompt_tokens=prompt if saw_tokens else None,
                          completion_tokens=completion if saw_tokens else None,
                          final_answer=texts[-1] if texts else None,
                          detail="; ".join(errors) or (None if exit_code in (0, None) else f"exit status {exit_code}"))
