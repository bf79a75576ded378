"""Run extraction over many files: each file isolated, failures recorded, outputs written.

One bad file never stops a batch: its error (a Chinese message naming the file and the remedy)
is recorded in the batch summary and the run goes on. ``fail_fast`` stops at the first failure.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from extractor.core.config import ReviewConfig
from extractor.core.records import ExtractionResult
from extractor.ingest import SUPPORTED
from extractor.pipeline.process import process, process_many
from extractor.store.contract import dumps, result_to_contract

if TYPE_CHECKING:
    from extractor.llm.step import LLMStep

SKIP_NAMES = {"_batch.json"}


def expand_inputs(paths: Iterable[str]) -> list[Path]:
    """Files named directly, plus every supported file under named folders (sorted)."""
    out: list[Path] = []
    for p in map(Path, paths):
        if p.is_dir():
            out.extend(sorted(f for f in p.rglob("*") if f.is_file() and f.suffix.lower() in SUPPORTED
                              and f.name not in SKIP_NAMES and not f.name.endswith(".gold.json")))
        else:
            out.append(p)
    return out


@dataclass
class BatchReport:
    """What a batch did."""

    results: list[tuple[Path, ExtractionResult, Path | None]] = field(default_factory=list)
    seconds: float = 0.0

    @property
    def n_forms(self) -> int:
        return sum(1 for _, r, _ in self.results for f in r.forms if not f.is_fragment)

    @property
    def n_fragments(self) -> int:
        return sum(1 for _, r, _ in self.results for f in r.forms if f.is_fragment)

    @property
    def failures(self) -> list[tuple[Path, ExtractionResult]]:
        return [(p, r) for p, r, _ in self.results if r.status != "ok"]

    def summary(self) -> dict:
        return {
            "files": len(self.results), "forms": self.n_forms, "fragments": self.n_fragments,
            "failed": len(self.failures), "seconds": round(self.seconds, 3),
            "items": [{"file": str(p), "status": r.status, "error": r.error, "output": str(o) if o else None,
                       "forms": sum(1 for f in r.forms if not f.is_fragment),
                       "fragments": sum(1 for f in r.forms if f.is_fragment),
                       "warnings": r.warnings} for p, r, o in self.results],
        }


def _out_path(out_dir: Path, src: Path, taken: set[str]) -> Path:
    """``<stem>.json``; a second input with the same stem keeps its type: ``<stem>.pdf.json``."""
    name = f"{src.stem}.json"
    if name in taken:
        name = f"{src.stem}.{src.suffix.lstrip('.').lower() or 'out'}.json"
    k = 2
    base = name
    while name in taken:
        name = base.replace(".json", f"-{k}.json")
        k += 1
    taken.add(name)
    return out_dir / name


def run_batch(files: list[Path], out_dir: Path | None, *, provenance: bool = True, fail_fast: bool = False,
              on_done: Callable[[Path, ExtractionResult], None] | None = None,
              postprocess: Callable[[dict], dict] | None = None,
              transform: Callable[[ExtractionResult], ExtractionResult] | None = None,
              llm: "LLMStep | None" = None, on_llm: Callable[[int, int], None] | None = None,
              config: ReviewConfig | None = None) -> BatchReport:
    """Every file through :func:`~extractor.pipeline.process.process` (reviewed when ``config`` is
    given; ``transform`` runs after), writing one contract JSON per input into ``out_dir``."""
    rep = BatchReport()
    t0 = time.perf_counter()
    taken: set[str] = set()
    if out_dir is not None:
        out_dir.mkdir(parents=True, exist_ok=True)
    results = process_many(files, config, llm, on_llm) if llm is not None else None
    for n, f in enumerate(files):
        res = results[n] if results is not None else process(f, config)
        if transform is not None and res.status == "ok":
            res = transform(res)
        out = None
        if out_dir is not None:
            out = _out_path(out_dir, f, taken)
            data = result_to_contract(res, provenance=provenance)
            if postprocess is not None:
                data = postprocess(data)
            out.write_text(dumps(data), encoding="utf-8")
        rep.results.append((f, res, out))
        if on_done:
            on_done(f, res)
        if fail_fast and res.status != "ok":
            break
    rep.seconds = time.perf_counter() - t0
    if out_dir is not None:
        (out_dir / "_batch.json").write_text(json.dumps(rep.summary(), ensure_ascii=False, indent=1), encoding="utf-8")
    return rep
