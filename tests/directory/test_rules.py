"""The rules a directory value must follow (``opbx.directory.rules``) and the refusal classes."""

from __future__ import annotations

import pytest

from opbx.directory.errors import Conflict, DirectoryError, Forbidden, Invalid, NotFound
from opbx.directory.rules import (
    MIN_PASSWORD_LENGTH,
    PASSWORD_RULE,
    Role,
    check_e164,
    check_email,
    check_extension_number,
    check_name,
    check_password,
    check_role,
    check_webhook_secret,
    new_webhook_secret,
)


@pytest.mark.parametrize(("error", "status"), [(Invalid, 422), (NotFound, 404), (Conflict, 409), (Forbidden, 403)])
def test_each_refusal_has_its_http_status_and_keeps_its_message(error: type[DirectoryError], status: int) -> None:
    refusal = error("what is wrong")
    assert isinstance(refusal, DirectoryError)
    assert refusal.status == status
    assert refusal.message == "what is wrong" == str(refusal)


@pytest.mark.parametrize("role", ["admin", "supervisor", "agent"])
def test_the_three_roles_are_accepted(role: str) -> None:
    assert check_role(role) is Role(role)


@pytest.mark.parametrize("role", ["owner", "Admin", "", " agent", "superuser"])
def test_an_unknown_role_is_refused_naming_the_roles(role: str) -> None:
    with pytest.raises(Invalid) as refused:
        check_role(role)
    assert refused.value.message == f"unknown role {role!r}; use admin, supervisor or agent"


@pytest.mark.parametrize(
    ("given", "kept"),
    [("+15550100100", "+15550100100"), (" +442071838750 ", "+442071838750"), ("+12", "+12"), ("+1" + "2" * 14, None)],
)
def test_e164_numbers_are_accepted(given: str, kept: str | None) -> None:
    assert check_e164(given) == (kept or given)


@pytest.mark.parametrize(
    "number",
    [
        "15550100100",  # no +
        "+05550100100",  # a country code never starts with 0
        "+1",  # too short
        "+1" + "2" * 15,  # 16 digits
        "+1 555 0100 100",
        "+1-555-0100",
        "+1555010010a",
        "+\u0661\u0665\u0665\u0665\u0660\u0661\u0660\u0660",  # Arabic-Indic digits are digits to Python, not to E.164
        "",
        "++15550100100",
    ],
)
def test_a_number_that_is_not_e164_is_refused_saying_how_to_write_one(number: str) -> None:
    with pytest.raises(Invalid) as refused:
        check_e164(number)
    assert "is not an E.164 number" in refused.value.message
    assert "+15550100100" in refused.value.message


@pytest.mark.parametrize("number", ["1", "101", "0", "1" * 16, " 205 "])
def test_extension_numbers_are_1_to_16_digits(number: str) -> None:
    assert check_extension_number(number) == number.strip()


@pytest.mark.parametrize("number", ["", "1" * 17, "10a", "+101", "1 01", "\u0661\u0660\u0661", "-1"])
def test_other_extension_numbers_are_refused(number: str) -> None:
    with pytest.raises(Invalid, match="is not an extension number: 1 to 16 digits"):
        check_extension_number(number)


def test_emails_are_trimmed_and_lowercased() -> None:
    assert check_email("  Alice.Smith@Example.COM ") == "alice.smith@example.com"


@pytest.mark.parametrize(
    "email",
    [
        "alice",
        "alice@example",
        "@example.com",
        "alice@@example.com",
        "al ice@example.com",
        "alice@example.",
        "a" * 65 + "@example.com",
        "alice@" + "e" * 320 + ".com",
        "ali\x00ce@example.com",  # PostgreSQL refuses NUL in text: it must be refused here, not by the database
        "ali\x1bce@example.com",
    ],
)
def test_what_is_not_an_email_address_is_refused(email: str) -> None:
    with pytest.raises(Invalid, match=r"is not an email address like name@example\.com"):
        check_email(email)


def test_a_strong_password_is_accepted_at_the_minimum_length() -> None:
    password = "kx7-vq2-mz"
    assert len(password) == MIN_PASSWORD_LENGTH
    assert check_password(password, "alice@example.com") == password


@pytest.mark.parametrize(
    "password",
    [
        "kx7-vq2-m",  # one character short
        "Password123",  # a common password, whatever its case
        "QWERTYUIOP",
        "zzzzzzzzzzzzzzzz",  # one repeated character
        "alice.smith@example.com",  # the email address
        "Alice.Smith",  # its local part
    ],
)
def test_a_weak_password_is_refused_stating_the_rule(password: str) -> None:
    with pytest.raises(Invalid) as refused:
        check_password(password, "alice.smith@example.com")
    assert refused.value.message == f"weak password: {PASSWORD_RULE}"
    assert f"at least {MIN_PASSWORD_LENGTH} characters" in refused.value.message
    assert password not in refused.value.message


def test_a_password_of_more_than_1024_characters_is_refused() -> None:
    with pytest.raises(Invalid, match="longer than 1024"):
        check_password("kx7-vq2-mz" * 103, "alice@example.com")


@pytest.mark.parametrize("name", ["Acme", "  Acme Corp  ", "Zoë Ångström", "x" * 200])
def test_names_are_trimmed(name: str) -> None:
    assert check_name(name) == name.strip()


@pytest.mark.parametrize("name", ["", "   ", "x" * 201, "tab\there", "nul\x00", "new\nline"])
def test_empty_overlong_or_unprintable_names_are_refused(name: str) -> None:
    with pytest.raises(Invalid, match="name must be 1 to 200 printable characters"):
        check_name(name)


@pytest.mark.parametrize("secret", ["s" * 16, "!~" * 100, "abcDEF123-_.+/=@#"])
def test_a_webhook_secret_of_16_to_200_printable_ascii_characters_is_kept(secret: str) -> None:
    assert check_webhook_secret(secret) == secret


@pytest.mark.parametrize("secret", ["s" * 15, "s" * 201, "sixteen chars ok!", "sécret-sécret-sécret", ""])
def test_other_webhook_secrets_are_refused_without_echoing_them(secret: str) -> None:
    with pytest.raises(Invalid) as refused:
        check_webhook_secret(secret)
    assert refused.value.message == "a webhook secret must be 16 to 200 printable ASCII characters without spaces"


def test_generated_webhook_secrets_are_long_valid_and_never_repeat() -> None:
    secrets = {new_webhook_secret() for _ in range(20)}
    assert len(secrets) == 20
    for secret in secrets:
        assert len(secret) >= 43  # 256 random bits in URL-safe base64
        assert check_webhook_secret(secret) == secret
