"""Benchmark: the LLM step on 200 uncertain forms against the local fake server (2 s per call,
concurrency 8).

Runs the real openai + instructor path through ``LLMStep`` (forms only, narrative reports off; the
confidence threshold above 1 puts every form in scope, as if the reading core doubted each) twice
with a fresh cache: the first run should make one call per form, the second none (all from the
cache). Prints wall time, calls per form in scope, HTTP requests and cache hits for each run.

usage: python benchmarks/bench_llm.py [--forms 200] [--delay 2] [--concurrency 8]
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "tests"))


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--forms", type=int, default=200)
    ap.add_argument("--delay", type=float, default=2.0)
    ap.add_argument("--concurrency", type=int, default=8)
    args = ap.parse_args()
    from fake_openai import FakeOpenAI, answers_for

    from extractor.ingest import ingest
    from extractor.llm.client import load_llm_config
    from extractor.llm.step import LLMStep
    from extractor.reading.extract import extract_forms_with_text

    seeds = sorted((ROOT / "samples").glob("*.txt"))
    answer = answers_for(seeds)

    docs, n = [], 0
    while n < args.forms:
        for s in seeds:
            if n >= args.forms:
                break
            d = ingest(str(s))
            docs.append(d)
            n += len(extract_forms_with_text(d))
    with tempfile.TemporaryDirectory() as tmp, FakeOpenAI(answer, delay=args.delay) as srv:
        cfg = load_llm_config(None, base_url=srv.base_url, api_key="sk-bench", model="fake-model",
                              concurrency=args.concurrency, cache_dir=str(Path(tmp) / "cache"), timeout=30.0)
        for label in ("第一次运行", "第二次运行（缓存）"):
            step = LLMStep(cfg, threshold=1.01, reports=False)  # every form uncertain; forms only
            before = len(srv.requests)
            t0 = time.perf_counter()
            results = step.extract_many(docs)
            took = time.perf_counter() - t0
            forms = sum(len(r.forms) for r in results)
            calls = len(srv.requests) - before
            print(f"{label}：{forms} 份自评表（均在范围内），用时 {took:.1f} 秒；调用模型 {calls} 次"
                  f"（每份 {calls / max(forms, 1):.2f} 次），{step.usage.http.text()}，缓存命中 {step.usage.cached} 次，"
                  f"失败 {step.usage.failed} 次（每次调用延迟 {args.delay:g} 秒，并发 {args.concurrency}）")


if __name__ == "__main__":
    main()
