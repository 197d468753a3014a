"""The metering proxy: between a harness and the model server, one record per model request.

It listens on a unix socket (the sandboxed harness reaches it through bridge.py and nothing else) and
serves chat completions, Anthropic Messages and Responses. Toward the server it always streams, so the
first token is timed from the streamed events (llama-server sends bytes long before the first token
during a long prefill); a harness that asked for a whole answer gets one rebuilt from the stream.
Where the server lacks `/v1/messages` (mlx_lm.server), Messages requests are translated to chat
completions; where it lacks `/v1/responses`, Responses requests are refused with a message that says so.
"""

from __future__ import annotations

import contextlib
import json
import os
import socket
import socketserver
import threading
import time
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler
from pathlib import Path
from typing import Any, Callable

import httpx

from orchestrator.agent.stream import StreamAccumulator, TurnResult
from orchestrator.harness import wire_chat, wire_messages
from orchestrator.harness.tool_outputs import tool_results
from orchestrator.harness.wire_responses import ResponsesStreamNormalizer

MAX_REQUEST_BYTES = 64 * 2**20
"""A harness request bigger than this is refused (a runaway conversation, not a model turn)."""
METERED = {"/chat/completions": "chat", "/messages": "messages", "/responses": "responses"}


@dataclass
class Metered:
    """One model request as the proxy saw it."""

    api: str
    """chat, messages or responses: what the harness spoke."""
    translated: bool
    """True when the server was spoken to in another format than the harness's."""
    request_bytes: int
    tools_offered: int
    result: TurnResult | None
    """The answer; for a request cut mid-way, what had come until then (finish_reason None)."""
    error: str | None = None
    client_streamed: bool = True
    tool_results: dict[str, str] = field(default_factory=dict)
    """Tool call id -> the output the harness sent back to the model in this request."""
    server_fault: bool = False
    """The server failed (5xx, connection lost, timeout): an infrastructure fault, retried, never scored.
    A 4xx (a request the server refuses, e.g. longer than its context) is the harness's and the model's."""


class _UnixHTTPServer(socketserver.ThreadingMixIn, socketserver.UnixStreamServer):
    daemon_threads = True
    block_on_close = False  # the proxy waits for its requests itself, with a bound (see __exit__)


class MeteringProxy:
    def __init__(self, upstream_base_url: str, socket_path: Path, served_model: str,
                 on_request: Callable[[Metered], None], timeout_s: float = 600.0,
                 extra_body: dict[str, Any] | None = None):
        self.upstream = upstream_base_url.rstrip("/")
        self.socket_path = Path(socket_path)
        self.served_model = served_model
        self.on_request = on_request
        self.timeout_s = timeout_s
        self.extra_body = dict(extra_body or {})
        """Added to every chat-completion request sent upstream (the config's chat_template_kwargs...)."""
        self._has: dict[str, bool] = {}
        self._lock = threading.Lock()
        self._probe_lock = threading.Lock()
        self._client = httpx.Client(timeout=httpx.Timeout(timeout_s, connect=10.0))
        self.callback_errors: list[BaseException] = []
        """Exceptions raised by `on_request` (a fault of ours, not the harness's): re-raised by the runner."""
        self._server: _UnixHTTPServer | None = None
        self._in_flight: set[httpx.Response] = set()
        self.closing = False
        self._handling = 0
        self._idle = threading.Condition(self._lock)
        """Set when the harness has ended: answers still streaming are cut, not blamed on the server."""
        self._thread: threading.Thread | None = None

    # ---- lifecycle ----
    def __enter__(self) -> "MeteringProxy":
        if self.socket_path.exists():
            self.socket_path.unlink()
        self._server = _UnixHTTPServer(str(self.socket_path), _handler(self))
        os.chmod(self.socket_path, 0o600)
        self._thread = threading.Thread(target=self._server.serve_forever, kwargs={"poll_interval": 0.05},
                                        daemon=True)
        self._thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self.closing = True
        with self._lock:
            in_flight = list(self._in_flight)
        for resp in in_flight:  # a killed harness's last request must not keep the server generating
            _cut(resp)
        self._client.close()
        # Let the cut requests be recorded. Bounded: a request still waiting for the server's first
        # bytes cannot be cut from here (llama-server sends them early, even during a long prefill);
        # it is recorded, late, when its answer comes.
        with self._idle:
            self._idle.wait_for(lambda: self._handling == 0, timeout=3)
        if self._server:
            self._server.shutdown()
            self._server.server_close()
        self.socket_path.unlink(missing_ok=True)

    def record(self, metered: Metered) -> None:
        try:
            self.on_request(metered)
        except Exception as err:  # noqa: BLE001 - kept and re-raised outside the handler thread
            self.callback_errors.append(err)

    @contextlib.contextmanager
    def tracking(self, resp: httpx.Response):
        with self._lock:
            self._in_flight.add(resp)
        try:
            yield
        finally:
            with self._lock:
                self._in_flight.discard(resp)

    # ---- what the server serves ----
    def serves(self, path: str) -> bool:
        """Whether the server has this endpoint: an empty POST is refused (400/422) if it does, 404 if not."""
        with self._probe_lock:
            if path not in self._has:
                try:
                    status = self._client.post(self.upstream + path, json={}, timeout=10).status_code
                    self._has[path] = status not in (404, 405, 501)
                except httpx.HTTPError:
                    self._has[path] = False
            return self._has[path]


