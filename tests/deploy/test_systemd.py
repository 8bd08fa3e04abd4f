"""deploy/ cannot rot: the systemd units pass ``systemd-analyze verify``, the environment
template names exactly the settings the code reads and, once its secret is chosen, passes
``opbx check-config``; docs/deploy.md carries the files it shows verbatim."""

from __future__ import annotations

import json
import os
import re
import secrets
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from opbx.realtime.config import load_config

pytestmark = pytest.mark.integration

ROOT = Path(__file__).resolve().parents[2]
DEPLOY = ROOT / "deploy"
DOC = ROOT / "docs" / "deploy.md"
ENV_TEMPLATE = DEPLOY / "opbx.env.example"
REALTIME_TOML = DEPLOY / "realtime.toml"
UNITS = ("opbx-realtime.service", "opbx-api.service")
INSTALLED = "/opt/opbx/bin/opbx"
"""Where the units expect the command: the wheel installed into the virtual environment /opt/opbx."""
OPBX = Path(sys.executable).with_name("opbx")
"""The command of this checkout's virtual environment, the real executable the copies run."""

SECRETS = {"OPBX_APP_SECRET"}
"""The template's only empty values: the operator must choose them, the servers refuse to start without."""
NOT_IN_TEMPLATE = {
    "OPBX_DATABASE_URL": "an alias of DATABASE_URL",
    "OPBX_PUSHER_URL": "the one-URL spelling of OPBX_PUSHER_URLS",
    "REDIS_URL": "an alias of OPBX_REDIS_URL",
    "OPBX_ALLOW_DEV_SECRET": "production chooses a secret instead of allowing the published one",
    "OPBX_REDIS_SENTINELS": "Sentinel failover is optional: docs/scaling.md shows both variables",
    "OPBX_REDIS_SENTINEL_MASTER": "set with OPBX_REDIS_SENTINELS, or not at all",
}
"""Variables the code reads that the template leaves out on purpose, and why."""

ASSIGNMENT = re.compile(r"([A-Z][A-Z0-9_]*)=([^\s'\"`$\\;&|<>]*)")
"""NAME=value as both systemd's EnvironmentFile= and a shell read it alike: no quotes, spaces or expansions."""
HOST_UNIT_LINE = re.compile(r"(/\S+\.(?:service|target|socket|mount|slice|timer)):\d+: ")


def systemd_analyze() -> str:
    found = shutil.which("systemd-analyze")
    if found is None:
        pytest.fail("systemd-analyze is missing: apt-get install systemd")
    return found


def unit_settings(text: str) -> dict[str, list[tuple[str, str]]]:
    """Each ``[Section]`` of a unit file to its ``Key=value`` lines in order (keys may repeat)."""
    sections: dict[str, list[tuple[str, str]]] = {}
    current: list[tuple[str, str]] = []
    for raw in text.splitlines():
        line = raw.strip()
        if not line or line.startswith(("#", ";")):
            continue
        if line.startswith("[") and line.endswith("]"):
            current = sections.setdefault(line[1:-1], [])
            continue
        key, separator, value = line.partition("=")
        assert separator, f"not a Key=value line: {raw!r}"
        current.append((key, value))
    return sections


def values(sections: dict[str, list[tuple[str, str]]], section: str, key: str) -> list[str]:
    return [value for name, value in sections.get(section, []) if name == key]


def seconds(value: str) -> float:
    match = re.fullmatch(r"(\d+(?:\.\d+)?)(s|min)?", value)
    assert match, f"not a plain time span: {value!r}"
    return float(match[1]) * (60 if match[2] == "min" else 1)


def template() -> dict[str, str]:
    """The variables of deploy/opbx.env.example; every other line is a comment or blank."""
    found: dict[str, str] = {}
    for number, line in enumerate(ENV_TEMPLATE.read_text().splitlines(), start=1):
        if not line or line.startswith("#"):
            continue
        match = ASSIGNMENT.fullmatch(line)
        assert match, f"opbx.env.example:{number}: not NAME=value without quotes or spaces: {line!r}"
        assert match[1] not in found, f"opbx.env.example:{number}: {match[1]} is set twice"
        found[match[1]] = match[2]
    return found


