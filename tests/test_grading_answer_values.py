"""The values an answer states (grading/answers.py), pinned exactly: units converted, count nouns with
their offsets, number words, operands and multipliers ignored, distractors and contrasts tying a number
to nothing, labels in parentheses, and the tolerance of a match. Quantities of a small made-up question
so each rule shows on its own."""

import pytest

from orchestrator.grading import answers
from orchestrator.grading.answers import (QuantityVerdict, Stated, _between_neighbours, _number_spans, judge_answer,
                                          normalise_answer)
from orchestrator.taskdef import AnswerQuantity, load_task

RETRIES = AnswerQuantity(name="retries", value=7, dimension="count", keywords=["retr", "max_"],
                         offsets={"attempt": -1, "try": -1, "delivery": -1})
BACKOFF = AnswerQuantity(name="backoff", value=45, dimension="duration", keywords=["backoff", "wait"])
DISTRACTORS = ["timeout", "multipl"]
CONTRASTS = ["default", "staging"]


def stated(answer, quantities=(RETRIES, BACKOFF), distractors=DISTRACTORS, contrasts=CONTRASTS):
    return {v.name: [s.value for s in v.stated]
            for v in judge_answer(answer, list(quantities), list(distractors), list(contrasts))}


@pytest.mark.parametrize("answer, retries, backoff", [
    # units of time, to seconds
    ("backoff 45 s", [], [45]),
    ("backoff 45s", [], [45]),
    ("backoff 45 sec", [], [45]),
    ("backoff 45 secs", [], [45]),
    ("backoff 45 second", [], [45]),
    ("backoff 45 seconds", [], [45]),
    ("backoff 45-second", [], [45]),
    ("backoff 45 - seconds", [], [45]),
    ("backoff 45000 ms", [], [45]),
    ("backoff 45000 msec", [], [45]),
    ("backoff 45000 msecs", [], [45]),
    ("backoff 45000 millisecond", [], [45]),
    ("backoff 45000 milliseconds", [], [45]),
    ("backoff 0.75 min", [], [45]),
    ("backoff 0.75 mins", [], [45]),
    ("backoff 2 minute", [], [120]),
    ("backoff 2 minutes", [], [120]),
    ("backoff 2 h", [], [7200]),
    ("backoff 1 hr", [], [3600]),
    ("backoff 1 hrs", [], [3600]),
    ("backoff 1 hour", [], [3600]),
    ("backoff 3 hours", [], [10800]),
    ("backoff: 45", [], [45]),
    ("backoff 45 sx", [], [45]),
    # count nouns and their offsets
    ("7 retries", [7], []),
    ("7 retry", [7], []),
    ("7 times", [7], []),
    ("1 time", [1], []),
    ("8 attempts", [7], []),
    ("8 attempt", [7], []),
    ("8 tries", [7], []),
    ("1 try", [0], []),
    ("8 deliveries", [7], []),
    ("1 delivery", [0], []),
    ("retries: 7", [7], []),
    ("max_retries = 7", [7], []),
    # number words and adverbs
    ("retried twice", [2], []),
    ("retried once", [1], []),
    ("retried thrice", [3], []),
    ("seven retries", [7], []),
    ("nineteen retries", [19], []),
    ("twenty retries", [20], []),
    ("twenty-one retries", [21], []),
    ("ninety nine retries", [99], []),
    ("backoff of forty-five seconds", [], [45]),
    ("zero retries", [0], []),
    ("eleven retries, twelve retries", [11, 12], []),
    # operands and multipliers state nothing
    ("backoff 45 x 1.5", [], []),
    ("backoff 45 × 1.5", [], []),
    ("backoff 45 * 2", [], []),
    ("backoff 45*2", [], []),
    ("the first wait is 30 * 1.5 = 45 s", [], []),
    ("the first wait is 30 x 1.5 = 45 s", [], []),
    ("**7** retries, **45** s backoff", [7], [45]),
    ("backoff 90 / 2", [], []),
    ("backoff 40 + 5", [], []),
    ("backoff grows 1.5x", [], []),
    ("backoff grows 1.5×", [], []),
    ("backoff grows 50%", [], []),
    ("backoff 45 s, 1.5x each time", [], [45]),
    # digits glued to a word or a version are no number
    ("backoff v45 s", [], []),
    ("backoff 1.45 s", [], [1.45]),
    ("backoff a-45 s", [], []),
    # markdown, thousands, no-break spaces
    ("**backoff**: `45` s", [], [45]),
    ("__7__ retries", [7], []),
    ("backoff 45,000 ms", [], [45]),
    ("backoff 45\u00a0s", [], [45]),
    ("## Backoff\n45 s", [], []),
    # distractors: a nearer one ties the number to nothing
    ("timeout 15 s, backoff 45 s", [], [45]),
    ("backoff after a timeout of 15 s", [], []),
    ("the multiplier is 2, retries 7", [7], []),
    # a number nearer to the keyword than ours takes it
    ("backoff 45 s and is multiplied by 1.5", [], [45]),
    ("wait 3 then 45 s", [], [3]),
    # clauses: one per sentence, comma, arrow, "then"
    ("7 retries. backoff 45 s", [7], [45]),
    ("retries: 7 -> backoff 45 s", [7], [45]),
    ("retries -> 7", [], []),
    ("backoff → 45 s", [], []),
    ("backoff => 45 s", [], []),
    ("retries then 7 s", [], []),
    ("retries followed by 7 s", [], []),
    ("retries; 7 s", [], []),
    # labels in parentheses
    ("7 (max_retries) and 45 s (backoff)", [7], [45]),
    ("7 [retries]", [7], []),
    # contrasts: the rest of the clause speaks of something else
    ("the default is 3 retries, production has 7 retries", [7], []),
    ("7 retries (the default 3 retries) and a 45 s backoff", [7], [45]),
    ("7 retries (staging 2 retries) backoff 45 s", [7], [45]),
    ("7 retries; staging 2 retries; backoff 45 s", [7], [45]),
    ("staging has (2 retries) and 3 retries. 7 retries", [7], []),
    ("the defaults are 5 s -> backoff 45 s", [], [45]),
    ("default 5 s then backoff 45 s", [], [45]),
    ("default 3 retries! 7 retries", [7], []),
    ("default 3 retries? 7 retries", [7], []),
    ("default 3 retries:\n7 retries", [7], []),
    ("default 3 retries\n7 retries", [7], []),
    ("default) 3 retries, 7 retries", [7], []),
    ("(a) default 3 retries) 7 retries", [], []),
    ("default (3 retries, 5 s backoff): 7 retries, 45 s backoff", [7], [45]),
    ("default ((3 retries), 5 s backoff): 7 retries, 45 s backoff", [7], [45]),
    ("default 5 s -> backoff 45 s", [], [45]),
    ("default 5 s → backoff 45 s", [], [45]),
    ("default 5 s. backoff 45 s", [], [45]),
    # a word between two numbers at equal distances speaks of both
    ("3 retr 7", [3, 7], []),
    # a number a distractor claims is not tied again through its parentheses
    ("backoff after timeout 15 s(wait)", [], []),
    ("retries (7)", [7], []),
    ("default 3 retries: 7 retries", [7], []),
    ("default 3 retries, 3 retries", [3], []),
    ("default (2 retries) 2 retries, 2 retries, 2 retries", [2, 2], []),
    ("backoff 45 x 1.5 or wait 45 s", [], [45]),
    # "ten" is never the ones of a tens word
    ("twenty ten retries", [10], []),
    ("retr 7 wait", [7], []),
    ("default 3 retries→ 7 retries", [7], []),
    ("by default: 3 retries", [3], []),
    ("defaultly 3 retries", [3], []),
])
def test_each_number_is_read_with_its_unit_and_tied_to_its_quantity(answer, retries, backoff):
    assert stated(answer) == {"retries": retries, "backoff": backoff}


