from signup.service import sign_up


def test_signup_ok():
    result = sign_up({"username": "ada", "email": "ada@example.com", "password": "Analytical-1843"}, set())
    assert result.ok and result.errors == {}


def test_signup_reports_each_problem():
    result = sign_up({"username": "A", "email": "nope", "password": "short"}, set())
    assert set(result.errors) == {"username", "email", "password"}


def test_duplicate_email_is_case_insensitive():
    result = sign_up({"username": "ada", "email": "Ada@Example.com", "password": "Analytical-1843"},
                     {"ada@example.com"})
    assert result.errors == {"email": "already registered"}
