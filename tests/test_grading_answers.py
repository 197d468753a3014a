"""Answers judged by the values they state for each asked quantity (grading/answers.py), with the
config_read task's own quantities: right answers in many phrasings pass, each wrong kind fails."""

import pytest

from orchestrator.grading.answers import judge_answer, normalise_answer
from orchestrator.taskdef import load_task

CHECKS = load_task("config_read").checks


def verdict(answer):
    verdicts = judge_answer(answer, CHECKS.answer, CHECKS.answer_distractors, CHECKS.answer_contrasts)
    return all(v.passed for v in verdicts), {v.name: [s.value for s in v.stated] for v in verdicts}


@pytest.mark.parametrize("answer", [
    "In production a failed webhook is retried 7 times, and the backoff before the first retry is 45s.",
    "Seven retries; initial backoff forty-five seconds.",
    "max_retries = 7, initial_backoff_s = 45 (backoff_multiplier = 1.5, timeout_s = 15)",
    "It makes 8 attempts in total (7 retries) and waits 45000 ms before the first retry.",
    "**Retries:** 7\n**Initial backoff:** 45 seconds (then 67.5 s, 101.25 s, ...)",
    "Production overrides the defaults (3 retries, 5 s): 7 retries with a 45 s initial backoff.",
    "The first retry waits 0.75 min; there are seven retries in total.",
    "Instead of the default 5 s, production waits 45 s before the first retry, and retries up to 7 times.",
    "Unlike staging (2 retries, 10 s), production retries 7 times after a 45 s backoff.",
    "| setting | value |\n|---|---|\n| max_retries | 7 |\n| initial_backoff_s | 45 |",
    "Retries: 7. Backoff: 45 s -> 67.5 s -> 101.25 s",
    "7 retries with a 15 s timeout and a 45 s backoff",
    "The notifier retries 7 times; 45,000 ms pass before the first retry.",
    "7 (max_retries) and 45 s (initial_backoff_s)",
    "- **Retries** (`max_retries`): 7\n- **Initial backoff** (`initial_backoff_s`): 45 seconds",
    "Backoff: 45 s (first retry), 67.5 s (second retry). Retries: 7.",
    "Up to 7 retries, so 8 delivery attempts; a 45-second wait comes first.",
    "The backoff starts at 45s and is multiplied by 1.5 each time, for 7 retries in total.",
    "Production config: `max_retries = 7` → retried up to **7** times. `initial_backoff_s = 45` → the first "
    "retry happens **45 seconds** after the failure.",
])
def test_right_values_in_any_phrasing_pass(answer):
    ok, stated = verdict(answer)
    assert ok, stated


@pytest.mark.parametrize("answer, why", [
    ("7 attempts, i.e. 6 retries, with a 45 s backoff", "states 6 retries"),
    ("7 retries; the first retry waits 67.5 s (45 x 1.5)", "states 67.5 s for the first wait"),
    ("It retries 2 times with a 10 s backoff", "staging's values"),
    ("7 retries and 45 ms backoff", "wrong unit"),
    ("7 retries", "backoff missing"),
    ("The backoff is 45 s.", "retries missing"),
    ("Production: 3 retries, 5 s backoff (the 7 and 45 are staging)", "the defaults stated as production"),
    ("It is retried twice, after 45 seconds.", "twice is 2"),
    ("", "empty"),
    (None, "no answer"),
])
def test_wrong_or_missing_values_fail(answer, why):
    ok, stated = verdict(answer)
    assert not ok, (why, stated)


def test_what_was_parsed_is_in_the_detail():
    v = judge_answer("7 attempts and a 45 s backoff", CHECKS.answer, CHECKS.answer_distractors)
    text = "; ".join(x.describe(" s" if x.name != "retries" else "") for x in v)
    assert "stated 6" in text and "7 attempts" in text and "expected 7" in text


def test_number_words_and_thousands_become_digits():
    assert normalise_answer("Forty-five, seventy two and 45,000") == "45, 72 and 45000"


def test_a_huge_answer_is_cut_not_choked_on():
    ok, _ = verdict("7 retries and a 45 s backoff. " + "blah 3 " * 100_000)
    assert ok
