import pytest

from signup.validators import validate_email, validate_password, validate_username


def test_usernames():
    assert validate_username("ada_lovelace")
    assert not validate_username("Ada")
    assert not validate_username("1ada")


@pytest.mark.parametrize("email", ["ada@example.com", "first.last+tag@mail.example.org"])
def test_valid_emails(email):
    assert validate_email(email)


@pytest.mark.parametrize("email", ["", "ada", "ada@", "@example.com", "ada@example", "ada @example.com"])
def test_invalid_emails(email):
    assert not validate_email(email)


def test_passwords():
    assert validate_password("Correct-horse-7") == []
    assert "a digit" in validate_password("NoDigitsHereAtAll")
