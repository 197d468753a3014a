"""URL slugs for newsletter issues."""

from .strings import slug_words


def slugify(title: str, max_words: int = 8) -> str:
    # TODO: transliterate accented letters (é -> e) instead of dropping them
    return "-".join(slug_words(title)[:max_words]) or "untitled"
