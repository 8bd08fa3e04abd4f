"""``opbx check-config``: the effective settings as the servers read them, every secret masked."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from opbx.cli import main

SECRET = "a-long-production-secret-value"


def check_config(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], *args: str
) -> tuple[int, str, str]:
    code = main(["check-config", *args])
    captured = capsys.readouterr()
    return code, captured.out, captured.err


@pytest.fixture(autouse=True)
def no_machine_settings(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ("DATABASE_URL", "REDIS_URL", "OPBX_CONFIG", "OPBX_ADAPTER", "OPBX_APP_SECRET", "OPBX_PUSHER_URL"):
        monkeypatch.delenv(name, raising=False)


def test_prints_the_effective_settings_with_secrets_masked(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    config = tmp_path / "realtime.toml"
    config.write_text(
        f"""
[server]
port = 6100
[[apps]]
id = "7"
key = "live-key"
secret = "{SECRET}"
[[apps.webhooks]]
url = "https://hooks.example.com/pusher"
headers = {{ Authorization = "Bearer {SECRET}" }}
"""
    )
    monkeypatch.setenv("DATABASE_URL", "postgresql://opbx:db-password-123@db.internal:5432/opbx")
    monkeypatch.setenv("OPBX_ADAPTER", "redis")
    monkeypatch.setenv("OPBX_REDIS_URL", "redis://:redis-password-9@cache.internal:6379/0")
    monkeypatch.setenv("OPBX_APP_SECRET", SECRET)
    code, out, err = check_config(monkeypatch, capsys, "--config", str(config))
    assert (code, err) == (0, "")
    report = json.loads(out)
    realtime, api = report["realtime"], report["api"]
    assert realtime["port"] == 6100
    assert realtime["adapter"] == "redis"
    assert realtime["redis_url"] == "redis://:***@cache.internal:6379/0"
    assert [app["id"] for app in realtime["apps"]] == ["7", "1"]
    assert realtime["apps"][0]["secret"] == "a-…(30 chars)"
    assert realtime["apps"][0]["webhooks"][0]["headers"] == {"Authorization": "Be…(37 chars)"}
    assert api["database_url"] == "postgresql://opbx:***@db.internal:5432/opbx"
    assert api["broadcast_driver"] == "pusher"
    assert api["app"]["secret"] == "a-…(30 chars)"
    for secret in (SECRET, "db-password-123", "redis-password-9"):
        assert secret not in out
    assert report["warnings"] == []


def test_warns_about_the_development_secret(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    code, out, _ = check_config(monkeypatch, capsys)
    assert code == 0
    assert json.loads(out)["warnings"] == ["an app uses the published development secret: set OPBX_APP_SECRET"]


def test_a_bad_setting_is_one_line_and_status_2(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    config = tmp_path / "bad.toml"
    config.write_text("[server]\nport = 'six thousand'\n")
    code, out, err = check_config(monkeypatch, capsys, "--config", str(config))
    assert (code, out) == (2, "")
    assert err == "opbx: server.port: must be an integer from 0 to 65535, not 'six thousand'\n"
    monkeypatch.setenv("OPBX_BROADCAST_DRIVER", "carrier-pigeon")
    code, _, err = check_config(monkeypatch, capsys)
    assert code == 2
    assert err.count("\n") == 1
    assert "OPBX_BROADCAST_DRIVER: must be one of inprocess, pusher, log, null, not 'carrier-pigeon'" in err


def test_settings_the_servers_would_refuse_are_refused_here_too(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    for name, value, message in (
        ("DATABASE_URL", "mysql://root@db/opbx", "DATABASE_URL: unsupported database 'mysql'"),
        ("OPBX_WORKERS", "two", "OPBX_WORKERS: must be a whole number from 1, not 'two'"),
        ("OPBX_APP_SECRET", "", "OPBX_APP_SECRET: must not be empty"),
        ("OPBX_LOG_FORMAT", "xml", "OPBX_LOG_FORMAT"),
    ):
        with monkeypatch.context() as patched:
            patched.setenv(name, value)
            code, out, err = check_config(monkeypatch, capsys)
        assert (code, out) == (2, ""), name
        assert message in err
        assert err.count("\n") == 1


def test_version(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exited:
        main(["--version"])
    assert exited.value.code == 0
    out = capsys.readouterr().out
    assert out.startswith("opbx ")
    assert out.strip() != "opbx unknown"
