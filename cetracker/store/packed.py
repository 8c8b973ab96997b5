"""A table kept whole in one cell: an Arrow stream, compressed (zstd), in a BLOB column.

For rows that are only ever read all together and never searched by SQL: every row of
an upload as the provider wrote it, with its outcome (``importer``). One value to write
instead of a row each: a 100,000-row roster's history is ~3 MB in one cell, where a
table of its rows made the import's commit write ~10 MB of log (0.3 s at a million
members, a sixth of the import)."""

from __future__ import annotations

from typing import Any


def pack(table: Any) -> bytes:
    """A ``pyarrow.Table`` as bytes for a BLOB column."""
    import pyarrow as pa

    sink = pa.BufferOutputStream()
    options = pa.ipc.IpcWriteOptions(compression="zstd")
    with pa.ipc.new_stream(sink, table.schema, options=options) as writer:
        writer.write_table(table)
    return bytes(sink.getvalue())


def unpack(blob: bytes) -> Any:
    """The ``pyarrow.Table`` that ``pack`` made these bytes of."""
    import pyarrow as pa

    with pa.ipc.open_stream(pa.py_buffer(blob)) as reader:
        return reader.read_all()