def test_a_unit_decides_which_quantities_a_number_may_belong_to():
    both_retr = AnswerQuantity(name="wait", value=1, dimension="duration", keywords=["retr"])
    assert stated("retries 7 s", (RETRIES, both_retr)) == {"retries": [], "wait": [7]}
    assert stated("retries 7 times", (RETRIES, both_retr)) == {"retries": [7], "wait": []}
    assert stated("retries 7", (RETRIES, both_retr)) == {"retries": [7], "wait": []}


def test_the_nearest_keyword_wins_between_quantities():
    assert stated("retries 7 and backoff 45") == {"retries": [7], "backoff": [45]}
    assert stated("backoff 45 and retries 7") == {"retries": [7], "backoff": [45]}


def test_a_distractor_at_the_same_distance_does_not_take_the_number():
    assert stated("timeout 7 retr") == {"retries": [7], "backoff": []}


def test_an_offset_applies_only_to_its_own_noun():
    assert stated("8 attempts, 7 retries, 7 times") == {"retries": [7, 7, 7], "backoff": []}


@pytest.mark.parametrize("answer, passed", [
    ("7 retries, backoff 45 s", True),
    ("7 retries, backoff 45.00001 s", True),
    ("7 retries, backoff 45.001 s", False),
    ("7 retries, backoff 45 s, backoff 45000 ms", True),
    ("7 retries, backoff 45 s, backoff 46 s", False),
    ("7 retries", False),
    ("", False),
    (None, False),
])
def test_a_quantity_passes_when_stated_and_every_statement_is_right(answer, passed):
    verdicts = judge_answer(answer, [RETRIES, BACKOFF], DISTRACTORS, CONTRASTS)
    assert all(v.passed for v in verdicts) is passed


