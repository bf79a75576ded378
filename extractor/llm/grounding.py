"""Accept an LLM answer only where its values can be found in the source, then reconcile it with
the parser's result field by field.

Text is found after NFKC and white-space removal (a PDF line break inside a cell is no difference);
numbers are found by value among the numbers printed in the form (``25万`` → 25, ``1,863,180``,
``113.8699 68``). A value that cannot be found is *unverified*: it is recorded with the form and
shown to the reviewer, never exported as fact. Where parser and model disagree on a found value,
the parser's value stays and the disagreement is recorded; the model only fills what the parser
left empty. Text in the document that tries to instruct the model changes nothing here: whatever
the model says must still be found in the source.
"""

from __future__ import annotations

import re
from typing import Any

from extractor.core.figures import clean
from extractor.core.records import Form, Indicator, SourceRef
from extractor.llm.schemas import LLMForm

_NUM = re.compile(r"\d+(?:,\d{3})*(?:\.\d+)?")
_CELL = re.compile(r"[\t\n|]")
_TOKEN = re.compile(r"[\s；;，,。]+")
_LABELLED = re.compile(r"^(.{1,12}?)[：:](.+)$")
SHORT_FIELDS = {"project_name", "department", "implementing_unit", "project_lead", "phone"}


class SourceIndex:
    """The form's text, normalised for lookups, and every number printed in it."""

    def __init__(self, text: str, page: int = 1) -> None:
        self.text = text
        self.page = page
        self.norm = clean(text)
        nums: set[float] = set()
        cells: set[str] = set()
        for cell in _CELL.split(text):
            # a cell's numbers as printed (``113.8699 68`` is one number broken by a line) and word by
            # word (``4 4 4``: three cells that a converter left on one line)
            parts = [clean(cell)] + [clean(t) for t in _TOKEN.split(cell)]
            for part in parts:
                for m in _NUM.finditer(part):
                    try:
                        nums.add(round(float(m.group().replace(",", "")), 6))
                    except ValueError:
                        pass
            for part in parts:
                if part:
                    cells.add(part)
                    lab = _LABELLED.match(part)
                    if lab:
                        cells.add(lab.group(2))
        self.numbers = nums
        self.cells = cells

    def has_text(self, value: str) -> bool:
        v = clean(value)
        return bool(v) and v in self.norm

    def fills_a_cell(self, value: str) -> bool:
        """Whether a short value (a name, a unit, a phone) is a whole cell or word of the source, or
        what follows a short label (``联系电话：…``): where such a value is printed, not a phrase
        inside a sentence (the sentence may be an instruction planted for the model)."""
        v = clean(value)
        return bool(v) and v in self.cells

    def has_number(self, value: float) -> bool:
        return round(float(value), 6) in self.numbers

    def found(self, value: Any) -> bool:
        if value is None:
            return True
        if isinstance(value, bool):
            return False
        if isinstance(value, (int, float)):
            return self.has_number(value)
        return self.has_text(str(value))

    def locate(self, value: str) -> SourceRef | None:
        """The first place a found text value occurs (for provenance of values the model filled)."""
        v = str(value).strip()
        i = self.text.find(v)
        if i < 0:
            return None
        return SourceRef(page=self.page, line=self.text.count("\n", 0, i) + 1, start=i, end=i + len(v))


SCALARS = ("year", "project_name", "department", "implementing_unit", "project_lead", "phone",
           "goal_expected", "goal_actual", "total_weight", "total_score")
IND_FIELDS = ("level1", "level2", "name", "target", "actual", "weight", "score", "deviation")


def _same(a: Any, b: Any) -> bool:
    if isinstance(a, (int, float)) and isinstance(b, (int, float)):
        return abs(float(a) - float(b)) < 1e-6
    return clean(str(a)) == clean(str(b)) if a is not None and b is not None else a is b


