"""Docs that cannot drift: every `curl` and `meterly` command in the README runs, against the demo
it describes (a real `meterly demo` server process on 127.0.0.1)."""

from __future__ import annotations

import json
import os
import re
import shlex
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

pytestmark = pytest.mark.slow

ROOT = Path(__file__).resolve().parents[2]
BIN = Path(sys.executable).parent


def readme_commands() -> list[str]:
    """Shell commands of the README's ```sh blocks, continuation lines joined, comments cut."""
    text = (ROOT / "README.md").read_text()
    out: list[str] = []
    for block in re.findall(r"```sh\n(.*?)```", text, re.S):
        joined = re.sub(r"\\\n\s*", " ", block)
        for line in joined.splitlines():
            line = line.strip()
            if not line or line.startswith("#"):
                continue
            out.append(line)
    return out


def strip_comment(cmd: str) -> str:
    # a trailing "# ..." outside quotes is a comment in the README
    lexer = shlex.shlex(cmd, posix=True, punctuation_chars=False)
    lexer.whitespace_split = True
    lexer.commenters = "#"
    return shlex.join(list(lexer))


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, str]]:
    data = tmp_path_factory.mktemp("readme") / "demo"
    port = free_port()
    env = {**os.environ, "PATH": f"{BIN}:{os.environ['PATH']}", "COLUMNS": "200"}
    proc = subprocess.Popen(
        [str(BIN / "meterly"), "demo", "--data-dir", str(data), "--port", str(port),
         "--customers", "20", "--months", "3"],
        stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, env=env,
    )  # fmt: skip
    key = ""
    assert proc.stdout is not None
    deadline = time.monotonic() + 900
    lines: list[str] = []
    for line in proc.stdout:
        lines.append(line)
        if m := re.match(r"\s*key for skyline: (\S+)", line):
            key = m.group(1)
            break
        assert time.monotonic() < deadline, "demo took too long"
    assert key, "".join(lines)
    api = f"http://127.0.0.1:{port}"
    for _ in range(100):
        try:
            if httpx.get(f"{api}/healthz", timeout=2).status_code == 200:
                break
        except httpx.HTTPError:
            time.sleep(0.1)
    try:
        yield {"KEY": key, "API": api, "DATA": str(data), "PATH": env["PATH"]}
    finally:
        proc.send_signal(signal.SIGINT)
        try:
            proc.wait(timeout=60)
        except subprocess.TimeoutExpired:
            proc.kill()


def run(cmd: str, env: dict[str, str], cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        ["bash", "-c", cmd], env={**os.environ, **env}, cwd=cwd, capture_output=True, text=True,
        timeout=300,
    )  # fmt: skip


def test_tour_curl_commands_answer_without_error(demo: dict[str, str], tmp_path: Path) -> None:
    curls = [c for c in readme_commands() if c.startswith("curl ")]
    assert len(curls) >= 3
    portals = 0
    for cmd in curls:
        out = run(cmd, demo, tmp_path)
        assert out.returncode == 0, (cmd, out.stderr)
        if " -o " in cmd:  # a document saved to a file
            saved = tmp_path / cmd.split(" -o ")[1].split()[0]
            assert saved.read_bytes().startswith(b"%PDF"), cmd
            continue
        assert out.stdout.startswith("{") and '"error"' not in out.stdout, (cmd, out.stdout)
        if "/v1/portal-sessions" in cmd:  # the link opens the customer's page, white label
            page = httpx.get(json.loads(out.stdout)["url"], timeout=60)
            assert page.status_code == 200 and "Whitman" in page.text, page.text
            assert "Skyline" not in page.text and "skyline" not in page.text
            portals += 1
    assert portals == 1


def test_every_meterly_command_in_the_readme_runs(tmp_path: Path) -> None:
    cmds = [strip_comment(c) for c in readme_commands() if c.startswith("meterly ")]
    assert any(c.startswith("meterly usage") for c in cmds)
    data = tmp_path / "data"
    env = {"METERLY_DATA_DIR": str(data), "METERLY_PROVIDER_ID": "skyline",
           "METERLY_PORT": str(free_port()), "PATH": f"{BIN}:{os.environ['PATH']}"}  # fmt: skip
    # what the tour's commands refer to: the demo's customer and meter, and a CDR file
    (tmp_path / "cdrs.jsonl").write_text(
        '{"id": "c1", "type": "call.completed", "subject": "whitman-law", '
        '"time": "2026-10-05T14:00:00Z", "data": {"duration_seconds": 61, '
        '"direction": "outbound", "destination": "domestic"}}\n'
    )
    setup = [
        "meterly accounts create whitman-law --name 'Whitman & Hale LLP'",
        "meterly meters create call-seconds-domestic --name 'Domestic seconds' "
        "--event-type call.completed --aggregation sum --value '$.duration_seconds'",
    ]
    for cmd in ["meterly db upgrade", *setup]:
        assert run(cmd, env, tmp_path).returncode == 0, cmd
    for cmd in cmds:
        if cmd.startswith("meterly serve"):
            proc = subprocess.Popen(["bash", "-c", cmd], env={**os.environ, **env}, cwd=tmp_path)
            try:
                url = f"http://127.0.0.1:{env['METERLY_PORT']}/healthz"
                for _ in range(300):
                    try:
                        if httpx.get(url, timeout=1).status_code == 200:
                            break
                    except httpx.HTTPError:
                        time.sleep(0.1)
                else:
                    pytest.fail("meterly serve did not answer")
            finally:
                proc.terminate()
                proc.wait(timeout=60)
            continue
        if cmd.startswith("meterly demo"):
            continue  # exercised by the demo fixture and tests/demo
        out = run(cmd, env, tmp_path)
        assert out.returncode == 0, (cmd, out.stdout, out.stderr)
