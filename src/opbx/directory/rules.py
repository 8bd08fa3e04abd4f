"""The rules a directory value must follow, each checked in one place.

* Roles: ``admin`` (changes everything), ``supervisor`` (reads everything),
  ``agent`` (reads the organization's numbers, reads and edits only themselves).
* Phone numbers (DIDs) in E.164: ``+``, a country code that does not start with 0, at most
  15 digits in all (ITU-T E.164, https://www.itu.int/rec/T-REC-E.164).
* Extension numbers: 1 to 16 digits.
* Passwords: :data:`PASSWORD_RULE` (length over composition, NIST SP 800-63B 3.1.1.2).
"""

from __future__ import annotations

import re
import secrets
from enum import StrEnum

from opbx.directory.errors import Invalid

__all__ = [
    "MIN_PASSWORD_LENGTH",
    "PASSWORD_RULE",
    "Role",
    "check_e164",
    "check_email",
    "check_extension_number",
    "check_name",
    "check_password",
    "check_role",
    "check_webhook_secret",
    "new_webhook_secret",
]


class Role(StrEnum):
    ADMIN = "admin"
    SUPERVISOR = "supervisor"
    AGENT = "agent"


MIN_PASSWORD_LENGTH = 10
MAX_PASSWORD_LENGTH = 1024
PASSWORD_RULE = (
    f"a password needs at least {MIN_PASSWORD_LENGTH} characters, "
    "must not be a commonly used password, one repeated character, or the email address"
)
_COMMON_PASSWORDS = frozenset(
    {
        "1234567890",
        "12345678910",
        "0123456789",
        "123456789a",
        "1q2w3e4r5t",
        "qwertyuiop",
        "asdfghjkl;",
        "password12",
        "password123",
        "password1234",
        "passw0rd123",
        "p@ssw0rd123",
        "iloveyou12",
        "iloveyou123",
        "letmein123",
        "welcome123",
        "changeme123",
        "administrator",
        "admin12345",
        "qwerty1234",
        "qwerty12345",
        "abcdefghij",
        "abc1234567",
        "football123",
        "monkey1234",
        "sunshine123",
        "princess123",
        "trustno1234",
    }
)
_E164 = re.compile(r"\+[1-9][0-9]{1,14}")
_EXTENSION = re.compile(r"[0-9]{1,16}")
_EMAIL = re.compile(r"[^@\s]{1,64}@[^@\s]+\.[^@\s.]+")
_SECRET = re.compile(r"[!-~]{16,200}")
"""Printable ASCII without spaces: it travels in shell commands and provider consoles."""


def check_role(value: str) -> Role:
    try:
        return Role(value)
    except ValueError:
        raise Invalid(f"unknown role {value[:40]!r}; use admin, supervisor or agent") from None


def check_name(value: str, what: str = "name") -> str:
    name = value.strip()
    if not name or len(name) > 200 or any(not character.isprintable() for character in name):
        raise Invalid(f"{what} must be 1 to 200 printable characters")
    return name


def check_email(value: str) -> str:
    email = value.strip().lower()
    # Control characters are no part of an address, and PostgreSQL refuses NUL in text outright.
    if len(email) > 320 or not email.isprintable() or _EMAIL.fullmatch(email) is None:
        raise Invalid(f"{value[:80]!r} is not an email address like name@example.com")
    return email


def check_e164(value: str) -> str:
    number = value.strip()
    if _E164.fullmatch(number) is None:
        raise Invalid(f"{value[:40]!r} is not an E.164 number: write + then 2 to 15 digits, like +15550100100")
    return number


def check_extension_number(value: str) -> str:
    number = value.strip()
    if _EXTENSION.fullmatch(number) is None:
        raise Invalid(f"{value[:40]!r} is not an extension number: 1 to 16 digits, like 101")
    return number


def check_password(password: str, email: str) -> str:
    """The password if it follows :data:`PASSWORD_RULE`; else :class:`Invalid` stating the rule."""
    lowered = password.lower()
    weak = (
        len(password) < MIN_PASSWORD_LENGTH
        or lowered in _COMMON_PASSWORDS
        or len(set(password)) == 1
        or lowered in (email.lower(), email.lower().split("@")[0])
    )
    if weak:
        raise Invalid(f"weak password: {PASSWORD_RULE}")
    if len(password) > MAX_PASSWORD_LENGTH:
        raise Invalid(f"password longer than {MAX_PASSWORD_LENGTH} characters")
    return password


def check_webhook_secret(value: str) -> str:
    if _SECRET.fullmatch(value) is None:
        raise Invalid("a webhook secret must be 16 to 200 printable ASCII characters without spaces")
    return value


def new_webhook_secret() -> str:
    """256 random bits, URL-safe: what ``opbx org create`` and rotation hand out."""
    return secrets.token_urlsafe(32)
