"""Docs that cannot drift: every setting and every CLI command is documented."""

from __future__ import annotations

from pathlib import Path

from typer.main import get_command
from typer.testing import CliRunner

from meterly.cli import app
from meterly.config import Settings

ROOT = Path(__file__).resolve().parents[2]


def all_docs() -> str:
    texts = [(ROOT / "README.md").read_text()]
    texts += [p.read_text() for p in sorted((ROOT / "docs").glob("*.md"))]
    return "\n".join(texts)


def test_every_setting_is_documented() -> None:
    doc = (ROOT / "docs" / "configuration.md").read_text()
    for name in Settings.model_fields:
        assert f"METERLY_{name.upper()}" in doc, f"METERLY_{name.upper()} is not documented"


def _commands(group: object, prefix: str) -> list[str]:
    out = []
    for name, cmd in getattr(group, "commands", {}).items():
        path = f"{prefix} {name}"
        sub = _commands(cmd, path)
        out += sub or [path]
    return out


def test_every_cli_command_is_documented_and_has_help() -> None:
    docs = all_docs()
    root = get_command(app)
    commands = _commands(root, "meterly")
    assert "meterly events import" in commands
    for command in commands:
        assert command in docs, f"`{command}` is not in README.md or docs/"
    runner = CliRunner()
    for command in commands:
        result = runner.invoke(app, [*command.split()[1:], "--help"])
        assert result.exit_code == 0, command
        assert "Usage" in result.output
