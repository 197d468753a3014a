"""A server somebody else runs (Ollama, LM Studio, a remote vLLM): health-checked, never started or
stopped."""

from __future__ import annotations

import os
import httpx

from orchestrator.config import ModelConfig
from orchestrator.errors import InfraError, UserError

from backends.base import Attached, http_ok, one_token_request
from backends.common import ServerDefaults, vllm_tokenize


class OpenAiEndpoint(ServerDefaults):
    name = "openai"
    launches = False
    has_tokenize = True  # where the server has /tokenize (vLLM); None otherwise

    def check_installed(self, config: ModelConfig) -> None:
        section = config.openai
        if not section.base_url.startswith(("http://", "https://")):
            raise UserError(f"{config.path}: openai.base_url: '{section.base_url}' is not an http(s) URL")

    def tokenize(self, base_url: str, model: str, text: str) -> int | None:
        return vllm_tokenize(base_url, model, text)

    def attach(self, config: ModelConfig) -> Attached:
        section = config.openai
        base = section.base_url.rstrip("/")
        key = os.environ.get(section.api_key_env) if section.api_key_env else None
        if not http_ok(f"{base}/models", timeout=10):
            raise InfraError(f"nothing answers at {base}/models; is the server running?")
        problem = one_token_request(base, section.served_model, timeout=config.request_timeout_s,
                                    extras=self.request_extras(config), api_key=key)
        if problem:
            raise InfraError(f"{base} answers but a 1-token request for '{section.served_model}' failed: {problem}")
        return Attached(base_url=base, model_name=section.served_model, api_key=key)

    def model_name(self, config: ModelConfig) -> str:
        return config.openai.served_model

    def server_version(self, base_url: str, command: list[str]) -> str | None:
        return self._version(base_url)

    def capacity_gb(self, config: ModelConfig) -> tuple[float | None, str]:
        return None, "memory of a server we do not run"

    def _version(self, base: str) -> str | None:
        try:
            data = httpx.get(base.removesuffix("/v1") + "/version", timeout=3).json()
        except (httpx.HTTPError, ValueError):
            return None
        return data.get("version") if isinstance(data, dict) else None


BACKEND = OpenAiEndpoint()
