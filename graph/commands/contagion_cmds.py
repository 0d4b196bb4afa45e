"""Contagion commands: contagion run, shock, report."""

from __future__ import annotations

import typer

__all__ = ["register"]


def register(app: typer.Typer) -> None:
    """Add this module's subcommands to the fallout app."""
