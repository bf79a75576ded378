"""Glue between documents and the LLM step: what goes to the model, and the batch's usage.

Scope comes from the reading core (``scope="uncertain"``, the default): forms it read below the
confidence threshold, table fragments, and documents whose text looks like a self-evaluation form
where it found none (sent whole, or in windows when long). ``scope="all"`` sends every form. Each
form is sent with the text before it (its heading). The parser's reading of every file is handed
out first (``on_parsed``), so an interrupted or timed-out LLM pass loses nothing; each file is
handed out again as soon as all of its calls have ended (``on_file``).
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable

from extractor.core.document import Document
from extractor.core.records import ExtractionResult, Form
from extractor.llm.client import LLMConfig, build_client, close_client, failure_text
from extractor.llm.document import form_like, windows
from extractor.llm.extract import Job, Usage, doubtful, run_jobs
from extractor.llm.report import extract_report, fill_report, has_report
from extractor.reading import ReadResult
from extractor.reading.extract import read_document, result_of, text_outside_forms

FileCallback = Callable[[int, ExtractionResult], None]


class LLMStep:
    """Extraction with the LLM step, accumulating usage over a batch."""

    def __init__(self, cfg: LLMConfig, scope: str = "uncertain", threshold: float = 0.9, client: object = None,
                 reports: bool = True, only: set[int] | None = None) -> None:
        self.cfg, self.scope, self.threshold, self.client = cfg, scope, threshold, client
        self.reports = reports
        self.only = only  # form positions to send (one form rechecked from the review app); None: scope decides
        self.usage = Usage()

    def wants(self, form: Form) -> bool:
        return self.scope == "all" or doubtful(form, self.threshold)

    def jobs_for(self, read: ReadResult, doc: Document | None = None) -> list[Job]:
        """The calls one read document needs."""
        jobs = [Job(f, t, context=read.context_before(i), doubtful=doubtful(f, self.threshold), slot=i,
                    source=read.source_text(i, doc.pages) if doc is not None else "")
                for i, (f, t) in enumerate(zip(read.forms, read.texts))
                if (i in self.only if self.only is not None else self.wants(f))]
        if not read.forms and self.only is None:
            outside = text_outside_forms(read)
            if form_like(outside):
                jobs += [Job(None, w) for w in windows(outside)]
        return jobs

    def extract(self, doc: Document) -> ExtractionResult:
        """One document through parser and model."""
        return self.extract_many([doc])[0]

    def extract_many(self, docs: list[Document], on_done: Callable[[int, int], None] | None = None,
                     on_parsed: FileCallback | None = None, on_file: FileCallback | None = None
                     ) -> list[ExtractionResult]:
        """Several documents: every one read by the parser (and handed to ``on_parsed``), then one
        concurrent LLM pass over all their calls, each file finished (``on_file``) as its calls end."""
        reads = [read_document(d) for d in docs]
        results = [result_of(d, r) for d, r in zip(docs, reads)]
        if on_parsed:
            for k, res in enumerate(results):
                on_parsed(k, res)
        owner: list[tuple[int, int | None]] = []  # per job: (document, form index or None for a document job)
        jobs: list[Job] = []
        for k, r in enumerate(reads):
            for job in self.jobs_for(r, docs[k]):
                owner.append((k, job.slot))
                jobs.append(job)
        report_text = {k: t for k, r in enumerate(reads) if self.reports and has_report(t := text_outside_forms(r))}
        pending = [sum(1 for o, _ in owner if o == k) + (k in report_text) for k in range(len(docs))]
        forms = [list(r.forms) for r in reads]
        found: dict[int, list[list[Form]]] = {}
        reports: dict[int, dict] = {}

        def finish(k: int) -> None:
            pending[k] -= 1
            if pending[k] == 0:
                results[k] = self._result(docs[k], reads[k], forms[k], found.get(k, []), reports.get(k))
                if on_file:
                    on_file(k, results[k])

        def on_job(j: int, result: object) -> None:
            k, i = owner[j]
            if i is None:
                found.setdefault(k, []).append(result)  # type: ignore[arg-type]
            else:
                forms[k][i] = result  # type: ignore[assignment]
            finish(k)

        async def report(k: int, text: str, client: object, sem: asyncio.Semaphore) -> None:
            try:
                reports[k] = await asyncio.wait_for(
                    extract_report(text, self.cfg, client=client, usage=self.usage, sem=sem),
                    self.cfg.form_deadline if self.cfg.form_deadline > 0 else None)
            except Exception as exc:  # one report's failure never loses the forms
                self.usage.failed += 1
                msg = f"大模型读取报告正文失败：{failure_text(self.cfg, exc) if str(exc) else '超时'}"
                self.usage.errors.append(msg)
                reports[k] = {"error": msg}
            finish(k)

        async def run_all() -> None:
            client = self.client or build_client(self.cfg, self.usage.http)
            sem = asyncio.Semaphore(self.cfg.concurrency)  # forms and reports share the bound
            tasks = [run_jobs(jobs, self.cfg, client=client, usage=self.usage, on_done=on_done, on_job=on_job,
                              sem=sem)]
            tasks += [report(k, t, client, sem) for k, t in report_text.items()]
            batch = self.cfg.batch_deadline if self.cfg.batch_deadline > 0 else None
            try:
                await asyncio.wait_for(asyncio.gather(*tasks), batch + 5 if batch else None)
            except (TimeoutError, asyncio.TimeoutError):
                self.usage.errors.append(f"大模型步骤超过批次时限 {batch:g} 秒，未完成的部分保留规则解析结果")
            finally:
                if self.client is None:
                    await close_client(client)

        if jobs or report_text:
            asyncio.run(run_all())
        for k in range(len(docs)):  # files whose calls never ended (batch deadline) keep the parser's reading
            if pending[k] > 0:
                pending[k] = 1
                finish(k)
        return results

    def _result(self, doc: Document, read: ReadResult, forms: list[Form], found: list[list[Form]],
                report: dict | None) -> ExtractionResult:
        extra = [f for group in found for f in group]
        res = result_of(doc, read, forms or extra)
        if extra and not forms:
            res.warnings = [w for w in res.warnings if "未在文件中找到" not in w]
            res.warnings.append(f"规则解析未识别出自评表，大模型读出 {len(extra)} 张（已在原文中核实），请人工核对")
        if report and report.get("error"):
            res.warnings.append(report["error"])
        elif report:
            filled = fill_report(res.reports[0] if res.reports else None, report)
            if filled is not None and not res.reports:
                res.reports.append(filled)  # an answer with nothing in it is no report
        return res
