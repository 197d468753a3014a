"""The parts of a model config: sampling, size, attention geometry, one section per backend, thinking
variants."""


import re
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

from orchestrator.errors import UserError

BACKEND_NAMES = ("mlx", "vllm", "llamacpp", "openai")
BackendName = Literal["mlx", "vllm", "llamacpp", "openai"]


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", use_attribute_docstrings=True, frozen=False)


ReasoningInHistory = Literal["none", "reasoning_content", "reasoning", "both", "think_tags"]


class Sampling(Strict):
    temperature: float = Field(0.0, ge=0.0, le=2.0)
    """Sampling temperature sent with every request (0 = greedy, most repeatable)."""
    top_p: float = Field(1.0, gt=0.0, le=1.0)
    """Nucleus sampling mass sent with every request."""
    max_tokens: int = Field(4096, ge=1)
    """Cap on generated tokens per turn (thinking included). mlx_lm.server defaults to 512 otherwise."""
    seed: int | None = 0
    """Base seed. Each task run gets its own seed derived from it, the task and the run number (recorded
    in runs.jsonl), so three runs are three samples and a rerun of one run repeats it where the server
    honours seeds. null sends no seed (mlx_lm.server batches concurrent requests only without one)."""
    top_k: int | None = Field(None, ge=0)
    """Keep the k most likely tokens (0 = off); null leaves the server's default. Not an OpenAI field:
    sent in the request body beside it, as vLLM, llama-server, mlx_lm.server and Ollama read it."""
    min_p: float | None = Field(None, ge=0.0, le=1.0)
    """Drop tokens below min_p x the top token's probability; null leaves the server's default."""
    presence_penalty: float | None = Field(None, ge=-2.0, le=2.0)
    """OpenAI presence penalty (Qwen's cards use it against repetition); null leaves the default."""
    frequency_penalty: float | None = Field(None, ge=-2.0, le=2.0)
    """OpenAI frequency penalty; null leaves the default."""
    repetition_penalty: float | None = Field(None, gt=0.0)
    """Multiplicative repetition penalty (1.0 = off; vLLM, llama-server, mlx_lm.server); null leaves
    the default."""


class Parameters(Strict):
    total_b: float = Field(gt=0)
    """Total parameters, in billions."""
    active_b: float | None = Field(None, gt=0)
    """Parameters active per token, in billions (MoE); defaults to total_b."""


class Architecture(Strict):
    """What the KV cache costs. Unknown values stay null; sizing then says it cannot tell."""

    layers: int | None = Field(None, ge=1)
    """Transformer layers in all."""
    kv_layers: int | None = Field(None, ge=0)
    """Layers that keep a full-context KV cache (hybrid models: only the full-attention layers)."""
    kv_heads: int | None = Field(None, ge=1)
    """Key/value heads per KV layer."""
    head_dim: int | None = Field(None, ge=1)
    """Dimension of one attention head."""
    sliding_layers: int = Field(0, ge=0)
    """Sliding-window layers: each keeps at most `sliding_window` tokens of KV."""
    sliding_window: int | None = Field(None, ge=1)
    """Window of the sliding-window layers, in tokens."""
    sliding_kv_heads: int | None = Field(None, ge=1)
    """KV heads of the sliding-window layers, if they differ from kv_heads."""
    sliding_head_dim: int | None = Field(None, ge=1)
    """Head dimension of the sliding-window layers, if it differs from head_dim."""
    kv_shared: bool = False
    """True when keys and values share one cached tensor in the full-attention layers (Gemma 4's global
    layers): sizing then counts those layers' cache once instead of twice."""
    unverified: bool = False
    """True when these figures come from secondary sources, not the model's config.json."""


class ServerSection(Strict):
    """What every launched backend shares."""

    model: str
    """Weights: a Hugging Face repo id, a local folder, a GGUF path, or `package:NAME/FILE` for a file
    shipped inside an installed Python package."""
    bits: float | None = Field(None, gt=0, le=32)
    """Bits per weight as served (MLX 4-bit ~4.5 with scales, GGUF Q4_K_M ~4.8, bf16 16)."""
    weights_gb: float | None = Field(None, gt=0)
    """Real size of the weight files in GB, when known: sizing prefers it to parameters x bits."""
    executable: list[str] | None = None
    """Override how the server is started (argv prefix), e.g. ["python", "-m",
    "vllm.entrypoints.openai.api_server"] for builds whose console script is missing."""
    extra_args: list[str] = Field(default_factory=list)
    """Extra server flags, appended verbatim."""
    env: dict[str, str] = Field(default_factory=dict)
    """Extra environment variables for the server process."""
    startup_timeout_s: float = Field(600.0, gt=0)
    """How long to wait for the server to answer a real 1-token request."""
    chat_template: str | None = None
    """Chat template file (relative to the config file), overriding the model's own."""
    min_version: str | None = None
    """Oldest server version whose tool and reasoning parsers this model needs (e.g. "0.17.0" for
    vLLM, mlx-lm's version for mlx); the launch refuses an older server with a one-line message."""
    extra_body: dict[str, Any] = Field(default_factory=dict)
    """Server-specific request fields sent with every request to this backend, e.g. vLLM's
    {"thinking_token_budget": 4096} or llama-server's {"reasoning_budget": 0}."""


