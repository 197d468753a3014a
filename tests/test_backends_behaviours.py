"""Backend behaviours a user meets, pinned by exact results: the flags each server is launched with,
the request fields a thinking budget travels in, token counting through /tokenize, readiness that
needs a real 1-token answer, the API key an attached server gets, the GPU memory vLLM may use, the
load time recorded, and a server that ignores SIGTERM killed right after the grace period.

The servers here are tiny loopback HTTP stand-ins (`Endpoint` below) that answer what a test sets and
record every request with its headers; NVML is a stand-in object because no GPU is here; the
lifecycle tests start the stand-in llama-server (tests/helpers/standin_server.py).
"""

import json
import subprocess
import sys
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

import backends.base as base
import backends.llamacpp as llamacpp_module
import backends.vllm as vllm_module
from backends.base import one_token_request, wait_ready
from backends.registry import get_backend
from backends.server import ModelServer
from orchestrator.config import parse_config
from orchestrator.errors import InfraError, UserError
from orchestrator.units import GIB
from tests.test_backends_faults import standin_config


class Endpoint:
    """A loopback HTTP server: `answers[(method, path)] = (status, json body)`; records every request."""

    def __init__(self, answers):
        self.answers = dict(answers)
        self.requests = []
        endpoint = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args):
                pass

            def _answer(self, method, body):
                endpoint.requests.append({"method": method, "path": self.path, "body": body,
                                          "headers": {k.lower(): v for k, v in self.headers.items()}})
                status, data = endpoint.answers.get((method, self.path), (404, {"error": "not found"}))
                raw = json.dumps(data).encode() if not isinstance(data, str) else data.encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(raw)))
                self.end_headers()
                self.wfile.write(raw)

            def do_GET(self):
                self._answer("GET", None)

            def do_POST(self):
                length = int(self.headers.get("Content-Length") or 0)
                self._answer("POST", json.loads(self.rfile.read(length) or b"null"))

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    @property
    def root(self) -> str:
        return f"http://127.0.0.1:{self.server.server_address[1]}"

    def __enter__(self):
        self.thread.start()
        return self

    def __exit__(self, *exc):
        self.server.shutdown()
        self.server.server_close()

    def posts(self, path):
        return [r for r in self.requests if r["method"] == "POST" and r["path"] == path]


def config(backend, section, **top):
    data = {"name": "m", "backend": backend, "context_length": 8192, backend: section, **top}
    return parse_config(data, "/nowhere/m.yaml")


def flag(argv, name):
    return argv[argv.index(name) + 1]


# ---- launch commands ----------------------------------------------------------------------------

def test_llama_server_offloads_exactly_the_layers_and_threads_the_config_names_zero_included():
    llama = get_backend("llamacpp")
    argv = llama.build_command(config("llamacpp", {"model": "/w/m.gguf", "executable": ["llama-server"],
                                                   "n_gpu_layers": 0, "threads": 3}), 9001)
    assert argv[:3] == ["llama-server", "-m", "/w/m.gguf"]
    assert flag(argv, "-ngl") == "0"  # 0 = keep every layer on the CPU: a real choice, not "unset"
    assert flag(argv, "-t") == "3"
    assert flag(argv, "--port") == "9001" and flag(argv, "--host") == "127.0.0.1"
    unset = llama.build_command(config("llamacpp", {"model": "/w/m.gguf", "executable": ["llama-server"]}), 9001)
    assert "-ngl" not in unset and "-t" not in unset


def test_llama_server_context_is_the_window_times_the_slots_the_config_asks_for():
    argv = get_backend("llamacpp").build_command(
        config("llamacpp", {"model": "/w/m.gguf", "executable": ["llama-server"], "parallel": 2}), 9001)
    assert flag(argv, "--parallel") == "2" and flag(argv, "-c") == str(8192 * 2)