def variables_the_code_reads() -> set[str]:
    """Every environment variable name spelled out in src/opbx."""
    names: set[str] = set()
    for path in (ROOT / "src" / "opbx").rglob("*.py"):
        names.update(re.findall(r"[\"']((?:OPBX_[A-Z0-9_]+)|DATABASE_URL|REDIS_URL)[\"']", path.read_text()))
    return names


def filled_in() -> dict[str, str]:
    """The template as an operator leaves it: secrets chosen, the TOML file at hand."""
    env = template()
    for name in SECRETS:
        env[name] = secrets.token_hex(32)
    env["OPBX_CONFIG"] = str(REALTIME_TOML)
    return env


def check_config(env: dict[str, str], cwd: Path) -> subprocess.CompletedProcess[str]:
    """``opbx check-config`` with only ``env`` (and PATH): nothing of this machine's settings leaks in."""
    return subprocess.run(
        [sys.executable, "-m", "opbx.cli", "check-config"],
        env={"PATH": os.environ.get("PATH", "/usr/bin:/bin"), **env},
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=60,
    )


@pytest.mark.parametrize("name", UNITS)
def test_unit_passes_systemd_analyze_verify(name: str, tmp_path: Path) -> None:
    analyze = systemd_analyze()
    text = (DEPLOY / name).read_text()
    assert f"ExecStart={INSTALLED} " in text
    # verify checks that every Exec*= binary exists: run this checkout's opbx instead of /opt/opbx's.
    copy = tmp_path / name
    copy.write_text(text.replace(f"={INSTALLED} ", f"={OPBX} "))
    assert INSTALLED not in copy.read_text(), "the unit names /opt/opbx/bin/opbx outside an Exec*= line"
    result = subprocess.run([analyze, "verify", str(copy)], cwd=tmp_path, capture_output=True, text=True, timeout=60)
    output = [line for line in (result.stdout + result.stderr).splitlines() if line.strip()]
    # Allowed: a line about one of this machine's own unit files (a dependency such as
    # redis-server.service, which verify loads too) is not ours to fix and says nothing of
    # our units. Debian 12's systemd 252 prints nothing at all for them here.
    ours = [
        line
        for line in output
        if not ((match := HOST_UNIT_LINE.match(line)) and not match[1].startswith(str(tmp_path)))
    ]
    assert ours == [], "\n".join(ours)
    assert result.returncode == 0, result.stdout + result.stderr


@pytest.mark.parametrize("name", UNITS)
def test_unit_runs_as_the_production_layout_says(name: str) -> None:
    unit = unit_settings((DEPLOY / name).read_text())
    service = dict(unit["Service"])  # keys that must appear once
    assert service["User"] == service["Group"] == "opbx"
    assert service["EnvironmentFile"] == "/etc/opbx/opbx.env"
    assert service["WorkingDirectory"] == "/var/lib/opbx"
    assert service["WorkingDirectory"] in values(unit, "Service", "ReadWritePaths")
    assert service["Restart"] == "on-failure"
    assert service["KillSignal"] == "SIGTERM"
    assert service["NoNewPrivileges"] == "yes"
    assert service["ProtectSystem"] == "strict"
    assert service["ProtectHome"] == "yes"
    assert service["PrivateTmp"] == "yes"
    assert int(service["LimitNOFILE"]) >= 65536
    assert "network-online.target" in " ".join(values(unit, "Unit", "After"))
    assert "network-online.target" in " ".join(values(unit, "Unit", "Wants"))
    assert values(unit, "Unit", "Requires") == [], "a local database or Redis is wanted, never required"
    assert values(unit, "Install", "WantedBy") == ["multi-user.target"]
    command = name.removeprefix("opbx-").removesuffix(".service")
    assert values(unit, "Service", "ExecStart") == [f"{INSTALLED} {command}"]


