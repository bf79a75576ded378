"""The evaluation harness: run the extractor over every eval set and score it against gold.

An eval set is a folder of ``*.gold.json`` files (contract shape, hand-checked). Each gold names
its input in ``source``; the input sits beside it or in ``samples/``. With ``formats`` the gold
forms are also rendered into Word, Excel and PDF files (:mod:`evalkit.fixtures`) and those are
scored against the same gold.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

from evalkit.metrics import Score, score
from extractor.core.config import load_config
from extractor.pipeline.process import process
from extractor.store.contract import get_path, low_confidence, provenance, result_to_contract

ROOT = Path(__file__).resolve().parent.parent
RENDERABLE = ("docx", "xlsx", "pdf", "lines.pdf", "boxes.pdf", "sheet.pdf", "md", "flat.txt")
OCR_KINDS = ("pdf-scan", "pdf-mixed", "image")
ORIG_ONLY_SETS = ("real",)  # read as published; renderings of their gold would test nothing
SLOW = ("scan.pdf",)  # OCR: evaluated on request (--formats scan.pdf), not in "all"


@dataclass(frozen=True)
class Case:
    """One gold file and its input."""

    set_name: str
    gold_path: Path
    input_path: Path


def load_cases(set_dir: Path) -> list[Case]:
    """The cases of one eval set, in file-name order."""
    cases = []
    for g in sorted(set_dir.glob("*.gold.json")):
        source = json.loads(g.read_text(encoding="utf-8"))["source"]
        for cand in (set_dir / source, ROOT / "samples" / source):
            if cand.exists():
                cases.append(Case(set_dir.name, g, cand))
                break
        else:
            raise FileNotFoundError(f"评测集 {set_dir.name}：找不到标准答案 {g.name} 对应的输入文件 {source}")
    return cases


def find_sets(root: Path | None = None) -> list[Path]:
    """Every folder under eval_sets/ that holds gold files."""
    base = root or ROOT / "eval_sets"
    return sorted(p for p in base.iterdir() if p.is_dir() and not p.name.startswith(("_", ".")) and any(p.glob("*.gold.json")))


def _rendered(case: Case, fmt: str, render_dir: Path) -> Path:
    from evalkit.fixtures import render_all

    stem = case.gold_path.name.removesuffix(".gold.json")
    out = render_dir / case.set_name / f"{stem}.{fmt}"
    renderer = Path(__file__).with_name("fixtures.py")  # a changed renderer re-renders too
    if not out.exists() or out.stat().st_mtime < max(case.gold_path.stat().st_mtime, renderer.stat().st_mtime):
        gold = json.loads(case.gold_path.read_text(encoding="utf-8"))
        render_all(gold, out.parent, (fmt,), stem=stem)
    return out


def evaluate_case(case: Case, fmt: str = "orig", render_dir: Path | None = None) -> Score:
    """Score the extractor on one case in one format (``orig`` = the input as given)."""
    gold = json.loads(case.gold_path.read_text(encoding="utf-8"))
    path = case.input_path if fmt == "orig" else _rendered(case, fmt, render_dir or ROOT / "build" / "rendered")
    res = process(path, load_config())
    pred = result_to_contract(res, provenance=False)
    s = score(gold, pred)
    if res.kind in OCR_KINDS:  # of the values OCR read wrong, how many the reviewer is told to check
        traced = result_to_contract(res, provenance=True)["forms"]
        marked = [low_confidence(f) for f in traced]
        for pi, path_ in s.wrong:
            ref = provenance(traced[pi], path_)
            if get_path(traced[pi], path_) is not None and ref and ref.get("confidence") is not None:
                s.wrong_marked[1] += 1
                s.wrong_marked[0] += path_ in marked[pi]
    if res.status != "ok":
        s.mismatches.insert(0, f"读取失败：{res.error}")
    return s


def evaluate(set_dirs: list[Path], formats: tuple[str, ...] = ("orig",),
             render_dir: Path | None = None) -> list[tuple[Case, str, Score]]:
    """Every case of every set in every format."""
    out = []
    for d in set_dirs:
        for case in load_cases(d):
            for fmt in formats:
                if fmt != "orig" and not renderable(case):
                    continue
                out.append((case, fmt, evaluate_case(case, fmt, render_dir)))
    return out


def renderable(case: Case) -> bool:
    """Whether rendering the gold into other formats measures anything: not for real published
    documents (their layout is the test, and a rendering of the gold has none of it) and not for a
    file with no form (a report, a target table)."""
    if case.set_name in ORIG_ONLY_SETS:
        return False
    return bool(json.loads(case.gold_path.read_text(encoding="utf-8")).get("forms"))
