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
from typing import IO, TYPE_CHECKING

from extractor.core.atomic import write_atomic
from extractor.core.config import ReviewConfig
from extractor.core.records import ExtractionResult
from extractor.pipeline.inputs import find_inputs
from extractor.pipeline.process import failed, process, process_many
from extractor.pipeline.resume import Ledger, pipeline_key
from extractor.store.contract import dumps, json_chunks, result_to_contract

if TYPE_CHECKING:
    from extractor.llm.step import LLMStep
    from extractor.pipeline.parallel import Engine

def expand_inputs(paths: Iterable[str]) -> list[Path]:
    """Files named directly, plus every supported file under named folders (sorted); see
    :func:`~extractor.pipeline.inputs.find_inputs` for what is skipped and why."""
    return find_inputs(paths).files


def state_of(res: ExtractionResult) -> str:
    """``ok`` (forms read), ``empty`` (read, but no self-evaluation form or target table in it) or
    ``failed``; nothing found is not a success."""
    if res.status != "ok":
        return "failed"
    return "ok" if res.forms or res.target_forms or res.reports else "empty"


STATE_TEXT = {"ok": "成功", "empty": "未找到自评表", "failed": "失败", "skipped": "跳过"}


@dataclass
class BatchReport:
    """What a batch did, every input accounted for."""

    results: list[tuple[Path, ExtractionResult, Path | None]] = field(default_factory=list)
    skipped: list[tuple[Path, str]] = field(default_factory=list)
    seconds: float = 0.0
    stopped: str | None = None  # why the batch ended early (fail-fast)
    resumed: int = 0  # files a previous run had finished, taken from its outputs

    @property
    def n_forms(self) -> int:
        return sum(1 for _, r, _ in self.results for f in r.forms if not f.is_fragment)

    @property
    def n_fragments(self) -> int:
        return sum(1 for _, r, _ in self.results for f in r.forms if f.is_fragment)

    @property
    def failures(self) -> list[tuple[Path, ExtractionResult]]:
        return [(p, r) for p, r, _ in self.results if r.status != "ok"]

    @property
    def empty(self) -> list[Path]:
        return [p for p, r, _ in self.results if state_of(r) == "empty"]

    @property
    def complete(self) -> bool:
        """Every input was read: none failed, none was skipped, the batch ran to its end."""
        return not self.failures and not self.skipped and self.stopped is None

    def summary(self) -> dict:
        items = [_item(p, state_of(r), r.error, o, r) for p, r, o in self.results]
        items += [_item(p, "skipped", why) for p, why in self.skipped]
        return {
            "files": len(self.results) + len(self.skipped), "read": len(self.results) - len(self.failures),
            "forms": self.n_forms, "fragments": self.n_fragments, "failed": len(self.failures),
            "empty": len(self.empty), "skipped": len(self.skipped), "complete": self.complete,
            "stopped": self.stopped, "resumed": self.resumed, "seconds": round(self.seconds, 3), "items": items,
        }


def _item(path: Path, state: str, error: str | None, out: Path | None = None,
          res: ExtractionResult | None = None) -> dict:
    """One input's line in ``_batch.json``."""
    forms = res.forms if res is not None else []
    return {"file": str(path), "status": state, "state": STATE_TEXT[state], "error": error,
            "output": str(out) if out else None, "forms": sum(1 for f in forms if not f.is_fragment),
            "fragments": sum(1 for f in forms if f.is_fragment),
            "target_forms": len(res.target_forms) if res is not None else 0, "kind": res.kind if res is not None else None,
            "warnings": res.warnings if res is not None else []}


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


def _guarded(write: Callable[[int, ExtractionResult], ExtractionResult], n: int, res: ExtractionResult) -> None:
    """An early write (the parser's reading, a file the LLM step finished) that fails is left to the
    final write, which records the failure on the file."""
    try:
        write(n, res)
    except Exception:  # noqa: S110 - the final pass writes this file again and reports its error
        pass


