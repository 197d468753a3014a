"""One streamed request through the real openai client over real HTTP (the scripted model): the request
deadline a dripping server meets, each server or network fault named as an infra error, the body exactly
as sent, and the figures a turn gets from the client's clock.

The client's clock is scripted (one second a reading), so deadlines and timings are exact, not real time.
"""

import itertools
import socket
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import httpx
import pytest

from orchestrator.agent.chat_client import ChatClient, ChatSettings
from orchestrator.errors import InfraError
from orchestrator.metrics.turn_record import build_turn_record
from tests.helpers.scripted_server import ScriptedModel

USER = [{"role": "user", "content": "Fix the bug."}]


class Clock:
    """Reads 0, 1, 2, ... seconds: each chunk the client reads is one second after the one before."""

    def __init__(self, start=0.0, step=1.0):
        self.readings = itertools.count()
        self.start, self.step = start, step
        self.calls = 0

    def __call__(self):
        self.calls += 1
        return self.start + self.step * next(self.readings)


def complete(turn, clock=None, messages=USER, tools=None, **settings):
    with ScriptedModel([turn]) as model:
        client = ChatClient(model.base_url, ChatSettings(model="scripted", **{"timeout_s": 30, **settings}),
                            clock=clock or Clock())
        return client.complete(messages, tools), model.requests


def test_a_server_dripping_tokens_forever_ends_at_the_request_deadline():
    clock = Clock()
    with pytest.raises(InfraError) as err:
        complete({"drip_s": 30, "token_delay_s": 0.005}, clock=clock, timeout_s=5)
    assert str(err.value) == "request took longer than 5 s"
    # Sent at 0 s, deadline 5 s: the chunks read at 1..5 s are in time, the one read at 6 s is not.
    assert clock.calls == 7


def test_a_stream_whose_last_chunk_lands_on_the_deadline_is_kept():
    # role chunk, 2 content chunks ("abcdefgh" in 4-character tokens), finish, usage: read at 1..5 s.
    result, _ = complete({"content": "abcdefgh"}, timeout_s=5)
    assert (result.content, result.finish_reason) == ("abcdefgh", "stop")
    with pytest.raises(InfraError, match=r"^request took longer than 4 s$"):
        complete({"content": "abcdefgh"}, timeout_s=4)


def test_turn_timings_come_from_the_clients_clock():
    # Readings: sent 0; role 1; content 2, 3, 4; finish 5; usage 6; [DONE] ends the stream; end 7.
    result, requests = complete({"content": "abcdefghijkl"}, clock=Clock(start=100.0))
    m = result.metrics
    assert (m.wall_s, m.ttft_s) == (7.0, 2.0)
    assert m.completion_tokens == 3 and m.decode_tps == pytest.approx((3 - 1) / 2.0)
    assert m.prompt_tokens == len('[{"role": "user", "content": "Fix the bug."}]') // 4


def test_the_result_says_which_seed_and_token_cap_the_request_carried():
    result, requests = complete({"content": "ok"}, seed=1234, max_tokens=777)
    assert (result.seed, result.max_tokens) == (1234, 777)
    assert (requests[0]["seed"], requests[0]["max_tokens"]) == (1234, 777)
    unseeded, requests = complete({"content": "ok"})
    assert (unseeded.seed, unseeded.max_tokens) == (None, 4096)
    assert "seed" not in requests[0]


def test_the_body_on_the_wire_is_exactly_what_the_settings_say():
    tools = [{"type": "function", "function": {"name": "read_file", "parameters": {"type": "object"}}}]
    _, requests = complete({"content": "ok"}, tools=tools, temperature=0.6, top_p=0.95, max_tokens=512, seed=9,
                           top_k=20, min_p=0.05, presence_penalty=1.5, frequency_penalty=0.5,
                           repetition_penalty=1.1, extra_body={"chat_template_kwargs": {"enable_thinking": True}})
    assert requests[0] == {
        "model": "scripted", "messages": USER, "temperature": 0.6, "top_p": 0.95, "max_tokens": 512,
        "stream": True, "stream_options": {"include_usage": True}, "tools": tools, "tool_choice": "auto",
        "seed": 9, "presence_penalty": 1.5, "frequency_penalty": 0.5,
        "top_k": 20, "min_p": 0.05, "repetition_penalty": 1.1, "chat_template_kwargs": {"enable_thinking": True}}


def test_a_request_without_tools_or_extras_sends_only_the_openai_fields():
    _, requests = complete({"content": "ok"})
    assert requests[0] == {"model": "scripted", "messages": USER, "temperature": 0.0, "top_p": 1.0,
                           "max_tokens": 4096, "stream": True, "stream_options": {"include_usage": True}}


