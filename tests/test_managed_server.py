"""Reading vLLM's KV-cache use from a Prometheus text page (served on loopback)."""

import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from backends.vllm import kv_cache_usage as vllm_kv_cache_usage

PAGE_NEW = """# HELP vllm:kv_cache_usage_perc KV-cache usage. 1 means 100 percent usage.
# TYPE vllm:kv_cache_usage_perc gauge
vllm:kv_cache_usage_perc{engine="0",model_name="m"} 0.125
"""
PAGE_OLD = 'vllm:gpu_cache_usage_perc{model_name="m"} 0.5\n'


@pytest.mark.parametrize("page, expected", [(PAGE_NEW, 0.125), (PAGE_OLD, 0.5), ("other_metric 1\n", None)])
def test_kv_cache_usage_is_read_under_either_name(page, expected):
    class Handler(BaseHTTPRequestHandler):
        def do_GET(self):
            body = page.encode()
            self.send_response(200 if self.path == "/metrics" else 404)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *a):
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        assert vllm_kv_cache_usage(f"http://127.0.0.1:{server.server_address[1]}/v1") == expected
    finally:
        server.shutdown()


def test_kv_cache_usage_unknown_when_nothing_answers():
    assert vllm_kv_cache_usage("http://127.0.0.1:9/v1") is None
