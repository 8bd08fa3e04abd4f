"""The backend's settings from the environment."""

from __future__ import annotations

import pytest

from opbx.api.settings import BackendSettings
from opbx.configuration import ConfigError


def test_several_realtime_urls_in_order_or_the_single_one() -> None:
    urls = "http://10.0.0.11:6001, http://10.0.0.12:6001 ,http://10.0.0.13:6001"
    assert BackendSettings.from_env({"OPBX_PUSHER_URLS": urls}).pusher_urls == (
        "http://10.0.0.11:6001",
        "http://10.0.0.12:6001",
        "http://10.0.0.13:6001",
    )
    assert BackendSettings.from_env({"OPBX_PUSHER_URL": "https://rt.internal"}).pusher_urls == ("https://rt.internal",)
    assert BackendSettings.from_env({}).pusher_urls == ("http://127.0.0.1:6001",)
    both = {"OPBX_PUSHER_URLS": "http://a:1,http://b:2", "OPBX_PUSHER_URL": "http://c:3"}
    assert BackendSettings.from_env(both).pusher_urls == ("http://a:1", "http://b:2")


@pytest.mark.parametrize("value", ["redis://x:1", "10.0.0.11:6001", "http://,http://b:2", ","])
def test_a_url_that_is_not_http_is_named(value: str) -> None:
    with pytest.raises(ConfigError, match="OPBX_PUSHER_URLS"):
        BackendSettings.from_env({"OPBX_PUSHER_URLS": value})


@pytest.mark.parametrize(
    ("value", "why"),
    [
        ("http://rt:6001?app=1", "a query"),
        ("http://rt:6001/#top", "a fragment"),
        ("http://user:pw@rt:6001", "credentials"),
        ("http://rt:99999", "a port that is not a number"),
        ("http://rt:http", "a port that is not a number"),
    ],
)
def test_a_url_the_pusher_client_cannot_take_is_refused_at_configuration(value: str, why: str) -> None:
    """Refused here, with the setting's name, not by a ValueError when the API starts its client."""
    with pytest.raises(ConfigError, match=f"OPBX_PUSHER_URLS: .* {why}"):
        BackendSettings.from_env({"OPBX_PUSHER_URLS": f"http://ok:6001,{value}"})
    assert BackendSettings.from_env({"OPBX_PUSHER_URLS": "https://rt.internal:6001/base/"}).pusher_urls == (
        "https://rt.internal:6001/base/",
    )
