"""String helpers for the newsletter renderer."""

SMALL_WORDS = ("a", "an", "the", "of", "and", "or", "in", "on", "to", "for", "with")


def truncate(text: str, width: int, ellipsis: str = "...") -> str:
    """Text cut to at most `width` characters, ending in `ellipsis` when it was cut.

    Text that fits is returned unchanged. A `width` shorter than the ellipsis is a ValueError.
    """
    # TODO: implement truncate (used by the subject-line preview)
    raise NotImplementedError


def word_wrap(text: str, width: int) -> list[str]:
    """Greedy wrapping on whitespace into lines of at most `width` characters.

    Runs of whitespace (newlines too) separate words; lines hold words joined by single spaces. A word
    longer than `width` goes on a line of its own, unbroken. Empty or blank text gives [].
    """
    # TODO: implement word_wrap (plain-text version of the newsletter)
    raise NotImplementedError


def title_case(text: str, small_words: tuple[str, ...] = SMALL_WORDS) -> str:
    """Headline case: each word capitalised, except `small_words` that are neither first nor last.

    Words are separated by single spaces in the result. A word already all in capitals (an acronym
    such as API or NASA) is kept as it is; other words get their first letter upper and the rest lower.
    """
    # TODO: implement title_case (section headings)
    raise NotImplementedError


def slug_words(text: str) -> list[str]:
    return [w for w in "".join(c.lower() if c.isalnum() else " " for c in text).split() if w]
