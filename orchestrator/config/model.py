"""A whole model config: which backend serves it, its parts, and the copies run and sweep derive from it."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path
from typing import Any, Literal

from pydantic import Field, ValidationError, model_validator

from orchestrator.config.sections import (
    BACKEND_NAMES, Architecture, BackendName, LlamacppSection, MlxSection, OpenaiSection, Parameters,
    ReasoningInHistory, Sampling, ServerSection, Strict, ThinkingVariant, VllmSection,
)
from orchestrator.config.messages import one_line
from orchestrator.errors import UserError


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


def parse_config(data: Any, path: Path | str) -> ModelConfig:
    if not isinstance(data, dict):
        raise UserError(f"{path}: expected a mapping of keys at the top level, got {type(data).__name__}")
    try:
        config = ModelConfig.model_validate(data)
    except ValidationError as err:
        raise UserError(one_line(ModelConfig, path, err)) from None
    config._path = Path(path)
    return config
