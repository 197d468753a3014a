"""Hidden: validate_email behaves like a sensible email check, not just like the visible examples."""

import pytest

from signup.service import sign_up
from signup.validators import validate_email


@pytest.mark.parametrize("email", [
    "a@b.co", "x_y-z@sub.domain.example", "UPPER@EXAMPLE.COM", "digits123@example.io", "o'brien@example.ie",
])
def test_more_valid_addresses(email):
    assert validate_email(email) is True


@pytest.mark.parametrize("email", [
    None, "plainaddress", "two@@example.com", "a@b@c.com", "ada@.com", "ada@example.", "ada@exa mple.com",
    "ada@example.com\n", " ada@example.com", "ada@example..com", "a" * 300 + "@example.com",
])
def test_more_invalid_addresses(email):
    assert validate_email(email) is False


def test_signup_still_works_end_to_end():
    ok = sign_up({"username": "grace", "email": "grace@navy.mil", "password": "Cobol-Compiler-59"}, set())
    assert ok.ok
    bad = sign_up({"username": "grace", "email": "grace@", "password": "Cobol-Compiler-59"}, set())
    assert bad.errors == {"email": "not a valid email address"}
