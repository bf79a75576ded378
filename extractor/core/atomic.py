"""Atomic file writes: the data goes to a temporary file in the same folder, is flushed to disk, and
replaces the target in one rename, so a reader (or a run killed half-way) never sees half a file.
Also a file's content digest, which says whether a file is still the one that was read."""

from __future__ import annotations

import hashlib
import io
import os
import tempfile
from collections.abc import Iterable
from pathlib import Path


def write_atomic(path: str | Path, data: str | bytes | Iterable[str], encoding: str = "utf-8") -> Path:
    """Write ``data`` to ``path`` all at once (text is encoded with ``encoding``; an iterable of text
    pieces is written as it comes, never held whole)."""
    path = Path(path)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as fh:
            if isinstance(data, (str, bytes)):
                fh.write(data.encode(encoding) if isinstance(data, str) else data)
            else:
                text = io.TextIOWrapper(fh, encoding=encoding, newline="")
                try:
                    for piece in data:
                        text.write(piece)
                finally:
                    text.detach()  # flushed into fh, which stays open
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, path)
    except BaseException:
        try:
            os.unlink(tmp)
        except OSError:
            pass
        raise
    return path


def sha256_of(path: str | Path) -> str:
    """The hex SHA-256 of a file's content, read in blocks (raises OSError when it cannot be read)."""
    h = hashlib.sha256()
    with Path(path).open("rb") as fh:
        for chunk in iter(lambda: fh.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()
