"""Resuming a batch: files a previous run finished are not read again.

Beside its outputs a batch keeps a ledger (``<out>/.resume/<output name>``): for each finished file,
its content hash, the pipeline key and the full result. A re-run into the same folder takes a file
from the ledger when its content hash and the pipeline key both match and its output is still there;
anything else (a changed file, new code, another review configuration, a missing output) is read
again. The pipeline key hashes the package's code and data files and the review configuration, so a
result is never reused across versions. Entries are written atomically after the output, so a run
killed at any moment leaves only entries whose outputs are complete.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterator
from functools import lru_cache
from pathlib import Path

from extractor.core.atomic import sha256_of, write_atomic
from extractor.core.config import ReviewConfig
from extractor.core.records import ExtractionResult

PACKAGE = Path(__file__).resolve().parent.parent


@lru_cache(maxsize=1)
def code_hash() -> str:
    """A digest of the package's code and data files: two machines agree on it only if they run the same code."""
    h = hashlib.sha256()
    for f in sorted(PACKAGE.rglob("*")):
        if f.is_file() and f.suffix in {".py", ".toml", ".json", ".txt", ".md", ".j2"} and "__pycache__" not in f.parts:
            h.update(str(f.relative_to(PACKAGE)).encode())
            h.update(f.read_bytes())
    return h.hexdigest()[:20]


def pipeline_key(config: ReviewConfig | None, provenance: bool) -> str:
    """What decides a file's output besides its content: the code, the review configuration (or none:
    extract only) and whether provenance is written."""
    conf = config.model_dump_json() if config is not None else "extract"
    return hashlib.sha256(f"{code_hash()}|{conf}|{provenance}".encode()).hexdigest()[:24]


class Ledger:
    """The finished files of batches run into one output folder."""

    def __init__(self, out_dir: Path, key: str) -> None:
        self.dir, self.key = out_dir / ".resume", key
        self.hashes: dict[Path, str | None] = {}

    def _entry(self, out: Path) -> Path:
        return self.dir / out.name

    def _hash(self, src: Path) -> str | None:
        if src not in self.hashes:
            try:
                self.hashes[src] = sha256_of(src)
            except OSError:
                self.hashes[src] = None
        return self.hashes[src]

    def finished(self, src: Path, out: Path) -> ExtractionResult | None:
        """The earlier result of ``src``, when it can stand for a new run; else None."""
        entry = self._entry(out)
        if not (entry.is_file() and out.is_file()):
            return None
        try:
            data = json.loads(entry.read_text(encoding="utf-8"))
            if data.get("key") != self.key or data.get("sha256") != self._hash(src) or data.get("file") != str(src):
                return None
            return ExtractionResult.model_validate(data["result"])
        except (OSError, ValueError, KeyError):
            return None  # a damaged entry: the file is read again

    def record(self, src: Path, out: Path | None, res: ExtractionResult) -> None:
        """Enter a finished file (after its output was written). Failed files are not entered: a
        re-run tries them again."""
        if out is None or res.status != "ok":
            return
        digest = self._hash(src)
        if digest is None:
            return
        self.dir.mkdir(parents=True, exist_ok=True)
        write_atomic(self._entry(out), _entry_chunks({"key": self.key, "sha256": digest, "file": str(src)}, res))


def _entry_chunks(head: dict, res: ExtractionResult) -> Iterator[str]:
    """A ledger entry's text, the result's forms one at a time (never the whole result as one string)."""
    yield json.dumps(head, ensure_ascii=False)[:-1] + ', "result": '
    yield res.model_dump_json(exclude={"forms"})[:-1] + ', "forms": ['
    for k, form in enumerate(res.forms):
        yield ("," if k else "") + form.model_dump_json()
    yield "]}}"