def test_vllm_allocates_max_model_len_over_the_context_and_passes_every_named_switch():
    argv = get_backend("vllm").build_command(config("vllm", {
        "model": "org/model", "tool_call_parser": "hermes", "reasoning_parser": "qwen3", "max_model_len": 4096,
        "trust_remote_code": True, "enable_per_request_metrics": True, "distributed_executor_backend": "ray",
        "tensor_parallel_size": 2, "pipeline_parallel_size": 3, "gpu_memory_utilization": 0.5}), 9002)
    assert argv[:3] == ["vllm", "serve", "org/model"]
    assert flag(argv, "--max-model-len") == "4096"
    assert flag(argv, "--reasoning-parser") == "qwen3" and flag(argv, "--tool-call-parser") == "hermes"
    assert flag(argv, "--distributed-executor-backend") == "ray"
    assert flag(argv, "--tensor-parallel-size") == "2" and flag(argv, "--pipeline-parallel-size") == "3"
    assert flag(argv, "--gpu-memory-utilization") == "0.5"
    assert flag(argv, "--served-model-name") == "m"
    assert "--trust-remote-code" in argv and "--enable-per-request-metrics" in argv
    plain = get_backend("vllm").build_command(config("vllm", {"model": "org/model", "tool_call_parser": "hermes"}), 9002)
    assert flag(plain, "--max-model-len") == "8192"
    assert "--reasoning-parser" not in plain and "--trust-remote-code" not in plain
    assert "--enable-per-request-metrics" not in plain and "--distributed-executor-backend" not in plain


def test_vllm_refuses_a_parser_its_help_does_not_list(monkeypatch):
    help_text = "--tool-call-parser {hermes,mistral}  --reasoning-parser {qwen3,deepseek_r1}"
    monkeypatch.setattr(vllm_module, "serve_help", lambda prefix: help_text)
    vllm = get_backend("vllm")
    vllm.check_parsers(config("vllm", {"model": "org/m", "tool_call_parser": "hermes", "reasoning_parser": "qwen3"}))
    with pytest.raises(Exception, match="'qwen3_coder' is not one this vLLM knows"):
        vllm.check_parsers(config("vllm", {"model": "org/m", "tool_call_parser": "qwen3_coder"}))
    with pytest.raises(Exception, match="vllm.reasoning_parser: 'gemma4'"):
        vllm.check_parsers(config("vllm", {"model": "org/m", "tool_call_parser": "hermes", "reasoning_parser": "gemma4"}))


def test_mlx_serves_the_resolved_weights_and_sends_template_switches_on_its_command_line(tmp_path):
    weights = tmp_path / "weights"
    weights.mkdir()
    cfg = parse_config({"name": "m", "backend": "mlx", "context_length": 8192,
                        "chat_template_kwargs": {"enable_thinking": False},
                        "mlx": {"model": "weights", "prompt_cache_bytes": 1000}}, tmp_path / "m.yaml")
    mlx = get_backend("mlx")
    assert mlx.model_name(cfg) == str(weights)  # mlx_lm.server answers 404 to any other model name
    argv = mlx.build_command(cfg, 9003)
    assert flag(argv, "--model") == str(weights)
    assert json.loads(flag(argv, "--chat-template-args")) == {"enable_thinking": False}
    assert flag(argv, "--prompt-cache-bytes") == "1000"
    assert mlx.request_extras(cfg) == {}  # on the command line, not in each request


def test_concurrent_mlx_runs_go_unseeded_so_mlx_lm_server_batches_them():
    mlx = get_backend("mlx")
    cfg = config("mlx", {"model": "org/m"}, sampling={"seed": 7})
    assert mlx.with_slots(cfg, 1) is cfg
    together = mlx.with_slots(cfg, 4)
    assert together.sampling.seed is None
    assert together.sampling.model_copy(update={"seed": 7}) == cfg.sampling  # nothing else changes
    assert together.path == cfg.path


def test_request_extras_carry_the_template_switches_to_servers_that_read_them_per_request():
    kwargs = {"chat_template_kwargs": {"enable_thinking": True}}
    assert get_backend("llamacpp").request_extras(config("llamacpp", {"model": "/w/m.gguf"}, **kwargs)) == kwargs
    assert get_backend("vllm").request_extras(config("vllm", {"model": "o/m", "tool_call_parser": "hermes"}, **kwargs)) == kwargs
    assert get_backend("llamacpp").request_extras(config("llamacpp", {"model": "/w/m.gguf"})) == {}


