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

    def __init__(self, cfg: LLMConfig, scope: str = "uncertain", threshold: float = 0.9, client: object = None) -> None:
        self.cfg, self.scope, self.threshold, self.client = cfg, scope, threshold, client
        self.usage = Usage()

    def wants(self, form) -> bool:  # type: ignore[no-untyped-def]
        return self.scope == "all" or form.is_fragment or form.confidence < self.threshold

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
        out = []
        for doc, fs in zip(docs, forms):
            res = ExtractionResult(source=doc.path.rsplit("/", 1)[-1], kind=doc.kind, forms=fs)
            res.warnings.extend(doc.warnings)
            if not fs:
                res.warnings.append("未在文件中找到项目支出绩效自评表")
            out.append(res)
        return out
