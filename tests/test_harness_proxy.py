"""The metering proxy over its real unix socket, in front of the scripted model over real HTTP: one record
per request in each wire format, whole answers rebuilt from a stream, Messages translated for a server
without /v1/messages, Responses refused clearly where the server lacks it, server faults recorded."""

import json

import httpx
import pytest

from orchestrator.harness.proxy import MeteringProxy
from tests.helpers.scripted_server import ScriptedModel

CALL = {"tool_calls": [{"name": "Read", "arguments": {"file_path": "a.py"}, "id": "toolu_1"}],
        "reasoning": "Read it first.", "token_delay_s": 0.002}


@pytest.fixture
def proxied(tmp_path):
    def start(script, without=(), extra_body=None):
        model = ScriptedModel(script, without=without).__enter__()
        records = []
        proxy = MeteringProxy(model.base_url, tmp_path / "p.sock", "scripted", records.append,
                              timeout_s=10, extra_body=extra_body).__enter__()
        client = httpx.Client(transport=httpx.HTTPTransport(uds=str(tmp_path / "p.sock")),
                              base_url="http://sandbox", timeout=10)
        opened.append((model, proxy, client))
        return model, client, records

    opened = []
    yield start
    for model, proxy, client in opened:
        client.close()
        proxy.__exit__(None, None, None)
        model.__exit__(None, None, None)


def sse_data(text):
    return [json.loads(ln[5:]) for ln in text.splitlines() if ln.startswith("data:") and ln[5:].strip() != "[DONE]"]


def test_messages_streamed_through_to_a_server_that_has_them(proxied):
    model, client, records = proxied([CALL])
    body = {"model": "claude-sonnet", "max_tokens": 100, "stream": True,
            "messages": [{"role": "user", "content": "go"}]}
    raw = json.dumps(body).encode()
    resp = client.post("/v1/messages", content=raw, headers={"content-type": "application/json"})
    assert resp.status_code == 200
    events = sse_data(resp.text)
    assert events[0]["type"] == "message_start" and events[-1]["type"] == "message_stop"
    assert model.paths == ["/v1/messages"] and model.requests[0]["model"] == "scripted"  # its own name
    (rec,) = records
    assert rec.api == "messages" and not rec.translated and rec.error is None
    assert rec.result.tool_calls[0].name == "Read" and rec.result.reasoning == "Read it first."
    assert rec.result.metrics.ttft_s is not None and rec.result.metrics.prompt_tokens > 0
    assert rec.request_bytes == len(raw)


def test_messages_translated_for_a_server_without_them(proxied):
    model, client, records = proxied([CALL], without=("/v1/messages",))
    body = {"model": "m", "max_tokens": 100, "stream": True, "system": "Be brief.",
            "tools": [{"name": "Read", "input_schema": {"type": "object"}}],
            "messages": [{"role": "user", "content": [{"type": "text", "text": "go"}]}]}
    resp = client.post("/v1/messages", json=body)
    events = sse_data(resp.text)
    tool = next(e for e in events if e["type"] == "content_block_start" and e["content_block"]["type"] == "tool_use")
    assert tool["content_block"]["name"] == "Read"
    args = "".join(e["delta"].get("partial_json", "") for e in events if e["type"] == "content_block_delta")
    assert json.loads(args) == {"file_path": "a.py"}
    assert next(e for e in events if e["type"] == "message_delta")["delta"]["stop_reason"] == "tool_use"
    assert model.paths == ["/v1/chat/completions"]
    sent = model.requests[0]
    assert sent["messages"][0] == {"role": "system", "content": "Be brief."} and sent["stream"] is True
    assert sent["tools"][0]["function"]["name"] == "Read"
    assert records[0].translated and records[0].result.metrics.ttft_s is not None


def test_a_whole_answer_asked_for_is_rebuilt_from_a_timed_stream(proxied):
    model, client, records = proxied([{"content": "All done.", "token_delay_s": 0.002}],
                                     extra_body={"chat_template_kwargs": {"enable_thinking": False}})
    resp = client.post("/v1/chat/completions", json={"model": "x", "messages": [{"role": "user", "content": "hi"}]})
    answer = resp.json()
    assert answer["object"] == "chat.completion"
    assert answer["choices"][0]["message"]["content"] == "All done." and answer["usage"]["completion_tokens"] > 0
    assert model.requests[0]["stream"] is True  # streamed toward the server to time the first token
    assert model.requests[0]["chat_template_kwargs"] == {"enable_thinking": False}  # the config's extras
    assert not records[0].client_streamed and records[0].result.metrics.ttft_s is not None


