"""Counting thinking tokens with the model's own tokenizer, for servers that cannot count them.

The order of preference for a turn's thinking count (turn_record.count_thinking): the server's usage
figure, then a tokenizer count, then an estimate. vLLM and llama-server count through their /tokenize;
mlx_lm.server has none, but its model is a folder (or a Hugging Face cache entry) holding the model's
tokenizer.json, which the `tokenizers` library reads without loading the model. Nothing is downloaded:
a tokenizer that is not on this machine means no tokenizer count, and the turn says `estimate`.
"""

from __future__ import annotations

from pathlib import Path
from typing import Callable

TokenCounter = Callable[[str], "int | None"]
TOKENIZER_FILE = "tokenizer.json"


def find_tokenizer_file(model: str) -> Path | None:
    """tokenizer.json of a model folder, or of a Hugging Face repo id already in the local cache."""
    folder = Path(model).expanduser()
    if folder.is_dir():
        path = folder / TOKENIZER_FILE
        return path if path.is_file() else None
    if folder.suffix == ".gguf" or model.count("/") != 1:
        return None  # a GGUF's server counts with /tokenize; anything else is not a repo id
    try:
        from huggingface_hub import try_to_load_from_cache
    except ImportError:
        return None
    try:
        found = try_to_load_from_cache(model, TOKENIZER_FILE)
    except Exception:  # a malformed repo id, an unreadable cache: no count, never a crash
        return None
    return Path(found) if isinstance(found, str) else None


def local_token_counter(model: str) -> TokenCounter | None:
    """A counter using the model's own tokenizer, or None when it is not here to read."""
    path = find_tokenizer_file(model)
    if path is None:
        return None
    try:
        from tokenizers import Tokenizer

        tokenizer = Tokenizer.from_file(str(path))
    except Exception:  # missing library, or a tokenizer.json this version cannot read
        return None

    def count(text: str) -> int | None:
        try:
            return len(tokenizer.encode(text, add_special_tokens=False).ids)
        except Exception:
            return None

    return count


def first_count(*counters: TokenCounter | None) -> TokenCounter | None:
    """One counter that asks each in turn and keeps the first figure it gets."""
    chain = [c for c in counters if c is not None]
    if not chain:
        return None

    def count(text: str) -> int | None:
        for counter in chain:
            value = counter(text)
            if value is not None:
                return value
        return None

    return count


def lazy_token_counter(*models: str | None) -> TokenCounter:
    """The first of `models` whose tokenizer is on this machine, read from disk only when first asked
    (most servers count for themselves). Several names: the served one, then the config's other
    sections' weights (an Ollama model whose MLX or HF copy is in the cache counts exactly)."""
    loaded: list[TokenCounter | None] = []

    def count(text: str) -> int | None:
        if not loaded:
            loaded.append(next((c for m in models if m and (c := local_token_counter(m)) is not None), None))
        counter = loaded[0]
        return counter(text) if counter is not None else None

    return count
