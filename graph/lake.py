"""The Parquet facts dataset: the facts of many documents as tables, written part by part.

Layout of a dataset directory (schema version :data:`SCHEMA_VERSION`)::

    DIR/fallout-facts.json            {"format": "fallout-facts", "schema_version": 1}
    DIR/entities/part-<key>.parquet   one file per part and table
    DIR/aliases/part-<key>.parquet
    DIR/relations/part-<key>.parquet
    DIR/dropped/part-<key>.parquet
    DIR/documents/part-<key>.parquet  written last: a part without it is not read

A part holds the documents of one extraction task. Its key is a hash of its documents'
content ids, so a task that runs again (a worker died, a run was repeated) writes the
same files again, each one replaced whole (written beside, then renamed): nothing is
duplicated. A document stated by two parts is read once. An edited file is a new
document (a new content id) from the same ``source``; the reader keeps the newest
version of each source and names the older ones as superseded.

The columns are those of the facts JSON (DESIGN.md), one table per kind of record; the
README's "The Parquet facts dataset" lists them.
"""

from __future__ import annotations

import hashlib
import json
import os
import uuid
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Protocol

from extract.model import Facts
from graph.errors import SchemaViolation

__all__ = [
    "MANIFEST",
    "SCHEMA_VERSION",
    "TABLES",
    "DatasetView",
    "Extracted",
    "ExtractedDocument",
    "LakeError",
    "is_dataset",
    "open_dataset",
    "part_key",
    "write_part",
]

SCHEMA_VERSION = 1
"""The version of the tables' columns; a reader refuses a dataset with a newer one."""

MANIFEST = "fallout-facts.json"
TABLES = ("documents", "entities", "aliases", "relations", "dropped")
_FORMAT = "fallout-facts"


class LakeError(SchemaViolation):
    """A directory is not a readable Parquet facts dataset (the message says why)."""


def _schemas() -> dict[str, Any]:
    import pyarrow as pa

    evidence = pa.list_(
        pa.struct([("text", pa.string()), ("start", pa.int64()), ("end", pa.int64())])
    )
    mentions = pa.list_(
        pa.struct([("start", pa.int64()), ("end", pa.int64()), ("text", pa.string())])
    )
    s, f, b = pa.string(), pa.float64(), pa.bool_()
    return {
        "documents": pa.schema(
            [
                ("document_id", s),
                ("source", s),
                ("title", s),
                ("file_size", pa.int64()),
                ("file_mtime_ns", pa.int64()),
                ("extracted_at", s),
                ("part", s),
            ]
        ),
        "entities": pa.schema(
            [
                ("document_id", s),
                ("entity_id", s),
                ("name", s),
                ("type", s),
                ("equity", f),
                ("total_assets", f),
                ("deposits", f),
                ("mentions", mentions),
            ]
        ),
        "aliases": pa.schema([("document_id", s), ("entity_id", s), ("alias", s)]),
        "relations": pa.schema(
            [
                ("document_id", s),
                ("ordinal", pa.int32()),
                ("head", s),
                ("type", s),
                ("tail", s),
                ("confidence", f),
                ("amount", f),
                ("currency", s),
                ("asset", s),
                ("quantity", f),
                ("date", s),
                ("status", s),
                ("to", s),
                ("negated", b),
                ("hedged", b),
                ("speaker", s),
                ("evidence", evidence),
            ]
        ),
        "dropped": pa.schema([("document_id", s), ("reason", s), ("count", pa.int64())]),
    }


class Extracted(Protocol):
    """What the writer needs of one extracted document (``extract.distributed.Extracted``)."""

    @property
    def facts(self) -> Facts: ...  # noqa: D102

    @property
    def dropped(self) -> Mapping[str, int]: ...  # noqa: D102

    @property
    def file_size(self) -> int | None: ...  # noqa: D102

    @property
    def file_mtime_ns(self) -> int | None: ...  # noqa: D102


@dataclass
class ExtractedDocument:
    """One document's facts with what the writer records beside them."""

    facts: Facts
    dropped: Mapping[str, int] = field(default_factory=dict)
    file_size: int | None = None
    file_mtime_ns: int | None = None


def part_key(document_ids: Sequence[str]) -> str:
    """Return the key of a part: a hash of its documents' content ids, in any order.

    Examples
    --------
    >>> part_key(["sha256:b", "sha256:a"]) == part_key(["sha256:a", "sha256:b"])
    True
    >>> len(part_key(["sha256:a"]))
    24
    """
    joined = "\n".join(sorted(set(document_ids)))
    return hashlib.sha256(joined.encode("utf-8")).hexdigest()[:24]


def is_dataset(path: str | Path) -> bool:
    """Whether ``path`` is a directory holding a Parquet facts dataset."""
    return (Path(path) / MANIFEST).is_file()


def _write_manifest(root: Path) -> None:
    path = root / MANIFEST
    if path.exists():
        _check_manifest(root)
        return
    root.mkdir(parents=True, exist_ok=True)
    body = {"format": _FORMAT, "schema_version": SCHEMA_VERSION, "tables": list(TABLES)}
    _atomic_bytes(path, (json.dumps(body, indent=2) + "\n").encode("utf-8"))


