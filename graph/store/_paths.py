"""Refuse, don't create: which directories may be opened as an embedded store, and how.

A fallout store is a directory holding ``graph.lbug``. Opened to read, nothing else is
accepted, so that a mistyped ``--store`` is an error instead of a new, empty store.
Opened to write, a new path or an empty directory is accepted too (the store is made
there), and any other directory is refused before anything is written into it.
"""

from __future__ import annotations

import os
from pathlib import Path

from graph.errors import StoreUnavailable

__all__ = ["DATABASE_FILE", "OWN_FILES", "check_store_dir"]

DATABASE_FILE = "graph.lbug"
"""The database file of a store directory; its presence makes the directory a store."""

OWN_FILES = frozenset({".lock", ".holders", "pending-batch.json"})
"""What fallout itself leaves beside the database (lock, readers, write journal)."""

_HINT = "check --store and FALLOUT_STORE, or make a store with fallout load or fallout ingest"


def check_store_dir(path: str | os.PathLike[str], *, create: bool) -> None:
    """Raise ``StoreUnavailable`` unless ``path`` may be opened as an embedded store.

    Parameters
    ----------
    path
        The store directory.
    create
        ``False`` for a store opened to read: it must exist already. ``True`` for a
        store opened to write: a new path or an empty directory is accepted too.

    Raises
    ------
    StoreUnavailable
        One line naming the path and what is there instead of a store.

    Examples
    --------
    >>> check_store_dir("/no/such/store", create=False)  # doctest: +ELLIPSIS
    Traceback (most recent call last):
    ...
    graph.errors.StoreUnavailable: /no/such/store: no fallout store there (no such directory); ...
    >>> check_store_dir("/no/such/store", create=True)  # a new store may be made there
    """
    target = Path(path)
    try:
        entries = {entry.name for entry in os.scandir(target)}
    except FileNotFoundError:
        if target.is_symlink():
            raise StoreUnavailable(f"{target}: a broken symbolic link, not a store") from None
        if create:
            return
        raise StoreUnavailable(
            f"{target}: no fallout store there (no such directory); {_HINT}"
        ) from None
    except NotADirectoryError:
        raise StoreUnavailable(f"{target}: a file, not a store (a directory)") from None
    except OSError as err:
        raise StoreUnavailable(f"{target}: cannot open the store ({err.strerror})") from None
    if DATABASE_FILE in entries:
        return
    if create and entries <= OWN_FILES:
        return
    if not create:
        what = "an empty directory" if entries <= OWN_FILES else f"no {DATABASE_FILE} in it"
        raise StoreUnavailable(f"{target}: not a fallout store ({what}); {_HINT}")
    shown = ", ".join(sorted(entries)[:3]) + (", ..." if len(entries) > 3 else "")
    raise StoreUnavailable(
        f"{target}: not a fallout store, and not empty (it holds {shown}); a new store is "
        "made only in a new or empty directory"
    )
