"""The release as an operator installs it: ``make build``, then the wheel alone in a fresh
virtual environment, with no Node and no source tree, serves the dashboard."""

from __future__ import annotations

import re
import shutil
import signal
import socket
import subprocess
import sys
import zipfile
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

pytestmark = [pytest.mark.integration, pytest.mark.release]

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module")
def dist(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """``make build`` into a folder of its own: the wheel and the sdist."""
    folder = tmp_path_factory.mktemp("dist")
    result = subprocess.run(
        ["make", "-C", str(ROOT), "build", f"DIST={folder}"], capture_output=True, text=True, timeout=600
    )
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
    return folder


@pytest.fixture(scope="module")
def installed(dist: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A fresh virtual environment with only the wheel (and its pinned dependencies) installed."""
    venv = tmp_path_factory.mktemp("venv")
    subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True, timeout=120)
    (wheel,) = dist.glob("opbx-*.whl")
    result = subprocess.run(
        [
            venv / "bin" / "pip",
            "install",
            "--quiet",
            "--disable-pip-version-check",
            "-c",
            ROOT / "constraints.txt",
            wheel,
        ],
        capture_output=True,
        text=True,
        timeout=900,
    )
    assert result.returncode == 0, result.stderr[-3000:]
    return venv


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


def test_the_build_makes_a_wheel_and_an_sdist_with_the_dashboard_inside(dist: Path) -> None:
    (wheel,) = dist.glob("opbx-*-py3-none-any.whl")
    (sdist,) = dist.glob("opbx-*.tar.gz")
    names = zipfile.ZipFile(wheel).namelist()
    for needed in (
        "opbx/dashboard/static/index.html",
        "opbx/dashboard/static/api-docs/swagger-ui-bundle.js",
        "opbx/db/migrations/script.py.mako",
        "opbx/db/migrations/versions/0001_initial_schema.py",
        "opbx/py.typed",
        "opbx/adapters/redis/lua/add_member.lua",
    ):
        assert needed in names, needed
    assert any(re.fullmatch(r"opbx/dashboard/static/assets/index-[\w-]+\.js", name) for name in names)
    listing = subprocess.run(["tar", "-tzf", sdist], capture_output=True, text=True, check=True).stdout
    assert "/src/opbx/dashboard/static/index.html" in listing
    assert "/src/opbx/adapters/redis/lua/add_member.lua" in listing


@pytest.fixture
def served(installed: Path, tmp_path: Path) -> Iterator[str]:
    """``opbx serve --demo`` from the installed wheel, in an empty folder, with no Node on the PATH."""
    bin_dir = installed / "bin"
    env = {
        "PATH": str(bin_dir),
        "HOME": str(tmp_path),
        "OPBX_API_PORT": str(free_port()),
    }
    assert shutil.which("node", path=env["PATH"]) is None
    with subprocess.Popen(
        [bin_dir / "opbx", "serve", "--demo", "--port", "0", "--no-metrics"],
        cwd=tmp_path,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    ) as process:
        assert process.stdout is not None
        url = None
        for line in process.stdout:
            if line.startswith("Dashboard: "):
                url = line.removeprefix("Dashboard: ").strip()
                break
        assert url is not None, process.stderr.read() if process.stderr else ""
        try:
            yield url
        finally:
            process.send_signal(signal.SIGTERM)
            assert process.wait(timeout=30) == 0


def test_the_installed_wheel_serves_the_dashboard_without_node(served: str, installed: Path) -> None:
    with httpx.Client(base_url=served, timeout=10) as client:
        page = client.get("/")
        assert page.status_code == 200
        assert '<div id="root">' in page.text
        scripts = re.findall(r'src="(/assets/[^"]+\.js)"', page.text)
        assert scripts
        for script in scripts:
            asset = client.get(script)
            assert asset.status_code == 200
            assert "laravel-echo" in asset.text or len(asset.content) > 100_000
        assert client.get("/api/docs").status_code == 200
        assert client.get("/api-docs/swagger-ui-bundle.js").status_code == 200
        assert client.get("/api/v1/openapi.json").json()["openapi"] == "3.1.0"
        login = client.post("/api/v1/auth/login", json={"email": "admin@demo.opbx", "password": "demo-password"})
        assert login.status_code == 200
    located = subprocess.run(
        [installed / "bin" / "python", "-c", "import opbx; print(opbx.__file__)"],
        capture_output=True,
        text=True,
        check=True,
        env={"PATH": str(installed / "bin")},
    ).stdout
    assert located.startswith(str(installed)), "the server ran from the wheel, not the source tree"


def test_the_installed_command_knows_its_version(installed: Path) -> None:
    answer = subprocess.run(
        [installed / "bin" / "opbx", "--version"], capture_output=True, text=True, check=True, env={"PATH": ""}
    )
    version = answer.stdout.strip()
    assert re.fullmatch(r"opbx \d+\.\d+\.\d+", version), version
