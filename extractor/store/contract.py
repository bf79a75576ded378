"""Write the contract JSON (../shared/CONTRACT.md): exact keys, nulls, numbers; provenance added."""

from __future__ import annotations

import hashlib
import json
import unicodedata
from collections.abc import Iterator
from typing import Any

import pydantic_core

from extractor.core.figures import as_json_number
from extractor.core.lazy_regex import lazy_compile
from extractor.core.records import REPORT_SCALARS, ExtractionResult, Flag, Form, FundRow, Report, readings_to_check

FUND_KEYS = ("initial", "full_year", "executed")
IND_KEYS = ("level1", "level2", "name", "target", "actual", "weight", "score", "deviation")


def _fund(row: FundRow, total: bool) -> dict[str, Any]:
    keys = FUND_KEYS + (("weight", "rate", "score") if total else ())
    return {k: as_json_number(getattr(row, k)) for k in keys}


def _refs(sources: dict) -> dict[str, Any]:
    return {k: v.model_dump(exclude_none=True) for k, v in sources.items()}


def _flag(f: Flag, provenance: bool) -> dict[str, Any]:
    d: dict[str, Any] = {"code": f.code, "severity": f.severity, "indicator": f.indicator,
                         "message": f.message, "evidence": f.evidence}
    if f.suggestion:
        d["suggestion"] = f.suggestion
    if f.basis:
        d["basis"] = f.basis
    if f.second_opinion:
        d["second_opinion"] = f.second_opinion
    if provenance and f.where is not None:
        d["where"] = f.where.model_dump(exclude_none=True)
    return d


def form_to_contract(form: Form, provenance: bool = True) -> dict[str, Any]:
    """One form in the contract shape."""
    out: dict[str, Any] = {
        "kind": form.kind,
        "year": form.year,
        "project_name": form.project_name,
        "department": form.department,
        "implementing_unit": form.implementing_unit,
        "project_lead": form.project_lead,
        "phone": form.phone,
        "funds": {
            "total": _fund(form.funds.total, True),
            "fiscal": _fund(form.funds.fiscal, False),
            "carryover": _fund(form.funds.carryover, False),
            "other": _fund(form.funds.other, False),
        },
        "goal_expected": form.goal_expected,
        "goal_actual": form.goal_actual,
        "indicators": [],
        "total_weight": as_json_number(form.total_weight),
        "total_score": as_json_number(form.total_score),
        "flags": [_flag(f, provenance) for f in form.flags],
    }
    for ind in form.indicators:
        d = {k: as_json_number(getattr(ind, k)) for k in IND_KEYS}
        if ind.nature is not None:
            d["nature"] = ind.nature
        if ind.unit is not None:
            d["unit"] = ind.unit
        for extra in ("target_adjusted", "review_score", "score_rate"):
            if getattr(ind, extra) is not None:
                d[extra] = as_json_number(getattr(ind, extra))
        if provenance:
            d["provenance"] = _refs(ind.sources)
        out["indicators"].append(d)
    if form.central_department is not None:
        out["central_department"] = form.central_department
    if form.funds_extra:
        out["funds_extra"] = [{k: as_json_number(v) for k, v in row.items()} for row in form.funds_extra]
    out["is_fragment"] = form.is_fragment
    if form.cut_off:
        out["cut_off"] = True
    if form.deviation_column is not None:
        out["deviation_column"] = form.deviation_column
    if form.problems_stated is not None:
        out["problems_stated"] = form.problems_stated
    out["funds_unit"] = form.funds.unit
    out["confidence"] = round(form.confidence, 3)
    out["warnings"] = list(form.warnings)
    out["template_rows"] = len(form.template_rows)
    if form.rescore is not None:
        out["rescore"] = form.rescore.model_dump()
    if form.risk is not None:
        out["risk"] = form.risk
    if form.llm is not None:
        out["llm"] = form.llm.model_dump()
    if provenance:
        out["pages"] = list(form.pages) if form.pages else None
        out["provenance"] = _refs(form.sources)
        out["funds_provenance"] = {k: _refs(getattr(form.funds, k).sources)
                                   for k in ("total", "fiscal", "carryover", "other")}
    return out