class Reconciliation:
    """What the model changed, and what it said that could not be verified."""

    def __init__(self) -> None:
        self.filled: list[dict[str, Any]] = []
        self.disagreements: list[dict[str, Any]] = []
        self.unverified: list[dict[str, Any]] = []

    def merge(self, field: str, parser: Any, llm: Any, index: SourceIndex, year_field: bool = False) -> Any:
        """The value to keep for one field."""
        if llm is None or (isinstance(llm, str) and not llm.strip()):
            return parser
        ok = index.found(llm) or (year_field and index.has_text(str(llm)))
        if not ok:
            self.unverified.append({"field": field, "value": llm})
            return parser
        if parser is None and field in SHORT_FIELDS and not index.fills_a_cell(str(llm)):
            self.unverified.append({"field": field, "value": llm, "note": "原文中只出现在一段文字之中，不在该项的单元格里"})
            return parser
        if parser is None:
            self.filled.append({"field": field, "value": llm})
            return llm
        if not _same(parser, llm):
            self.disagreements.append({"field": field, "parser": parser, "llm": llm})
        return parser


def reconcile(parsed: Form | None, answer: LLMForm, index: SourceIndex) -> tuple[Form, Reconciliation]:
    """The parser's form, completed (never overwritten) by the grounded parts of the model's answer."""
    form = parsed.model_copy(deep=True) if parsed is not None else Form()
    rec = Reconciliation()
    for key in SCALARS:
        value = rec.merge(key, getattr(form, key), getattr(answer, key), index, year_field=key == "year")
        if value is not getattr(form, key):
            if key == "year" and isinstance(value, str):
                value = int(value)
            setattr(form, key, value)
            ref = index.locate(str(value)) if not isinstance(value, (int, float)) else None
            if ref is not None:
                form.sources[key] = ref
    for row in ("total", "fiscal", "carryover", "other"):
        mine, theirs = getattr(form.funds, row), getattr(answer.funds, row)
        for col in type(theirs).model_fields:
            merged = rec.merge(f"funds.{row}.{col}", getattr(mine, col), getattr(theirs, col), index)
            setattr(mine, col, merged)
    if not form.indicators:
        for i, ind in enumerate(answer.indicators):
            new = Indicator()
            for f in IND_FIELDS:
                v = rec.merge(f"indicators.{i}.{f}", None, getattr(ind, f), index)
                setattr(new, f, v)
                if isinstance(v, str):
                    ref = index.locate(v)
                    if ref is not None:
                        new.sources[f] = ref
            if new.name or new.target or new.actual:
                form.indicators.append(new)
    else:
        from extractor.core.alignment import align_rows

        mine = [{"name": i.name} for i in form.indicators]
        theirs = [{"name": i.name} for i in answer.indicators]
        pairs = align_rows(mine, theirs)  # parser row -> model row, each used once, order kept
        matched = set(pairs.values())
        for i, j in pairs.items():
            ind = answer.indicators[j]
            for f in IND_FIELDS:
                setattr(form.indicators[i], f, rec.merge(f"indicators.{i}.{f}", getattr(form.indicators[i], f),
                                                         getattr(ind, f), index))
        for j, ind in enumerate(answer.indicators):
            if j in matched or not ind.name:
                continue
            if index.has_text(ind.name):
                rec.disagreements.append({"field": "indicators", "parser": None, "llm": ind.name,
                                          "note": "大模型多识别出一行指标，规则解析结果中没有"})
            else:
                rec.unverified.append({"field": "indicators.name", "value": ind.name})
    if rec.unverified:
        form.confidence = max(0.2, form.confidence - 0.1 * min(5, len(rec.unverified)))
        form.warnings.append(f"大模型给出的{len(rec.unverified)}处值在原文中找不到，未采用，待人工核对")
    if rec.disagreements:
        form.warnings.append(f"大模型与规则解析有{len(rec.disagreements)}处不一致，已保留规则解析结果，待人工核对")
    return form, rec
