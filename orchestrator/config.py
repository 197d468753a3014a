"""Typed, strict model configs: one YAML a model in model_configs/.

A config names the default backend and carries one section per backend that can serve the model
(`mlx` on a Mac, `vllm` on a GPU box, `llamacpp` anywhere, `openai` for a server already running), so
the same file serves a model on either machine (`--backend` picks another section).
Unknown keys are refused, and every error is one line naming the file, the key path, the value and
what is allowed.
"""

from __future__ import annotations

import difflib
import hashlib
import json
import re
from pathlib import Path
from typing import Any, Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

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


class ModelConfig(Strict):
    name: str = Field(min_length=1, pattern=r"^[A-Za-z0-9][A-Za-z0-9._-]*$")
    """Short name used in results and reports."""
    description: str = ""
    """One line for humans."""
    backend: BackendName
    """The backend used unless --backend picks another section."""
    parameters: Parameters | None = None
    """Model size; needed for sizing, unknown for an ad-hoc `--base-url` run."""
    context_length: int = Field(ge=256)
    """Context window to serve with (tokens)."""
    architecture: Architecture = Field(default_factory=Architecture)
    """Attention geometry, for KV-cache sizing."""
    thinking: Literal["none", "optional", "default_on", "always"] = "none"
    """Whether the model thinks: never, when asked, unless told not to, or always."""
    chat_template_kwargs: dict[str, Any] = Field(default_factory=dict)
    """Sent with each request and to the server (e.g. {"enable_thinking": false})."""
    reasoning_in_history: ReasoningInHistory | None = None
    """How each assistant turn's reasoning goes back in the history: in the `reasoning_content` field
    (Qwen3/Qwen3.5, MiniMax M2 templates), `reasoning` (vLLM's and mlx_lm.server's own name; Gemma 4's
    template reads either), `both`, `think_tags` (inline <think>...</think> before the content, for
    templates that split it from the content) or `none`. Default: `none` for `thinking: none`, else
    `both`: interleaved-thinking models degrade without their earlier reasoning (MiniMax's card)."""
    sampling: Sampling = Field(default_factory=Sampling)
    """Sampling for every request."""
    request_timeout_s: float = Field(600.0, gt=0)
    """Timeout of one chat request: past it the run ends as infra_error."""
    variants: list[ThinkingVariant] = Field(default_factory=list)
    """Thinking variants to run side by side (off, on, budgeted) on one server launch; empty: the
    config as it is. `sweep --variants off,on,budget-1024` sets them from the command line."""
    mlx: MlxSection | None = None
    vllm: VllmSection | None = None
    llamacpp: LlamacppSection | None = None
    openai: OpenaiSection | None = None

    @model_validator(mode="after")
    def _default_backend_has_section(self) -> "ModelConfig":
        if getattr(self, self.backend) is None:
            raise ValueError(f"backend '{self.backend}' needs a '{self.backend}:' section")
        return self

    @model_validator(mode="after")
    def _variants_are_distinct(self) -> "ModelConfig":
        names = [v.name for v in self.variants]
        twice = sorted({n for n in names if names.count(n) > 1})
        if twice:
            raise ValueError(f"variant name {twice[0]!r} is used twice; each variant needs its own name")
        if self.variants and self.thinking == "none":
            raise ValueError("this model does not think (thinking: none); thinking variants need a thinking model")
        off = [v.name for v in self.variants if not v.thinking]
        if off and self.thinking == "always":
            raise ValueError(f"this model always thinks (thinking: always): variant {off[0]!r} cannot turn it off; "
                             "use on or budget-N")
        return self

    def with_variants(self, variants: list[ThinkingVariant]) -> "ModelConfig":
        """This config with the command line's variants instead of its own, checked as a file's are."""
        data = self.model_dump(mode="json")
        data["variants"] = [v.model_dump(mode="json") for v in variants]
        return parse_config(data, self._path or self.name)

    def with_variant(self, variant: ThinkingVariant) -> "ModelConfig":
        """The config one variant runs with: its template switches merged over the config's, and
        `variants` holding only it, so each variant has its own config_hash (--resume tells them apart)."""
        kwargs = {**self.chat_template_kwargs, "enable_thinking": variant.thinking, **variant.chat_template_kwargs}
        copy = self.model_copy(update={"chat_template_kwargs": kwargs, "variants": [variant]})
        copy._path = self._path
        return copy

    # Set by load_config: where the file lives, for relative paths and messages.
    _path: Path | None = None

    @property
    def path(self) -> Path | None:
        return self._path

    @property
    def history_reasoning(self) -> str:
        """reasoning_in_history, or its default from `thinking`."""
        if self.reasoning_in_history is not None:
            return self.reasoning_in_history
        return "none" if self.thinking == "none" else "both"

    @property
    def active_b(self) -> float | None:
        if self.parameters is None:
            return None
        return self.parameters.active_b or self.parameters.total_b

    def section(self, backend: str | None = None) -> ServerSection | OpenaiSection:
        """The section of `backend` (default: the config's own), or a one-line UserError."""
        name = backend or self.backend
        if name not in BACKEND_NAMES:
            raise UserError(f"backend '{name}' is not one of {', '.join(BACKEND_NAMES)}")
        section = getattr(self, name)
        if section is None:
            where = self._path or self.name
            have = [b for b in BACKEND_NAMES if getattr(self, b) is not None]
            raise UserError(
                f"{where}: no '{name}:' section; this model can be served with {', '.join(have)}"
            )
        return section

    def with_backend(self, backend: str | None) -> "ModelConfig":
        """A copy whose default backend is `backend` (checked)."""
        if backend is None or backend == self.backend:
            return self
        self.section(backend)
        copy = self.model_copy(update={"backend": backend})
        copy._path = self._path
        return copy

    def attached_to(self, base_url: str, served_model: str | None = None,
                    context: int | None = None) -> "ModelConfig":
        """This model served by somebody else at `base_url` (Ollama, LM Studio, a remote vLLM): the
        same sampling, template switches and context, sent to that server; its name for the model is
        `served_model`, else the config's openai.served_model, else the config's name."""
        known = self.openai
        served = served_model or (known.served_model if known else None) or self.name
        section = OpenaiSection(base_url=base_url, served_model=served,
                                api_key_env=known.api_key_env if known else None,
                                bits=known.bits if known else None, weights_gb=known.weights_gb if known else None,
                                extra_body=dict(known.extra_body) if known else {})
        update: dict[str, Any] = {"backend": "openai", "openai": section}
        if context:
            update["context_length"] = context
        copy = self.model_copy(update=update)
        copy._path = self._path
        return copy

    def resolve_path(self, value: str) -> Path:
        """A file named in the config, relative to the config file."""
        p = Path(value).expanduser()
        if not p.is_absolute() and self._path is not None:
            p = self._path.parent / p
        return p

    def config_hash(self) -> str:
        """Identifies what was measured: the config as served (backend section included)."""
        data = self.model_dump(mode="json")
        blob = json.dumps(data, sort_keys=True, separators=(",", ":")).encode()
        return hashlib.sha256(blob).hexdigest()[:12]


