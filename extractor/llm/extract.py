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
from extractor.llm.client import HTTPCounter, LLMConfig, build_client, call_model, close_client, failure_text
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
    """Calls, tokens and estimated cost of a batch. ``calls`` counts answers the model gave (not from
    the cache); ``http`` counts every HTTP request sent, by outcome (re-asks and retries included)."""

    calls: int = 0
    cached: int = 0
    failed: int = 0
    timed_out: int = 0
    values_used: int = 0  # values the model filled or corrected (grounded)
    values_disputed: int = 0  # values both found, differing: the parser's kept
    values_refused: int = 0  # values not found where the field is printed: never used
    tokens_in: int = 0
    tokens_out: int = 0
    cost: float = 0.0
    errors: list[str] = field(default_factory=list)
    http: HTTPCounter = field(default_factory=HTTPCounter)

    def tally(self, rec: Any) -> None:
        """Count one reconciliation's used, disputed and refused values."""
        self.values_used += len(rec.filled)
        self.values_disputed += len(rec.disagreements)
        self.values_refused += len(rec.unverified)


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


def doubtful(form: Form, threshold: float = 0.9) -> bool:
    """Whether the reading core itself doubts its reading of the form (then a grounded value of the
    model wins over a differing text value of the parser)."""
    return form.is_fragment or form.confidence < threshold


@dataclass
class Job:
    """One call: a form (its text with the context around it) or a document where no form was found."""

    form: Form | None
    text: str
    context: str = ""
    doubtful: bool = True
    slot: int | None = None  # the form's place in its document
    source: str = ""  # the document's own text under the form (grounding only)


class Deadline:
    """The batch's overall deadline and each form's own: how long the next call may wait."""

    def __init__(self, cfg: LLMConfig) -> None:
        self.cfg = cfg
        self.end = asyncio.get_running_loop().time() + cfg.batch_deadline if cfg.batch_deadline > 0 else None

    def budget(self) -> float:
        per = self.cfg.form_deadline if self.cfg.form_deadline > 0 else 1e9
        if self.end is None:
            return per
        return max(0.0, min(per, self.end - asyncio.get_running_loop().time()))


def _failed_form(form: Form, run: LLMRun, msg: str) -> Form:
    kept = form.model_copy(deep=True)
    run.error = msg
    kept.llm = run
    kept.warnings.append("大模型步骤未完成，保留规则解析结果")
    return kept


async def run_jobs(jobs: list[Job], cfg: LLMConfig, *, client: Any = None, usage: Usage | None = None,
                   on_done: Callable[[int, int], None] | None = None,
                   on_job: Callable[[int, Any], None] | None = None,
                   sem: asyncio.Semaphore | None = None) -> tuple[list[Any], Usage]:
    """Run every job; a form job gives its reconciled form, a document job the list of forms the model
    found (grounded). ``on_job(i, result)`` is called as each job ends. Every job ends by its deadline:
    a job that runs out of time keeps the parser's reading."""
    from extractor.llm.document import read_document_job

    prompt = load_prompt("form_extract")
    usage = usage or Usage()
    own = client is None
    client = client or build_client(cfg, usage.http)
    cache = DiskCache(cfg.cache_dir)
    sem = sem or asyncio.Semaphore(cfg.concurrency)  # one bound for every call of the batch
    deadline = Deadline(cfg)
    done = 0

    async def form_job(job: Job) -> Form:
        form = job.form
        assert form is not None
        text = "\n".join(t for t in (job.context, job.text, job.source) if t)
        messages = prompt.render(form_text=_with_context(job), parser_hint=_hint(form))
        run = LLMRun(prompt=prompt.id, model=cfg.model)
        answer, tin, tout, run.cached = await cached_call(client, cfg, cache, prompt, messages, LLMForm, usage, sem)
        run.tokens_in, run.tokens_out = tin, tout
        run.cost = round(tin / 1000 * cfg.price_in_per_1k + tout / 1000 * cfg.price_out_per_1k, 6)
        merged, rec = reconcile(form, answer, SourceIndex(text), doubtful=job.doubtful)
        rec.record(run)
        usage.tally(rec)
        merged.llm = run
        return merged

    async def one(k: int, job: Job) -> Any:
        nonlocal done
        name = (job.form.project_name if job.form is not None else None) or ("表格残片" if job.form else "全文")
        run = LLMRun(prompt=prompt.id, model=cfg.model)
        try:
            budget = deadline.budget()
            if budget <= 0:
                raise TimeoutError
            work = form_job(job) if job.form is not None else read_document_job(job, cfg, client, cache, usage, sem)
            result = await asyncio.wait_for(work, budget)
        except (TimeoutError, asyncio.TimeoutError):
            usage.timed_out += 1
            msg = f"大模型处理「{name}」超时（单份时限 {cfg.form_deadline:g} 秒、批次时限 {cfg.batch_deadline:g} 秒），保留规则解析结果"
            usage.errors.append(msg)
            result = _failed_form(job.form, run, msg) if job.form is not None else []
        except Exception as exc:  # one form's failure is recorded and never stops the others
            usage.failed += 1
            msg = f"大模型处理「{name}」失败：{failure_text(cfg, exc)}"
            usage.errors.append(msg)
            result = _failed_form(job.form, run, msg) if job.form is not None else []
        done += 1
        if on_done:
            on_done(done, len(jobs))
        if on_job:
            on_job(k, result)
        return result

    try:
        results = await asyncio.gather(*(one(k, j) for k, j in enumerate(jobs)))
    finally:
        if own:
            await close_client(client)
    return list(results), usage


def _with_context(job: Job) -> str:
    if not job.context:
        return job.text
    return f"（以下为表前的标题等上下文，仅供识别，不属于本表）\n{job.context}\n（上下文结束，以下为本表）\n{job.text}"


async def run_llm(items: list[tuple[Form, str]], cfg: LLMConfig, *, client: Any = None,
                  on_done: Callable[[int, int], None] | None = None) -> tuple[list[Form], Usage]:
    """The step for every (form, form text); returns the reconciled forms and the batch usage."""
    jobs = [Job(f, t, doubtful=doubtful(f)) for f, t in items]
    return await run_jobs(jobs, cfg, client=client, on_done=on_done)