def test_chat_stream_is_relayed_as_it_comes(proxied):
    model, client, records = proxied([{"content": "Hello there.", "token_delay_s": 0.002}])
    body = {"model": "x", "stream": True, "messages": [{"role": "user", "content": "hi"}]}
    chunks = sse_data(client.post("/v1/chat/completions", json=body).text)
    text = "".join((c["choices"][0]["delta"].get("content") or "") for c in chunks if c.get("choices"))
    assert text == "Hello there."
    assert records[0].result.content == "Hello there." and records[0].result.metrics.completion_tokens > 0


def test_responses_metered_where_served_and_refused_clearly_where_not(proxied):
    model, client, records = proxied([{"content": "ok"}])
    resp = client.post("/v1/responses", json={"model": "x", "stream": True, "input": "hi"})
    assert resp.status_code == 200 and records[0].api == "responses" and records[0].result.content == "ok"
    model2, client2, records2 = proxied([{"content": "ok"}], without=("/v1/responses",))
    refused = client2.post("/v1/responses", json={"model": "x", "stream": True, "input": "hi"})
    assert refused.status_code == 501 and "no /v1/responses" in refused.json()["error"]["message"]
    assert records2[0].result is None and "llama-server or vLLM" in records2[0].error


def test_a_server_fault_reaches_the_harness_and_is_recorded(proxied):
    model, client, records = proxied([{"http_error": 503}])
    resp = client.post("/v1/chat/completions", json={"model": "x", "stream": True,
                                                     "messages": [{"role": "user", "content": "hi"}]})
    assert resp.status_code == 503
    assert records[0].result is None and "503" in records[0].error


def test_count_tokens_and_models_answer_without_a_model_turn(proxied):
    model, client, records = proxied([{"content": "ok"}], without=("/v1/messages", "/v1/messages/count_tokens"))
    counted = client.post("/v1/messages/count_tokens", json={"model": "x", "messages": [{"role": "user", "content": "x" * 400}]})
    assert counted.status_code == 200 and counted.json()["input_tokens"] > 50
    assert client.get("/v1/models").json()["data"][0]["id"] == "scripted"
    assert records == [] and model.requests == []


def test_a_request_in_flight_when_the_harness_stops_is_cut_and_still_recorded(tmp_path):
    """The server must not go on generating for a harness killed at its limit, and what came until then
    is a measurement: recorded (first token and all), not blamed on the server."""
    import threading
    import time

    with ScriptedModel([{"content": "one two three four", "token_delay_s": 3}]) as model:
        records = []
        proxy = MeteringProxy(model.base_url, tmp_path / "p.sock", "scripted", records.append, timeout_s=30)
        proxy.__enter__()
        client = httpx.Client(transport=httpx.HTTPTransport(uds=str(tmp_path / "p.sock")), base_url="http://s",
                              timeout=30)
        got_first = threading.Event()

        def harness():
            body = {"model": "x", "stream": True, "messages": [{"role": "user", "content": "hi"}]}
            try:
                with client.stream("POST", "/v1/chat/completions", json=body) as resp:
                    for line in resp.iter_lines():
                        if '"content"' in line:
                            got_first.set()
            except httpx.HTTPError:
                pass

        thread = threading.Thread(target=harness)
        thread.start()
        assert got_first.wait(10)
        started = time.monotonic()
        proxy.__exit__(None, None, None)  # the harness's limit: the proxy closes
        assert time.monotonic() - started < 2.5  # did not wait for the rest of the answer
        thread.join(10)
        client.close()
    (rec,) = records
    assert rec.error.startswith("cut off") and not rec.server_fault
    assert rec.result.content == "one " and rec.result.metrics.ttft_s is not None and rec.result.finish_reason is None


def _swallow(call):
    try:
        call()
    except httpx.HTTPError:
        pass
