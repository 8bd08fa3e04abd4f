"""Starting ``opbx realtime``, ``opbx api`` and ``opbx serve``: what they print, and every start-up
problem refused in one line that names the setting and the fix (exit status 2, no traceback)."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.helpers.databases import POSTGRES_URL
from tests.helpers.tls import self_signed

pytestmark = pytest.mark.integration

OPBX = [sys.executable, "-m", "opbx.cli"]


def clean_env(**extra: str) -> dict[str, str]:
    """The environment without any OPBX_/database/Redis settings of the machine, plus ``extra``."""
    env = {
        name: value
        for name, value in os.environ.items()
        if not name.startswith("OPBX_") and name not in ("DATABASE_URL", "REDIS_URL")
    }
    return {**env, **extra}


def refused(command: list[str], cwd: Path, **env: str) -> str:
    """Run a command that must refuse to start; return its one line of refusal."""
    result = subprocess.run(
        [*OPBX, *command], cwd=cwd, env=clean_env(**env), capture_output=True, text=True, timeout=60
    )
    assert result.returncode == 2, (result.stdout, result.stderr)
    assert "Traceback" not in result.stderr, result.stderr
    refusal = [line for line in result.stderr.splitlines() if line.startswith("opbx")]
    assert len(refusal) == 1, result.stderr
    assert result.stderr.rstrip().endswith(refusal[0]), "the refusal is the last thing said"
    return refusal[0]


@pytest.fixture
def taken_port() -> Iterator[int]:
    with socket.socket() as holder:
        holder.bind(("127.0.0.1", 0))
        holder.listen()
        yield holder.getsockname()[1]


def test_an_unknown_log_level(tmp_path: Path) -> None:
    for command in (["realtime", "--port", "0"], ["api"], ["serve", "--port", "0"]):
        line = refused([*command, "--log-level", "loud"], tmp_path)
        assert "log level 'loud'" in line
        assert "debug, info, warning, error, critical" in line


def test_a_redis_url_of_the_wrong_scheme(tmp_path: Path) -> None:
    line = refused(["realtime", "--port", "0"], tmp_path, OPBX_ADAPTER="redis", OPBX_REDIS_URL="http://cache:6379")
    assert "OPBX_REDIS_URL" in line
    assert "'http://cache:6379' is not a Redis URL; write redis://host:6379/0" in line


def test_the_realtime_port_in_use(tmp_path: Path, taken_port: int) -> None:
    line = refused(["realtime", "--port", str(taken_port), "--no-metrics"], tmp_path)
    assert f"--port (or server.port): 127.0.0.1:{taken_port} is already in use" in line
    assert "choose another port" in line


def test_the_api_port_in_use(tmp_path: Path, taken_port: int) -> None:
    for command in (["api"], ["serve", "--port", "0", "--no-metrics"]):
        line = refused(command, tmp_path, OPBX_API_PORT=str(taken_port))
        assert f"OPBX_API_PORT: 127.0.0.1:{taken_port} is already in use" in line
    assert not (tmp_path / "var").exists(), "nothing is migrated when the port is taken"


def test_the_database_unreachable(tmp_path: Path) -> None:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        closed = probe.getsockname()[1]  # nothing listens once the probe is closed
    url = f"postgresql://opbx:hunter2hunter2@127.0.0.1:{closed}/opbx"
    line = refused(["api"], tmp_path, DATABASE_URL=url, OPBX_API_PORT="0")
    assert f"DATABASE_URL: the database at postgresql://opbx:***@127.0.0.1:{closed}/opbx does not answer" in line
    assert "start it or fix DATABASE_URL" in line
    assert "hunter2" not in line


@pytest.mark.postgres
def test_the_database_missing(tmp_path: Path) -> None:
    url = POSTGRES_URL.rsplit("/", 1)[0] + "/opbx_no_such_database"
    line = refused(["api"], tmp_path, DATABASE_URL=url, OPBX_API_PORT="0")
    assert "the database 'opbx_no_such_database' does not exist" in line
    assert "createdb opbx_no_such_database" in line


def test_a_sqlite_file_that_cannot_be_created(tmp_path: Path) -> None:
    blocker = tmp_path / "a-file"
    blocker.write_text("not a directory")
    line = refused(["api"], tmp_path, DATABASE_URL=f"sqlite:///{blocker}/opbx.sqlite3", OPBX_API_PORT="0")
    assert f"cannot create the directory of the SQLite file {blocker}/opbx.sqlite3" in line
    assert "choose a writable path" in line


def test_a_database_of_an_unsupported_kind(tmp_path: Path) -> None:
    line = refused(["api"], tmp_path, DATABASE_URL="mysql://root@127.0.0.1/opbx", OPBX_API_PORT="0")
    assert "DATABASE_URL: unsupported database 'mysql'; use sqlite:///" in line


def test_a_provisioning_command_on_a_database_without_the_schema(tmp_path: Path) -> None:
    line = refused(["org", "list"], tmp_path)
    assert line == "opbx: DATABASE_URL: there is no database at var/opbx.sqlite3; run `opbx db upgrade` to create it"
    assert not (tmp_path / "var").exists()
    (tmp_path / "var").mkdir()
    (tmp_path / "var" / "opbx.sqlite3").touch()  # a file, but no schema in it
    line = refused(["org", "list"], tmp_path)
    assert "sqlite:///var/opbx.sqlite3 has no OpBX schema yet" in line
    assert "run `opbx db upgrade`" in line


def test_tls_files_missing(tmp_path: Path) -> None:
    certificate = self_signed(tmp_path)
    absent = tmp_path / "absent-key.pem"
    line = refused(
        ["realtime", "--port", "0", "--ssl-cert", str(certificate.cert_file), "--ssl-key", str(absent)], tmp_path
    )
    assert f"the key file {absent} does not exist" in line
    absent_cert = tmp_path / "absent-cert.pem"
    line = refused(
        ["serve", "--port", "0", "--ssl-cert", str(absent_cert), "--ssl-key", str(certificate.key_file)], tmp_path
    )
    assert f"the certificate file {absent_cert} does not exist" in line


def test_the_published_development_secret_stays_on_this_machine(tmp_path: Path) -> None:
    for command in (["realtime", "--host", "0.0.0.0", "--port", "0"], ["serve", "--host", "0.0.0.0", "--port", "0"]):
        line = refused([*command, "--no-metrics"], tmp_path)
        assert "--host 0.0.0.0: refusing to serve other machines with the published development app secret" in line
        assert "set OPBX_APP_SECRET" in line
        assert "--allow-dev-secret" in line
    line = refused(["serve", "--port", "0", "--no-metrics"], tmp_path, OPBX_API_HOST="0.0.0.0")
    assert "refusing to serve other machines" in line


def test_the_api_refuses_what_only_serve_can_do_and_empty_credentials(tmp_path: Path) -> None:
    line = refused(["api"], tmp_path, OPBX_BROADCAST_DRIVER="inprocess", OPBX_API_PORT="0")
    assert "OPBX_BROADCAST_DRIVER: inprocess needs the realtime server in the same process" in line
    assert (
        refused(["api"], tmp_path, OPBX_APP_SECRET="", OPBX_API_PORT="0") == "opbx: OPBX_APP_SECRET: must not be empty"
    )
    line = refused(["api"], tmp_path, OPBX_API_HOST="0.0.0.0", OPBX_API_PORT="0")
    assert "--host 0.0.0.0: refusing to serve other machines with the published development app secret" in line
    line = refused(["api"], tmp_path, OPBX_WS_TLS="maybe")
    assert line == "opbx: OPBX_WS_TLS: must be true or false, not 'maybe'"


def read_banner(process: subprocess.Popen[str], last: str) -> list[str]:
    assert process.stdout is not None
    lines: list[str] = []
    while not any(last in line for line in lines):
        line = process.stdout.readline()
        assert line, f"the process ended before printing {last!r}: {lines}"
        lines.append(line.rstrip("\n"))
    return lines


def stop(process: subprocess.Popen[str]) -> None:
    process.send_signal(signal.SIGTERM)
    assert process.wait(timeout=20) == 0


def test_an_explicit_allowance_lets_the_development_secret_listen_widely(tmp_path: Path) -> None:
    command = [*OPBX, "realtime", "--host", "0.0.0.0", "--port", "0", "--no-metrics", "--allow-dev-secret"]
    with subprocess.Popen(
        command, cwd=tmp_path, env=clean_env(), stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True
    ) as process:
        banner = read_banner(process, "adapter:")
        assert banner[0].startswith("OpBX realtime server (Pusher protocol 7) on ws://127.0.0.1:")
        stop(process)


def test_the_realtime_banner_names_the_adapter_redis_and_node(tmp_path: Path, redis_url: str) -> None:
    env = clean_env(OPBX_ADAPTER="redis", OPBX_REDIS_URL=redis_url, OPBX_REDIS_PREFIX="banner-test")
    with subprocess.Popen(
        [*OPBX, "realtime", "--port", "0", "--no-metrics"],
        cwd=tmp_path,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        text=True,
    ) as process:
        banner = read_banner(process, "adapter:")
        adapter = banner[-1]
        assert adapter.startswith(f"  adapter: redis at {redis_url}, prefix 'banner-test', node id ")
        assert len(adapter.rsplit(" ", 1)[1]) == 12  # the node's id: 6 random bytes in hex
        stop(process)


@pytest.mark.postgres
def test_the_api_banner_names_the_database_with_its_password_masked_and_the_broadcast_target(
    tmp_path: Path,
) -> None:
    user_and_host = POSTGRES_URL.split("://", 1)[1]
    user, rest = user_and_host.split("@", 1)
    url = f"postgresql://{user.split(':')[0]}:s3cret-pass@{rest}"  # PostgreSQL here trusts local connections
    env = clean_env(DATABASE_URL=url, OPBX_API_PORT="0", OPBX_PUSHER_URL="http://127.0.0.1:6999")
    with subprocess.Popen(
        [*OPBX, "api"], cwd=tmp_path, env=env, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True
    ) as process:
        banner = read_banner(process, "broadcasting:")
        assert banner[0].startswith("OpBX API on http://127.0.0.1:")
        assert banner[1] == f"  database: postgresql://{user.split(':')[0]}:***@{rest}"
        assert banner[2] == "  broadcasting: pusher driver to the realtime server at http://127.0.0.1:6999, app 1"
        assert "s3cret-pass" not in "\n".join(banner)
        stop(process)


def test_serve_prints_both_parts_and_the_dashboard(tmp_path: Path) -> None:
    env = clean_env(OPBX_API_PORT="0")
    with subprocess.Popen(
        [*OPBX, "serve", "--port", "0", "--no-metrics"],
        cwd=tmp_path,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        text=True,
    ) as process:
        banner = read_banner(process, "Dashboard:")
        text = "\n".join(banner)
        assert "  adapter: local (this process only)" in text
        assert "  database: sqlite:///var/opbx.sqlite3" in text
        assert "  broadcasting: inprocess driver to the realtime server in this process, app 1" in text
        stop(process)
    assert (tmp_path / "var" / "opbx.sqlite3").is_file()
