"""Narrative 绩效评价报告 through the LLM step: text outside the forms, cut into chunks at section
headings (一、 二、 …), one call per chunk, every value grounded in that chunk, chunks merged.

Only runs when a document holds such text (report markers and enough length). What the model
returns that cannot be found in its chunk is dropped and listed as unverified.
"""

from __future__ import annotations

import asyncio
from typing import Any

from extractor.core.lazy_regex import lazy_compile
from extractor.core.records import Report, ReportProject
from extractor.llm.client import LLMConfig, build_client
from extractor.llm.extract import DiskCache, Usage, cached_call
from extractor.llm.grounding import SourceIndex
from extractor.llm.prompts import load_prompt
from extractor.llm.schemas import ReportChunk

_HEADING = lazy_compile(r"^\s*(?:[一二三四五六七八九十]+、|（[一二三四五六七八九十]+）|第[一二三四五六七八九十]+[章部分])")
_MARKERS = lazy_compile(r"评价报告|绩效评价|存在的问题|问题|建议|评价结论|评分")


def chunks(text: str, limit: int = 6000) -> list[str]:
    """Sections (split at headings), packed into chunks of at most ``limit`` characters."""
    sections: list[list[str]] = [[]]
    for line in text.splitlines():
        if _HEADING.match(line) and sections[-1]:
            sections.append([])
        sections[-1].append(line)
    out: list[str] = []
    cur = ""
    for sec in ("\n".join(s) for s in sections if s):
        while len(sec) > limit:  # one oversized section: split at line boundaries
            cut = sec.rfind("\n", 0, limit)
            cut = cut if cut > 0 else limit
            if cur:
                out.append(cur)
                cur = ""
            out.append(sec[:cut])
            sec = sec[cut:].lstrip("\n")
        if cur and len(cur) + len(sec) + 1 > limit:
            out.append(cur)
            cur = ""
        cur = f"{cur}\n{sec}" if cur else sec
    if cur:
        out.append(cur)
    return out


def _ground(chunk: ReportChunk, index: SourceIndex, unverified: list[dict[str, Any]]) -> dict[str, Any]:
    def ok(field: str, v: Any) -> Any:
        if v is None or index.found(v) or (field == "year" and index.has_text(str(v))):
            return v
        unverified.append({"field": field, "value": v})
        return None

    out: dict[str, Any] = {k: ok(k, getattr(chunk, k)) for k in ("unit", "year", "budget_total", "executed_total",
                                                                 "execution_rate", "total_score", "grade")}
    out["projects"] = [p for p in ({k: ok(f"projects.{k}", v) for k, v in p.model_dump().items()}
                                   for p in chunk.projects) if p["name"]]
    out["scoring_rows"] = [r for r in ({k: ok(f"scoring_rows.{k}", v) for k, v in r.model_dump().items()}
                                       for r in chunk.scoring_rows) if r["level3"] or r["level4"] or r["comment"]]
    out["problems"] = [p for p in (ok("problems", x) for x in chunk.problems) if p and p.strip() not in ("无", "无。")]
    out["suggestions"] = [p for p in (ok("suggestions", x) for x in chunk.suggestions) if p and p.strip() not in ("无", "无。")]
    return out


def _merge(parts: list[dict[str, Any]]) -> dict[str, Any]:
    merged: dict[str, Any] = {"projects": [], "scoring_rows": [], "problems": [], "suggestions": []}
    for p in parts:
        for k, v in p.items():
            if isinstance(v, list):
                merged[k] += [x for x in v if x not in merged[k]]
            elif merged.get(k) is None:
                merged[k] = v
    return merged


async def extract_report(text: str, cfg: LLMConfig, client: Any = None, usage: Usage | None = None,
                         sem: asyncio.Semaphore | None = None) -> dict[str, Any]:
    """One narrative report: chunk, call, ground, merge."""
    prompt = load_prompt("report_extract")
    client = client or build_client(cfg)
    cache = DiskCache(cfg.cache_dir)
    usage = usage or Usage()
    sem = sem or asyncio.Semaphore(cfg.concurrency)  # shared with the batch's other calls when given
    unverified: list[dict[str, Any]] = []

    async def one(chunk_text: str) -> dict[str, Any]:
        messages = prompt.render(chunk_text=chunk_text)
        answer, *_ = await cached_call(client, cfg, cache, prompt, messages, ReportChunk, usage, sem)
        return _ground(answer, SourceIndex(chunk_text), unverified)

    parts = await asyncio.gather(*(one(c) for c in chunks(text)))
    report = _merge(list(parts))
    report["llm"] = {"prompt": prompt.id, "model": cfg.model, "chunks": len(parts), "unverified": unverified}
    return report


def has_report(text: str) -> bool:
    """Enough narrative text with report markers to be worth a call."""
    return len(text) >= 400 and len(_MARKERS.findall(text)) >= 3


_FILLABLE = ("unit", "year", "budget_total", "executed_total", "execution_rate", "total_score", "grade")


def fill_report(rep: Report | None, answer: dict[str, Any]) -> Report | None:
    """The offline reader's report with what it left empty filled from the model's grounded answer
    (a new report when the reader found none and the answer holds one); each filled value listed."""
    filled: list[dict[str, Any]] = []
    out = rep if rep is not None else Report()
    for key in _FILLABLE:
        v = answer.get(key)
        if v is not None and getattr(out, key) is None:
            setattr(out, key, int(v) if key == "year" else v)
            filled.append({"field": key, "value": v})
    for key in ("problems", "suggestions"):
        if answer.get(key) and not getattr(out, key):
            setattr(out, key, list(answer[key]))
            filled.append({"field": key, "value": len(answer[key])})
    if answer.get("projects") and not out.projects:
        out.projects = [ReportProject(name=p["name"], amount=p.get("amount"), score=p.get("score"))
                        for p in answer["projects"] if p.get("name")]
        filled.append({"field": "projects", "value": len(out.projects)})
    llm = dict(answer.get("llm") or {})
    llm["filled"] = filled
    out.llm = llm
    if rep is None and not filled:
        return None
    return out
