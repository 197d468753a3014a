"""What each seed model's server receives: its card's sampling, a per-run seed, its earlier reasoning.

Requests go over real HTTP (the scripted model records every body) through the real openai client and
the real loop, so a field dropped anywhere between the config and the wire fails here.
"""

import pytest

from orchestrator.agent.chat_client import ChatClient, ChatSettings, run_seed
from orchestrator.agent.loop import LoopSettings, run_agent
from orchestrator.config import CONFIG_DIR, load_config, parse_config
from tests.helpers.scripted_server import ScriptedModel
from tests.test_loop import SCHEMAS, RecordingTools, read

# The card's advice, as the configs cite it (model_configs/*.yaml), and where earlier reasoning goes.
CARDS = {
    "qwen3.5-27b": ({"temperature": 0.6, "top_p": 0.95, "top_k": 20, "min_p": 0.0, "presence_penalty": 0.0,
                     "repetition_penalty": 1.0}, "both"),
    "qwen3-coder-next": ({"temperature": 1.0, "top_p": 0.95, "top_k": 40}, "none"),
    "minimax-m2.5": ({"temperature": 1.0, "top_p": 0.95, "top_k": 40}, "both"),
    "gemma-4-31b": ({"temperature": 1.0, "top_p": 0.95, "top_k": 64}, "both"),
    "devstral-2-123b": ({"temperature": 0.15}, "none"),
}


def served(name: str, base_url: str):
    """A seed config pointed at the scripted server, as `run --model NAME --base-url URL` does."""
    return ChatSettings.from_config(load_config(CONFIG_DIR / f"{name}.yaml"), model="scripted")


def run_two_turns(settings: ChatSettings, first_turn: dict):
    with ScriptedModel([first_turn, {"content": "done"}]) as model:
        client = ChatClient(model.base_url, settings.for_run("read_fix_write", 1))
        run_agent("Fix the bug.", "sys", SCHEMAS, client, RecordingTools(), LoopSettings(max_turns=3))
        return model.requests


@pytest.mark.parametrize("name", sorted(CARDS))
def test_every_request_carries_the_cards_sampling_and_the_runs_seed(name):
    sampling, _ = CARDS[name]
    settings = served(name, "")
    requests = run_two_turns(settings, {"tool_calls": [read("a.py")]})
    config = load_config(CONFIG_DIR / f"{name}.yaml")
    for body in requests:
        for key, value in sampling.items():
            assert body[key] == value, (name, key)
        assert body["max_tokens"] == config.sampling.max_tokens
        assert body["seed"] == run_seed(config.sampling.seed, "read_fix_write", 1)
    # Nothing the card does not name is sent: the server's own default stays in force.
    unnamed = {"top_k", "min_p", "presence_penalty", "frequency_penalty", "repetition_penalty"} - set(sampling)
    assert not unnamed & set(requests[0]), unnamed & set(requests[0])


@pytest.mark.parametrize("name", sorted(CARDS))
def test_earlier_reasoning_goes_back_in_the_field_the_config_names(name):
    _, field = CARDS[name]
    settings = served(name, "")
    assert settings.reasoning_in_history == field
    requests = run_two_turns(settings, {"reasoning": "I must read a.py first.", "tool_calls": [read("a.py")]})
    assistant = [m for m in requests[1]["messages"] if m["role"] == "assistant"][0]
    sent = {k: assistant.get(k) for k in ("reasoning", "reasoning_content")}
    expected = {"none": {"reasoning": None, "reasoning_content": None},
                "reasoning_content": {"reasoning": None, "reasoning_content": "I must read a.py first."},
                "both": {"reasoning": "I must read a.py first.", "reasoning_content": "I must read a.py first."}}
    assert sent == expected[field]
    assert assistant["tool_calls"][0]["function"]["name"] == "read_file"


def test_think_tags_put_reasoning_inline_and_inline_thinking_is_not_duplicated():
    config = parse_config({"name": "t", "backend": "openai", "context_length": 4096, "thinking": "always",
                           "reasoning_in_history": "think_tags",
                           "openai": {"base_url": "http://x/v1", "served_model": "m"}}, "t.yaml")
    settings = ChatSettings.from_config(config, model="scripted")
    # The model put its thinking inline in the content (no reasoning parser on the server).
    requests = run_two_turns(settings, {"reasoning": "plan", "think_in_content": True, "content": "ok",
                                        "tool_calls": [read("a.py")]})
    assistant = [m for m in requests[1]["messages"] if m["role"] == "assistant"][0]
    assert assistant["content"] == "<think>\nplan\n</think>\n\nok"
    assert "reasoning" not in assistant and "reasoning_content" not in assistant


def test_default_history_mode_follows_thinking():
    base = {"name": "t", "backend": "openai", "context_length": 4096,
            "openai": {"base_url": "http://x/v1", "served_model": "m"}}
    modes = {t: parse_config({**base, "thinking": t}, "t.yaml").history_reasoning
             for t in ("none", "optional", "default_on", "always")}
    assert modes == {"none": "none", "optional": "both", "default_on": "both", "always": "both"}


def test_runs_get_different_seeds_and_a_rerun_the_same():
    settings = ChatSettings(model="m", seed=0)
    seeds = {(task, run): settings.for_run(task, run).seed for task in ("tdd", "security_fix") for run in range(3)}
    assert len(set(seeds.values())) == 6, "three runs must be three samples"
    assert settings.for_run("tdd", 2).seed == seeds[("tdd", 2)], "a rerun repeats its seed"
    assert ChatSettings(model="m", seed=7).for_run("tdd", 2).seed != seeds[("tdd", 2)], "the base seed counts"
    assert ChatSettings(model="m", seed=None).for_run("tdd", 2).seed is None
    assert all(0 <= s < 2**31 for s in seeds.values()), "servers take a signed 32-bit seed"


def test_extra_body_and_template_kwargs_reach_the_server_and_the_config_wins():
    config = parse_config({
        "name": "t", "backend": "vllm", "context_length": 4096, "thinking": "default_on",
        "chat_template_kwargs": {"enable_thinking": True},
        "sampling": {"top_k": 20},
        "vllm": {"model": "m", "tool_call_parser": "hermes", "extra_body": {"thinking_token_budget": 512}}},
        "t.yaml")
    settings = ChatSettings.from_config(config, model="scripted",
                                        extras={"thinking_token_budget": 99, "from_backend": 1})
    with ScriptedModel([{"content": "hi"}]) as model:
        ChatClient(model.base_url, settings).complete([{"role": "user", "content": "x"}], None)
        body = model.requests[0]
    assert body["thinking_token_budget"] == 512 and body["from_backend"] == 1
    assert body["chat_template_kwargs"] == {"enable_thinking": True} and body["top_k"] == 20


def test_unknown_history_mode_is_a_one_line_config_error():
    from orchestrator.errors import UserError

    with pytest.raises(UserError, match=r"t.yaml: reasoning_in_history: 'inline'"):
        parse_config({"name": "t", "backend": "openai", "context_length": 4096, "reasoning_in_history": "inline",
                      "openai": {"base_url": "http://x/v1", "served_model": "m"}}, "t.yaml")
