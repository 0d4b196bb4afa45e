"""The ``fallout`` command: help, version, one-line errors, README coverage."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import pytest
from typer.main import get_command
from typer.testing import CliRunner

from graph.cli import app, main

ROOT = Path(__file__).resolve().parents[2]
runner = CliRunner()


def _subcommands() -> list[str]:
    """Every leaf subcommand as typed on the command line ("contagion run", "query", ...)."""
    root = get_command(app)
    names: list[str] = []

    def walk(cmd: object, prefix: str) -> None:
        commands = getattr(cmd, "commands", None)
        if commands:
            for name, sub in commands.items():
                walk(sub, f"{prefix} {name}".strip())
        else:
            names.append(prefix)

    walk(root, "")
    return sorted(names)


def test_cli_help_lists_commands() -> None:
    result = runner.invoke(app, ["--help"])
    assert result.exit_code == 0
    assert "fallout" in result.output.lower() or "knowledge graph" in result.output


def test_cli_version() -> None:
    result = runner.invoke(app, ["--version"])
    assert result.exit_code == 0
    assert re.fullmatch(r"fallout \d+\.\d+\.\d+\S*\n", result.output)


@pytest.mark.parametrize("command", _subcommands())
def test_cli_every_subcommand_has_help(command: str) -> None:
    result = runner.invoke(app, [*command.split(), "--help"])
    assert result.exit_code == 0, result.output
    assert "Usage" in result.output


@pytest.mark.parametrize("command", _subcommands())
def test_cli_every_subcommand_is_in_readme(command: str) -> None:
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    assert f"fallout {command}" in readme, f"README.md does not document `fallout {command}`"


def test_cli_unknown_command_is_one_line_error() -> None:
    proc = subprocess.run(
        [sys.executable, "-c", "from graph.cli import main; main()", "no-such-command"],
        capture_output=True,
        text=True,
        cwd=ROOT,
    )
    assert proc.returncode != 0
    assert "Traceback" not in proc.stderr


def test_cli_library_error_becomes_one_line(capsys: pytest.CaptureFixture[str]) -> None:
    # a facts file that does not exist is a user mistake: one line, exit 1, no traceback
    with pytest.raises(SystemExit) as exc:
        main(["load", str(ROOT / "no-such-facts.json"), "--store", ":memory:"])
    assert exc.value.code not in (0, None)
    err = capsys.readouterr().err
    assert "no-such-facts.json" in err
    assert "Traceback" not in err
    assert len(err.strip().splitlines()) == 1
