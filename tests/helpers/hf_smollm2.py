"""Turn the embedded SmolLM2 GGUF into a float32 Hugging Face folder that vLLM (or transformers) loads,
with no Hub access and nothing but numpy, safetensors and tokenizers.

The GGUF is read and dequantized here in numpy (F32, F16, Q4_0, Q4_1 and Q8_0 blocks: what this file
holds); the tensor names, the undoing of llama.cpp's Q/K row permutation, config.json and the tokenizer
files are the same as for the MLX folder (tests/helpers/gguf_to_mlx.py), whose pieces are reused.

    folder = cached_smollm2_hf()   # converted once, under ~/.cache/siliconbench/hf-smollm2
"""

from __future__ import annotations

import json
import shutil
import tempfile
from pathlib import Path

import numpy as np

from tests.helpers.gguf_to_mlx import CACHE_DIR, _config, _tokenizer_files, hf_name, smollm2_gguf, unpermute

CONVERTER_VERSION = 1  # bump when the output changes, so stale caches are rebuilt

# GGUF metadata value types -> numpy scalar types (8 = string, 9 = array are handled apart).
_SCALARS = {0: np.uint8, 1: np.int8, 2: np.uint16, 3: np.int16, 4: np.uint32, 5: np.int32, 6: np.float32,
            7: np.bool_, 10: np.uint64, 11: np.int64, 12: np.float64}
# ggml tensor types -> (bytes a block, weights a block).
_BLOCKS = {0: (4, 1), 1: (2, 1), 2: (18, 32), 3: (20, 32), 8: (34, 32)}


class _Reader:
    def __init__(self, data: memoryview):
        self.data, self.pos = data, 0

    def take(self, dtype, count: int = 1) -> np.ndarray:
        out = np.frombuffer(self.data, dtype=dtype, count=count, offset=self.pos)
        self.pos += out.nbytes
        return out

    def u32(self) -> int:
        return int(self.take(np.uint32)[0])

    def u64(self) -> int:
        return int(self.take(np.uint64)[0])

    def string(self) -> str:
        n = self.u64()
        self.pos += n
        return bytes(self.data[self.pos - n:self.pos]).decode("utf-8")

    def value(self, kind: int):
        if kind == 8:
            return self.string()
        if kind == 9:
            item, count = self.u32(), self.u64()
            if item in _SCALARS:
                return self.take(_SCALARS[item], count).copy()
            return [self.value(item) for _ in range(count)]
        return self.take(_SCALARS[kind])[0]


def read_gguf(path: Path) -> tuple[dict[str, np.ndarray], dict]:
    """All tensors of a GGUF file as float32 numpy arrays (Hugging Face shape: rows first), and its metadata."""
    data = memoryview(path.read_bytes())
    r = _Reader(data)
    assert bytes(data[:4]) == b"GGUF", f"{path} is not a GGUF file"
    r.pos = 4
    version, n_tensors, n_meta = r.u32(), r.u64(), r.u64()
    assert version >= 2, f"GGUF version {version} is too old"
    meta = {}
    for _ in range(n_meta):
        key = r.string()
        meta[key] = r.value(r.u32())
    infos = []
    for _ in range(n_tensors):
        name = r.string()
        dims = [r.u64() for _ in range(r.u32())]
        infos.append((name, dims, r.u32(), r.u64()))
    align = int(meta.get("general.alignment", 32))
    start = -(-r.pos // align) * align
    tensors = {}
    for name, dims, kind, offset in infos:
        shape = tuple(reversed(dims))  # ggml lists the fastest-varying dimension first
        tensors[name] = dequantize(data, start + offset, kind, int(np.prod(shape))).reshape(shape)
    return tensors, meta


def dequantize(data: memoryview, offset: int, kind: int, count: int) -> np.ndarray:
    if kind not in _BLOCKS:
        raise ValueError(f"ggml type {kind} is not handled (F32, F16, Q4_0, Q4_1, Q8_0 are)")
    block_bytes, per_block = _BLOCKS[kind]
    raw = np.frombuffer(data, dtype=np.uint8, count=count // per_block * block_bytes, offset=offset)
    if kind == 0:
        return raw.view(np.float32).copy()
    if kind == 1:
        return raw.view(np.float16).astype(np.float32)
    blocks = raw.reshape(-1, block_bytes)
    scale = blocks[:, :2].copy().view(np.float16).astype(np.float32)
    if kind == 8:  # Q8_0: d, then 32 signed bytes
        return (blocks[:, 2:].view(np.int8).astype(np.float32) * scale).reshape(-1)
    # Q4_0 / Q4_1: the low nibbles are weights 0..15 of the block, the high nibbles 16..31.
    packed = blocks[:, block_bytes - 16:]
    q = np.concatenate([packed & 0x0F, packed >> 4], axis=1).astype(np.float32)
    if kind == 2:
        return ((q - 8) * scale).reshape(-1)
    low = blocks[:, 2:4].copy().view(np.float16).astype(np.float32)
    return (q * scale + low).reshape(-1)


def hf_weights(tensors: dict[str, np.ndarray], meta: dict) -> dict[str, np.ndarray]:
    heads = int(meta["llama.attention.head_count"])
    kv_heads = int(meta["llama.attention.head_count_kv"])
    out = {}
    for name, x in tensors.items():
        new = hf_name(name)
        if ".q_proj." in new:
            x = unpermute(x, heads)
        elif ".k_proj." in new:
            x = unpermute(x, kv_heads)
        out[new] = np.ascontiguousarray(x, dtype=np.float32)
    return out


def convert(gguf: Path, folder: Path) -> Path:
    """Write a float32 Hugging Face folder for `gguf` at `folder` (built beside it, then renamed into place)."""
    from safetensors.numpy import save_file

    tensors, meta = read_gguf(gguf)
    weights = hf_weights(tensors, meta)
    folder.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=folder.name + ".", dir=folder.parent))
    try:
        save_file(weights, str(tmp / "model.safetensors"), metadata={"format": "pt"})
        (tmp / "config.json").write_text(json.dumps(_config(meta, "float32", weights), indent=1))
        _tokenizer_files(meta, tmp)
        (tmp / "CONVERTED_FROM").write_text(json.dumps(_stamp(gguf)))
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


def _stamp(gguf: Path) -> dict:
    st = gguf.stat()
    return {"gguf": str(gguf), "size": st.st_size, "mtime_ns": st.st_mtime_ns, "converter": CONVERTER_VERSION}


def cached_smollm2_hf(cache_dir: Path | None = None) -> Path:
    """The converted SmolLM2 folder, converting only when the cache is missing or stale."""
    gguf = smollm2_gguf()
    folder = (cache_dir or CACHE_DIR) / "hf-smollm2"
    try:
        if json.loads((folder / "CONVERTED_FROM").read_text()) == _stamp(gguf):
            return folder
    except (OSError, ValueError):
        pass
    return convert(gguf, folder)


if __name__ == "__main__":
    import time

    started = time.monotonic()
    print(cached_smollm2_hf(), f"{time.monotonic() - started:.1f} s")