def _check_manifest(root: Path) -> None:
    path = root / MANIFEST
    try:
        body = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise LakeError(f"{root}: not a Parquet facts dataset (no {MANIFEST})") from None
    except (OSError, ValueError) as err:
        raise LakeError(f"{path}: unreadable dataset manifest ({err})") from None
    if not isinstance(body, dict) or body.get("format") != _FORMAT:
        raise LakeError(f"{path}: field 'format': expected {_FORMAT!r}")
    version = body.get("schema_version")
    if not isinstance(version, int) or version < 1:
        raise LakeError(f"{path}: field 'schema_version': expected a positive integer")
    if version > SCHEMA_VERSION:
        raise LakeError(
            f"{path}: field 'schema_version': {version} is newer than this fallout reads "
            f"({SCHEMA_VERSION}); upgrade fallout"
        )


def _atomic_bytes(path: Path, data: bytes) -> None:
    tmp = path.with_name(f".{path.name}.{uuid.uuid4().hex}.tmp")
    with open(tmp, "wb") as fh:
        fh.write(data)
        fh.flush()
        os.fsync(fh.fileno())
    os.replace(tmp, path)


def _write_table(root: Path, name: str, key: str, table: Any) -> None:
    import pyarrow.parquet as pq

    folder = root / name
    folder.mkdir(parents=True, exist_ok=True)
    final = folder / f"part-{key}.parquet"
    tmp = folder / f".part-{key}.{uuid.uuid4().hex}.tmp"
    try:
        pq.write_table(table, tmp, compression="zstd")
        os.replace(tmp, final)
    finally:
        tmp.unlink(missing_ok=True)


def _tables(docs: Sequence[Extracted], key: str, stamp: str) -> dict[str, Any]:
    """Build the five tables of one part as Arrow tables."""
    import pyarrow as pa

    rows: dict[str, list[dict[str, Any]]] = {t: [] for t in TABLES}
    for item in docs:
        f = item.facts
        doc = f.document.id
        rows["documents"].append(
            {
                "document_id": doc,
                "source": f.document.source,
                "title": f.document.title,
                "file_size": item.file_size,
                "file_mtime_ns": item.file_mtime_ns,
                "extracted_at": stamp,
                "part": key,
            }
        )
        for e in f.entities:
            d = e.model_dump(mode="json")
            d["entity_id"] = d.pop("id")
            d["document_id"] = doc
            rows["aliases"] += (
                {"document_id": doc, "entity_id": e.id, "alias": a} for a in d.pop("aliases")
            )
            rows["entities"].append(d)
        for n, r in enumerate(f.relations):
            d = r.model_dump(mode="json")
            d["document_id"] = doc
            d["ordinal"] = n
            rows["relations"].append(d)
        rows["dropped"] += (
            {"document_id": doc, "reason": k, "count": int(v)}
            for k, v in sorted(item.dropped.items())
        )
    schemas = _schemas()
    return {t: pa.Table.from_pylist(rows[t], schema=schemas[t]) for t in TABLES}


def write_part(out: str | Path, docs: Sequence[Extracted]) -> str | None:
    """Write one part of documents into the dataset at ``out``; return its key.

    The same documents always make the same part key, and each file is replaced whole,
    so writing a part again (a task run twice) changes nothing. The documents table is
    written last: a part that a crash cut short has no documents file and is not read.
    A document repeated in ``docs`` is written once (the last copy). ``None`` when
    ``docs`` is empty.
    """
    unique = list({d.facts.document.id: d for d in docs}.values())
    if not unique:
        return None
    root = Path(out)
    _write_manifest(root)
    key = part_key([d.facts.document.id for d in unique])
    stamp = datetime.now(UTC).isoformat(timespec="microseconds")
    tables = _tables(unique, key, stamp)
    for name in TABLES[1:]:
        _write_table(root, name, key, tables[name])
    _write_table(root, "documents", key, tables["documents"])
    return key


@dataclass
class DatasetView:
    """The documents of a dataset as it stands: the newest version of each source.

    ``documents`` maps each kept document id to its row (source, title, part, file size
    and time, extracted_at); ``superseded`` lists document ids that an edited version of
    the same source replaced, so a load forgets them.
    """

    root: Path
    documents: dict[str, dict[str, Any]]
    superseded: list[str]

    def latest_by_source(self) -> dict[str, dict[str, Any]]:
        """Return the kept document of each source."""
        return {row["source"]: row for row in self.documents.values()}

    def parts(self) -> list[str]:
        """Return the keys of the parts that hold a kept document, sorted."""
        return sorted({row["part"] for row in self.documents.values()})

    def relation_count(self) -> int:
        """Relations stated by the kept documents (one row each, any evidence count)."""
        import pyarrow.compute as pc

        total = 0
        for key in self.parts():
            table = _read(self.root, "relations", key, ["document_id"])
            keep = [d for d, r in self.documents.items() if r["part"] == key]
            total += pc.sum(pc.is_in(table["document_id"], _strings(keep))).as_py() or 0
        return int(total)

    def facts(self) -> Iterator[Facts]:
        """Yield the kept documents' facts, part by part (checked as facts JSON is)."""
        for key in self.parts():
            keep = {d for d, r in self.documents.items() if r["part"] == key}
            yield from _part_facts(self.root, key, keep, self.documents)