class MlxSection(ServerSection):
    prompt_cache_bytes: int | None = Field(None, ge=0)
    """Cap on mlx_lm.server's prompt cache; unbounded by default, which has grown to the wired limit."""


class VllmSection(ServerSection):
    tool_call_parser: str
    """vLLM tool-call parser (checked against `vllm serve --help` at launch)."""
    reasoning_parser: str | None = None
    """vLLM reasoning parser; null for models that do not think."""
    max_model_len: int | None = Field(None, ge=256)
    """Context window vLLM allocates; defaults to the config's context_length."""
    gpu_memory_utilization: float = Field(0.9, gt=0, le=1)
    """Share of GPU memory vLLM reserves up front."""
    tensor_parallel_size: int = Field(1, ge=1)
    """GPUs to shard each layer over."""
    pipeline_parallel_size: int = Field(1, ge=1)
    """Pipeline stages (nodes or GPUs)."""
    distributed_executor_backend: Literal["mp", "ray"] | None = None
    """`ray` for models spread over several machines (vLLM's multi-node path)."""
    trust_remote_code: bool = False
    """Pass --trust-remote-code (MiniMax M2.5, Qwen3.5)."""
    enable_per_request_metrics: bool = False
    """Pass --enable-per-request-metrics (newer vLLM): TTFT and tokens/s in each response."""


class LlamacppSection(ServerSection):
    n_gpu_layers: int | None = None
    """Layers to offload to the GPU (-ngl); null leaves llama-server's default."""
    parallel: int = Field(1, ge=1)
    """Request slots (--parallel); raise it for --concurrency."""
    threads: int | None = Field(None, ge=1)
    """CPU threads (-t); null leaves llama-server's default."""


class OpenaiSection(Strict):
    """A server that is already running (Ollama, LM Studio, a remote vLLM): never started or stopped."""

    base_url: str
    """The server's OpenAI-compatible base URL, e.g. http://127.0.0.1:11434/v1."""
    served_model: str
    """The model name the server expects in requests."""
    api_key_env: str | None = None
    """Environment variable holding the API key, if the server needs one."""
    bits: float | None = Field(None, gt=0, le=32)
    """Bits per weight as served, for sizing."""
    weights_gb: float | None = Field(None, gt=0)
    """Real size of the weight files in GB, when known."""
    extra_body: dict[str, Any] = Field(default_factory=dict)
    """Server-specific request fields sent with every request (Ollama's {"keep_alive": "30m"}...)."""


class ThinkingVariant(Strict):
    """One way to run a thinking model: thinking off, on, or on within a budget. A config's variants
    run one after another on one server launch and are reported side by side as `name/variant`."""

    name: str = Field(pattern=r"^[A-Za-z0-9][A-Za-z0-9._-]*$")
    """Short name in reports: `off`, `on`, `budget-1024`..."""
    thinking: bool = True
    """Sent as the chat template's switch {"enable_thinking": ...} with every request."""
    budget_tokens: int | None = Field(None, ge=0)
    """Cap on thinking tokens per turn, sent the way the backend takes it (vLLM's
    `thinking_token_budget`, llama-server's `thinking_budget_tokens`); mlx_lm.server has none."""
    chat_template_kwargs: dict[str, Any] = Field(default_factory=dict)
    """More template switches for this variant, over the config's."""
    extra_body: dict[str, Any] = Field(default_factory=dict)
    """Server-specific request fields for this variant, over the backend section's."""

    @model_validator(mode="after")
    def _budget_needs_thinking(self) -> "ThinkingVariant":
        if self.budget_tokens is not None and not self.thinking:
            raise ValueError("budget_tokens needs thinking: true (a budget caps thinking that is on)")
        return self


def parse_variant(text: str) -> ThinkingVariant:
    """A variant named on the command line: `off`, `on`, or `budget-N` (thinking capped at N tokens)."""
    spec = text.strip().lower()
    if spec in ("off", "on"):
        return ThinkingVariant(name=spec, thinking=spec == "on")
    budget = re.fullmatch(r"budget[-=:]?(\d+)", spec)
    if budget:
        return ThinkingVariant(name=f"budget-{int(budget[1])}", budget_tokens=int(budget[1]))
    raise UserError(f"--variants: '{text}' is not off, on or budget-N (thinking capped at N tokens, e.g. budget-1024)")
