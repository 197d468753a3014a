"""Input validation for the signup flow."""

import re

USERNAME_RE = re.compile(r"^[a-z][a-z0-9_]{2,29}$")


def validate_username(username: str) -> bool:
    """3-30 characters: lowercase letters, digits and underscores, starting with a letter."""
    return bool(USERNAME_RE.match(username or ""))


def validate_password(password: str) -> list[str]:
    """The rules a password breaks (empty when it is acceptable)."""
    problems = []
    if len(password) < 10:
        problems.append("at least 10 characters")
    if not re.search(r"\d", password):
        problems.append("a digit")
    if password.lower() == password:
        problems.append("an uppercase letter")
    return problems
