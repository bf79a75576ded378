"""A second opinion from the model on indicators whose vagueness call is borderline.

One call per form with all its borderline indicators (:func:`extractor.core.quantity.borderline`).
The opinion is recorded beside the rule's flag (``second_opinion``) for the reviewer; it never
changes the rule's verdict, and opinions on indices that were not asked about are dropped.
"""

from __future__ import annotations

import asyncio
from typing import Any

from extractor.core.quantity import borderline
from extractor.core.records import Form
from extractor.llm.client import LLMConfig, build_client, close_client
from extractor.llm.extract import DiskCache, Usage, cached_call
from extractor.llm.prompts import load_prompt
from extractor.llm.schemas import SecondOpinion


def candidates(form: Form) -> list[tuple[int, str]]:
    """(indicator index, why it is borderline)."""
    out = []
    for i, ind in enumerate(form.indicators):
        why = borderline(ind.name, ind.target, ind.weight)
        if why:
            out.append((i, why))
    return out


async def second_opinions(forms: list[Form], cfg: LLMConfig, client: Any = None, usage: Usage | None = None) -> None:
    """Attach opinions to the vague-target / unmeasured-actual flags of each form (in place)."""
    prompt = load_prompt("second_opinion")
    usage = usage or Usage()
    own = client is None
    client = client or build_client(cfg, usage.http)
    cache = DiskCache(cfg.cache_dir)
    sem = asyncio.Semaphore(cfg.concurrency)

    async def one(form: Form) -> None:
        todo = candidates(form)
        if not todo:
            return
        items = "\n".join(f"{i}. 三级指标：{form.indicators[i].name}；年度指标值：{form.indicators[i].target}；"
                          f"实际完成值：{form.indicators[i].actual}（{why}）" for i, why in todo)
        messages = prompt.render(project=form.project_name or "（无名称）", items=items)
        try:
            answer, *_ = await cached_call(client, cfg, cache, prompt, messages, SecondOpinion, usage, sem)
        except Exception as exc:  # the rules' flags stand without an opinion
            usage.failed += 1
            usage.errors.append(f"「{form.project_name}」复核意见失败：{type(exc).__name__}")
            return
        asked = {i for i, _ in todo}
        for op in answer.items:
            if op.index not in asked:
                continue
            for fl in form.flags:
                if fl.indicator == op.index and fl.code in ("vague-target", "unmeasured-actual"):
                    fl.second_opinion = {
                        "agrees": (not op.target_quantified) if fl.code == "vague-target" else (not op.actual_measured),
                        "reason": op.reason, "model": cfg.model, "prompt": prompt.id}

    try:
        await asyncio.gather(*(one(f) for f in forms))
    finally:
        if own:
            await close_client(client)
