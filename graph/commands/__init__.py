"""Subcommand groups of the ``fallout`` command, one module per area."""

from __future__ import annotations

from graph.commands import contagion_cmds, extract_cmds, run_cmds, store_cmds

__all__ = ["COMMAND_MODULES"]

COMMAND_MODULES = (extract_cmds, store_cmds, contagion_cmds, run_cmds)
