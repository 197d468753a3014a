"""A real harness (mini-swe-agent, the smallest prompt) against the real llama-server with the embedded
SmolLM2-135M: the model fails the task; the plumbing must not. Every request is metered with the
server's own figures, the run is graded and never an infra_error, and Claude Code on the 8k default is
refused by the server's own context check, which the run reports in the server's words."""

import pytest

from backends import launch
from backends.llamacpp import find_binary
from orchestrator.config import default_config_path, load_config
from orchestrator.harness import registry
from orchestrator.harness.runner import HarnessSettings, run_harness_task
from orchestrator.taskdef import load_task

pytestmark = [pytest.mark.real_server,
              pytest.mark.skipif(find_binary() is None, reason="llama-server not installed (bash scripts/install.sh)")]


def need(name):
    try:
        registry.locate(registry.get(name))
    except Exception as err:  # UserError naming the install command
        pytest.skip(str(err))


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    with launch(load_config(default_config_path()), log_path=tmp_path_factory.mktemp("srv") / "server.log") as s:
        yield s


def test_mini_swe_agent_against_llama_server_is_metered_and_graded(server):
    need("mini-swe-agent")
    # Two turns of at most 48 tokens: minutes on a busy 2-core machine, seconds on a quiet one.
    settings = HarnessSettings("mini-swe-agent", max_turns=2, wall_s=420, max_tokens=48)
    result = run_harness_task(load_task("config_read"), settings, server.base_url, server.model_name)
    assert result.trajectory.ended != "infra_error", result.error
    assert result.grade is not None  # judged on the workspace it left, whatever the model did
    answered = [m for m in result.metered if m.result is not None]
    assert answered, result.harness_log
    first = answered[0].result.metrics
    assert first.ttft_s and first.ttft_s > 0 and first.prompt_tokens > 500  # mini's own ~1k-token prompt
    assert first.server_decode_tps and first.server_prefill_tps  # llama-server's timings, beside ours
    assert first.completion_tokens and first.completion_tokens <= 48 + 1
    assert result.harness_summary["first_request_tools"] == 1


def test_claude_code_over_the_default_window_ends_with_the_servers_reason(server):
    need("claude-code")
    settings = HarnessSettings("claude-code", max_turns=2, wall_s=120, max_tokens=32)
    result = run_harness_task(load_task("config_read"), settings, server.base_url, server.model_name)
    assert result.trajectory.ended != "infra_error"  # a refused request is not a server fault
    assert result.outcome.ended == "harness_error"
    assert "exceeds the available context size" in result.error
    assert result.metered[0].api == "messages" and not result.metered[0].translated  # llama-server has /v1/messages
