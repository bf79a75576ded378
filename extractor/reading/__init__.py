"""The reading core: every input (text, PDF, Word, Excel, OCR) becomes one stream of cells, and
every form in it is read from that stream by one set of block readers.

``read(doc)`` returns the self-evaluation forms (and fragments) in document order, the
target-setting tables found beside them, and for each form the text it was read from (for the LLM
step). Modules: :mod:`.vocabulary` (the labels, as data), :mod:`.stream` (cells and separators),
:mod:`.forms` (where forms and blocks are), :mod:`.fields`, :mod:`.funds`, :mod:`.goals`,
:mod:`.indicators` (the block readers), :mod:`.build` (the typed form), :mod:`.confidence`.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from extractor.core.document import Document
from extractor.core.records import Form
from extractor.core.vocabulary import fold
from extractor.reading.build import Locator, build_form
from extractor.reading.confidence import assess
from extractor.reading.forms import Blocks, FormSpan, find_forms, split_blocks
from extractor.reading.stream import Token, document_tokens

__all__ = ["ReadResult", "read"]


@dataclass
class ReadResult:
    """What the core read from one document."""

    forms: list[Form] = field(default_factory=list)
    texts: list[str] = field(default_factory=list)  # each form's cells as text, for the LLM step
    target_forms: list[dict] = field(default_factory=list)
    tokens: list[Token] = field(default_factory=list)
    spans: list[tuple[int, int]] = field(default_factory=list)  # token ranges of every form found (repeats too)
    ranges: list[tuple[int, int]] = field(default_factory=list)  # each form's token range, as ``forms``

    def source_text(self, i: int, pages: list) -> str:  # type: ignore[type-arg]
        """The document's own text under form ``i``, page by page, as the converter left it (the
        reader's cells joined lose the spaces between words)."""
        if i >= len(self.ranges):
            return ""
        spans: dict[int, list[int]] = {}
        for t in self.tokens[self.ranges[i][0]:self.ranges[i][1]]:
            if t.start >= 0 and t.end >= 0:
                lo_hi = spans.setdefault(t.page, [t.start, t.end])
                lo_hi[0], lo_hi[1] = min(lo_hi[0], t.start), max(lo_hi[1], t.end)
        texts = {p.number: p.text for p in pages}
        return "\n".join(texts.get(pno, "")[a:b] for pno, (a, b) in sorted(spans.items()))

    def context_before(self, i: int, chars: int = 1200) -> str:
        """The text just before form ``i`` (its heading, the page above a fragment), up to ``chars``."""
        start = self.ranges[i][0] if i < len(self.ranges) else 0
        lo = max(0, start - 400)
        for a, b in self.spans:
            if b <= start and b > lo:
                lo = b
        return _span_text(self.tokens, lo, start)[-chars:]


def _span_text(tokens: list[Token], start: int, end: int) -> str:
    parts: list[str] = []
    for t in tokens[start:end]:
        if parts:
            parts.append("\n" if t.sep >= 4 else ("\t" if t.sep == 3 else (" " if t.sep else "")))
        parts.append(t.text)
    return "".join(parts)


def read(doc: Document) -> ReadResult:
    """Every form in ``doc``, in order."""
    tokens = document_tokens(doc)
    locate = Locator(doc.pages)
    out = ReadResult(tokens=tokens)
    last_year: int | None = None
    for span in find_forms(tokens):
        blocks = split_blocks(tokens, span)
        built = build_form(tokens, span, blocks, locate, last_year)
        form = built.form
        if span.kind == "target" or (form.indicators and not span.fragment and span.title is None
                                     and _targets_only(form)):
            if form.project_name or form.indicators:
                out.target_forms.append({"name": form.project_name, "year": form.year,
                                         "line": form.sources["project_name"].line if "project_name" in form.sources
                                         else None, "indicators": len(form.indicators)})
            continue
        measured = any(_scored_row(i) for i in form.indicators)
        titled = span.title is not None and span.kind != "target"
        if not span.fragment and not (measured or _has_funds(form) or titled and (
                form.project_name or form.department or form.implementing_unit or form.indicators)):
            continue  # a 项目名称 in running text or a report's basic-information table, not a form
        rows = [i for i in form.indicators if _scored_row(i) and i.target]
        if span.in_report and not (built.header and any(i.actual for i in rows)) and not (
                span.fragment and any(i.score is not None or i.weight is not None for i in rows)):
            continue  # a table in a narrative report (its scoring table, a project list)
        if span.fragment and not any(i.actual or i.score is not None or i.weight is not None for i in rows):
            continue  # a report's scoring table or list of targets, not a form's tail
        form.cut_off = _cut_off(tokens, span, blocks) and bool(form.indicators)
        if form.cut_off:
            form.warnings.append("原文在指标表中途结束（网页或转换件截断）：其后的指标行与总分行缺失，"
                                 "未做依赖全表的审核（分值合计、指标维度等），请对照完整原件")
        assess(form, built, blocks, span)
        if form.year is not None:
            last_year = form.year
        out.forms.append(form)
        out.texts.append(_span_text(tokens, span.start, span.end))
        out.ranges.append((span.start, span.end))
        out.spans.append((span.start, span.end))
    _drop_repeats(out)
    return out


