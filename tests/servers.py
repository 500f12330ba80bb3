"""Real servers on 127.0.0.1 for tests: each runs in its own process group, is polled until up,
and is stopped by its leader's PID (`mlflow server`, `mlflow models serve`, PostgreSQL)."""

import glob
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from contextlib import contextmanager
from pathlib import Path

BIN = Path(sys.executable).parent


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def get(url: str, timeout: float = 10) -> tuple[int, bytes]:
    try:
        with urllib.request.urlopen(url, timeout=timeout) as response:
            return response.status, response.read()
    except urllib.error.HTTPError as error:
        return error.code, error.read()


def post(url: str, body: dict) -> dict:
    status, answer = post_status(url, body)
    assert status == 200, answer
    return answer


def post_status(url: str, body: dict) -> tuple[int, dict]:
    request = urllib.request.Request(
        url, json.dumps(body).encode(), {"Content-Type": "application/json"}
    )
    try:
        with urllib.request.urlopen(request, timeout=60) as response:
            return response.status, json.loads(response.read())
    except urllib.error.HTTPError as error:
        return error.code, json.loads(error.read())


def api(url: str, path: str) -> dict:
    """GET an MLflow REST endpoint of the server at ``url``; it must answer 200."""
    status, body = get(f"{url}/api/2.0/mlflow/{path}")
    assert status == 200, (path, body[:500])
    return json.loads(body)


def wait_until_up(url: str, process: subprocess.Popen, log: Path, timeout: float = 180) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise AssertionError(
                f"{process.args} exited {process.returncode}:\n{log.read_text()[-3000:]}"
            )
        try:
            if get(url, timeout=2)[0] == 200:
                return
        except OSError:
            pass
        time.sleep(0.5)
    raise AssertionError(f"{url} not up after {timeout}s:\n{log.read_text()[-3000:]}")


@contextmanager
def started(cmd: list[str], health: str, log: Path, env: dict | None = None):
    """Run ``cmd`` in its own process group; stop the group by the leader's PID afterwards."""
    with open(log, "w") as out:
        process = subprocess.Popen(
            cmd,
            stdout=out,
            stderr=subprocess.STDOUT,
            start_new_session=True,
            env={**os.environ, "PATH": f"{BIN}{os.pathsep}{os.environ['PATH']}", **(env or {})},
        )
    try:
        wait_until_up(health, process, log)
        yield process
    finally:
        stop_group(process)


def group_alive(pid: int) -> bool:
    try:
        os.killpg(pid, 0)
        return True
    except ProcessLookupError:
        return False


def stop_group(process: subprocess.Popen) -> None:
    """SIGTERM the group led by ``process.pid``; SIGKILL whatever is left after 20 s."""
    os.killpg(process.pid, signal.SIGTERM)
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline:
        process.poll()
        if not group_alive(process.pid):
            break
        time.sleep(0.2)
    else:
        os.killpg(process.pid, signal.SIGKILL)
    process.wait(timeout=20)


@contextmanager
def mlflow_server(backend_store_uri: str, root: Path):
    """`mlflow server` on a free loopback port, proxying artifacts to ``root/artifacts``; yields its URL."""
    port = free_port()
    cmd = [
        str(BIN / "mlflow"),
        "server",
        "--host",
        "127.0.0.1",
        "--port",
        str(port),
        "--workers",
        "1",
        "--backend-store-uri",
        backend_store_uri,
        "--artifacts-destination",
        (root / "artifacts").as_uri(),
    ]
    url = f"http://127.0.0.1:{port}"
    with started(
        cmd, f"{url}/health", root / "server.log", {"MLFLOW_SERVER_ENABLE_JOB_EXECUTION": "false"}
    ):
        yield url


@contextmanager
def served_model(model_uri: str, tracking_uri: str, log: Path):
    """`mlflow models serve` of ``model_uri`` on a free loopback port; yields (its URL, its process)."""
    port = free_port()
    cmd = [str(BIN / "mlflow"), "models", "serve", "-m", model_uri, "--env-manager", "local"]
    cmd += ["--host", "127.0.0.1", "--port", str(port), "--workers", "1"]
    url = f"http://127.0.0.1:{port}"
    with started(cmd, f"{url}/ping", log, {"MLFLOW_TRACKING_URI": tracking_uri}) as process:
        yield url, process


def postgres_bin() -> Path | None:
    """The folder holding PostgreSQL's server programs (Debian's layout, else PATH), or None."""
    found = sorted(
        glob.glob("/usr/lib/postgresql/*/bin/pg_ctl"), key=lambda p: int(Path(p).parts[-3])
    )
    if found:
        return Path(found[-1]).parent
    pg_ctl = shutil.which("pg_ctl")
    return Path(pg_ctl).parent if pg_ctl else None


def _as_server_user(cmd: list[str]) -> list[str]:
    """PostgreSQL refuses to run as root: there, run it as the `postgres` system user."""
    return ["runuser", "-u", "postgres", "--", *cmd] if os.geteuid() == 0 else cmd


def _checked(cmd: list[str]) -> None:
    result = subprocess.run(cmd, check=False, capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, (
        f"{' '.join(cmd)} failed ({result.returncode}):\n{result.stdout}{result.stderr}"
    )


def _pid_gone(pid: int, timeout: float = 10) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            os.kill(pid, 0)
        except ProcessLookupError:
            return True
        time.sleep(0.1)
    return False


@contextmanager
def postgres(database: str = "mlflow", user: str = "mlflow"):
    """A throwaway PostgreSQL cluster on a free loopback port (trust auth) holding an empty ``database``;
    yields its ``postgresql://`` URI. Stopped with ``pg_ctl stop``, then its postmaster PID must be gone."""
    pg = postgres_bin()
    assert pg, "no PostgreSQL server programs (.ci/setup installs Debian's postgresql)"
    # Not under pytest's tmp_path: its root is private to the user running the tests.
    root = Path(tempfile.mkdtemp(prefix="pg-"))
    if os.geteuid() == 0:
        shutil.chown(root, "postgres", "postgres")
    data, port = root / "data", free_port()
    try:
        _checked(
            _as_server_user(
                [
                    str(pg / "initdb"),
                    "-D",
                    str(data),
                    "-U",
                    user,
                    "--auth",
                    "trust",
                    "-E",
                    "UTF8",
                    "--no-sync",
                ]
            )
        )
        _checked(
            _as_server_user(
                [
                    str(pg / "pg_ctl"),
                    "start",
                    "-w",
                    "-t",
                    "60",
                    "-D",
                    str(data),
                    "-l",
                    str(root / "server.log"),
                    "-o",
                    f"-h 127.0.0.1 -p {port} -k {root} -F",
                ]
            )
        )
        pid = int((data / "postmaster.pid").read_text().split()[0])
        try:
            _checked(
                [str(pg / "createdb"), "-h", "127.0.0.1", "-p", str(port), "-U", user, database]
            )
            yield f"postgresql://{user}@127.0.0.1:{port}/{database}"
        finally:
            _checked(
                _as_server_user([str(pg / "pg_ctl"), "stop", "-w", "-m", "fast", "-D", str(data)])
            )
            assert _pid_gone(pid), f"postmaster {pid} still running"
    finally:
        shutil.rmtree(root, ignore_errors=True)
