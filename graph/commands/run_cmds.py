"""Whole-journey commands: app, demo."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import typer

from graph.errors import GraphError

__all__ = ["app_script", "register"]


def app_script(root: Path | None = None) -> Path:
    """Return the ``app.py`` of this checkout (beside the ``graph`` package's folder).

    Parameters
    ----------
    root : Path, optional
        Where to look instead of the folder that holds the ``graph`` package.

    Raises
    ------
    GraphError
        When there is no ``app.py`` there, e.g. when ``fallout`` was installed from a
        wheel, which ships the libraries but not the app.
    """
    path = (root or Path(__file__).resolve().parents[2]) / "app.py"
    if not path.is_file():
        raise GraphError(
            f"the app is not installed: {path} does not exist; the app ships with the "
            "source checkout, so run `fallout app` from a clone of the repository "
            "(pip install -e .)"
        )
    return path


def check_port(port: int) -> None:
    """Stop with one line when ``port`` is taken, before any work is done.

    Raises
    ------
    GraphError
        If another process listens on the port (another app, say).
    """
    import socket

    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        try:
            sock.bind(("", port))
        except OSError:
            raise GraphError(
                f"port {port} is in use (another fallout app?); choose another with --port N"
            ) from None


def _app(
    store: str | None = typer.Option(
        None,
        "--store",
        "-s",
        help="Embedded store directory or neo4j:// / bolt:// URI (default: FALLOUT_STORE, "
        "else the embedded store in the user data directory).",
    ),
    port: int = typer.Option(8501, "--port", min=1, max=65535, help="Port to serve on."),
    headless: bool = typer.Option(
        False, "--headless", help="Do not open a browser window."
    ),
) -> None:
    """Open the browser app: explore the graph, run Cypher, simulate shocks, get reports."""
    check_port(port)
    script = app_script()
    env = dict(os.environ)
    if store:
        env["FALLOUT_STORE"] = store
    command = [
        sys.executable, "-m", "streamlit", "run", str(script),
        "--server.port", str(port),
        "--server.headless", "true" if headless else "false",
        "--browser.gatherUsageStats", "false",
    ]
    typer.echo(f"fallout app: serving on http://localhost:{port} (Ctrl+C to stop)", err=True)
    code = subprocess.call(command, cwd=script.parent, env=env)
    if code:
        raise typer.Exit(code)


def register(app: typer.Typer) -> None:
    """Add this module's subcommands to the fallout app."""
    app.command("app")(_app)
