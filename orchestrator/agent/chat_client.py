"""One streamed chat completion through the openai client, timed chunk by chunk.

Any server or network fault (connection refused or dropped, timeout, HTTP error) becomes InfraError:
the run ends as `infra_error`, which is retried and never scored against the model.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import Any, Callable

import httpx
import openai

from orchestrator.errors import InfraError
from orchestrator.agent.stream import StreamAccumulator, TurnResult


@dataclass
class ChatSettings:
    model: str
    """The model name the server expects."""
    temperature: float = 0.0
    top_p: float = 1.0
    max_tokens: int = 4096
    """Always sent: mlx_lm.server's default of 512 would cut thinking models short."""
    seed: int | None = None
    timeout_s: float = 600.0
    extra_body: dict[str, Any] = field(default_factory=dict)
    """Per-backend extras, e.g. chat_template_kwargs."""
    api_key: str = "siliconbench"
    """Local servers ignore it; a remote endpoint may need a real one."""


class ChatClient:
    def __init__(self, base_url: str, settings: ChatSettings, clock: Callable[[], float] = time.perf_counter):
        self.settings = settings
        self.clock = clock
        # Retries belong to the run (a whole task run is retried after an infra fault), not the request.
        self._client = openai.OpenAI(base_url=base_url, api_key=settings.api_key, max_retries=0,
                                     timeout=settings.timeout_s)

    def complete(self, messages: list[dict[str, Any]], tools: list[dict[str, Any]] | None) -> TurnResult:
        s = self.settings
        kwargs: dict[str, Any] = dict(
            model=s.model, messages=messages, temperature=s.temperature, top_p=s.top_p,
            max_tokens=s.max_tokens, stream=True, stream_options={"include_usage": True},
        )
        if tools:
            kwargs.update(tools=tools, tool_choice="auto")
        if s.seed is not None:
            kwargs["seed"] = s.seed
        if s.extra_body:
            kwargs["extra_body"] = s.extra_body
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
        return acc.finish(self.clock())


def _short(text: str, limit: int = 300) -> str:
    text = " ".join(str(text).split())
    return text if len(text) <= limit else text[:limit] + "..."
