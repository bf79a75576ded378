"""The deterministic extraction stage: a document read by the reading core into forms.

:mod:`extractor.reading` does the reading; this module adds what belongs to the pipeline rather
than to reading (OCR decimal repairs and low-confidence notes, the result record).
"""

from __future__ import annotations

from extractor.core.document import Document
from extractor.core.field_names import FUND_ROWS, chinese_name
from extractor.core.records import ExtractionResult, Form, readings_to_check
from extractor.reading import ReadResult, read
from extractor.reading.ocr_repair import repair_decimal_points
from extractor.reading.reports import read_reports

NO_FORMS = "未在文件中找到项目支出绩效自评表"


def read_document(doc: Document) -> ReadResult:
    """Every form, fragment and target-setting table in the document, with OCR notes."""
    res = read(doc)
    for form in res.forms:
        _ocr_notes(form)
    return res


def _ocr_notes(form: Form) -> None:
    notes = repair_decimal_points(form)
    form.warnings.extend(notes)
    low = []
    for path, value, _conf in readings_to_check(form):
        parts = path.split(".")
        if parts[0] == "funds":
            if value is not None:
                low.append(f"资金表{FUND_ROWS[parts[1]]}/{chinese_name(parts[2])}")
        elif parts[0] == "indicators":
            low.append(f"第{int(parts[1]) + 1}个指标的{chinese_name(parts[2])}")
        else:
            low.append(chinese_name(path))
    if low:
        form.warnings.append(f"OCR识别置信度较低的值{len(low)}处，请对照原件核对：{'、'.join(low[:6])}"
                             f"{'等' if len(low) > 6 else ''}")
        form.confidence = max(0.1, round(form.confidence - 0.05 * min(len(low), 6), 3))


def extract_forms_with_text(doc: Document) -> list[tuple[Form, str]]:
    """Every form (and fragment) in the document, in order, with the text it was read from."""
    res = read_document(doc)
    return list(zip(res.forms, res.texts))


def extract_forms(doc: Document) -> list[Form]:
    """Every form (and fragment) in the document, in order."""
    return read_document(doc).forms


def extract_document(doc: Document) -> ExtractionResult:
    """Wrap the forms of one document in a result record."""
    return result_of(doc, read_document(doc))


def result_of(doc: Document, res: ReadResult, forms: list[Form] | None = None) -> ExtractionResult:
    """The result record of one read document (``forms`` replaces the read forms: the LLM step's)."""
    forms = res.forms if forms is None else forms
    out = ExtractionResult(source=doc.path.rsplit("/", 1)[-1], kind=doc.kind, forms=forms,
                           target_forms=res.target_forms, reports=read_reports(doc, form_spans(res)))
    out.warnings.extend(doc.warnings)
    if not forms:
        out.warnings.append(f"文件中是绩效评价报告（{len(out.reports)}份），没有自评表" if out.reports else
                            NO_FORMS if not res.target_forms else "文件中只有绩效目标申报表（目标表），没有自评表")
    return out


def form_spans(res: ReadResult) -> dict[int, list[tuple[int, int]]]:
    """Per page, the character spans of the text the forms (and target tables) were read from."""
    out: dict[int, list[tuple[int, int]]] = {}
    for a, b in res.spans:
        for t in res.tokens[a:b]:
            if t.start >= 0 and t.end >= 0:
                spans = out.setdefault(t.page, [])
                if spans and t.start - spans[-1][1] <= 2:
                    spans[-1] = (spans[-1][0], max(spans[-1][1], t.end))
                else:
                    spans.append((t.start, t.end))
    return out


def text_outside_forms(res: ReadResult) -> str:
    """The text of a read document outside every form, one line per source line."""
    covered: set[int] = set()
    for a, b in res.spans:
        covered.update(range(a, b))
    lines: list[str] = []
    cur: list[str] = []
    for i, t in enumerate(res.tokens):
        if i in covered or not t.text:
            continue
        if cur and t.sep >= 4:
            lines.append("\t".join(cur))
            cur = []
        cur.append(t.text)
    if cur:
        lines.append("\t".join(cur))
    return "\n".join(lines)