def _allowed_keys(model: type[BaseModel], loc: tuple) -> list[str]:
    """Keys allowed at `loc` (the parent of an unknown key), found by walking the schema."""
    current: Any = model
    for part in loc:
        if isinstance(part, int):
            continue
        field = getattr(current, "model_fields", {}).get(part)
        if field is None:
            return []
        ann = field.annotation
        args = getattr(ann, "__args__", ()) or ()
        nested = [a for a in (ann, *args) if isinstance(a, type) and issubclass(a, BaseModel)]
        if not nested:
            return []
        current = nested[0]
    return sorted(getattr(current, "model_fields", {}))


def _all_key_paths(model: type[BaseModel], prefix: str = "") -> list[str]:
    paths = []
    for name, field in model.model_fields.items():
        paths.append(prefix + name)
        args = getattr(field.annotation, "__args__", ()) or ()
        for sub in (field.annotation, *args):
            if isinstance(sub, type) and issubclass(sub, BaseModel):
                paths += _all_key_paths(sub, f"{prefix}{name}.")
    return paths


def _one_line(path: Path | str, err: ValidationError) -> str:
    """The first validation problem as one line: file, key path, value, what is allowed."""
    first = err.errors()[0]
    loc = tuple(first["loc"])
    key = ".".join(str(p) for p in loc) or "(top level)"
    value = first.get("input")
    if first["type"] == "extra_forbidden":
        allowed = _allowed_keys(ModelConfig, loc[:-1])
        hint = difflib.get_close_matches(str(loc[-1]), allowed, n=1)
        if not hint:  # a key put at the wrong level: `temprature` at the top means sampling.temperature
            paths = _all_key_paths(ModelConfig)
            near = difflib.get_close_matches(str(loc[-1]), [p.rsplit(".", 1)[-1] for p in paths], n=1)
            hint = [p for p in paths if near and p.rsplit(".", 1)[-1] == near[0]][:1]
        did_you = f"; did you mean '{hint[0]}'?" if hint else ""
        return f"{path}: {key}: unknown key '{loc[-1]}' (allowed: {', '.join(allowed)}){did_you}"
    if first["type"] == "literal_error":
        expected = first.get("ctx", {}).get("expected", "")
        return f"{path}: {key}: '{value}' is not one of {expected.replace(' or ', ', ')}"
    if first["type"] == "missing":
        return f"{path}: {key}: required key is missing"
    msg = first["msg"].removeprefix("Value error, ")
    shown = f" '{value}'" if not isinstance(value, dict) else ""
    return f"{path}: {key}:{shown} {msg}"


def parse_config(data: Any, path: Path | str) -> ModelConfig:
    if not isinstance(data, dict):
        raise UserError(f"{path}: expected a mapping of keys at the top level, got {type(data).__name__}")
    try:
        config = ModelConfig.model_validate(data)
    except ValidationError as err:
        raise UserError(_one_line(path, err)) from None
    config._path = Path(path)
    return config


def load_config(path: str | Path) -> ModelConfig:
    """Read and validate one model config; any problem is a one-line UserError."""
    p = Path(path)
    if not p.exists():
        found = resolve_config_name(str(path))
        if found is None:
            raise UserError(f"{path}: no such model config; `siliconbench models list` shows the known ones")
        p = found
    try:
        data = yaml.safe_load(p.read_text())
    except yaml.YAMLError as err:
        mark = getattr(err, "problem_mark", None)
        where = f" line {mark.line + 1}" if mark else ""
        raise UserError(f"{p}:{where}: not valid YAML ({getattr(err, 'problem', err)})") from None
    return parse_config(data, p)


CONFIG_DIR = Path(__file__).resolve().parent.parent / "model_configs"
DEFAULT_CONFIG_NAME = "smollm2-135m"


def config_files() -> list[Path]:
    """Every shipped model config (the annotated example is documentation, not a model)."""
    return sorted(p for p in CONFIG_DIR.glob("*.yaml") if p.stem != "example")


def resolve_config_name(name: str) -> Path | None:
    """A bare name such as `qwen3.5-27b` finds model_configs/qwen3.5-27b.yaml."""
    candidate = CONFIG_DIR / f"{name}.yaml"
    return candidate if candidate.exists() else None


def default_config_path() -> Path:
    return CONFIG_DIR / f"{DEFAULT_CONFIG_NAME}.yaml"