def test_the_tolerance_is_relative_for_large_values_absolute_below_one():
    big = AnswerQuantity(name="big", value=1_000_000, dimension="count", keywords=["items"])
    small = AnswerQuantity(name="small", value=0.5, dimension="duration", keywords=["wait"])
    verdict = {v.name: v.passed for v in judge_answer("items 1000000.5, wait 0.5000005", [big, small], [])}
    assert verdict == {"big": True, "small": True}
    verdict = {v.name: v.passed for v in judge_answer("items 1000001, wait 0.5000005", [big, small], [])}
    assert verdict == {"big": True, "small": True}
    verdict = {v.name: v.passed for v in judge_answer("items 1000002, wait 0.5000015", [big, small], [])}
    assert verdict == {"big": False, "small": False}


def test_a_verdict_describes_what_was_stated_and_against_what():
    none = QuantityVerdict("backoff", 45.0, [])
    right = QuantityVerdict("backoff", 45.0, [Stated(45.0, "45 s backoff")])
    wrong = QuantityVerdict("backoff", 45.0, [Stated(67.5, "67.5 s"), Stated(45.0, "45 s")])
    assert (none.passed, right.passed, wrong.passed) == (False, True, False)
    assert none.describe(" s") == "backoff: no value stated (expected 45 s)"
    assert right.describe(" s") == "backoff: stated 45 s ('45 s backoff'): ok"
    assert wrong.describe("") == "backoff: stated 67.5 ('67.5 s'), 45 ('45 s'): expected 45"


def test_the_words_that_stated_a_value_are_kept_around_it():
    [retries, backoff] = judge_answer("In production the notifier keeps retrying; it makes 7 retries in all, with "
                                      "a backoff of 45 s before the first one", [RETRIES, BACKOFF], [])
    assert [s.text for s in retries.stated] == ["it makes 7 retries in a"]
    assert [s.text for s in backoff.stated] == ["with a backoff of 45 s befo"]
    [retries, _] = judge_answer("the notifier in production makes 7 retries in all", [RETRIES, BACKOFF], [])
    assert [s.text for s in retries.stated] == ["fier in production makes 7 retries in a"]


