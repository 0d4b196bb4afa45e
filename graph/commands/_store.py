"""Opening the store from a command: read or write, ``--wait`` with a visible countdown."""

from __future__ import annotations

import math
import sys
import time
from typing import IO, Any

import typer

__all__ = ["WAIT_HELP", "Countdown", "open_cli_store", "wait_option"]

WAIT_HELP = (
    "Seconds to wait, with a countdown, while another process holds the embedded store "
    "(readers share it; a writer holds it alone). Default 0: say who holds it and stop."
)

_EVERY = 10  # without a terminal, one countdown line per this many seconds


def wait_option() -> Any:
    """Return the ``--wait SECONDS`` option of every command that opens the store.

    Used as ``wait: Annotated[float, wait_option()] = 0.0``.
    """
    return typer.Option("--wait", min=0.0, help=WAIT_HELP, show_default=False)


class Countdown:
    """Shows, on stderr, who holds the store and how long the command will still wait.

    On a terminal the line is rewritten every second; otherwise a line is printed when
    the wait starts and then every ten seconds.
    """

    def __init__(self, url: str, stream: IO[str] | None = None) -> None:
        self.url = url
        self.stream = stream if stream is not None else sys.stderr
        self.tty = bool(getattr(self.stream, "isatty", lambda: False)())
        self.started: float | None = None

    def __call__(self, holders: tuple[Any, ...], left: float) -> None:
        """Report one tick: ``holders`` (``Holder``) and the seconds ``left``."""
        first = self.started is None
        if first:
            self.started = time.monotonic()
        seconds = math.ceil(left)
        who = ", ".join(h.describe() for h in holders) or "another process"
        line = f"fallout: waiting for {self.url}, held by {who}: {seconds} s left"
        if self.tty:
            self.stream.write("\r\x1b[K" + line)
        elif first or seconds % _EVERY == 0:
            self.stream.write(line + "\n")
        self.stream.flush()

    def finish(self) -> None:
        """End the countdown (when there was one) with how long the command waited."""
        if self.started is None:
            return
        waited = time.monotonic() - self.started
        self.stream.write(("\r\x1b[K" if self.tty else "")
                          + f"fallout: {self.url} is free after {waited:.1f} s; going on\n")
        self.stream.flush()


def open_cli_store(url: str | None, *, write: bool, wait: float = 0.0) -> Any:
    """Open the store for a command: to write (alone) or to read (beside other readers).

    While another process holds it, wait up to ``wait`` seconds with a :class:`Countdown`;
    ``StoreBusy`` then names the holders and how to wait for them.
    """
    from graph.errors import StoreBusy
    from graph.store import default_store_url, open_store

    target = url or default_store_url()
    countdown = Countdown(target)
    try:
        store = open_store(target, read_only=not write, wait=wait, on_wait=countdown)
    except StoreBusy as err:
        if countdown.started is not None and countdown.tty:
            countdown.stream.write("\n")
        hint = "" if wait > 0 else "; to wait for it, add --wait SECONDS"
        raise StoreBusy(f"{err}{hint}", err.holders) from None
    countdown.finish()
    return store
