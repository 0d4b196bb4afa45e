"""The ``fallout`` command: a thin shell over ``extract`` and ``graph``.

Each group of subcommands lives in a module of ``graph.commands`` that exposes
``register(app)``. User mistakes (``ExtractError``, ``GraphError``, bad paths)
become one line on stderr and a non-zero exit; any other exception is a bug and keeps
its traceback.
"""

from __future__ import annotations

import sys
from importlib.metadata import PackageNotFoundError, version

import typer

__all__ = ["app", "main"]

app = typer.Typer(
    name="fallout",
    help=(
        "Read articles and transcripts about financial collapses, build a knowledge graph "
        "of who owes whom, and propagate default and price shocks across it."
    ),
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    add_completion=False,
    context_settings={"help_option_names": ["-h", "--help"]},
)


def _version() -> str:
    try:
        return version("fallout")
    except PackageNotFoundError:  # pragma: no cover - running from a bare checkout
        return "0+unknown"


def _version_callback(value: bool) -> None:
    if value:
        typer.echo(f"fallout {_version()}")
        raise typer.Exit()


@app.callback()
def _root(
    version_: bool = typer.Option(
        False,
        "--version",
        "-V",
        help="Show the version and exit.",
        callback=_version_callback,
        is_eager=True,
    ),
) -> None:
    """Knowledge graphs of financial collapses, and the contagion that follows."""


def _register_all() -> None:
    from graph.commands import COMMAND_MODULES

    for module in COMMAND_MODULES:
        module.register(app)
    from graph.commands import curate_cmds  # the analyst's corrections (graph/curation.py)

    curate_cmds.register(app)


_register_all()


def main(argv: list[str] | None = None) -> None:
    """Run the ``fallout`` command line (the console-script entry point)."""
    from extract.errors import ExtractError
    from graph.errors import GraphError

    try:
        app(args=argv, prog_name="fallout")
    except (ExtractError, GraphError, OSError) as err:
        # the project's own errors (a bad option value is a UsageError) and bad paths;
        # any other exception is a bug and keeps its traceback
        message = str(err).strip().splitlines()[0] if str(err).strip() else type(err).__name__
        typer.echo(f"fallout: error: {message}", err=True)
        sys.exit(1)
    except KeyboardInterrupt:
        typer.echo("fallout: interrupted", err=True)
        sys.exit(130)


if __name__ == "__main__":  # pragma: no cover
    main()