def test_the_configs_own_environment_wins_over_what_the_backend_sets(tmp_path, monkeypatch):
    monkeypatch.setenv("HF_HUB_CACHE", str(tmp_path / "hub"))
    cfg = config("mlx", {"model": "org/m", "env": {"HF_HUB_CACHE": "/mine", "OMP_NUM_THREADS": "2"}})
    env = get_backend("mlx").environment(cfg)
    assert env["HF_HUB_CACHE"] == "/mine" and env["OMP_NUM_THREADS"] == "2"
    assert get_backend("mlx").environment(config("mlx", {"model": "org/m"}))["HF_HUB_CACHE"] == str(tmp_path / "hub")


# ---- thinking budgets and token counts ------------------------------------------------------------

def test_a_thinking_budget_travels_in_the_field_each_server_reads():
    assert get_backend("llamacpp").thinking_budget(512) == {"thinking_budget_tokens": 512}
    assert get_backend("vllm").thinking_budget(512) == {"thinking_token_budget": 512}
    assert get_backend("mlx").thinking_budget(512) is None
    assert get_backend("openai").thinking_budget(512) is None


def test_llama_server_counts_tokens_as_the_length_of_its_tokenize_list():
    with Endpoint({("POST", "/tokenize"): (200, {"tokens": [5, 6, 7, 8]})}) as server:
        assert get_backend("llamacpp").tokenize(server.root + "/v1", "m", "some text") == 4
        assert server.posts("/tokenize")[0]["body"] == {"content": "some text"}


def test_vllm_counts_tokens_from_its_count_field_naming_the_model():
    with Endpoint({("POST", "/tokenize"): (200, {"count": 11, "tokens": [1, 2], "max_model_len": 8192})}) as server:
        assert get_backend("vllm").tokenize(server.root + "/v1", "served", "hello") == 11
        assert server.posts("/tokenize")[0]["body"] == {"model": "served", "prompt": "hello"}


def test_a_tokenize_endpoint_that_fails_gives_no_count_not_zero():
    with Endpoint({("POST", "/tokenize"): (500, "oops")}) as server:
        assert get_backend("llamacpp").tokenize(server.root + "/v1", "m", "x") is None


# ---- readiness and attached servers -------------------------------------------------------------

def test_one_token_request_sends_the_key_and_reports_a_refusal_with_its_status():
    with Endpoint({("POST", "/v1/chat/completions"): (503, {"error": "loading"})}) as server:
        problem = one_token_request(server.root + "/v1", "m", timeout=5, extras={"x": 1}, api_key="sk-1")
        assert problem.startswith("HTTP 503")
        sent = server.posts("/v1/chat/completions")[0]
        assert sent["headers"]["authorization"] == "Bearer sk-1"
        assert sent["body"]["max_tokens"] == 1 and sent["body"]["model"] == "m" and sent["body"]["x"] == 1
        server.answers[("POST", "/v1/chat/completions")] = (200, {"choices": []})
        assert one_token_request(server.root + "/v1", "m", timeout=5) is None
        assert "authorization" not in server.posts("/v1/chat/completions")[1]["headers"]


def test_a_server_answering_health_but_not_a_real_request_is_never_ready(tmp_path, monkeypatch):
    # mlx_lm.server says ok on /health before its model is loaded: only a real 1-token answer counts.
    monkeypatch.setattr(base, "listens_in_tree", lambda pid, port: None)
    sleeper = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(60)"])
    try:
        with Endpoint({("GET", "/health"): (200, {"status": "ok"}),
                       ("POST", "/v1/chat/completions"): (503, {"error": "Loading model"})}) as server:
            started = time.monotonic()
            with pytest.raises(InfraError, match="not ready .*HTTP 503"):
                wait_ready(sleeper, server.root + "/v1", "m", started + 3.0, tmp_path / "log", ["srv"], started, {})
            assert server.posts("/v1/chat/completions"), "readiness never asked for a real answer"
    finally:
        sleeper.kill()
        sleeper.wait()


