"""What a command costs before it reads anything: the modules it leaves unimported, the patterns and
validators it leaves unbuilt, and the helpers that make that possible (lazy patterns, the deferred
``pymupdf.table``, plain terminal output)."""

from __future__ import annotations

import json
import re
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def _modules_after(code: str) -> set[str]:
    """The modules a fresh interpreter holds after running ``code``."""
    out = subprocess.run([sys.executable, "-c", code + "\nimport sys, json; print(json.dumps(sorted(sys.modules)))"],
                         capture_output=True, text=True, cwd=ROOT, check=True)
    return set(json.loads(out.stdout.strip().splitlines()[-1]))


def test_the_cli_starts_without_rich_the_ocr_stack_or_package_metadata() -> None:
    mods = _modules_after("import extractor.cli")
    for heavy in ("rich", "rich.console", "importlib.metadata", "pymupdf", "numpy", "rapidocr",
                  "extractor.ocr.pages", "concurrent.futures.process"):
        assert heavy not in mods, heavy


def test_a_digital_pdf_is_read_without_pymupdfs_table_finder(tmp_path: Path) -> None:
    from evalkit.fixtures import render_pdf

    gold = json.loads(next((ROOT / "eval_sets" / "seeds").glob("000_*.gold.json")).read_text(encoding="utf-8"))
    pdf = tmp_path / "a.pdf"
    render_pdf(gold["forms"][:2], pdf)
    mods = _modules_after(f"from extractor.ingest import ingest\nd = ingest({str(pdf)!r})\nassert d.pages")
    assert "pymupdf" in mods
    assert "pymupdf._table_headers" not in mods  # find_tables never ran: the drawn grid was enough


def test_the_deferred_table_module_loads_when_find_tables_runs(tmp_path: Path) -> None:
    from evalkit.fixtures import render_pdf

    gold = json.loads(next((ROOT / "eval_sets" / "seeds").glob("000_*.gold.json")).read_text(encoding="utf-8"))
    pdf = tmp_path / "a.pdf"
    render_pdf(gold["forms"][:1], pdf)
    code = ("from extractor.core.mupdf import pymupdf\nimport sys\n"
            "assert 'pymupdf._table_headers' not in sys.modules\n"
            f"page = pymupdf.open({str(pdf)!r})[0]\n"
            "tables = page.find_tables().tables\n"
            "assert tables and tables[0].extract() and sys.modules['pymupdf.table'] is pymupdf.table\n"
            "assert type(pymupdf.table).__name__ == 'module'")
    _modules_after(code)


def test_a_lazy_pattern_compiles_on_first_use_and_then_is_the_pattern() -> None:
    from extractor.core.lazy_regex import lazy_compile

    p = lazy_compile(r"(\d+)\s*万元", re.I)
    assert p._compiled is None
    assert p.search("预算 12 万元").group(1) == "12"
    assert p._compiled is not None and p.search == p._compiled.search  # later calls go straight to it
    assert p.sub("#", "1万元，2 万元") == "#，#" and p.pattern == r"(\d+)\s*万元" and p.flags & re.I
    assert [m.group(1) for m in p.finditer("3万元4万元")] == ["3", "4"] and p.groups == 1
    built = []
    q = lazy_compile(lambda: built.append(1) or "a|b")
    assert not built and q.fullmatch("b") and built == [1]
    q.match("a")
    assert built == [1]  # built once


def test_tables_are_aligned_by_display_width_and_plain_off_a_terminal(capsys) -> None:  # type: ignore[no-untyped-def]
    from extractor.terminal import paint, show_table, table_text, width

    assert width("自评表") == 6 and width("ab") == 2
    text = table_text(["文件", "状态"], [["a.pdf", "成功"], ["很长的文件名.docx", "失败"]], title="汇总")
    lines = text.split("\n")
    assert lines[0] == "汇总"
    # the second column starts at the same display column on every line
    header, rule, *rows = lines[1:]
    col = width(header[:header.index("状态")])
    assert col == width("很长的文件名.docx") + 2
    assert width(rule[:rule.index("  ─") + 2]) == col
    assert [width(r[:r.index(w)]) for r, w in zip(rows, ["成功", "失败"])] == [col, col]
    assert paint("失败", "red") == "失败"  # pytest's captured output is not a terminal
    show_table(["a"], [["x\ny"]])
    assert capsys.readouterr().out.splitlines()[-1] == "x y"


def test_the_extract_summary_is_plain_text(tmp_path: Path) -> None:
    src = ROOT / "samples" / "000_6226a1c3cfbc3ef3.txt"
    out = subprocess.run([sys.executable, "-m", "extractor.cli", "extract", str(src), "-o", str(tmp_path / "o")],
                         capture_output=True, text=True, cwd=ROOT)
    assert out.returncode == 0, out.stderr
    assert "\033[" not in out.stdout and "┃" not in out.stdout
    header = next(line for line in out.stdout.splitlines() if line.startswith("文件"))
    assert header.split() == ["文件", "状态", "自评表", "残片", "报告", "说明"]
    assert "结果已写入" in out.stdout


def test_the_cli_freezes_its_start_up_objects_and_a_library_caller_keeps_its_collector() -> None:
    code = ("import gc, json\n{imp}\n"
            "print(json.dumps([gc.isenabled(), gc.get_freeze_count()]))")

    def state(imp: str) -> list:
        out = subprocess.run([sys.executable, "-c", code.format(imp=imp)], capture_output=True, text=True,
                             cwd=ROOT, check=True)
        return json.loads(out.stdout.strip().splitlines()[-1])

    enabled, frozen = state("import extractor.cli\nfrom extractor.core.mupdf import pymupdf")
    assert enabled and frozen > 50_000  # pydantic, the readers and pymupdf kept out of every collection
    enabled, frozen = state("from extractor.ingest import ingest\nfrom extractor.core.mupdf import pymupdf")
    assert enabled and frozen == 0
