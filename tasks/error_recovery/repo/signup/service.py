"""Creates accounts after validating the form."""

from dataclasses import dataclass, field

from .validators import validate_email, validate_password, validate_username


@dataclass
class SignupResult:
    ok: bool
    errors: dict[str, str] = field(default_factory=dict)


def sign_up(form: dict, existing_emails: set[str]) -> SignupResult:
    errors = {}
    if not validate_username(form.get("username", "")):
        errors["username"] = "3-30 lowercase letters, digits or underscores"
    email = form.get("email", "")
    if not validate_email(email):
        errors["email"] = "not a valid email address"
    elif email.lower() in existing_emails:
        errors["email"] = "already registered"
    broken = validate_password(form.get("password", ""))
    if broken:
        errors["password"] = "needs " + ", ".join(broken)
    return SignupResult(ok=not errors, errors=errors)