def test_an_http_error_is_an_infra_error_naming_the_status_and_is_not_retried_here():
    with ScriptedModel([{"http_error": 503}]) as model:
        client = ChatClient(model.base_url, ChatSettings(model="scripted", timeout_s=30), clock=Clock())
        with pytest.raises(InfraError) as err:
            client.complete(USER, None)
    assert str(err.value).startswith("server answered HTTP 503: ")
    assert "scripted failure" in str(err.value)
    # Retries belong to the whole task run (retried after an infra fault), never to one request.
    assert len(model.requests) == 1


def test_a_refused_connection_is_an_infra_error():
    with socket.socket() as sock:  # a port nobody listens on
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    client = ChatClient(f"http://127.0.0.1:{port}/v1", ChatSettings(model="m", timeout_s=5), clock=Clock())
    with pytest.raises(InfraError, match=r"^connection failed: "):
        client.complete(USER, None)


def test_a_server_silent_past_the_timeout_is_an_infra_error():
    with pytest.raises(InfraError, match=r"^no answer within 0.3 s$"):
        complete({"delay_s": 3, "content": "late"}, timeout_s=0.3)


def test_a_connection_dropped_mid_stream_is_an_infra_error():
    with pytest.raises(InfraError) as err:
        complete({"content": "a long answer that is cut off", "drop": True})
    # The openai client wraps the broken chunked read (httpx's RemoteProtocolError) as a connection error.
    assert str(err.value).startswith("connection failed: ")
    assert "incomplete chunked read" in str(err.value)


def test_the_servers_own_reasoning_token_count_reaches_the_turn_record():
    # 12 characters of reasoning would be 3 tokens by the tokenizer below; the server says 11.
    result, _ = complete({"reasoning": "plan it well", "content": "ok", "reasoning_tokens": 11})
    assert (result.reasoning, result.metrics.usage_reasoning_tokens) == ("plan it well", 11)
    record = build_turn_record({"model": "m", "config_hash": "h", "task": "t", "run": 0}, 1, result, 0, 0, {},
                               lambda text: len(text) // 4, warm=True)
    assert (record.thinking_tokens, record.thinking_tokens_source) == (11, "server_usage")
    without, _ = complete({"reasoning": "plan it well", "content": "ok"})
    record = build_turn_record({"model": "m", "config_hash": "h", "task": "t", "run": 0}, 1, without, 0, 0, {},
                               lambda text: len(text) // 4, warm=True)
    assert (record.thinking_tokens, record.thinking_tokens_source) == (3, "tokenizer")


class _ErrorEventServer:
    """A server that starts streaming, then sends an SSE error event (what llama-server does when a
    request fails after its headers went out) instead of more chunks."""

    def __init__(self):
        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *args):
                pass

            def do_POST(self):
                self.rfile.read(int(self.headers.get("Content-Length") or 0))
                body = (b'data: {"id": "x", "object": "chat.completion.chunk", "created": 0, "model": "m", '
                        b'"choices": [{"index": 0, "delta": {"content": "a"}, "finish_reason": null}]}\n\n'
                        b'data: {"error": {"message": "context  size\\nexceeded", "type": "server_error"}}\n\n')
                self.send_response(200)
                self.send_header("Content-Type", "text/event-stream")
                self.send_header("Content-Length", str(len(body)))
                self.send_header("Connection", "close")
                self.end_headers()
                self.wfile.write(body)

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    def __enter__(self):
        self.thread.start()
        return f"http://127.0.0.1:{self.server.server_address[1]}/v1"

    def __exit__(self, *exc):
        self.server.shutdown()
        self.server.server_close()


def test_an_error_event_inside_the_stream_is_an_infra_error():
    with _ErrorEventServer() as base_url:
        client = ChatClient(base_url, ChatSettings(model="m", timeout_s=30), clock=Clock())
        with pytest.raises(InfraError) as err:
            client.complete(USER, None)
    assert str(err.value) == "server error: context size exceeded"


class _BreakingStream:
    """What an openai client older than this one hands back when the connection drops mid-stream: the
    transport's own httpx error, unwrapped (the installed client wraps it, so this one is faked)."""

    def __init__(self, error):
        self.error = error

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        return False

    def __iter__(self):
        raise self.error


@pytest.mark.parametrize("error, message", [
    (httpx.RemoteProtocolError("peer closed  connection"), "stream broke off: peer closed connection"),
    (httpx.ReadError(""), "stream broke off: ReadError"),
])
def test_a_raw_transport_error_mid_stream_is_an_infra_error(error, message, monkeypatch):
    client = ChatClient("http://127.0.0.1:9/v1", ChatSettings(model="m", timeout_s=30), clock=Clock())
    monkeypatch.setattr(client._client.chat.completions, "create", lambda **kwargs: _BreakingStream(error))
    with pytest.raises(InfraError) as err:
        client.complete(USER, None)
    assert str(err.value) == message