def _strings(values: Sequence[str]) -> Any:
    import pyarrow as pa

    return pa.array(list(values), pa.string())


def _read(root: Path, table: str, key: str, columns: list[str] | None = None) -> Any:
    import pyarrow.parquet as pq

    path = root / table / f"part-{key}.parquet"
    try:
        return pq.read_table(path, columns=columns)
    except FileNotFoundError:
        raise LakeError(f"{path}: missing (the part's documents table names it)") from None
    except (OSError, ValueError) as err:  # pyarrow's ArrowInvalid is a ValueError
        raise LakeError(f"{path}: unreadable Parquet ({_first_line(err)})") from None


def _first_line(err: BaseException) -> str:
    return (str(err).strip().splitlines() or [type(err).__name__])[0]


def _check_columns(path: str, table: Any, name: str) -> None:
    expected = _schemas()[name]
    for column in expected:
        if column.name not in table.column_names:
            raise LakeError(f"{path}: field {column.name!r}: column missing")
        have = table.schema.field(column.name).type
        if have != column.type:
            raise LakeError(f"{path}: field {column.name!r}: type {have}, expected {column.type}")


def open_dataset(path: str | Path) -> DatasetView:
    """Read a dataset's documents tables; refuse a directory that is not one (one line).

    A document id found in several parts is kept once (the part written first); of
    the documents of one source, the one extracted last is kept and the others are
    listed as superseded.
    """
    import pyarrow.parquet as pq

    root = Path(path)
    _check_manifest(root)
    folder = root / "documents"
    files = sorted(folder.glob("part-*.parquet")) if folder.is_dir() else []
    rows: list[dict[str, Any]] = []
    for file in files:
        try:
            table = pq.read_table(file)
        except (OSError, ValueError) as err:
            raise LakeError(f"{file}: unreadable Parquet ({_first_line(err)})") from None
        _check_columns(str(file), table, "documents")
        for n, row in enumerate(table.to_pylist()):
            if not row["document_id"] or not row["source"] or not row["part"]:
                raise LakeError(f"{file} row {n}: field 'document_id', 'source' or 'part' empty")
            rows.append(row)
    rows.sort(key=lambda r: (r["extracted_at"] or "", r["part"]))
    by_id: dict[str, dict[str, Any]] = {}
    for row in rows:
        by_id.setdefault(row["document_id"], row)
    newest: dict[str, dict[str, Any]] = {}
    for row in by_id.values():
        newest[row["source"]] = row  # sorted by extraction time: the last one wins
    kept_ids = {row["document_id"] for row in newest.values()}
    documents = {d: r for d, r in by_id.items() if d in kept_ids}
    superseded = sorted(d for d in by_id if d not in kept_ids)
    return DatasetView(root, documents, superseded)


def _group(table: Any, keep: set[str]) -> dict[str, list[dict[str, Any]]]:
    out: dict[str, list[dict[str, Any]]] = {}
    for row in table.to_pylist():
        doc = row.pop("document_id")
        if doc in keep:
            out.setdefault(doc, []).append(row)
    return out


def _part_facts(
    root: Path, key: str, keep: set[str], documents: Mapping[str, Mapping[str, Any]]
) -> Iterator[Facts]:
    """Rebuild the facts of one part's kept documents; a bad row is one ``LakeError`` line."""
    from pydantic import ValidationError

    tables = {}
    for name in TABLES[1:]:
        table = _read(root, name, key)
        _check_columns(str(root / name / f"part-{key}.parquet"), table, name)
        tables[name] = _group(table, keep)
    for doc in sorted(keep):
        row = documents[doc]
        aliases: dict[str, list[str]] = {}
        for a in tables["aliases"].get(doc, []):
            aliases.setdefault(a["entity_id"], []).append(a["alias"])
        entities = []
        for e in tables["entities"].get(doc, []):
            e["id"] = e.pop("entity_id")
            e["aliases"] = aliases.get(e["id"], [])
            entities.append(e)
        relations = sorted(tables["relations"].get(doc, []), key=lambda r: r.pop("ordinal"))
        data = {
            "document": {"id": doc, "source": row["source"], "title": row["title"] or ""},
            "entities": entities,
            "relations": relations,
        }
        try:
            yield Facts.from_dict(data)
        except ValidationError as err:
            detail = err.errors()[0]
            loc = ".".join(str(x) for x in detail["loc"]) or "(object)"
            raise LakeError(
                f"{root}/*/part-{key}.parquet: document {doc!r}, field {loc!r}: "
                f"invalid facts: {detail['msg']}"
            ) from None