def test_api_unit_migrates_before_it_starts() -> None:
    unit = unit_settings((DEPLOY / "opbx-api.service").read_text())
    assert values(unit, "Service", "ExecStartPre") == [f"{INSTALLED} db upgrade"]


def test_realtime_stop_timeout_outlasts_its_shutdown_grace() -> None:
    unit = dict(unit_settings((DEPLOY / "opbx-realtime.service").read_text())["Service"])
    config = load_config(REALTIME_TOML, {})
    assert seconds(unit["TimeoutStopSec"]) > config.shutdown_grace
    # --workers: systemd signals the parent alone, which passes SIGTERM on to each worker.
    assert unit["KillMode"] == "mixed"


def test_template_sets_only_variables_the_code_reads() -> None:
    unknown = set(template()) - variables_the_code_reads()
    assert unknown == set(), f"opbx.env.example sets variables nothing reads: {sorted(unknown)}"


def test_template_sets_every_variable_the_code_reads() -> None:
    read = variables_the_code_reads()
    assert set(NOT_IN_TEMPLATE) <= read, "NOT_IN_TEMPLATE names a variable the code no longer reads"
    missing = read - set(template()) - set(NOT_IN_TEMPLATE)
    assert missing == set(), f"opbx.env.example lacks: {sorted(missing)}"


def test_only_the_secrets_are_left_to_choose() -> None:
    assert {name for name, value in template().items() if not value} == SECRETS


def test_template_as_shipped_is_refused_naming_the_secret(tmp_path: Path) -> None:
    env = template()
    env["OPBX_CONFIG"] = str(REALTIME_TOML)
    result = check_config(env, tmp_path)
    assert result.returncode == 2
    assert result.stderr == "opbx: OPBX_APP_SECRET: must not be empty\n"


def test_filled_in_template_passes_check_config(tmp_path: Path) -> None:
    env = filled_in()
    result = check_config(env, tmp_path)
    assert result.returncode == 0, result.stderr
    assert env["OPBX_APP_SECRET"] not in result.stdout, "check-config printed the secret"
    report = json.loads(result.stdout)
    assert report["warnings"] == []
    realtime, api = report["realtime"], report["api"]
    assert realtime["adapter"] == "redis"
    assert realtime["redis_prefix"] == env["OPBX_REDIS_PREFIX"]
    assert realtime["redis_url"] == api["redis_url"] == env["OPBX_REDIS_URL"]
    assert [(app["id"], app["key"]) for app in realtime["apps"]] == [(env["OPBX_APP_ID"], env["OPBX_APP_KEY"])]
    assert (api["app"]["id"], api["app"]["key"]) == (env["OPBX_APP_ID"], env["OPBX_APP_KEY"])
    assert api["broadcast_driver"] == "pusher"
    assert api["pusher_urls"] == [f"http://{realtime['host']}:{realtime['port']}"], "the API publishes elsewhere"
    assert api["database_url"] == env["DATABASE_URL"]
    assert (api["ws_host"], api["ws_port"], api["ws_tls"]) == ("pbx.example.com", 443, True)
    assert int(env["OPBX_WORKERS"]) >= 1


def test_doc_names_every_variable_of_the_template() -> None:
    doc = DOC.read_text()
    missing = [name for name in template() if f"`{name}`" not in doc]
    assert missing == [], f"docs/deploy.md does not explain {missing}"


@pytest.mark.parametrize(("name", "language"), [("nginx.conf", "nginx"), ("realtime.toml", "toml")])
def test_doc_shows_the_file_verbatim(name: str, language: str) -> None:
    blocks = re.findall(rf"^```{language}\n(.*?)^```$", DOC.read_text(), flags=re.MULTILINE | re.DOTALL)
    assert (DEPLOY / name).read_text() in blocks, f"docs/deploy.md has no ```{language} block equal to deploy/{name}"
