"""Glue between a document and the LLM step: which forms go to the model, and the batch's usage.

``scope="uncertain"`` (default) sends the forms the parser read with low confidence and table
fragments; ``scope="all"`` sends every form. The step never replaces the parser: see
:mod:`extractor.llm.grounding`.
"""

from __future__ import annotations

import asyncio

from extractor.core.document import Document
from extractor.core.records import ExtractionResult
from extractor.llm.client import LLMConfig, failure_text
from extractor.llm.extract import Usage, run_llm
from extractor.llm.report import extract_report, has_report
from extractor.reading import ReadResult
from extractor.reading.extract import read_document, result_of, text_outside_forms


class LLMStep:
    """Extraction with the LLM step, accumulating usage over a batch."""

    def __init__(self, cfg: LLMConfig, scope: str = "uncertain", threshold: float = 0.9, client: object = None,
                 reports: bool = True) -> None:
        self.cfg, self.scope, self.threshold, self.client = cfg, scope, threshold, client
        self.reports = reports
        self.usage = Usage()

    def wants(self, form) -> bool:  # type: ignore[no-untyped-def]
        return self.scope == "all" or form.is_fragment or form.confidence < self.threshold

    def _reports(self, reads: list[ReadResult]) -> dict[int, dict]:
        """Narrative 绩效评价报告 text (outside the forms) read by the model, per document."""
        texts = {k: t for k, r in enumerate(reads) if has_report(t := text_outside_forms(r))}
        if not texts:
            return {}

        async def run_all() -> dict[int, dict]:
            async def one(k: int, t: str) -> tuple[int, dict]:
                try:
                    return k, await extract_report(t, self.cfg, client=self.client, usage=self.usage)
                except Exception as exc:  # one report's failure never loses the forms
                    self.usage.failed += 1
                    msg = f"大模型读取报告正文失败：{failure_text(self.cfg, exc)}"
                    self.usage.errors.append(msg)
                    return k, {"error": msg}
            return dict(await asyncio.gather(*(one(k, t) for k, t in texts.items())))

        return asyncio.run(run_all())

    def extract(self, doc: Document) -> ExtractionResult:
        """One document through parser and model."""
        return self.extract_many([doc])[0]

    def extract_many(self, docs: list[Document],
                     on_done=None) -> list[ExtractionResult]:  # type: ignore[no-untyped-def]
        """Several documents: parsed one by one, then one concurrent LLM pass over all chosen forms."""
        reads = [read_document(d) for d in docs]
        parsed = [list(zip(r.forms, r.texts)) for r in reads]
        todo = [(k, i, f, t) for k, items in enumerate(parsed) for i, (f, t) in enumerate(items) if self.wants(f)]
        forms = [[f for f, _ in items] for items in parsed]
        if todo:
            done, usage = asyncio.run(run_llm([(f, t) for _, _, f, t in todo], self.cfg, client=self.client,
                                              on_done=on_done))
            for (k, i, _, _), f in zip(todo, done):
                forms[k][i] = f
            for a in ("calls", "cached", "failed", "tokens_in", "tokens_out"):
                setattr(self.usage, a, getattr(self.usage, a) + getattr(usage, a))
            self.usage.cost += usage.cost
            self.usage.errors += usage.errors
        reports = self._reports(reads) if self.reports else {}
        out = []
        for k, (doc, r, fs) in enumerate(zip(docs, reads, forms)):
            res = result_of(doc, r, fs)
            if reports.get(k):
                res.reports.append(reports[k])
            out.append(res)
        return out
