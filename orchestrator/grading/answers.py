"""Judging a prose answer by the values it states for each asked quantity, never by a regular expression.

An answer is cut into clauses (sentences, commas, parentheses, "then", arrows). In each clause every
number (digits or number words: "seven", "forty-five", "twice") is read with the unit that follows it
("45 s", "45000 ms", "0.75 min", "7 retries", "8 attempts"). A number is tied to the asked quantity
whose keyword stands nearest to it in the same clause, among the quantities its unit fits; a nearer
distractor ("timeout", "multiplier", "default", "staging") ties it to nothing. Operands of arithmetic
("45 x 1.5") and multipliers ("1.5x") state nothing. A quantity passes when the answer states it at
least once and every value tied to it equals the expected one, after unit conversion.
"""

from __future__ import annotations

import re
from bisect import bisect_left, bisect_right
from dataclasses import dataclass
from functools import lru_cache

from orchestrator.taskdef import AnswerQuantity

SECONDS_PER = {**dict.fromkeys(("ms", "msec", "msecs", "millisecond", "milliseconds"), 0.001),
               **dict.fromkeys(("s", "sec", "secs", "second", "seconds"), 1.0),
               **dict.fromkeys(("min", "mins", "minute", "minutes"), 60.0),
               **dict.fromkeys(("h", "hr", "hrs", "hour", "hours"), 3600.0)}
# Count nouns, singular: a quantity's `offsets` say how one of them converts ("8 attempts" = 7 retries).
COUNT_NOUNS = {"retries": "retry", "retry": "retry", "times": "time", "time": "time", "attempts": "attempt",
               "attempt": "attempt", "tries": "try", "try": "try", "deliveries": "delivery",
               "delivery": "delivery"}
ONES = ["zero", "one", "two", "three", "four", "five", "six", "seven", "eight", "nine", "ten", "eleven",
        "twelve", "thirteen", "fourteen", "fifteen", "sixteen", "seventeen", "eighteen", "nineteen"]
TENS = ["", "", "twenty", "thirty", "forty", "fifty", "sixty", "seventy", "eighty", "ninety"]
ADVERBS = {"once": "1 times", "twice": "2 times", "thrice": "3 times"}
MAX_ANSWER_CHARS = 20_000

_UNIT = (r"(?:\s?-?\s?(?P<unit>milliseconds?|msecs?|ms|seconds?|secs?|s|minutes?|mins?|hours?|hrs?|h|"
         r"retries|retry|times|time|attempts?|tries|try|deliveries|delivery)\b)?")
_NUMBER = re.compile(r"(?<![\w.\-])(?P<num>\d+(?:\.\d+)?)" + _UNIT)
_OPERATOR_AFTER = re.compile(r"\s*[x×*/+]\s*\d")
_OPERATOR_BEFORE = re.compile(r"\d\s*[x×*/+]\s*$")
_MULTIPLIER_AFTER = re.compile(r"\s?[x×%]")
_CLAUSE_BREAK = re.compile(r"[.!?;,()\[\]\n]\s|[;,()\[\]\n]|\s(?:then|and then|followed by)\s|→|->|=>")


@dataclass
class Stated:
    value: float
    """In the quantity's base unit (seconds for a duration, a count of retries for a count)."""
    text: str
    """The words that stated it, for the check's detail."""


@dataclass
class QuantityVerdict:
    name: str
    expected: float
    stated: list[Stated]

    @property
    def passed(self) -> bool:
        return bool(self.stated) and all(_same(s.value, self.expected) for s in self.stated)

    def describe(self, unit: str) -> str:
        if not self.stated:
            return f"{self.name}: no value stated (expected {_fmt(self.expected)}{unit})"
        said = ", ".join(f"{_fmt(s.value)}{unit} ('{s.text}')" for s in self.stated)
        verdict = "ok" if self.passed else f"expected {_fmt(self.expected)}{unit}"
        return f"{self.name}: stated {said}: {verdict}"


def _same(a: float, b: float) -> bool:
    return abs(a - b) <= 1e-6 * max(1.0, abs(b))


def _fmt(x: float) -> str:
    return f"{x:g}"


