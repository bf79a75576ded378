"""The deterministic extraction stage: document rows -> segments -> forms."""

from __future__ import annotations

from extractor.document import Document
from extractor.parse_form import Locator, parse_segment
from extractor.schemas import ExtractionResult, Form
from extractor.segment import Segment, segment_rows


def form_segments(doc: Document) -> list[tuple[Form, Segment]]:
    """Every real form (and fragment) with the segment it was read from."""
    locate = Locator(doc.pages)
    out: list[tuple[Form, Segment]] = []
    for seg in segment_rows(doc.rows()):
        form = parse_segment(seg, locate)
        if not form.is_fragment and not (form.indicators or form.funds.total.sources or form.department):
            continue  # a 项目名称 mentioned in running text, not a form
        if form.is_fragment and not form.indicators:
            continue
        out.append((form, seg))
    return out


def extract_forms_with_text(doc: Document) -> list[tuple[Form, str]]:
    """Every form (and fragment) in the document, in order, with its rows as text (for the LLM)."""
    return [(form, "\n".join("\t".join(c.text for c in r.cells).rstrip("\t") for r in seg.heading + seg.rows))
            for form, seg in form_segments(doc)]


def extract_forms(doc: Document) -> list[Form]:
    """Every form (and fragment) in the document, in order."""
    return [f for f, _ in extract_forms_with_text(doc)]


def extract_document(doc: Document) -> ExtractionResult:
    """Wrap the forms of one document in a result record."""
    res = ExtractionResult(source=doc.path.rsplit("/", 1)[-1], kind=doc.kind, forms=extract_forms(doc))
    res.warnings.extend(doc.warnings)
    if not res.forms:
        res.warnings.append("未在文件中找到项目支出绩效自评表")
    return res
