"""Who holds an embedded store: readers share it, a writer has it alone, each leaves a note.

A store directory holds ``.lock``, on which every process that opens the store takes an
``flock``: shared to read, exclusive to write. So any number of readers (the app,
``fallout query``, ``fallout report``) work side by side while nobody writes, and a
writer works alone. LadybugDB's own lock does not give this: it keeps two writers apart,
but lets a read-only process open a database that another process is writing, and a
writer open one that read-only processes are reading.

Beside the lock, each holder keeps a note in ``.holders/``: its process id, whether it
reads or writes, its command line and since when. The note is itself locked by its owner,
so a note whose owner died (its lock gone with it) is recognised as stale and removed.
A process that cannot take the lock reads the notes and says who holds the store.
"""

from __future__ import annotations

import json
import os
import shlex
import sys
import time
import uuid
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

from graph.errors import StoreBusy

__all__ = ["HOLDERS_DIR", "LOCK_FILE", "Holder", "StoreLock", "holders", "this_command"]

LOCK_FILE = ".lock"
"""The file every process that opens the store locks (shared to read, exclusive to write)."""

HOLDERS_DIR = ".holders"
"""The directory of holders' notes, one JSON file per open store."""

_POLL = 0.05  # seconds between two attempts to take a busy lock
_NOTE_GRACE = 0.5  # how long a busy lock without a note is retried before "another process"
_COMMAND_CHARS = 160

Mode = Literal["read", "write"]
OnWait = Callable[[tuple["Holder", ...], float], None]
"""Called about once a second while waiting: the holders and the seconds left."""


@dataclass(frozen=True)
class Holder:
    """A process that holds the store, as its note names it."""

    pid: int
    mode: str
    command: str
    since: float

    def describe(self) -> str:
        """``pid 4242 (fallout load facts.json, writing since 17:02:11)``."""
        verb = "writing" if self.mode == "write" else "reading"
        when = time.strftime("%H:%M:%S", time.localtime(self.since))
        return f"pid {self.pid} ({self.command}, {verb} since {when})"


def this_command(argv: Sequence[str] | None = None) -> str:
    """Return this process's command line as a user would type it (``fallout load x.json``).

    Examples
    --------
    >>> this_command(["/venv/bin/fallout", "query", "MATCH (n) RETURN n"])
    "fallout query 'MATCH (n) RETURN n'"
    >>> this_command(["/venv/lib/site-packages/streamlit/__main__.py", "run", "app.py"])
    'streamlit run app.py'
    """
    args = list(sys.argv if argv is None else argv) or ["python"]
    head = Path(args[0])
    if head.name == "__main__.py":  # python -m PACKAGE
        name = head.parent.name
    elif args[0] in ("", "-c"):
        name = f"python {args[0] or '-'}".strip()
    else:
        name = head.name
    text = shlex.join([name, *args[1:]])
    return text if len(text) <= _COMMAND_CHARS else text[: _COMMAND_CHARS - 1] + "…"


def holders(store_dir: Path) -> tuple[Holder, ...]:
    """Return the live holders of the store at ``store_dir``, oldest first.

    Notes whose owner died are removed on the way.
    """
    import fcntl

    found = []
    folder = store_dir / HOLDERS_DIR
    try:
        names = sorted(p for p in folder.iterdir() if p.suffix == ".json")
    except OSError:
        return ()
    for path in names:
        try:
            fd = os.open(path, os.O_RDONLY)
        except OSError:
            continue  # released meanwhile
        try:
            try:
                fcntl.flock(fd, fcntl.LOCK_SH | fcntl.LOCK_NB)
            except BlockingIOError:  # its owner holds it: alive
                raw = os.read(fd, 4096)
                try:
                    data = json.loads(raw)
                    found.append(
                        Holder(int(data["pid"]), str(data["mode"]), str(data["command"]),
                               float(data["since"]))
                    )
                except (ValueError, KeyError, TypeError):
                    continue
            else:  # nobody holds it: its owner died without removing it
                path.unlink(missing_ok=True)
        finally:
            os.close(fd)
    return tuple(sorted(found, key=lambda h: (h.since, h.pid)))


