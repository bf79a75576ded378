"""The LLM extraction step: one call per form, cached, retried, grounded, reconciled.

For each form the parser read with low confidence (or every form, on request) the form's own text
and a short parser hint go to the model through the instructor client built by
:mod:`extractor.llm.client`. Answers are cached on disk (key: model, prompt version, schema hash, input),
so re-runs and resumed batches cost nothing. Transport errors (429 honouring Retry-After, 5xx,
timeouts) are retried with backoff; instructor re-asks on invalid answers; a truncated answer is
retried with a larger token budget. One form's failure is recorded on that form and never stops
the others. Calls run concurrently up to the configured bound.
"""

from __future__ import annotations

import asyncio
import hashlib
import json
import os
import tempfile
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from extractor.core.records import Form, LLMRun
from extractor.llm.client import LLMConfig, build_client, call_model, failure_text
from extractor.llm.grounding import SourceIndex, reconcile
from extractor.llm.prompts import Prompt, load_prompt
from extractor.llm.schemas import LLMForm

SCHEMA_HASH = hashlib.sha256(json.dumps(LLMForm.model_json_schema(), sort_keys=True).encode()).hexdigest()[:16]


class DiskCache:
    """Answers on disk, one JSON file per key, written atomically."""

    def __init__(self, directory: str | Path) -> None:
        self.dir = Path(directory)
        self.dir.mkdir(parents=True, exist_ok=True)

    def _path(self, key: str) -> Path:
        return self.dir / key[:2] / f"{key}.json"

    def get(self, key: str) -> dict[str, Any] | None:
        p = self._path(key)
        if not p.exists():
            return None
        try:
            return json.loads(p.read_text(encoding="utf-8"))
        except (OSError, json.JSONDecodeError):
            return None

    def put(self, key: str, value: dict[str, Any]) -> None:
        p = self._path(key)
        p.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=p.parent, suffix=".tmp")
        with os.fdopen(fd, "w", encoding="utf-8") as fh:
            json.dump(value, fh, ensure_ascii=False)
        os.replace(tmp, p)


def cache_key(cfg: LLMConfig, prompt: Prompt, messages: list[dict[str, str]]) -> str:
    # the endpoint too: another server with the same model name is another model
    body = json.dumps([cfg.base_url.rstrip("/"), cfg.model, cfg.resolved_mode, prompt.id, SCHEMA_HASH, messages],
                      ensure_ascii=False)
    return hashlib.sha256(body.encode("utf-8")).hexdigest()


@dataclass
class Usage:
    """Calls, tokens and estimated cost of a batch."""

    calls: int = 0
    cached: int = 0
    failed: int = 0
    tokens_in: int = 0
    tokens_out: int = 0
    cost: float = 0.0
    errors: list[str] = field(default_factory=list)


async def _call(client: Any, cfg: LLMConfig, messages: list[dict[str, str]]) -> tuple[LLMForm, int, int]:
    """One form call (see :func:`~extractor.llm.client.call_model`)."""
    return await call_model(client, cfg, messages, LLMForm)


async def cached_call(client: Any, cfg: LLMConfig, cache: DiskCache, prompt: Prompt, messages: list[dict[str, str]],
                      response_model: type, usage: Usage, sem: asyncio.Semaphore) -> tuple[Any, int, int, bool]:
    """The cached answer, or one model call (counted in ``usage``) whose answer is then cached.

    Returns (answer, tokens in, tokens out, from cache).
    """
    key = cache_key(cfg, prompt, messages)
    hit = cache.get(key)
    if hit is not None:
        usage.cached += 1
        return response_model.model_validate(hit["answer"]), 0, 0, True
    async with sem:
        answer, tin, tout = await call_model(client, cfg, messages, response_model)
    cost = tin / 1000 * cfg.price_in_per_1k + tout / 1000 * cfg.price_out_per_1k
    usage.calls += 1
    usage.tokens_in += tin
    usage.tokens_out += tout
    usage.cost += cost
    cache.put(key, {"answer": answer.model_dump(), "prompt": prompt.id, "model": cfg.model,
                    "tokens_in": tin, "tokens_out": tout})
    return answer, tin, tout, False


def _hint(form: Form) -> str:
    if form.warnings:
        return "规则解析提示：" + "；".join(form.warnings[:3])
    return ""


async def run_llm(items: list[tuple[Form, str]], cfg: LLMConfig, *, client: Any = None,
                  on_done: Callable[[int, int], None] | None = None) -> tuple[list[Form], Usage]:
    """Run the step for every (form, form text); returns the reconciled forms and the batch usage."""
    prompt = load_prompt("form_extract")
    client = client or build_client(cfg)
    cache = DiskCache(cfg.cache_dir)
    sem = asyncio.Semaphore(cfg.concurrency)
    usage = Usage()
    done = 0

    async def one(form: Form, text: str) -> Form:
        nonlocal done
        messages = prompt.render(form_text=text, parser_hint=_hint(form))
        run = LLMRun(prompt=prompt.id, model=cfg.model)
        try:
            answer, tin, tout, run.cached = await cached_call(client, cfg, cache, prompt, messages, LLMForm, usage, sem)
            run.tokens_in, run.tokens_out = tin, tout
            run.cost = round(tin / 1000 * cfg.price_in_per_1k + tout / 1000 * cfg.price_out_per_1k, 6)
            merged, rec = reconcile(form, answer, SourceIndex(text))
            run.filled, run.disagreements, run.unverified = rec.filled, rec.disagreements, rec.unverified
            merged.llm = run
            return merged
        except Exception as exc:  # one form's failure is recorded and never stops the others
            usage.failed += 1
            msg = f"大模型处理「{form.project_name or '表格残片'}」失败：{failure_text(cfg, exc)}"
            usage.errors.append(msg)
            run.error = msg
            kept = form.model_copy(deep=True)
            kept.llm = run
            kept.warnings.append("大模型步骤失败，保留规则解析结果")
            return kept
        finally:
            done += 1
            if on_done:
                on_done(done, len(items))

    forms = await asyncio.gather(*(one(f, t) for f, t in items))
    return list(forms), usage
