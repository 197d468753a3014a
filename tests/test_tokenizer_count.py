"""Thinking counted with the model's own tokenizer where the server cannot count (mlx_lm.server).

A real tokenizer.json is written with the `tokenizers` library (a word-level vocabulary, so the expected
counts can be worked out by hand) and read back the way a model folder's is.
"""

from pathlib import Path

import pytest

from orchestrator.metrics.tokenizer_count import find_tokenizer_file, first_count, lazy_token_counter, local_token_counter


@pytest.fixture()
def model_folder(tmp_path) -> Path:
    from tokenizers import Tokenizer, models, pre_tokenizers

    vocab = {"[UNK]": 0, "the": 1, "port": 2, "is": 3, "8080": 4, ".": 5}
    tokenizer = Tokenizer(models.WordLevel(vocab, unk_token="[UNK]"))
    tokenizer.pre_tokenizer = pre_tokenizers.Whitespace()
    folder = tmp_path / "Qwen3.5-27B-4bit"
    folder.mkdir()
    tokenizer.save(str(folder / "tokenizer.json"))
    return folder


def test_a_model_folder_counts_with_its_own_tokenizer(model_folder):
    count = local_token_counter(str(model_folder))
    assert count is not None
    assert count("the port is 8080.") == 5  # the, port, is, 8080, .
    assert count("the port is unknown") == 4  # unknown words are one [UNK] each
    assert count("") == 0


@pytest.mark.parametrize("model", ["no/such-repo-in-the-cache", "/no/such/folder", "model.gguf", "not a repo id"])
def test_no_tokenizer_here_means_no_counter_and_no_download(model, tmp_path, monkeypatch):
    monkeypatch.setenv("HF_HUB_CACHE", str(tmp_path / "empty-cache"))
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    assert find_tokenizer_file(model) is None
    assert local_token_counter(model) is None


def test_a_folder_without_tokenizer_json_or_with_a_broken_one(tmp_path):
    assert local_token_counter(str(tmp_path)) is None
    (tmp_path / "tokenizer.json").write_text("{not json")
    assert local_token_counter(str(tmp_path)) is None


def test_a_cached_hub_repo_is_found_without_the_network(model_folder, tmp_path, monkeypatch):
    # the Hugging Face cache layout: models--ORG--NAME/snapshots/REV/FILE, refs/main naming REV
    cache = tmp_path / "hub"
    snapshot = cache / "models--mlx-community--Qwen3.5-27B-4bit" / "snapshots" / "abc123"
    snapshot.mkdir(parents=True)
    (snapshot / "tokenizer.json").write_bytes((model_folder / "tokenizer.json").read_bytes())
    (cache / "models--mlx-community--Qwen3.5-27B-4bit" / "refs").mkdir()
    (cache / "models--mlx-community--Qwen3.5-27B-4bit" / "refs" / "main").write_text("abc123")
    monkeypatch.setenv("HF_HUB_CACHE", str(cache))
    import huggingface_hub.constants as constants

    monkeypatch.setattr(constants, "HF_HUB_CACHE", str(cache))
    assert find_tokenizer_file("mlx-community/Qwen3.5-27B-4bit") == snapshot / "tokenizer.json"
    assert local_token_counter("mlx-community/Qwen3.5-27B-4bit")("the port") == 2


def test_first_count_falls_through_to_the_next_counter():
    server = lambda text: None  # noqa: E731  (mlx_lm.server: no /tokenize)
    assert first_count(server, lambda text: len(text.split()))("a b c") == 3
    assert first_count(lambda text: 7, lambda text: 1)("x") == 7  # the server's figure wins
    assert first_count(None, None) is None


def test_the_lazy_counter_reads_the_tokenizer_once_and_only_when_asked(model_folder, monkeypatch):
    import orchestrator.metrics.tokenizer_count as tc

    reads = []
    real = tc.local_token_counter
    monkeypatch.setattr(tc, "local_token_counter", lambda model: reads.append(model) or real(model))
    count = tc.lazy_token_counter(str(model_folder))
    assert reads == []  # a server that counts for itself never pays for reading the tokenizer
    assert count("the port") == 2 and count("is 8080") == 2
    assert reads == [str(model_folder)]
    assert tc.lazy_token_counter("/no/such/model")("the port") is None


def test_a_turns_thinking_is_counted_by_the_model_tokenizer_before_any_estimate(model_folder):
    """What an mlx_lm.server turn gets: no usage count, no /tokenize, the folder's tokenizer.json."""
    from orchestrator.agent.stream import TurnMetrics, TurnResult
    from orchestrator.metrics.tokenizer_count import lazy_token_counter
    from orchestrator.metrics.turn_record import count_thinking

    turn = TurnResult(content="8080", raw_content="<think>the port is 8080.</think>8080",
                      reasoning="the port is 8080.", tool_calls=[], finish_reason="stop",
                      metrics=TurnMetrics(completion_tokens=40))
    no_tokenize = lambda text: None  # noqa: E731
    assert count_thinking(turn, first_count(no_tokenize, lazy_token_counter(str(model_folder)))) == (5, "tokenizer")
    # without the model's tokenizer: the completion tokens shared out by characters, said to be an estimate
    assert count_thinking(turn, first_count(no_tokenize, lazy_token_counter("/no/such/model"))) == (32, "estimate")  # 40 x 17 / 21 chars


def test_the_first_model_name_with_a_tokenizer_here_counts(model_folder, tmp_path, monkeypatch):
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    count = lazy_token_counter("qwen3.5:27b", None, "/no/such/folder", str(model_folder))
    assert count("the port is 8080.") == 5  # an Ollama name first, then the MLX copy on disk