def report_to_contract(rep: Report, provenance: bool = True) -> dict[str, Any]:
    """One narrative report in the contract shape (CONTRACT.md, "Narrative reports")."""
    out: dict[str, Any] = {k: as_json_number(getattr(rep, k)) for k in REPORT_SCALARS}
    out["projects"] = [{"name": p.name, "amount": as_json_number(p.amount), "score": as_json_number(p.score)}
                       for p in rep.projects]
    out["problems"] = list(rep.problems)
    out["suggestions"] = list(rep.suggestions)
    out["flags"] = [_flag(f, provenance) for f in rep.flags]
    if rep.converted_from_yuan:
        out["converted_from_yuan"] = list(rep.converted_from_yuan)
    out["title"] = rep.title
    if rep.claims_complete:
        out["claims_complete"] = rep.claims_complete
    if rep.warnings:
        out["warnings"] = list(rep.warnings)
    if rep.llm is not None:
        out["llm"] = rep.llm
    if provenance:
        out["lines"] = list(rep.lines) if rep.lines else None
        out["provenance"] = _refs(rep.sources)
        out["projects_provenance"] = [p.where.model_dump(exclude_none=True) if p.where else None for p in rep.projects]
    return out


def report_from_contract(d: dict[str, Any]) -> Report:
    """A Report rebuilt from its contract JSON."""
    from extractor.core.records import ReportProject, SourceRef

    wheres = d.get("projects_provenance") or []
    rep = Report(**{k: d.get(k) for k in REPORT_SCALARS if d.get(k) is not None},
                 title=d.get("title"), problems=list(d.get("problems") or []),
                 suggestions=list(d.get("suggestions") or []),
                 converted_from_yuan=list(d.get("converted_from_yuan") or []),
                 claims_complete=d.get("claims_complete"), warnings=list(d.get("warnings") or []), llm=d.get("llm"),
                 lines=tuple(d["lines"]) if d.get("lines") else None,
                 sources={k: SourceRef(**v) for k, v in (d.get("provenance") or {}).items()},
                 flags=[Flag(**{k: v for k, v in f.items() if k in Flag.model_fields}) for f in d.get("flags") or []])
    rep.projects = [ReportProject(name=p["name"], amount=p.get("amount"), score=p.get("score"),
                                  where=SourceRef(**wheres[i]) if i < len(wheres) and wheres[i] else None)
                    for i, p in enumerate(d.get("projects") or []) if p.get("name")]
    return rep


class _Lazy(list):  # type: ignore[type-arg]
    """A list the JSON encoder walks without it being built: each item is made as it is written, so a
    10,000-form file never exists twice in memory (as records and as dicts)."""

    def __init__(self, items: list, make: Any) -> None:
        super().__init__()
        self._items, self._make = items, make

    def __iter__(self):  # type: ignore[no-untyped-def]
        return (self._make(x) for x in self._items)

    def __len__(self) -> int:
        return len(self._items)


def result_to_contract(res: ExtractionResult, provenance: bool = True, lazy: bool = False) -> dict[str, Any]:
    """A whole file in the contract shape (``lazy``: its forms made only as :func:`json_chunks` writes them)."""
    forms = (_Lazy(res.forms, lambda f: form_to_contract(f, provenance)) if lazy
             else [form_to_contract(f, provenance) for f in res.forms])
    out: dict[str, Any] = {"source": res.source, "forms": forms}
    if res.reports:
        out["reports"] = [report_to_contract(r, provenance) for r in res.reports]
    if res.target_forms:
        out["target_forms"] = res.target_forms  # 绩效目标表 / 申报表: targets only, not self-evaluations
    out["status"] = res.status
    if res.error:
        out["error"] = res.error
    if res.warnings:
        out["warnings"] = res.warnings
    return out


