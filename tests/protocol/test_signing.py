"""Signatures, checked against the Pusher documentation's worked examples."""

from __future__ import annotations

from opbx.protocol.signing import (
    body_md5,
    channel_auth,
    request_signature,
    request_string_to_sign,
    user_auth,
    verify_channel_auth,
    verify_user_auth,
    webhook_signature,
)

# https://pusher.com/docs/channels/library_auth_reference/auth-signatures
KEY, SECRET = "278d425bdf160c739803", "7ad3773142a6692b25b8"


def test_private_channel_auth_matches_the_docs_example() -> None:
    auth = channel_auth(KEY, SECRET, "1234.1234", "private-foobar")
    assert auth == "278d425bdf160c739803:58df8b0c36d6982b82c3ecf6b4662e34fe8c25bba48f5369f135bf843651c3a4"


def test_presence_channel_auth_matches_the_docs_example() -> None:
    channel_data = '{"user_id":10,"user_info":{"name":"Mr. Channels"}}'
    auth = channel_auth(KEY, SECRET, "1234.1234", "presence-foobar", channel_data)
    assert auth == "278d425bdf160c739803:31935e7d86dba64c2a90aed31fdc61869f9b22ba9d8863bba239c03ca481bc80"


def test_verification_accepts_only_the_right_signature() -> None:
    good = channel_auth(KEY, SECRET, "1.1", "private-a")
    assert verify_channel_auth(KEY, SECRET, "1.1", "private-a", None, good)
    assert not verify_channel_auth(KEY, SECRET, "1.2", "private-a", None, good)
    assert not verify_channel_auth(KEY, "other", "1.1", "private-a", None, good)
    assert not verify_channel_auth(KEY, SECRET, "1.1", "private-a", None, good[:-1] + "0")


def test_user_auth_signs_the_user_data() -> None:
    auth = user_auth(KEY, SECRET, "1.1", '{"id":"7"}')
    assert verify_user_auth(KEY, SECRET, "1.1", '{"id":"7"}', auth)
    assert not verify_user_auth(KEY, SECRET, "1.1", '{"id":"8"}', auth)


def test_request_string_sorts_lowercased_keys_and_skips_the_signature() -> None:
    params = {"auth_version": "1.0", "Auth_Key": "k", "auth_signature": "x", "info": "a,b"}
    assert request_string_to_sign("post", "/apps/1/events", params) == (
        "POST\n/apps/1/events\nauth_key=k&auth_version=1.0&info=a,b"
    )


def test_request_signature_matches_the_docs_example() -> None:
    # https://pusher.com/docs/channels/library_auth_reference/rest-api#worked-authentication-example
    body = b'{"name":"foo","channels":["project-3"],"data":"{\\"some\\":\\"data\\"}"}'
    params = {
        "auth_key": "278d425bdf160c739803",
        "auth_timestamp": "1353088179",
        "auth_version": "1.0",
        "body_md5": body_md5(body),
    }
    assert params["body_md5"] == "ec365a775a4cd0599faeb73354201b6f"
    signature = request_signature(SECRET, "POST", "/apps/3/events", params)
    assert signature == "da454824c97ba181a32ccc17a72625ba02771f50b50e1e7430e47a1f3f457e6c"


def test_webhook_signature_is_hmac_of_the_body() -> None:
    assert webhook_signature("s", b"{}") == webhook_signature("s", b"{}")
    assert webhook_signature("s", b"{}") != webhook_signature("t", b"{}")
    assert len(webhook_signature("s", b"{}")) == 64
