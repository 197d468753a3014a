"""A scripted model: an OpenAI-compatible HTTP server on loopback that replays assistant turns.

It also answers Anthropic Messages (/v1/messages) and Responses (/v1/responses) from the same scripts
(tests/helpers/scripted_wire.py), so real coding-agent harnesses can be driven by it.

It speaks the streaming format vLLM, mlx_lm.server and llama-server use (SSE chunks with `delta`,
tool calls streamed as an id+name chunk then argument fragments, a final chunk with `finish_reason`,
usage in a last chunk with no choices when `stream_options.include_usage` is set), so the real loop,
the real openai client and the real tools are exercised over real HTTP.

A script is a list of turns; which turn to play is the number of assistant messages in the request,
so the server keeps no state per conversation and concurrent runs work. Scripts are picked by a key
that appears in the first user message (the task prompt), or one list serves every conversation.

Turn keys: tool_calls [{name, arguments (dict or raw str), id?}], content, reasoning,
reasoning_field ("reasoning" | "reasoning_content"), think_in_content (wrap reasoning in <think> tags
inside the content), finish_reason, delay_s (before the first token), token_delay_s (between chunks),
http_error (status code), drop (break the connection mid-stream), usage ("final" | "none" | "every"),
timings (llama-server style timings), reasoning_tokens (usage reasoning count), drip_s (stream one
content token every `token_delay_s` for this many seconds before finishing: a server that never stops
within any request deadline the client may have), wait_for_peers (hold a streamed answer until that
many are in flight, 10 s at most: shows whether requests really run at once).
"""

from __future__ import annotations

import json
import socket
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from tests.helpers import scripted_wire as wire

Turn = dict[str, Any]


def _pieces(text: str, size: int = 4) -> list[str]:
    """Split text into token-sized pieces: each piece is streamed as one chunk, one 'token'."""
    return [text[i:i + size] for i in range(0, len(text), size)]


