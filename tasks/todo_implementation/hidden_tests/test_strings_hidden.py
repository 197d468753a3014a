"""Hidden: the three string helpers behave as their docstrings say."""

import pytest

from textkit.strings import title_case, truncate, word_wrap


@pytest.mark.parametrize("text, width, expected", [
    ("short", 10, "short"), ("exactly10!", 10, "exactly10!"), ("Hello wonderful world", 10, "Hello w..."),
    ("abcdef", 3, "..."), ("", 0, ""),
])
def test_truncate(text, width, expected):
    assert truncate(text, width) == expected
    assert len(truncate(text, width)) <= max(width, 0)


def test_truncate_custom_ellipsis_and_too_narrow():
    assert truncate("Hello wonderful world", 8, "…") == "Hello w…"
    with pytest.raises(ValueError):
        truncate("Hello wonderful world", 2)


@pytest.mark.parametrize("text, width, expected", [
    ("", 10, []), ("   \n ", 10, []),
    ("the quick brown fox", 10, ["the quick", "brown fox"]),
    ("the quick brown fox", 9, ["the quick", "brown fox"]),
    ("a b c d", 3, ["a b", "c d"]),
    ("tiny supercalifragilistic words", 8, ["tiny", "supercalifragilistic", "words"]),
    ("line one\n\nline   two", 20, ["line one line two"]),
])
def test_word_wrap(text, width, expected):
    assert word_wrap(text, width) == expected


@pytest.mark.parametrize("text, expected", [
    ("the state of the API", "The State of the API"),
    ("a tale Of two cities", "A Tale of Two Cities"),
    ("what to look for", "What to Look For"),
    ("NASA and   the moon", "NASA and the Moon"),
    ("hELLO wORLD", "Hello World"),
    ("", ""),
])
def test_title_case(text, expected):
    assert title_case(text) == expected


def test_title_case_custom_small_words():
    assert title_case("war and peace", small_words=()) == "War And Peace"
