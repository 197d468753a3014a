"""Hidden: the three string helpers behave as their docstrings say (and demand nothing more)."""

import pytest

from textkit.strings import title_case, truncate, word_wrap


def assert_cut(result, text, width, ellipsis="..."):
    """Cut to at most `width`, ending in the ellipsis, keeping a prefix of the text: at the character
    or back at the last word boundary (the docstring allows either), never more than that."""
    assert len(result) <= width and result.endswith(ellipsis), result
    kept = result[: len(result) - len(ellipsis)]
    assert text.startswith(kept), result
    room = text[: width - len(ellipsis)]
    shortest = room.rsplit(" ", 1)[0].rstrip() if " " in room.strip() else room
    assert len(kept.rstrip()) >= len(shortest), result


@pytest.mark.parametrize("text, width", [("short", 10), ("exactly10!", 10), ("abc", 3), ("", 5)])
def test_text_that_fits_is_unchanged(text, width):
    assert truncate(text, width) == text


@pytest.mark.parametrize("text, width", [("Hello wonderful world", 10), ("abcdef", 5), ("abcd", 3),
                                         ("one two three four", 12)])
def test_long_text_is_cut_with_the_ellipsis(text, width):
    assert_cut(truncate(text, width), text, width)


def test_truncate_custom_ellipsis_and_too_narrow():
    assert_cut(truncate("Hello wonderful world", 8, "…"), "Hello wonderful world", 8, "…")
    assert_cut(truncate("Hello wonderful world", 9, " [more]"), "Hello wonderful world", 9, " [more]")
    with pytest.raises(ValueError):
        truncate("Hello wonderful world", 2)


@pytest.mark.parametrize("text, width, expected", [
    ("", 10, []), ("   \n ", 10, []),
    ("the quick brown fox", 10, ["the quick", "brown fox"]),
    ("the quick brown fox", 9, ["the quick", "brown fox"]),
    ("a b c d", 3, ["a b", "c d"]),
    ("ab cd ef", 4, ["ab", "cd", "ef"]),          # the joining space counts
    ("aa bb", 5, ["aa bb"]),                       # a line may be exactly `width`
    ("tiny supercalifragilistic words", 8, ["tiny", "supercalifragilistic", "words"]),
    ("a well-known fact", 8, ["a", "well-known", "fact"]),   # split on whitespace only
    ("line one\n\nline   two", 20, ["line one line two"]),
    ("tab\tseparated\r\nwords", 30, ["tab separated words"]),
])
def test_word_wrap(text, width, expected):
    assert word_wrap(text, width) == expected


@pytest.mark.parametrize("text, expected", [
    ("the state of the API", "The State of the API"),
    ("a tale Of two cities", "A Tale of Two Cities"),
    ("what to look for", "What to Look For"),
    ("of mice and men", "Of Mice and Men"),
    ("NASA and   the moon", "NASA and the Moon"),
    ("hELLO wORLD", "Hello World"),
    ("x", "X"),
    ("", ""),
])
def test_title_case(text, expected):
    assert title_case(text) == expected


def test_title_case_custom_small_words():
    assert title_case("war and peace", small_words=()) == "War And Peace"
    assert title_case("war and peace in europe", small_words=("in",)) == "War And Peace in Europe"
