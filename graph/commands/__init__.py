"""Subcommand groups of the ``fallout`` command, one module per area."""

from __future__ import annotations

from graph.commands import (
    contagion_cmds,
    demo_cmds,
    extract_cmds,
    lake_cmds,
    rdf_cmds,
    run_cmds,
    scenario_cmds,
    store_cmds,
)

__all__ = ["COMMAND_MODULES"]

COMMAND_MODULES = (extract_cmds, store_cmds, rdf_cmds, contagion_cmds, scenario_cmds, run_cmds,
                   demo_cmds, lake_cmds)