def test_an_attached_server_gets_the_api_key_from_the_named_variable(monkeypatch):
    monkeypatch.setenv("MY_KEY", "sk-test")
    with Endpoint({("GET", "/v1/models"): (200, {"data": []}),
                   ("POST", "/v1/chat/completions"): (200, {"choices": []})}) as server:
        cfg = config("openai", {"base_url": server.root + "/v1", "served_model": "remote", "api_key_env": "MY_KEY"})
        attached = get_backend("openai").attach(cfg)
        assert (attached.base_url, attached.model_name, attached.api_key) == (server.root + "/v1", "remote", "sk-test")
        probe = server.posts("/v1/chat/completions")[0]
        assert probe["headers"]["authorization"] == "Bearer sk-test" and probe["body"]["model"] == "remote"


def test_an_attached_server_that_answers_models_but_fails_a_request_is_refused():
    with Endpoint({("GET", "/v1/models"): (200, {"data": []}),
                   ("POST", "/v1/chat/completions"): (404, {"error": "model 'remote' not found"})}) as server:
        cfg = config("openai", {"base_url": server.root + "/v1", "served_model": "remote"})
        with pytest.raises(InfraError, match="1-token request for 'remote' failed: HTTP 404"):
            get_backend("openai").attach(cfg)


def test_an_attached_server_is_alive_while_it_answers_and_dead_once_it_stops():
    server = Endpoint({("GET", "/v1/models"): (200, {"data": []}),
                       ("POST", "/v1/chat/completions"): (200, {"choices": []})})
    with server:
        model = ModelServer(config("openai", {"base_url": server.root + "/v1", "served_model": "remote"})).start()
        assert model.launched is False and model.pid is None
        assert model.is_alive() is True
    assert model.is_alive() is False


# ---- what vLLM may use ---------------------------------------------------------------------------

class FakeNvml:
    """NVML's answers for two GPUs (no GPU here)."""

    def __init__(self, totals):
        self.totals = totals

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        pass

    def devices(self):
        return [{"index": i, "memory_total_bytes": t, "memory_used_bytes": 0} for i, t in enumerate(self.totals)]


def test_vllm_capacity_is_the_memory_of_every_gpu_together(monkeypatch):
    monkeypatch.setattr(vllm_module.Nvml, "open", classmethod(lambda cls: FakeNvml([80 * GIB, 24 * GIB])))
    assert get_backend("vllm").capacity_gb(config("vllm", {"model": "o/m", "tool_call_parser": "hermes"})) == \
        (104.0, "GPU memory (NVML)")
    monkeypatch.setattr(vllm_module.Nvml, "open", classmethod(lambda cls: None))
    assert get_backend("vllm").capacity_gb(config("vllm", {"model": "o/m", "tool_call_parser": "hermes"})) == \
        (None, "GPU memory unknown")


def test_load_time_is_the_seconds_from_launch_to_ready(tmp_path):
    before = time.monotonic()
    with ModelServer(standin_config("ok"), tmp_path / "s.log") as server:
        took = time.monotonic() - before
        assert 0 < server.load_s <= took
        assert server.pid is not None and server.is_alive()


def test_a_server_ignoring_sigterm_is_killed_as_soon_as_the_grace_period_ends(tmp_path):
    server = ModelServer(standin_config("ignore_sigterm"), tmp_path / "s.log", stop_grace_s=1.0).start()
    process = server.process
    began = time.monotonic()
    server.stop()
    # SIGKILL right after the 1 s grace; not the 30 s a big process is given to be torn down after it
    assert time.monotonic() - began < 20
    assert process.returncode == -9 and server.pid is None and server.is_alive() is False


def test_llama_server_is_refused_a_model_that_is_not_a_gguf_file_here(tmp_path, monkeypatch):
    monkeypatch.setattr(llamacpp_module, "find_binary", lambda: "/usr/bin/true")
    (tmp_path / "m.gguf").write_bytes(b"GGUF")
    (tmp_path / "m.bin").write_bytes(b"weights")
    llama = get_backend("llamacpp")
    llama.check_installed(parse_config({"name": "m", "backend": "llamacpp", "context_length": 4096,
                                        "llamacpp": {"model": "m.gguf"}}, tmp_path / "m.yaml"))
    for model in ("m.bin", "missing.gguf"):
        cfg = parse_config({"name": "m", "backend": "llamacpp", "context_length": 4096, "llamacpp": {"model": model}},
                           tmp_path / "m.yaml")
        with pytest.raises(UserError, match=f"llamacpp.model: '{model}' is not a GGUF file here"):
            llama.check_installed(cfg)
