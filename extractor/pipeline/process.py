"""The one pipeline: a file through ingest → reading (→ the LLM step) → review.

Every caller goes through here: the CLI and the batch runner, the app's importer and the eval
harness. :func:`process` is a plain module-level function of picklable arguments, so a worker
process (or a cluster task) can run it as it is.
"""

from __future__ import annotations

from functools import partial
from pathlib import Path
from typing import TYPE_CHECKING, Any

from extractor.core.config import ReviewConfig
from extractor.core.document import Document
from extractor.core.errors import ExtractorError
from extractor.core.records import ExtractionResult
from extractor.ingest import ingest
from extractor.reading.extract import extract_document
from extractor.store.contract import form_from_contract, form_to_contract

if TYPE_CHECKING:
    from extractor.llm.step import LLMStep


def failed(path: Path, exc: BaseException) -> ExtractionResult:
    """The record of a file that could not be read: a clear Chinese message, never an exception."""
    if isinstance(exc, ExtractorError):
        return ExtractionResult(source=path.name, status="failed", error=str(exc))
    return ExtractionResult(source=path.name, status="failed",
                            error=f"处理文件「{path.name}」时出现内部错误（{type(exc).__name__}: {exc}）。"
                                  "请将该文件反馈给维护人员；批处理已继续处理其他文件")


def finish(res: ExtractionResult, config: ReviewConfig | None) -> ExtractionResult:
    """The review stage, when a review configuration is given."""
    if config is not None and res.status == "ok":
        from extractor.review.engine import review_result  # not imported by extraction alone

        return review_result(res, config)
    return res


def process(path: str | Path, config: ReviewConfig | None = None, llm: "LLMStep | None" = None) -> ExtractionResult:
    """One file: ingested, read (by the LLM step too, when one is given), reviewed when ``config`` is
    given. Any failure becomes a failed result with its reason, never an exception."""
    path = Path(path)
    try:
        doc = ingest(str(path))
        res = llm.extract(doc) if llm is not None else extract_document(doc)
        return finish(res, config)
    except Exception as exc:  # an unexpected bug on one file must not stop a batch
        return failed(path, exc)


def process_many(paths: list[Path], config: ReviewConfig | None, llm: "LLMStep",
                 on_llm: Any = None, on_parsed: Any = None, on_file: Any = None) -> list[ExtractionResult]:
    """Several files with the LLM step: every file read first (each handed to ``on_parsed(k, result)``
    as the parser read it, reviewed), then one concurrent LLM pass across all of them (so concurrency
    spans files), each file handed to ``on_file(k, result)`` as soon as its calls have ended. A failure
    of the LLM pass as a whole falls back to the parser for every file."""
    results: list[ExtractionResult | None] = []
    docs: list[Document] = []
    where: list[int] = []
    for k, f in enumerate(paths):
        try:
            docs.append(ingest(str(f)))
            where.append(k)
            results.append(None)
        except Exception as exc:
            results.append(failed(f, exc))
            if on_parsed:
                on_parsed(k, results[-1])

    def parsed(j: int, res: ExtractionResult) -> None:
        if on_parsed:
            on_parsed(where[j], finish(res, config))

    def done(j: int, res: ExtractionResult) -> None:
        results[where[j]] = finish(res, config)
        if on_file:
            on_file(where[j], results[where[j]])

    try:
        for k, res in zip(where, llm.extract_many(docs, on_done=on_llm, on_parsed=parsed, on_file=done)):
            if results[k] is None:
                results[k] = finish(res, config)
    except Exception as exc:
        from extractor.llm.client import failure_text

        llm.usage.errors.append(f"大模型步骤整体失败，已全部使用规则解析结果：{failure_text(llm.cfg, exc)}")
        for k in where:
            results[k] = process(paths[k], config)
    return [r for r in results if r is not None]


def process_file(path: str | Path, llm: "LLMStep | None" = None) -> ExtractionResult:
    """Extraction only (no review): :func:`process` without a review configuration."""
    return process(path, None, llm)


def rereview(form: dict[str, Any], config: ReviewConfig) -> dict[str, Any]:
    """The review of a corrected form in contract JSON: its ``flags``, ``rescore`` and ``risk``."""
    from extractor.review.engine import review_form

    f = form_from_contract(form)
    review_form(f, config)
    out = form_to_contract(f)
    return {k: out.get(k) for k in ("flags", "rescore", "risk")}


def reviewer(config: ReviewConfig):  # type: ignore[no-untyped-def]
    """The re-review function a :class:`~extractor.store.database.Store` is given (picklable)."""
    return partial(rereview, config=config)