def _number_words(text: str) -> str:
    """Number words to digits: 'forty-five' -> '45', 'seven' -> '7', 'twice' -> '2 times'."""
    for word, digits in ADVERBS.items():
        text = re.sub(rf"\b{word}\b", digits, text)
    tens = "|".join(t for t in TENS if t)
    ones = "|".join(ONES[1:10])

    def compound(m: re.Match) -> str:
        return str(TENS.index(m.group(1)) * 10 + (ONES.index(m.group(2)) if m.group(2) else 0))
    text = re.sub(rf"\b({tens})(?:[\s-]({ones}))?\b", compound, text)
    return re.sub(rf"\b({'|'.join(ONES)})\b", lambda m: str(ONES.index(m.group(1))), text)


def normalise_answer(answer: str) -> str:
    text = answer[:MAX_ANSWER_CHARS].lower()
    text = re.sub(r"(?<=\d)\s*\*\s*(?=\d)", " x ", text)  # "45 * 1.5" multiplies: not an emphasis mark
    text = re.sub(r"[*`_#]{2,}|[*`#]", " ", text)  # markdown emphasis and code marks
    text = re.sub(r"(?<=\d),(?=\d{3}\b)", "", text)  # 45,000 -> 45000
    text = text.replace("\u00a0", " ")
    return _number_words(text)


def _clauses(text: str) -> list[str]:
    return [c for c in _CLAUSE_BREAK.split(text) if c and c.strip()]


def _dimension(unit: str | None) -> str | None:
    if unit is None:
        return None
    if unit in COUNT_NOUNS:
        return "count"
    return "duration"


def _keyword_hits(clause: str, words: list[str]) -> list[tuple[int, int]]:
    spans = []
    for word in words:
        spans += [(m.start(), m.end()) for m in re.finditer(re.escape(word), clause)]
    return spans


# Each number of a clause looks at the whole clause: its numbers (here) and words (_sorted_hits) are
# found once per clause, not once per number (a 20,000-character clause took minutes to judge).
@lru_cache(maxsize=32)
def _number_spans(context: str) -> tuple[tuple[tuple[int, int], ...], tuple[int, ...]]:
    """Every number in `context` (in order, never overlapping) and where each starts."""
    spans = tuple((m.start(), m.end()) for m in _NUMBER.finditer(context))
    return spans, tuple(s[0] for s in spans)


def _distance(span: tuple[int, int], hit: tuple[int, int]) -> int:
    if hit[1] <= span[0]:
        return span[0] - hit[1]
    if hit[0] >= span[1]:
        return hit[0] - span[1]
    return 0


def _contrast_scopes(text: str, contrasts: list[str]) -> list[tuple[int, int]]:
    """Spans that speak of something else ("the defaults (3 retries, 5 s)", "unlike staging, ..."): from
    a contrast word to the end of its clause, a parenthesis opened on the way included, or to the
    closing parenthesis when the word stands inside one."""
    scopes = []
    for word in contrasts:
        for m in re.finditer(r"\b" + re.escape(word) + r"\b", text):
            depth, end, i = 0, len(text), m.end()
            inside = text[: m.start()].count("(") > text[: m.start()].count(")")
            while i < len(text):
                ch = text[i]
                if ch == "(":
                    depth += 1
                elif ch == ")":
                    if depth == 0 and inside:
                        end = i
                        break
                    depth = max(0, depth - 1)
                elif depth == 0 and (ch in ",;:\n!?" or text.startswith((". ", "->", "→", " then "), i)):
                    end = i
                    break
                i += 1
            scopes.append((m.start(), end))
    return scopes


@lru_cache(maxsize=256)
def _sorted_hits(clause: str, words: tuple[str, ...]) -> tuple[tuple[tuple[int, int], ...], tuple[int, ...], int]:
    """The words' spans in `clause` by start, their starts, and the longest span."""
    hits = tuple(sorted(set(_keyword_hits(clause, list(words)))))
    return hits, tuple(h[0] for h in hits), max((h[1] - h[0] for h in hits), default=0)