def run_batch(files: list[Path], out_dir: Path | None, *, provenance: bool = True, fail_fast: bool = False,
              on_done: Callable[[Path, ExtractionResult], None] | None = None,
              postprocess: Callable[[dict], dict] | None = None,
              transform: Callable[[ExtractionResult], ExtractionResult] | None = None,
              llm: "LLMStep | None" = None, on_llm: Callable[[int, int], None] | None = None,
              config: ReviewConfig | None = None, skipped: list[tuple[Path, str]] | None = None,
              workers: int = 1, resume: bool = False, jsonl: IO[str] | None = None,
              cluster: "Engine | None" = None, slim: bool = False) -> BatchReport:
    """Every file through :func:`~extractor.pipeline.process.process` (reviewed when ``config`` is
    given; ``transform`` runs after), writing one contract JSON per input into ``out_dir``.

    ``workers`` > 1 runs files in parallel processes (:mod:`extractor.pipeline.parallel`), outputs the
    same as a serial run; ``cluster`` runs them on that engine instead (a Ray cluster,
    :mod:`extractor.pipeline.on_ray`), outputs the same again. ``resume`` skips files a previous run into ``out_dir`` finished with the same
    content and the same pipeline (:mod:`extractor.pipeline.resume`). ``jsonl`` also receives one line
    per file as it finishes (``index``, ``file``, ``status``, ``result``). ``slim`` drops a written
    file's provenance from the results kept for the end of the batch (the outputs have it), so a
    batch of 10,000 files holds summaries, not every value's source."""
    rep = BatchReport(skipped=list(skipped or []))
    t0 = time.perf_counter()
    taken: set[str] = set()
    if out_dir is not None:
        out_dir.mkdir(parents=True, exist_ok=True)
    outs = [_out_path(out_dir, f, taken) if out_dir is not None else None for f in files]
    ledger = Ledger(out_dir, pipeline_key(config, provenance)) if (resume and out_dir is not None
                                                                   and llm is None and transform is None) else None

    def write(n: int, res: ExtractionResult) -> ExtractionResult:
        if outs[n] is not None:
            if postprocess is not None:
                write_atomic(outs[n], dumps(postprocess(result_to_contract(res, provenance=provenance))))
            else:  # written form by form: a 10,000-form file is never held as one dict or one string
                write_atomic(outs[n], json_chunks(result_to_contract(res, provenance=provenance, lazy=True)))
        return res

    def stream(n: int, res: ExtractionResult) -> None:
        if jsonl is not None:
            for piece in json_chunks({"index": n, "file": str(files[n]), "status": state_of(res),
                                      "result": result_to_contract(res, provenance=provenance, lazy=True)}, indent=None):
                jsonl.write(piece)
            jsonl.write("\n")
            jsonl.flush()

    def finish_one(n: int, res: ExtractionResult) -> ExtractionResult:
        """A finished file: transformed, written (atomic), streamed, entered in the resume ledger."""
        f, out = files[n], outs[n]
        try:
            if transform is not None and res.status == "ok":
                res = transform(res)
            write(n, res)
        except Exception as exc:  # a later stage failed on this file: recorded on it, the batch goes on
            res = failed(f, exc)
            if out is not None:
                write_atomic(out, dumps(result_to_contract(res, provenance=provenance)))
        stream(n, res)
        if ledger is not None:
            ledger.record(f, out, res)
        if slim and out is not None:
            _drop_provenance(res)
        return res

    if ledger is not None:  # finished before, same content, same pipeline: taken as they are
        reused = {n: r for n, f in enumerate(files) if outs[n] is not None and (r := ledger.finished(f, outs[n]))}
        rep.resumed = len(reused)
        if slim:
            for r in reused.values():
                _drop_provenance(r)
    else:
        reused = {}
    if cluster is not None and (llm is not None or fail_fast):
        raise ValueError("a cluster runs neither the LLM step nor --fail-fast")
    if cluster is not None or (llm is None and workers > 1 and not fail_fast and len(files) - len(reused) > 1):
        from extractor.pipeline.parallel import map_files

        results_by: dict[int, ExtractionResult] = dict(reused)
        todo = [n for n in range(len(files)) if n not in reused]
        for n in sorted(reused):
            stream(n, reused[n])
            if on_done:
                on_done(files[n], reused[n])

        def got(j: int, res: ExtractionResult) -> None:
            n = todo[j]
            results_by[n] = finish_one(n, res)
            if on_done:
                on_done(files[n], results_by[n])

        map_files([files[n] for n in todo], config, cluster or workers, got)
        rep.results = [(f, results_by[n], outs[n]) for n, f in enumerate(files)]
        return _close(rep, config, write, out_dir, t0)

    results = None
    if llm is not None:
        # the parser's reading of every file is on disk before the first model call, and each file is
        # rewritten as its calls end: an interrupted or timed-out LLM pass loses nothing
        first: list[tuple[int, tuple[Path, ExtractionResult, Path | None]]] = []

        def parsed(n: int, res: ExtractionResult) -> None:
            _guarded(write, n, res)
            first.append((n, (files[n], res, outs[n])))
            if out_dir is not None and len(first) == len(files):  # every parser reading is on disk
                early = BatchReport(results=[r for _, r in sorted(first, key=lambda x: x[0])], skipped=rep.skipped,
                                    stopped="大模型步骤进行中：各文件暂为规则解析结果")
                write_atomic(out_dir / "_batch.json", json.dumps(early.summary(), ensure_ascii=False, indent=1))

        results = process_many(files, config, llm, on_llm, on_parsed=parsed,
                               on_file=lambda n, res: _guarded(write, n, res))
    for n, f in enumerate(files):
        if n in reused:
            res = reused[n]
            stream(n, res)
        else:
            res = finish_one(n, results[n] if results is not None else process(f, config))
        rep.results.append((f, res, outs[n]))
        if on_done:
            on_done(f, res)
        if fail_fast and res.status != "ok":
            left = len(files) - n - 1
            rep.stopped = f"遇到失败的文件后按 --fail-fast 停止，其后 {left} 个文件未处理" if left else None
            break
    return _close(rep, config, write, out_dir, t0)