def provenance(form: dict[str, Any], field: str) -> dict[str, Any] | None:
    """Where a field's value came from (page, line, span, box)."""
    parts = field.split(".")
    if parts[0] == "indicators" and len(parts) == 3:
        inds = form.get("indicators") or []
        i = int(parts[1])
        return ((inds[i].get("provenance") or {}).get(parts[2])) if i < len(inds) else None
    if parts[0] == "funds" and len(parts) == 3:
        return ((form.get("funds_provenance") or {}).get(parts[1]) or {}).get(parts[2])
    return (form.get("provenance") or {}).get(field)


def low_confidence(form: dict[str, Any]) -> dict[str, float]:
    """Every value read by OCR that the reviewer must check: path -> confidence. Dashes and cells the
    contract does not export are not values."""
    return {path: round(conf, 2) for path, value, conf in readings_to_check(form_from_contract(form))
            if value is not None}


def _encode(obj: Any, indent: int | None, level: int = 0) -> str:
    """One JSON value as text, Chinese kept readable; nested ``level`` deep in an indented document.
    Indented text comes from pydantic-core's serializer (the standard library's indenting encoder is
    pure Python, most of the time of writing a file); one-line text from the standard library."""
    if indent is None:
        return json.dumps(obj, ensure_ascii=False)
    text = pydantic_core.to_json(obj, indent=indent).decode("utf-8")
    return text.replace("\n", "\n" + " " * (indent * level)) if level else text  # no raw line breaks in strings


def dumps(obj: Any) -> str:
    """JSON text, Chinese kept readable, one space per level of indent."""
    return _encode(obj, 1)


def _holds_lazy(obj: Any) -> bool:
    return isinstance(obj, _Lazy) or isinstance(obj, dict) and any(_holds_lazy(v) for v in obj.values())


def _pieces(obj: Any, indent: int | None, level: int) -> Iterator[str]:
    if not _holds_lazy(obj):
        yield _encode(obj, indent, level)
        return
    items = iter(obj) if isinstance(obj, _Lazy) else iter(obj.items())
    opening, closing = ("[", "]") if isinstance(obj, _Lazy) else ("{", "}")
    inner = "" if indent is None else "\n" + " " * (indent * (level + 1))
    comma = ", " if indent is None else ","
    first = True
    for item in items:
        yield (opening if first else comma) + inner
        if isinstance(obj, _Lazy):
            yield from _pieces(item, indent, level + 1)
        else:
            yield json.dumps(item[0], ensure_ascii=False) + ": "
            yield from _pieces(item[1], indent, level + 1)
        first = False
    if first:  # nothing in it
        yield opening + closing
    else:
        yield ("" if indent is None else "\n" + " " * (indent * level)) + closing


def json_chunks(obj: Any, indent: int | None = 1) -> Iterator[str]:
    """The text :func:`dumps` makes (``indent=None``: one line, as ``json.dumps``), in pieces, so the
    lazy lists in ``obj`` (the forms of a file) are made and written one item at a time."""
    return _pieces(obj, indent, 0)


