"""Benchmark: how much of a perfect model the LLM step keeps, on the project's own gold.

A local fake endpoint answers every call from the gold files (``tests/fake_openai.answers_from_gold``);
the real openai + instructor path runs through ``LLMStep`` (scope "uncertain": only forms and files
the reading core is unsure of are sent). Prints, per eval set, the parser's field accuracy, the
step's, the share of the oracle kept, and the calls made; ``-v`` lists the files that changed.
``--noise`` makes the oracle drop, perturb and invent values and counts what reached the export.

usage: python benchmarks/bench_llm_oracle.py [eval_sets/real eval_sets/seeds] [-v] [--scope all] [--noise 3 11 29]
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "tests"))


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("sets", nargs="*", default=["eval_sets/real", "eval_sets/seeds"])
    ap.add_argument("-v", action="store_true")
    ap.add_argument("--scope", default="uncertain")
    ap.add_argument("--noise", type=int, nargs="*", metavar="SEED",
                    help="a careless oracle (10%% dropped, 10%% of numbers perturbed, 5%% of texts invented), per seed")
    args = ap.parse_args()
    from fake_openai import FakeOpenAI, answers_from_gold, noisy, wrong_model_values

    from evalkit.harness import load_cases
    from evalkit.metrics import Score, score
    from extractor.llm.client import load_llm_config
    from extractor.llm.step import LLMStep
    from extractor.pipeline.process import process
    from extractor.store.contract import result_to_contract

    cases = [c for s in args.sets for c in load_cases(ROOT / s)]
    oracle = answers_from_gold([c.gold_path for c in cases])
    for seed in args.noise or []:
        answer, bad = noisy(oracle, seed=seed)
        used, wrong, total = 0, [], Score()
        with tempfile.TemporaryDirectory() as tmp, FakeOpenAI(answer) as srv:
            cfg = load_llm_config(None, base_url=srv.base_url, api_key="sk-noisy", model="fake-model",
                                  concurrency=8, cache_dir=str(Path(tmp) / "cache"), timeout=30.0)
            for c in cases:
                gold = json.loads(c.gold_path.read_text(encoding="utf-8"))
                pred = result_to_contract(process(c.input_path, llm=LLMStep(cfg, scope=args.scope, reports=False)),
                                          provenance=False)
                n, w = wrong_model_values(gold, pred)
                used, wrong = used + n, wrong + w
                if c.set_name == "real":
                    total.add(score(gold, pred))
        print(f"噪声种子 {seed}（范围 {args.scope}）：给出错误值 {len(bad)} 个；导出的大模型值 {used} 个，其中错误 {len(wrong)} 个；"
              f"real 字段准确率 {total.field_accuracy:.4f}" + (f"；错误：{wrong[:5]}" if wrong else ""))
    if args.noise is not None:
        return
    with tempfile.TemporaryDirectory() as tmp, FakeOpenAI(oracle) as srv:
        cfg = load_llm_config(None, base_url=srv.base_url, api_key="sk-oracle", model="fake-model",
                              concurrency=8, cache_dir=str(Path(tmp) / "cache"), timeout=30.0)
        for s in args.sets:
            parser_total, llm_total, calls = Score(), Score(), 0
            for c in [c for c in cases if c.set_name == Path(s).name]:
                gold = json.loads(c.gold_path.read_text(encoding="utf-8"))
                before = len(srv.requests)
                step = LLMStep(cfg, scope=args.scope, reports=False)
                a = score(gold, result_to_contract(process(c.input_path), provenance=False))
                b = score(gold, result_to_contract(process(c.input_path, llm=step), provenance=False))
                n = len(srv.requests) - before
                calls += n
                parser_total.add(a)
                llm_total.add(b)
                if args.v and (n or abs(a.field_accuracy - b.field_accuracy) > 1e-9):
                    print(f"  {c.gold_path.name[:48]:48} 调用{n:2d}  规则 {a.field_accuracy:.3f} → {b.field_accuracy:.3f}"
                          f"  {'；'.join(step.usage.errors)[:80]}")
            p, q = parser_total.field_accuracy, llm_total.field_accuracy
            print(f"{Path(s).name}: 规则解析 {p:.4f}，加大模型（完美答案）{q:.4f}，调用 {calls} 次")


if __name__ == "__main__":
    main()