def _drop_provenance(res: ExtractionResult) -> None:
    """Forget where each value was read (most of a form's memory) once the file's output holds it.
    A file with reports keeps it: the batch-wide report check may write that file again."""
    if res.reports:
        return
    for form in res.forms:
        form.sources.clear()
        for row in (form.funds.total, form.funds.fiscal, form.funds.carryover, form.funds.other):
            row.sources.clear()
        for ind in form.indicators:
            ind.sources.clear()


def _close(rep: BatchReport, config: ReviewConfig | None, write: Callable[[int, ExtractionResult], ExtractionResult],
           out_dir: Path | None, t0: float) -> BatchReport:
    """The batch-wide step (reports against every form of the batch), then ``_batch.json`` in input order."""
    if config is not None:
        _check_reports_against_batch(rep, write)
    rep.seconds = time.perf_counter() - t0
    if out_dir is not None:
        write_atomic(out_dir / "_batch.json", json.dumps(rep.summary(), ensure_ascii=False, indent=1))
    return rep


def _check_reports_against_batch(rep: BatchReport, write: Callable[[int, ExtractionResult], ExtractionResult]) -> None:
    """A report's figures against the forms of the same project anywhere in the batch (not only in its
    own file); the files whose report findings change are written again."""
    from extractor.review.report_rules import review_report

    forms = [form for _, res, _ in rep.results if res.status == "ok" for form in res.forms]
    for n, (f, res, _out) in enumerate(rep.results):
        if res.status != "ok" or not res.reports:
            continue
        before = [[fl.code for fl in r.flags] for r in res.reports]
        try:
            for report in res.reports:
                review_report(report, forms, own=res.forms)
            if [[fl.code for fl in r.flags] for r in res.reports] != before:
                write(n, res)
        except Exception as exc:  # the file's own review stands; the batch goes on
            res.warnings.append(f"报告与同批自评表的比对出错（{type(exc).__name__}: {exc}），请人工核对")