def test_an_answer_is_read_only_up_to_its_bound():
    assert answers.MAX_ANSWER_CHARS == 20_000
    padded = "x" * (answers.MAX_ANSWER_CHARS - 3) + " 7 retries and a 45 s backoff"
    assert stated(padded) == {"retries": [], "backoff": []}
    assert stated("x" * (answers.MAX_ANSWER_CHARS - 20) + " 7 retries") == {"retries": [7], "backoff": []}


@pytest.mark.parametrize("text, normal", [
    ("Forty-Five", "45"),
    ("sixty", "60"),
    ("thirty three", "33"),
    ("twice and once", "2 times and 1 times"),
    ("someone tonight", "someone tonight"),
    ("**bold** `code` #h", " bold   code   h"),
    ("snake_case __dunder__", "snake_case  dunder "),
    ("1,000 and 12,34 and 1,2345", "1000 and 12,34 and 1,2345"),
    ("a\u00a0b", "a b"),
    ("45 * 1.5 and 2*3 and **7**", "45 x 1.5 and 2 x 3 and  7 "),
])
def test_normalising_an_answer(text, normal):
    assert normalise_answer(text) == normal


@pytest.mark.parametrize("noun, offset", [("retries", 1), ("retry", 1), ("times", 2), ("time", 2), ("attempts", 3),
                                          ("attempt", 3), ("tries", 4), ("try", 4), ("deliveries", 5),
                                          ("delivery", 5)])
def test_each_count_noun_takes_the_offset_of_its_singular(noun, offset):
    q = AnswerQuantity(name="n", value=0, dimension="count", keywords=[],
                       offsets={"retry": 1, "time": 2, "attempt": 3, "try": 4, "delivery": 5})
    [verdict] = judge_answer(f"10 {noun}", [q], [])
    assert [s.value for s in verdict.stated] == [10 + offset]


@pytest.mark.parametrize("value, word", [*enumerate(["zero", "one", "two", "three", "four", "five", "six", "seven",
                                                     "eight", "nine", "ten", "eleven", "twelve", "thirteen",
                                                     "fourteen", "fifteen", "sixteen", "seventeen", "eighteen",
                                                     "nineteen"]),
                                         (20, "twenty"), (30, "thirty"), (40, "forty"), (50, "fifty"), (60, "sixty"),
                                         (70, "seventy"), (80, "eighty"), (90, "ninety"), (47, "forty seven"),
                                         (83, "eighty-three")])
def test_every_number_word_is_read(value, word):
    assert stated(f"{word} retries") == {"retries": [value], "backoff": []}


def test_a_keyword_inside_the_numbers_own_words_is_at_distance_zero_for_every_quantity():
    first = AnswerQuantity(name="first", value=1, dimension="duration", keywords=["sec"])
    second = AnswerQuantity(name="second", value=1, dimension="duration", keywords=["seconds"])
    assert stated("45 seconds", (first, second), [], []) == {"first": [45], "second": []}
    wait = AnswerQuantity(name="wait", value=1, dimension="duration", keywords=["wait"])
    assert stated("wait 45 sec", (wait, first), [], []) == {"wait": [], "first": [45]}


def test_a_group_that_starts_with_a_break_word_leaves_it_out():
    assert stated(" then 7 (retries)", distractors=DISTRACTORS + ["then"]) == {"retries": [7], "backoff": []}


# ---- which keyword spans a number can be tied to: none beyond the next number on either side (another
# number stands nearer to those), so judging a long answer stays linear in its numbers. A number's span
# is the one `_number_spans` finds, its unit word included ("1 retries").


def spans(text: str, word: str) -> list[tuple[int, int]]:
    out, at = [], text.find(word)
    while at != -1:
        out.append((at, at + len(word)))
        at = text.find(word, at + 1)
    return out