def form_from_contract(d: dict[str, Any]) -> Form:
    """A Form rebuilt from its contract JSON (values only; provenance when present)."""
    from extractor.core.records import Funds, Indicator, SourceRef

    def refs(x: dict | None) -> dict[str, SourceRef]:
        return {k: SourceRef(**v) for k, v in (x or {}).items()}

    funds = Funds(unit=d.get("funds_unit"))
    for key in ("total", "fiscal", "carryover", "other"):
        row = (d.get("funds") or {}).get(key) or {}
        getattr(funds, key).__dict__.update({k: row.get(k) for k in ("initial", "full_year", "executed", "weight",
                                                                      "rate", "score") if k in row})
        getattr(funds, key).sources = refs((d.get("funds_provenance") or {}).get(key))
    inds = [Indicator(**{k: i.get(k) for k in IND_KEYS + ("nature", "unit")}, sources=refs(i.get("provenance")))
            for i in d.get("indicators") or []]
    kind = d.get("kind") if d.get("kind") in ("project", "department", "transfer") else "project"
    return Form(kind=kind, year=d.get("year"), project_name=d.get("project_name"), department=d.get("department"),
                implementing_unit=d.get("implementing_unit"), project_lead=d.get("project_lead"),
                phone=None if d.get("phone") is None else str(d.get("phone")), funds=funds,
                goal_expected=d.get("goal_expected"), goal_actual=d.get("goal_actual"), indicators=inds,
                total_weight=d.get("total_weight"), total_score=d.get("total_score"),
                is_fragment=bool(d.get("is_fragment", d.get("project_name") is None)),
                cut_off=bool(d.get("cut_off", False)), deviation_column=d.get("deviation_column"),
                problems_stated=d.get("problems_stated"),
                confidence=d.get("confidence", 1.0) if d.get("confidence") is not None else 1.0,
                template_rows=[SourceRef() for _ in range(int(d.get("template_rows") or 0))],  # the count is exported
                pages=tuple(d["pages"]) if d.get("pages") else None,
                sources=refs(d.get("provenance")))  # the reading confidence weighs the risk


def evidence_sha(flag: dict[str, Any]) -> str:
    """A short hash of the text a flag quotes (to notice that a correction changed it)."""
    return hashlib.sha1((flag.get("evidence") or "").encode("utf-8")).hexdigest()[:10]


def flag_keys(flags: list[dict[str, Any]]) -> list[str]:
    """Each flag's identity across re-imports and corrections: rule code, indicator, and which of
    that pair's flags it is (``vague-target|3|0``); never the evidence text, which a correction changes."""
    seen: dict[tuple[str, str], int] = {}
    out = []
    for fl in flags:
        pair = (str(fl.get("code")), str(fl.get("indicator")))
        n = seen.get(pair, 0)
        seen[pair] = n + 1
        out.append(f"{pair[0]}|{pair[1]}|{n}")
    return out


def get_path(d: dict[str, Any], path: str) -> Any:
    """``funds.total.executed`` / ``indicators.3.target`` from a contract form."""
    cur: Any = d
    for part in path.split("."):
        if isinstance(cur, list):
            i = int(part)
            cur = cur[i] if 0 <= i < len(cur) else None
        elif isinstance(cur, dict):
            cur = cur.get(part)
        else:
            return None
    return cur


def set_path(d: dict[str, Any], path: str, value: Any) -> None:
    parts = path.split(".")
    cur: Any = d
    for part in parts[:-1]:
        cur = cur[int(part)] if isinstance(cur, list) else cur.setdefault(part, {})
    last = parts[-1]
    if isinstance(cur, list):
        cur[int(last)] = value
    else:
        cur[last] = value


NUMERIC_FIELDS = {"year", "total_weight", "total_score", "weight", "score"}
_NUMBER = lazy_compile(r"[+-]?(\d+(\.\d*)?|\.\d+)")


def is_numeric_field(field: str) -> bool:
    """Whether a contract path holds a number (years, weights, scores, fund amounts)."""
    return field.rsplit(".", 1)[-1] in NUMERIC_FIELDS or field.startswith("funds.")


def parse_edit(field: str, text: Any) -> tuple[Any, str | None]:
    """A value a reviewer typed, as the contract's type: ``(value, None)``, or ``(None, message)`` in
    Chinese when a number field holds something else (``95分``). Empty means "no value"; full-width
    digits and thousands separators are accepted."""
    if text is None or isinstance(text, bool):
        return None, None
    if isinstance(text, (int, float)):
        return text, None
    t = str(text).strip()
    if t == "":
        return None, None
    if not is_numeric_field(field):
        return t, None
    plain = unicodedata.normalize("NFKC", t).replace(",", "").replace(" ", "")
    if not _NUMBER.fullmatch(plain):
        hint = _NUMBER.search(plain)
        tip = f"（如 {hint.group(0)}）" if hint else ""
        return None, f"“{t}”不是数字：此处只填数字{tip}，不带单位或文字"
    v = float(plain)
    return (int(v) if v.is_integer() else v), None