def _busy_message(store_dir: Path, mode: Mode, found: Sequence[Holder]) -> str:
    if not found:
        who = "another process (it left no note of itself)"
    else:
        who = ", ".join(h.describe() for h in found)
    want = "write" if mode == "write" else "read"
    return f"{store_dir}: cannot {want} the store: it is held by {who}"


class StoreLock:
    """The lock one open store holds on its directory, and the note that names its holder.

    Parameters
    ----------
    store_dir
        The store directory (it must exist).
    mode
        ``"read"`` shares the store with other readers; ``"write"`` holds it alone.
    """

    def __init__(self, store_dir: Path, mode: Mode) -> None:
        self.store_dir = store_dir
        self.mode: Mode = mode
        self._fd: int | None = None
        self._note_fd: int | None = None
        self._note: Path | None = None

    def acquire(self, wait: float = 0.0, on_wait: OnWait | None = None) -> None:
        """Take the lock; when it is busy, wait up to ``wait`` seconds, else raise.

        Raises ``StoreBusy`` naming the holders (process id, command, since when) at
        once when ``wait`` is 0, or when ``wait`` seconds have passed.
        """
        import fcntl

        flag = fcntl.LOCK_EX if self.mode == "write" else fcntl.LOCK_SH
        try:
            fd = os.open(self.store_dir / LOCK_FILE, os.O_RDWR | os.O_CREAT, 0o644)
        except PermissionError:
            if self.mode == "write":
                raise
            # a store this user may read but not write: a shared lock needs no write access
            fd = os.open(self.store_dir / LOCK_FILE, os.O_RDONLY)
        started = time.monotonic()
        deadline = started + max(wait, 0.0)
        told = -1
        try:
            while True:
                try:
                    fcntl.flock(fd, flag | fcntl.LOCK_NB)
                    break
                except BlockingIOError:
                    pass
                now = time.monotonic()
                found = holders(self.store_dir)
                if now >= deadline and (found or now >= started + _NOTE_GRACE):
                    message = _busy_message(self.store_dir, self.mode, found)
                    if wait > 0:
                        message += f"; gave up after waiting {wait:g} s"
                    raise StoreBusy(message, found)
                left = max(deadline - now, 0.0)
                if on_wait is not None and wait > 0 and int(left) != told:
                    told = int(left)
                    on_wait(found, left)
                time.sleep(_POLL)
        except BaseException:
            os.close(fd)
            raise
        self._fd = fd
        try:
            self._write_note()
        except OSError:
            pass  # a read-only or full file system: the lock holds without the note

    def _write_note(self) -> None:
        """Leave a note naming this process, locked for as long as the store is held."""
        import fcntl

        folder = self.store_dir / HOLDERS_DIR
        folder.mkdir(exist_ok=True)
        name = f"{os.getpid()}-{uuid.uuid4().hex[:12]}"
        tmp = folder / f".{name}.tmp"
        note = {"pid": os.getpid(), "mode": self.mode, "command": this_command(),
                "since": time.time()}
        fd = os.open(tmp, os.O_RDWR | os.O_CREAT | os.O_TRUNC, 0o644)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX)
            os.write(fd, json.dumps(note).encode("utf-8"))
            # renamed only once locked: a reader never takes a fresh note for a stale one
            os.replace(tmp, folder / f"{name}.json")
        except BaseException:
            os.close(fd)
            tmp.unlink(missing_ok=True)
            raise
        self._note_fd, self._note = fd, folder / f"{name}.json"

    def release(self) -> None:
        """Remove the note and release the lock (idempotent)."""
        if self._note is not None:
            self._note.unlink(missing_ok=True)
            self._note = None
        if self._note_fd is not None:
            os.close(self._note_fd)
            self._note_fd = None
        if self._fd is not None:
            import fcntl

            # unlocked explicitly: a forked child sharing the descriptor must not keep it
            fcntl.flock(self._fd, fcntl.LOCK_UN)
            os.close(self._fd)
            self._fd = None