def test_words_beyond_the_neighbouring_numbers_are_no_candidates():
    text = "wait 1 s wait 2 s wait 3 s wait"
    w = spans(text, "wait")  # before 1, between 1-2, between 2-3, after 3
    one, two, three = _number_spans(text)[0]
    assert (one, two, three) == ((5, 8), (14, 17), (23, 26))
    assert _between_neighbours(text, two, ["wait"]) == [w[1], w[2]]
    assert _between_neighbours(text, one, ["wait"]) == [w[0], w[1]]  # nothing to its left: the text's start
    assert _between_neighbours(text, three, ["wait"]) == [w[2], w[3]]  # nothing to its right: the text's end


def test_a_word_inside_a_neighbours_span_stays_a_candidate():
    text = "1 retries then 2 wait retries 3 retries"
    one, two, three = _number_spans(text)[0]
    r = spans(text, "retries")
    assert one == (0, 9) and three == (30, 39)  # "1 retries", "3 retries": the unit is part of the number
    # the words overlapping the neighbours are kept (mine() then finds the neighbour nearer), none beyond
    assert _between_neighbours(text, two, ["retries"]) == r


def test_a_long_word_straddling_the_left_bound_is_kept():
    text = "initial backoff 5 then 45 s"
    b = spans(text, "initial backoff")
    five, forty_five = _number_spans(text)[0]
    assert _between_neighbours(text, five, ["initial backoff"]) == b
    assert _between_neighbours(text, forty_five, ["initial backoff"]) == []


def test_a_long_repetitive_answer_ties_each_number_to_its_own_word():
    checks = load_task("config_read").checks
    answer = "7 retries and a 45 s backoff. " + "retries 3 " * 1500  # 15,030 characters, not cut
    verdicts = {v.name: v for v in judge_answer(answer, checks.answer, checks.answer_distractors,
                                                 checks.answer_contrasts)}
    # "retries [3 retries] ... [3 retries] [3]": the unit joins each 3 but the last, whose only near
    # word belongs to the number before it; the same verdict as comparing every word with every number
    assert [s.value for s in verdicts["retries"].stated] == [7.0] + [3.0] * 1499
    assert [s.value for s in verdicts["initial backoff"].stated] == [45.0]


def test_a_short_word_just_before_the_left_neighbour_is_left_out_though_a_longer_word_reaches_back():
    text = "wait 1 s initial backoff 2 s"
    one, two = _number_spans(text)[0]
    assert one == (5, 8)
    # the window reaches back by the longest word (15 characters) to the text's start, but "wait" ends
    # before the neighbour "1 s" starts: the neighbour is nearer to it
    assert _between_neighbours(text, two, ["wait", "initial backoff"]) == spans(text, "initial backoff")


def test_a_one_letter_word_at_the_very_start_is_a_candidate_of_the_first_number():
    text = "w 5 s"
    (five,) = _number_spans(text)[0]
    assert _between_neighbours(text, five, ["w"]) == [(0, 1)]


def test_a_word_ending_where_the_left_neighbour_starts_is_left_out():
    text = "wait 1 s wait 2 s"
    one, two = _number_spans(text)[0]
    assert one == (5, 8)
    # "wait " ends at 5, where "1 s" starts: that number is nearer to it (distance 0) than ours
    assert _between_neighbours(text, two, ["wait "]) == [(9, 14)]


def test_a_word_just_after_the_first_number_is_not_tied_to_a_far_second_one():
    checks = load_task("config_read").checks
    verdicts = {v.name: v for v in judge_answer("3 s wait for the total of 45 s", checks.answer,
                                                 checks.answer_distractors, checks.answer_contrasts)}
    # 'wait' stands next to 3 s; 45 s has no word of its own, so it states nothing
    assert [s.value for s in verdicts["initial backoff"].stated] == [3.0]
