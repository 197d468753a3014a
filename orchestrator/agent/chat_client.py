"""One streamed chat completion through the openai client, timed chunk by chunk.

Any server or network fault (connection refused or dropped, timeout, HTTP error) becomes InfraError:
the run ends as `infra_error`, which is retried and never scored against the model.
"""

from __future__ import annotations

import dataclasses
import hashlib
import time
from dataclasses import dataclass, field
from typing import Any, Callable

import httpx
import openai

from orchestrator.agent.history import shape_history
from orchestrator.agent.stream import StreamAccumulator, TurnResult
from orchestrator.config import ModelConfig
from orchestrator.errors import InfraError

# Sampling fields that are not in OpenAI's API: sent in the body beside it (vLLM, llama-server,
# mlx_lm.server and Ollama read them there).
EXTRA_SAMPLING = ("top_k", "min_p", "repetition_penalty")


@dataclass
class ChatSettings:
    model: str
    """The model name the server expects."""
    temperature: float = 0.0
    top_p: float = 1.0
    max_tokens: int = 4096
    """Always sent: mlx_lm.server's default of 512 would cut thinking models short."""
    seed: int | None = None
    """Sent as is; `for_run` turns a config's base seed into one seed a task run."""
    timeout_s: float = 600.0
    extra_body: dict[str, Any] = field(default_factory=dict)
    """Per-backend extras, e.g. chat_template_kwargs, vLLM's thinking_token_budget."""
    api_key: str = "siliconbench"
    """Local servers ignore it; a remote endpoint may need a real one."""
    top_k: int | None = None
    min_p: float | None = None
    presence_penalty: float | None = None
    frequency_penalty: float | None = None
    repetition_penalty: float | None = None
    """None leaves the server's default: the field is not sent at all."""
    reasoning_in_history: str = "none"
    """How earlier reasoning goes back to the server (orchestrator/agent/history.py)."""

    @classmethod
    def from_config(cls, config: ModelConfig, model: str, extras: dict[str, Any] | None = None,
                    api_key: str | None = None) -> "ChatSettings":
        """Everything a model config says about its requests: the card's sampling, the backend
        section's extra_body, chat_template_kwargs and how reasoning goes back. `extras` (what the
        backend adds) come first; the config's own extra_body wins over them."""
        s = config.sampling
        section = config.section()
        extra = dict(extras or {})
        if config.chat_template_kwargs:
            extra.setdefault("chat_template_kwargs", dict(config.chat_template_kwargs))
        extra.update(getattr(section, "extra_body", None) or {})
        return cls(model=model, temperature=s.temperature, top_p=s.top_p, max_tokens=s.max_tokens,
                   seed=s.seed, timeout_s=config.request_timeout_s, extra_body=extra,
                   api_key=api_key or "siliconbench", top_k=s.top_k, min_p=s.min_p,
                   presence_penalty=s.presence_penalty, frequency_penalty=s.frequency_penalty,
                   repetition_penalty=s.repetition_penalty, reasoning_in_history=config.history_reasoning)

    def for_run(self, task: str, run: int) -> "ChatSettings":
        """A copy whose seed belongs to this task run: runs differ from each other, and a rerun of
        one run sends the same seed again. No base seed, no seed."""
        if self.seed is None:
            return self
        return dataclasses.replace(self, seed=run_seed(self.seed, task, run))

    def body(self, messages: list[dict[str, Any]], tools: list[dict[str, Any]] | None) -> dict[str, Any]:
        """The keyword arguments of chat.completions.create, exactly as sent."""
        kwargs: dict[str, Any] = dict(
            model=self.model, messages=shape_history(messages, self.reasoning_in_history),
            temperature=self.temperature, top_p=self.top_p, max_tokens=self.max_tokens,
            stream=True, stream_options={"include_usage": True},
        )
        if tools:
            kwargs.update(tools=tools, tool_choice="auto")
        for name in ("seed", "presence_penalty", "frequency_penalty"):
            if getattr(self, name) is not None:
                kwargs[name] = getattr(self, name)
        extra = {name: getattr(self, name) for name in EXTRA_SAMPLING if getattr(self, name) is not None}
        extra.update(self.extra_body)
        if extra:
            kwargs["extra_body"] = extra
        return kwargs


def run_seed(base: int, task: str, run: int) -> int:
    """A seed for one task run, stable across machines and Python versions (not hash())."""
    digest = hashlib.sha256(f"{base}:{task}:{run}".encode()).digest()
    return int.from_bytes(digest[:4], "big") & 0x7FFFFFFF


class ChatClient:
    def __init__(self, base_url: str, settings: ChatSettings, clock: Callable[[], float] = time.perf_counter):
        self.settings = settings
        self.clock = clock
        # Retries belong to the run (a whole task run is retried after an infra fault), not the request.
        self._client = openai.OpenAI(base_url=base_url, api_key=settings.api_key, max_retries=0,
                                     timeout=settings.timeout_s)

    def complete(self, messages: list[dict[str, Any]], tools: list[dict[str, Any]] | None) -> TurnResult:
        s = self.settings
        kwargs = s.body(messages, tools)
        t_sent = self.clock()
        deadline = t_sent + s.timeout_s
        acc = StreamAccumulator(t_sent=t_sent)
        try:
            stream = self._client.chat.completions.create(**kwargs)
            with stream:
                for chunk in stream:
                    now = self.clock()
                    acc.feed(now, chunk.model_dump(exclude_unset=True))
                    if now > deadline:  # a server dripping tokens forever still ends
                        raise InfraError(f"request took longer than {s.timeout_s:g} s")
        except openai.APIStatusError as err:
            raise InfraError(f"server answered HTTP {err.status_code}: {_short(err.message)}") from err
        except openai.APITimeoutError as err:
            raise InfraError(f"no answer within {s.timeout_s:g} s") from err
        except openai.APIConnectionError as err:
            raise InfraError(f"connection failed: {_short(str(err.__cause__ or err))}") from err
        except openai.APIError as err:  # e.g. an error event inside the stream
            raise InfraError(f"server error: {_short(str(err))}") from err
        except httpx.HTTPError as err:  # the connection dropped mid-stream
            raise InfraError(f"stream broke off: {_short(str(err) or type(err).__name__)}") from err
        result = acc.finish(self.clock())
        result.seed = s.seed
        result.max_tokens = s.max_tokens
        return result


def _short(text: str, limit: int = 300) -> str:
    text = " ".join(str(text).split())
    return text if len(text) <= limit else text[:limit] + "..."
