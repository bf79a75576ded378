"""Bring files into the review database: through the pipeline (extract and review), then stored;
one bad file never stops a batch."""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from pathlib import Path

from extractor.core.config import ReviewConfig, load_config
from extractor.pipeline.process import process
from extractor.store.contract import result_to_contract
from extractor.store.database import Store


def sha256_of(path: Path) -> str:
    h = hashlib.sha256()
    with path.open("rb") as fh:
        for chunk in iter(lambda: fh.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


def import_files(store: Store, files: list[Path], cfg: ReviewConfig | None = None,
                 on_done: Callable[[int, int, Path, str | None], None] | None = None) -> list[tuple[Path, str | None]]:
    """Import each file; returns (file, error or None). ``on_done(i, n, file, error)`` reports progress."""
    cfg = cfg or load_config()
    out = []
    for i, f in enumerate(files, start=1):
        res = process(f, cfg)
        data = result_to_contract(res)
        digest = sha256_of(f) if f.exists() else None
        store.save_result(str(f.resolve()) if f.exists() else str(f), data, sha256=digest, kind=res.kind)
        err = res.error if res.status != "ok" else None
        out.append((f, err))
        if on_done:
            on_done(i, len(files), f, err)
    return out