class ScriptedModel:
    def __init__(self, scripts: dict[str, list[Turn]] | list[Turn], model: str = "scripted",
                 final_content: str = "Done.", port: int = 0, without: tuple[str, ...] = (),
                 count_by: str = "assistant_messages"):
        self.scripts = scripts
        self.count_by = count_by
        """How the turn to play is found: assistant messages in the request, or (for real harnesses,
        which merge their history) "tool_results": turns whose calls all came back answered."""
        self.without = set(without)
        """Endpoints to answer 404, like a server that lacks them (mlx_lm.server: /v1/messages)."""
        self.paths: list[str] = []
        """The endpoint of each request in `requests`."""
        self.model = model
        self.final_content = final_content
        self.requests: list[dict[str, Any]] = []
        self.on_request = None
        """Called with the number of chat requests so far (the stand-in server dies on cue with it)."""
        self._lock = threading.Lock()
        self._flight = threading.Condition()
        self.in_flight = 0
        self.max_in_flight = 0
        """Streamed chat requests being answered at once, now and at most (what --concurrency does)."""
        self._server = ThreadingHTTPServer(("127.0.0.1", port), self._handler())
        self._server.daemon_threads = True
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self._server.server_address[1]}/v1"

    def __enter__(self) -> "ScriptedModel":
        self._thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self._server.shutdown()
        self._server.server_close()

    def turn_for(self, messages: list[dict[str, Any]]) -> Turn:
        script = self.scripts
        if isinstance(script, dict):
            first_user = next((m.get("content") or "" for m in messages if m.get("role") == "user"), "")
            script = next((s for key, s in script.items() if key in first_user), [])
        if self.count_by == "tool_results":
            index = wire.answered_turns(script, messages)
        else:
            index = sum(1 for m in messages if m.get("role") == "assistant")
        return script[index] if index < len(script) else {"content": self.final_content}

    # ---- HTTP ----
    def _handler(self):
        model = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *args):  # keep test output clean
                pass

            def setup(self):
                super().setup()
                # Without it Nagle's algorithm holds small SSE writes back ~40 ms, faking a slow model.
                self.connection.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)

            def _json(self, status: int, body: dict[str, Any]) -> None:
                data = json.dumps(body).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.send_header("Connection", "close")
                self.end_headers()
                self.wfile.write(data)

            def do_GET(self):
                if self.path.rstrip("/") in ("/health", "/v1/health"):
                    return self._json(200, {"status": "ok"})
                if self.path.rstrip("/") == "/v1/models":
                    return self._json(200, {"object": "list", "data": [{"id": model.model, "object": "model"}]})
                self._json(404, {"error": "not found"})

            def do_POST(self):
                length = int(self.headers.get("Content-Length") or 0)
                body = json.loads(self.rfile.read(length) or b"{}")
                path = self.path.split("?")[0].rstrip("/")
                as_chat = {"/v1/chat/completions": lambda b: b.get("messages") or [],
                           "/v1/messages": wire.messages_as_chat, "/v1/responses": wire.responses_as_chat}
                if path not in as_chat or path in model.without:
                    return self._json(404, {"error": "not found"})
                if not body.get("messages") and not body.get("input"):
                    return self._json(400, {"error": {"message": "no messages"}})  # what a probe gets
                with model._lock:
                    model.requests.append(body)
                    if model.on_request:
                        model.on_request(len(model.requests))
                    model.paths.append(path)
                turn = wire.fill_cwd(model.turn_for(as_chat[path](body)), body)
                if turn.get("http_error"):
                    return self._json(turn["http_error"], {"error": {"message": "scripted failure"}})
                if path != "/v1/chat/completions":
                    return self._other_format(path, body, turn)
                if not body.get("stream"):
                    return self._json(200, _completion(model.model, body, turn))
                self._stream(body, turn)

            def _other_format(self, path, body, turn):
                tokens = max(1, len(json.dumps(body)) // 4)
                if path == "/v1/messages" and not body.get("stream"):
                    return self._json(200, wire.messages_json(model.model, turn, tokens))
                events = (wire.messages_events(model.model, body, turn, tokens) if path == "/v1/messages"
                          else wire.responses_events(model.model, turn, tokens))
                self.send_response(200)
                self.send_header("Content-Type", "text/event-stream")
                self.send_header("Transfer-Encoding", "chunked")
                self.send_header("Connection", "close")
                self.end_headers()
                try:
                    for name, event in events:
                        data = f"event: {name}\ndata: {json.dumps(event)}\n\n".encode()
                        self.wfile.write(f"{len(data):x}\r\n".encode() + data + b"\r\n")
                        self.wfile.flush()
                    self.wfile.write(b"0\r\n\r\n")
                except (BrokenPipeError, ConnectionResetError):
                    pass

            def _stream(self, body, turn):
                with model._flight:
                    model.in_flight += 1
                    model.max_in_flight = max(model.max_in_flight, model.in_flight)
                    model._flight.notify_all()
                    # wait_for_peers: hold the answer until that many requests are in flight (10 s at most).
                    model._flight.wait_for(lambda: model.in_flight >= turn.get("wait_for_peers", 0), timeout=10)
                try:
                    self._stream_events(body, turn)
                finally:
                    with model._flight:
                        model.in_flight -= 1

            def _stream_events(self, body, turn):
                self.send_response(200)
                self.send_header("Content-Type", "text/event-stream")
                self.send_header("Transfer-Encoding", "chunked")
                self.send_header("Connection", "close")
                self.end_headers()
                include_usage = (body.get("stream_options") or {}).get("include_usage")
                try:
                    for i, event in enumerate(_events(model.model, body, turn, include_usage)):
                        if turn.get("drop") and i == 3:
                            self.connection.shutdown(socket.SHUT_RDWR)  # mid-stream, no terminator
                            return
                        data = f"data: {json.dumps(event) if event != '[DONE]' else event}\n\n".encode()
                        self.wfile.write(f"{len(data):x}\r\n".encode() + data + b"\r\n")
                        self.wfile.flush()
                    self.wfile.write(b"0\r\n\r\n")
                except (BrokenPipeError, ConnectionResetError):
                    pass

        return Handler


def _prompt_tokens(body: dict[str, Any]) -> int:
    return max(1, len(json.dumps(body.get("messages") or [])) // 4)


def _deltas(turn: Turn) -> list[dict[str, Any]]:
    """The turn as a list of single-token deltas."""
    deltas: list[dict[str, Any]] = []
    reasoning = turn.get("reasoning") or ""
    content = turn.get("content") or ""
    if reasoning and turn.get("think_in_content"):
        content = f"<think>{reasoning}</think>{content}"
        reasoning = ""
    field = turn.get("reasoning_field", "reasoning")
    deltas += [{field: p} for p in _pieces(reasoning)]
    deltas += [{"content": p} for p in _pieces(content)]
    for index, call in enumerate(turn.get("tool_calls") or []):
        args = call.get("arguments", {})
        raw = args if isinstance(args, str) else json.dumps(args)
        head = {"index": index, "id": call.get("id", f"call_{index}_{abs(hash(raw)) % 10**6}"),
                "type": "function", "function": {"name": call["name"], "arguments": ""}}
        deltas.append({"tool_calls": [head]})
        deltas += [{"tool_calls": [{"index": index, "function": {"arguments": p}}]} for p in _pieces(raw, 16)]
    return deltas


def _usage(body, turn, completion: int) -> dict[str, Any]:
    usage: dict[str, Any] = {"prompt_tokens": _prompt_tokens(body), "completion_tokens": completion,
                             "total_tokens": _prompt_tokens(body) + completion}
    if turn.get("reasoning_tokens") is not None:
        usage["completion_tokens_details"] = {"reasoning_tokens": turn["reasoning_tokens"]}
    return usage


def _events(model: str, body, turn: Turn, include_usage: bool):
    created = int(time.time())
    base = {"id": "chatcmpl-scripted", "object": "chat.completion.chunk", "created": created, "model": model}
    deltas = _deltas(turn)
    time.sleep(turn.get("delay_s", 0))
    yield {**base, "choices": [{"index": 0, "delta": {"role": "assistant"}, "finish_reason": None}]}
    if turn.get("drip_s"):
        until = time.monotonic() + turn["drip_s"]
        while time.monotonic() < until:  # the client going away ends it with a broken pipe
            yield {**base, "choices": [{"index": 0, "delta": {"content": "la "}, "finish_reason": None}]}
            time.sleep(turn.get("token_delay_s", 0.05))
    for n, delta in enumerate(deltas, 1):
        if n > 1:
            time.sleep(turn.get("token_delay_s", 0))
        event = {**base, "choices": [{"index": 0, "delta": delta, "finish_reason": None}]}
        if turn.get("usage") == "every":
            event["usage"] = _usage(body, turn, n)
        yield event
    finish = turn.get("finish_reason") or ("tool_calls" if turn.get("tool_calls") else "stop")
    final = {**base, "choices": [{"index": 0, "delta": {}, "finish_reason": finish}]}
    if turn.get("timings"):
        final["timings"] = {"prompt_n": _prompt_tokens(body), "prompt_per_second": 1000.0,
                            "predicted_n": len(deltas), "predicted_per_second": 100.0}
    yield final
    if include_usage and turn.get("usage", "final") != "none":
        yield {**base, "choices": [], "usage": _usage(body, turn, len(deltas))}
    yield "[DONE]"


def _completion(model: str, body, turn: Turn) -> dict[str, Any]:
    """Non-streaming answer (readiness probes send these)."""
    calls = [{"id": f"call_{i}", "type": "function",
              "function": {"name": c["name"], "arguments": c["arguments"] if isinstance(c["arguments"], str)
                           else json.dumps(c["arguments"])}} for i, c in enumerate(turn.get("tool_calls") or [])]
    message: dict[str, Any] = {"role": "assistant", "content": turn.get("content") or ""}
    if calls:
        message["tool_calls"] = calls
    return {"id": "chatcmpl-scripted", "object": "chat.completion", "created": int(time.time()), "model": model,
            "choices": [{"index": 0, "message": message, "finish_reason": "tool_calls" if calls else "stop"}],
            "usage": _usage(body, turn, len(_deltas(turn)))}


def trajectory_script(path) -> list[Turn]:
    """A task's trajectory file ({"turns": [...]}) as a script for the scripted model."""
    data = json.loads(open(path, encoding="utf-8").read())
    return list(data["turns"])
