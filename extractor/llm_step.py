"""Glue between a document and the LLM step: which forms go to the model, and the batch's usage.

``scope="uncertain"`` (default) sends the forms the parser read with low confidence and table
fragments; ``scope="all"`` sends every form. The step never replaces the parser: see
:mod:`extractor.grounding`.
"""

from __future__ import annotations

import asyncio

from extractor.document import Document
from extractor.extract import extract_forms_with_text
from extractor.llm import LLMConfig
from extractor.llm_extract import Usage, run_llm
from extractor.schemas import ExtractionResult


class LLMStep:
    """Extraction with the LLM step, accumulating usage over a batch."""

    def __init__(self, cfg: LLMConfig, scope: str = "uncertain", threshold: float = 0.9, client: object = None,
                 reports: bool = True) -> None:
        self.cfg, self.scope, self.threshold, self.client = cfg, scope, threshold, client
        self.reports = reports
        self.usage = Usage()

    def wants(self, form) -> bool:  # type: ignore[no-untyped-def]
        return self.scope == "all" or form.is_fragment or form.confidence < self.threshold

    def _reports(self, docs: list[Document]) -> dict[int, dict]:
        """Narrative 绩效评价报告 text (outside the forms) read by the model, per document."""
        from extractor.extract import report_text
        from extractor.llm_report import extract_report, has_report

        texts = {k: t for k, d in enumerate(docs) if has_report(t := report_text(d))}
        if not texts:
            return {}

        async def run_all() -> dict[int, dict]:
            async def one(k: int, t: str) -> tuple[int, dict]:
                try:
                    return k, await extract_report(t, self.cfg, client=self.client, usage=self.usage)
                except Exception as exc:  # one report's failure never loses the forms
                    self.usage.failed += 1
                    msg = f"大模型读取报告正文失败：{type(exc).__name__}: {str(exc)[:200]}"
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
        parsed = [extract_forms_with_text(d) for d in docs]
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
        reports = self._reports(docs) if self.reports else {}
        out = []
        for k, (doc, fs) in enumerate(zip(docs, forms)):
            res = ExtractionResult(source=doc.path.rsplit("/", 1)[-1], kind=doc.kind, forms=fs)
            if reports.get(k):
                res.reports.append(reports[k])
            res.warnings.extend(doc.warnings)
            if not fs:
                res.warnings.append("未在文件中找到项目支出绩效自评表")
            out.append(res)
        return out