def _handler(proxy: MeteringProxy):
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def log_message(self, *args):
            pass

        def address_string(self) -> str:  # a unix socket has no client address
            return "sandbox"

        def do_GET(self):
            path = self.path.split("?")[0].removeprefix("/v1")
            if path in ("/models", "/models/"):
                return self._json(200, {"object": "list", "data": [{"id": proxy.served_model, "object": "model",
                                                                   "type": "model", "display_name": proxy.served_model}]})
            self._json(404, {"error": {"message": f"not served through the siliconbench proxy: {self.path}"}})

        def do_HEAD(self):
            self.send_response(200)
            self.send_header("Content-Length", "0")
            self.end_headers()

        def do_POST(self):
            length = int(self.headers.get("Content-Length") or 0)
            if length > MAX_REQUEST_BYTES:
                # Its body stays unread: this connection cannot carry another request after the answer.
                self.close_connection = True
                return self._json(413, {"error": {"message": "request too large for the siliconbench proxy"}})
            raw = self.rfile.read(length)
            try:
                body = json.loads(raw or b"{}")
            except ValueError:
                return self._json(400, {"error": {"message": "request body is not JSON"}})
            path = self.path.split("?")[0].removeprefix("/v1").rstrip("/")
            if path == "/messages/count_tokens":
                return self._count_tokens(body, raw)
            api = METERED.get(path)
            if api is None:
                return self._json(404, {"error": {"message": f"not served through the siliconbench proxy: {self.path}"}})
            with proxy._idle:
                proxy._handling += 1
            try:
                self._metered(api, body, len(raw))
            finally:
                with proxy._idle:
                    proxy._handling -= 1
                    proxy._idle.notify_all()

        # ---- the metered request ----
        def _metered(self, api: str, body: dict[str, Any], size: int) -> None:
            client_stream = bool(body.get("stream"))
            body = dict(body, model=proxy.served_model)  # a harness's own model names mean nothing here
            translated = False
            if api == "messages" and not proxy.serves("/messages"):
                translated, upstream_path = True, "/chat/completions"
                upstream_body = wire_chat.streaming_request(wire_messages.chat_request_from_messages(body))
            elif api == "responses" and not proxy.serves("/responses"):
                message = ("this model server has no /v1/responses endpoint, and the siliconbench proxy does not "
                           "translate Responses: run this harness against llama-server or vLLM")
                proxy.record(Metered(api, False, size, len(body.get("tools") or []), None, message))
                return self._json(501, {"error": {"message": message}})
            elif api == "chat":
                upstream_path, upstream_body = "/chat/completions", wire_chat.streaming_request(body)
            else:
                upstream_path, upstream_body = "/" + api.split("/")[-1], dict(body, stream=True)
            if upstream_path == "/chat/completions":
                upstream_body = {**proxy.extra_body, **upstream_body}
            relay = client_stream and not translated
            record = Metered(api, translated, size, len(body.get("tools") or []), None,
                             client_streamed=client_stream, tool_results=tool_results(api, body))
            try:
                record.result = self._stream_upstream(api if not translated else "chat", upstream_path,
                                                      upstream_body, relay)
            except _UpstreamFailed as err:
                record.error, record.server_fault = err.message, not 400 <= err.status < 500
                record.result = err.partial
                proxy.record(record)  # first, as for an answer: the harness may act at once on the error
                if err.answered:
                    if err.status == 499:  # cut: the harness is going; end the connection, not just this answer
                        self.close_connection = True
                        return None
                    return self._end_chunked()
                if err.body is not None:  # the server's own error, as it sent it
                    return self._raw(err.status, err.body, err.content_type)
                return self._json(err.status, {"error": {"message": err.message}})
            proxy.record(record)  # before the harness sees the answer end: records keep request order
            if relay:
                return self._end_chunked()
            if api == "messages" and client_stream:
                self._events(b"".join(wire_messages.messages_events(record.result, proxy.served_model)))
            elif api == "messages":
                self._json(200, wire_messages.messages_json(record.result, proxy.served_model))
            else:
                self._json(200, wire_chat.chat_json(record.result, proxy.served_model))

        def _stream_upstream(self, api: str, path: str, body: dict[str, Any], relay: bool) -> TurnResult:
            normalizer = {"messages": wire_messages.MessagesStreamNormalizer,
                          "responses": ResponsesStreamNormalizer}.get(api)
            norm = normalizer() if normalizer else None
            acc = StreamAccumulator(t_sent=time.perf_counter())
            started = False  # relayed bytes already went out: an error can only end the stream
            try:
                with proxy._client.stream("POST", proxy.upstream + path, json=body) as resp, proxy.tracking(resp):
                    if resp.status_code >= 400:
                        data = resp.read()[:64 * 1024]
                        text = data.decode("utf-8", "replace")
                        raise _UpstreamFailed(resp.status_code, f"server answered HTTP {resp.status_code}: {text[:300]}",
                                              answered=False, body=data, content_type=resp.headers.get("content-type"))
                    if relay:
                        self._start_chunked()
                        started = True
                    for line in resp.iter_lines():
                        now = time.perf_counter()
                        if relay:
                            self._chunk((line + "\n").encode())
                        if not line.startswith("data:"):
                            continue
                        data = line[5:].strip()
                        if not data or data == "[DONE]":
                            continue
                        try:
                            event = json.loads(data)
                        except ValueError:
                            continue
                        chunk = norm.chunk(event) if norm else event
                        if chunk:
                            acc.feed(now, chunk)
            except httpx.HTTPError as err:
                # What came before the cut is still a measurement: seconds waited, tokens so far, no TTFT yet.
                partial = acc.finish(time.perf_counter())
                if proxy.closing:
                    raise _UpstreamFailed(499, "cut off: the harness was stopped mid-answer", answered=True,
                                          partial=partial) from err
                raise _UpstreamFailed(502, f"model server unreachable or broke off: {err or type(err).__name__}",
                                      answered=started, partial=partial) from err
            except (BrokenPipeError, ConnectionResetError) as err:
                raise _UpstreamFailed(499, "the harness closed the connection mid-answer", answered=True,
                                      partial=acc.finish(time.perf_counter())) from err
            return acc.finish(time.perf_counter())

        def _count_tokens(self, body: dict[str, Any], raw: bytes) -> None:
            if proxy.serves("/messages/count_tokens"):
                try:
                    resp = proxy._client.post(proxy.upstream + "/messages/count_tokens",
                                              json=dict(body, model=proxy.served_model), timeout=30)
                    return self._raw(resp.status_code, resp.content, resp.headers.get("content-type"))
                except httpx.HTTPError:
                    pass
            self._json(200, {"input_tokens": max(1, len(raw) // 4)})  # an estimate: ~4 bytes a token

        # ---- writing to the harness ----
        def _json(self, status: int, data: dict[str, Any]) -> None:
            self._raw(status, json.dumps(data).encode(), "application/json")

        def _raw(self, status: int, data: bytes, content_type: str | None) -> None:
            try:
                self.send_response(status)
                self.send_header("Content-Type", content_type or "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)
                self.wfile.flush()
            except (BrokenPipeError, ConnectionResetError):
                self.close_connection = True  # the harness is gone (killed at its limit): nobody to tell

        def _events(self, data: bytes) -> None:
            self._raw(200, data, "text/event-stream")

        def _start_chunked(self) -> None:
            self.send_response(200)
            self.send_header("Content-Type", "text/event-stream")
            self.send_header("Transfer-Encoding", "chunked")
            self.end_headers()

        def _chunk(self, data: bytes) -> None:
            self.wfile.write(f"{len(data):x}\r\n".encode() + data + b"\r\n")
            self.wfile.flush()

        def _end_chunked(self) -> None:
            try:
                self.wfile.write(b"0\r\n\r\n")
                self.wfile.flush()
            except (BrokenPipeError, ConnectionResetError):
                self.close_connection = True

    return Handler


def _cut(resp: httpx.Response) -> None:
    """End a response another thread is reading: shutting the socket down wakes a blocked read (closing
    it would not), and the server sees the client go and stops generating."""
    stream = resp.extensions.get("network_stream")
    sock = stream.get_extra_info("socket") if stream is not None else None
    if sock is not None:
        try:
            sock.shutdown(socket.SHUT_RDWR)
        except OSError:
            pass
    resp.close()


class _UpstreamFailed(Exception):
    def __init__(self, status: int, message: str, answered: bool, body: bytes | None = None,
                 content_type: str | None = None, partial: TurnResult | None = None):
        super().__init__(message)
        self.status, self.message, self.answered = status, message, answered
        self.body, self.content_type, self.partial = body, content_type, partial
