"""Run raw model text through vLLM's own serving-layer parser, in-process, and print what vLLM would send.

Runs under vLLM's interpreter (.venv-vllm/bin/python), because vLLM pins its own transformers. Reads a
JSON list of jobs on stdin (one process for all: importing vLLM takes ~10 s), each:

    {"tokenizer": DIR, "add_tokens": [...], "tool_parser": "qwen3_coder", "reasoning_parser": "qwen3",
     "text": RAW, "tools": [...], "chat_template_kwargs": {...}, "prompt_ends_in_think": false}

and prints a list of {"message": {...}, "finish_reason": ..., "chunks": [...]} (or {"error": ...}): the
non-streaming message and the
streamed chunks, built from the objects vLLM's chat serving builds (`ParserManager.get_parser`, the
composed `Parser`'s `adjust_request`, `parse` and `parse_delta`), one token at a time with vLLM's own
tokenizer loader. `add_tokens` are added as special tokens to a copy of the tokenizer (the real models
have their markers as single special tokens; SmolLM2's vocabulary does not).

What is not vLLM's own here: the token-by-token incremental detokenization (done with the tokenizer's
decode of the growing prefix, which is what vLLM's incremental detokenizer converges to) and the
finish_reason rule ("tool_calls" once any call was parsed, as serving.py does).
"""

from __future__ import annotations

import json
import shutil
import sys
import tempfile
from pathlib import Path


def _tokenizer(folder: str, add_tokens: list[str]):
    from transformers import AutoTokenizer
    from vllm.tokenizers import get_tokenizer

    work = Path(tempfile.mkdtemp(prefix="sb-vllm-tok-"))
    hf = AutoTokenizer.from_pretrained(folder)
    if add_tokens:
        hf.add_special_tokens({"additional_special_tokens": add_tokens})
    hf.save_pretrained(work)
    return get_tokenizer(str(work)), work


def _request(job: dict):
    from vllm.entrypoints.openai.chat_completion.protocol import ChatCompletionRequest

    return ChatCompletionRequest(model="m", messages=[{"role": "user", "content": "go"}],
                                 tools=job.get("tools") or None, tool_choice="auto",
                                 chat_template_kwargs=job.get("chat_template_kwargs") or None)


def _make(job: dict, tokenizer):
    from vllm.parser import ParserManager

    parser_cls = ParserManager.get_parser(tool_parser_name=job.get("tool_parser"),
                                          reasoning_parser_name=job.get("reasoning_parser"),
                                          enable_auto_tools=True, tokenizer=tokenizer)
    request = _request(job)
    parser = parser_cls(tokenizer, request.tools, chat_template_kwargs=job.get("chat_template_kwargs") or {})
    request = parser.adjust_request(request) or request
    return parser, request


def _calls_dump(calls) -> list[dict]:
    return [{"id": f"call_{i}", "type": "function",
             "function": {"name": c.name, "arguments": c.arguments}} for i, c in enumerate(calls or [])]


def run(job: dict) -> dict:
    tokenizer, work = _tokenizer(job["tokenizer"], job.get("add_tokens") or [])
    try:
        text = job["text"]
        ids = tokenizer.encode(text, add_special_tokens=False)
        prompt_ids = tokenizer.encode(job.get("prompt_tail", ""), add_special_tokens=False)

        parser, request = _make(job, tokenizer)
        reasoning, content, calls = parser.parse(text, request, enable_auto_tools=True,
                                                 model_output_token_ids=ids)
        message = {"role": "assistant", "content": content, "reasoning": reasoning,
                   "tool_calls": _calls_dump(calls)}

        parser, request = _make(job, tokenizer)
        skip = bool(getattr(request, "skip_special_tokens", True))
        chunks, previous, any_call = [], "", False
        for i in range(len(ids)):
            current = tokenizer.decode(ids[:i + 1], skip_special_tokens=skip)
            delta_text, previous = current[len(previous):], current
            delta = parser.parse_delta(delta_text=delta_text, delta_token_ids=[ids[i]], request=request,
                                       prompt_token_ids=prompt_ids, finished=i == len(ids) - 1)
            if delta is None:
                continue
            dumped = delta.model_dump(exclude_none=True)
            any_call = any_call or bool(dumped.get("tool_calls"))
            if dumped:
                chunks.append({"choices": [{"index": 0, "delta": dumped}]})
        finish = "tool_calls" if any_call else "stop"
        chunks.append({"choices": [{"index": 0, "delta": {}, "finish_reason": finish}]})
        return {"message": message, "finish_reason": "tool_calls" if calls else "stop", "chunks": chunks,
                "token_count": len(ids)}
    finally:
        shutil.rmtree(work, ignore_errors=True)


def run_safely(job: dict) -> dict:
    try:
        return run(job)
    except Exception as err:  # one failing format must not hide the others
        return {"error": f"{type(err).__name__}: {err}"}


if __name__ == "__main__":
    print(json.dumps([run_safely(job) for job in json.load(sys.stdin)]))