def _between_neighbours(context: str, span: tuple[int, int], words: list[str]) -> list[tuple[int, int]]:
    """The words' spans that do not lie beyond the next number on either side of `span`: a number that
    starts before ours is nearer than ours to every word ending before it starts, and one that starts
    after ours ends to every word starting after it ends, so those words can never be ours. Leaving
    them out keeps judging a long answer linear in its numbers."""
    numbers, starts = _number_spans(context)
    left = bisect_left(starts, span[0]) - 1
    right = bisect_left(starts, span[1])
    lo = numbers[left][0] if left >= 0 else 0
    hi = numbers[right][1] if right < len(numbers) else len(context)
    hits, hit_starts, longest = _sorted_hits(context, tuple(words))
    window = hits[bisect_left(hit_starts, lo - longest): bisect_left(hit_starts, hi)]
    return [h for h in window if h[1] > lo]


def _tie(context: str, span: tuple[int, int], unit: str | None, quantities: list[AnswerQuantity],
         distractors: list[str]) -> tuple[int, AnswerQuantity | None] | None:
    """The quantity whose keyword stands nearest the number in `context` (None inside: a distractor
    was nearer), or None when no keyword of a quantity its unit fits is there at all."""
    dim = _dimension(unit)
    numbers, starts = _number_spans(context)

    def mine(hit: tuple[int, int]) -> int | None:
        """Distance to a word, unless another number stands nearer to it ("45 s and is multiplied
        by 1.5": 'multiplied' speaks of the 1.5). Only the last number before the word, those on
        it and the first after it can be nearest."""
        d = _distance(span, hit)
        near = numbers[max(0, bisect_left(starts, hit[0]) - 1): bisect_right(starts, hit[1]) + 1]
        return None if any(_distance(o, hit) < d for o in near if o != span) else d

    best: tuple[int, AnswerQuantity | None] | None = None
    for q in quantities:
        if dim is not None and dim != q.dimension:
            continue
        nouns = [unit] if dim == "count" else []  # "7 retries": the noun says what it counts
        for hit in _between_neighbours(context, span, q.keywords + nouns):
            d = mine(hit)
            if d is not None and (best is None or d < best[0]):
                best = (d, q)
    for hit in _between_neighbours(context, span, distractors):
        d = mine(hit)
        if d is not None and best is not None and d < best[0]:
            best = (d, None)
    return best


_HARD_BREAK = re.compile(r"[.!?;,\n]\s|[;,\n]|\s(?:then|and then|followed by)\s|→|->|=>")


def _group(text: str, at: int) -> tuple[int, str]:
    """The clauses around position `at` that only parentheses separate: (start, text)."""
    start = max((m.end() for m in _HARD_BREAK.finditer(text, 0, at)), default=0)
    end = next((m.start() for m in _HARD_BREAK.finditer(text, at)), len(text))
    return start, text[start:end]


def judge_answer(answer: str | None, quantities: list[AnswerQuantity], distractors: list[str],
                 contrasts: list[str] = ()) -> list[QuantityVerdict]:
    verdicts = {q.name: QuantityVerdict(q.name, q.value, []) for q in quantities}
    if not answer:
        return list(verdicts.values())
    text = normalise_answer(answer)
    scopes = _contrast_scopes(text, list(contrasts))
    offset = 0
    for clause in _clauses(text):
        start, offset = text.index(clause, offset), text.index(clause, offset) + len(clause)
        for m in _NUMBER.finditer(clause):
            if any(a <= start + m.start() < b for a, b in scopes):
                continue
            before, after = clause[: m.start()], clause[m.end("num"):]
            if _OPERATOR_AFTER.match(after) or _OPERATOR_BEFORE.search(before) or \
                    (m.group("unit") is None and _MULTIPLIER_AFTER.match(after)):
                continue
            unit = m.group("unit")
            best = _tie(clause, (m.start(), m.end()), unit, quantities, distractors)
            if best is None:  # "7 (max_retries)", "retries (max_retries): 7": a label in parentheses
                group_start, group = _group(text, start + m.start())
                at = start + m.start() - group_start
                best = _tie(group, (at, at + m.end() - m.start()), unit, quantities, distractors)
            if best is None or best[1] is None:
                continue
            span = (m.start(), m.end())
            q = best[1]
            value = float(m.group("num"))
            if q.dimension == "duration":
                value *= SECONDS_PER[unit] if unit else 1.0  # a bare number is in the base unit
            elif unit:
                value += q.offsets.get(COUNT_NOUNS[unit], 0)
            verdicts[q.name].stated.append(Stated(value, clause[max(0, span[0] - 25): span[1] + 5].strip()))
    return list(verdicts.values())
