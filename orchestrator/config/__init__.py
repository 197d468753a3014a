"""Typed, strict model configs: one YAML a model in model_configs/.

A config names the default backend and carries one section per backend that can serve the model
(`mlx` on a Mac, `vllm` on a GPU box, `llamacpp` anywhere, `openai` for a server already running), so
the same file serves a model on either machine (`--backend` picks another section). Unknown keys are
refused, and every error is one line naming the file, the key path, the value and what is allowed.

sections.py holds the parts (sampling, size, attention, one section per backend, thinking variants),
model.py the whole config, messages.py the one-line errors, loading.py files and names on disk.
"""

from orchestrator.config.loading import (
    CONFIG_DIR, DEFAULT_CONFIG_NAME, config_files, default_config_path, load_config, resolve_config_name,
)
from orchestrator.config.model import ModelConfig, parse_config
from orchestrator.config.sections import BACKEND_NAMES, ThinkingVariant, parse_variant

__all__ = ["BACKEND_NAMES", "CONFIG_DIR", "DEFAULT_CONFIG_NAME", "ModelConfig", "ThinkingVariant", "config_files",
           "default_config_path", "load_config", "parse_config", "parse_variant", "resolve_config_name"]