def _cut_off(tokens: list[Token], span: FormSpan, blocks: Blocks) -> bool:
    """Whether the text stops inside the form's indicator table: no 总分 row or trailer was seen and
    nothing but empty cells follows the form (a web page or converter that cut the table short)."""
    if span.closed or blocks.total or not blocks.indicators:
        return False
    last = max(blocks.indicators)
    if any(i > last for i in blocks.trailer):  # a trailer printed above the table (单位领导审签) does not close it
        return False
    return all(not t.text.strip() for t in tokens[span.end:])


_FIELDS = ("project_name", "department", "implementing_unit", "project_lead", "phone", "year")


def _filled(form: Form) -> int:
    return (sum(1 for f in _FIELDS if getattr(form, f) is not None) + len(form.indicators)
            + sum(1 for r in ("total", "fiscal") for c in ("initial", "full_year", "executed")
                  if getattr(getattr(form.funds, r), c) is not None))


def _agree(a: object, b: object) -> bool:
    """Equal, or one a cut-off copy of the other (``市农`` of ``市农业农村局``)."""
    if a is None or b is None or a == b:
        return True
    if isinstance(a, str) and isinstance(b, str):
        return a.startswith(b) or b.startswith(a)
    return False


def _drop_repeats(out: ReadResult) -> None:
    """A page that prints a form twice (a site's summary of the table above the table itself): the
    same project, with no value that disagrees, is one form; the fuller reading stays."""
    drop: set[int] = set()
    # the summary and its table follow each other: neighbours only (linear in the forms)
    for i in range(len(out.forms) - 1):
        j = i + 1
        a, b = out.forms[i], out.forms[j]
        if i in drop or a.is_fragment or b.is_fragment or not a.project_name:
            continue
        if fold(a.project_name) != fold(b.project_name or "") or a.kind != b.kind:
            continue
        if a.indicators and b.indicators:
            continue  # two tables of one project (its years, its parts): both stay
        if not all(_agree(getattr(a, f), getattr(b, f)) for f in _FIELDS):
            continue
        drop.add(j if _filled(a) >= _filled(b) else i)
    if drop:
        keep = [k for k in range(len(out.forms)) if k not in drop]
        out.forms = [out.forms[k] for k in keep]
        out.texts = [out.texts[k] for k in keep]
        out.ranges = [out.ranges[k] for k in keep]  # spans stay: the repeat's text is the form's, not a report's


def _scored_row(ind) -> bool:
    """A row that reads as an indicator: a 分值/得分, or a short target or actual (not prose)."""
    if ind.weight is not None or ind.score is not None:
        return True
    return any(v and len(v) <= 30 and not any(p in v for p in "。；;") for v in (ind.target, ind.actual))


def _has_funds(form: Form) -> bool:
    """A funds table with at least one figure."""
    return any(isinstance(getattr(getattr(form.funds, r), c), float)
               for r in ("total", "fiscal", "carryover", "other") for c in ("initial", "full_year", "executed"))


def _targets_only(form: Form) -> bool:
    """A table with targets but no actual, no score and no budget execution: a target-setting table."""
    has_actual = any(i.actual or i.score is not None for i in form.indicators)
    executed = form.funds.total.executed is not None or form.funds.fiscal.executed is not None
    return not has_actual and not executed and form.total_score is None
