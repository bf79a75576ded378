"""Issue 16 in a real browser: a form's flags decided from the keyboard alone, bulk decisions on a
filtered set, and the filter as the queue 上一份/下一份 walk."""

from __future__ import annotations

import re
import shutil
import sqlite3
from pathlib import Path

from browser_support import SHOTS, browser, need_chromium, open_page, review_app, settle
from conftest import ROOT

from extractor.core.config import load_config
from extractor.pipeline.importer import import_files
from extractor.pipeline.process import reviewer
from extractor.store.database import Store

need_chromium()


def _db(tmp_path: Path) -> tuple[Path, Store]:
    db = tmp_path / "review.db"
    store = Store(db, rereview=reviewer(load_config()))
    src = tmp_path / "000.txt"
    shutil.copy(ROOT / "samples" / "000_6226a1c3cfbc3ef3.txt", src)
    import_files(store, [src])
    return db, store


def _open_by_name(b, url: str, name: str):  # type: ignore[no-untyped-def]
    """A new page on the form named ``name``: searched on the triage page, opened from there."""
    from playwright.sync_api import expect

    page = open_page(b, url, "风险排序")
    page.get_by_label("搜索项目名称或文件").fill(name)
    page.get_by_label("搜索项目名称或文件").press("Enter")
    settle(page)
    page.get_by_role("button", name="打开排在最前的表（先待核，再按风险）").click()
    expect(page.get_by_role("heading", name=name)).to_be_visible(timeout=30000)
    return page


def _decisions(db: Path) -> dict[str, int]:
    with sqlite3.connect(db) as c:
        return dict(c.execute("SELECT decision, COUNT(*) FROM flag_decisions GROUP BY decision").fetchall())


def test_twenty_flags_decided_from_the_keyboard(tmp_path: Path) -> None:
    from playwright.sync_api import expect

    db, store = _db(tmp_path)
    fid = max(store.triage(), key=lambda r: len(store.effective_form(r["id"])["flags"]))["id"]
    n = len(store.effective_form(fid)["flags"])
    assert n >= 20, n
    name = store.effective_form(fid)["project_name"]
    with review_app(db) as url, browser() as b:
        page = _open_by_name(b, url, name)
        settle(page)
        for k in range(20):  # keys only: A accepts, X rejects, each moves on to the next open flag
            page.locator("body").press("X" if k % 4 == 3 else "A")
            expect(page.get_by_text(f"第 {k + 1} 条已")).to_be_visible(timeout=30000)
            settle(page, 200)
        page.locator("body").press("K")  # back one flag: the 20th, rejected
        expect(page.get_by_text(re.compile(r"第 20/\d+ 条.*— 驳回"))).to_be_visible(timeout=30000)
        page.screenshot(path=str(SHOTS / "keyboard_review.png"))
    assert _decisions(db) == {"accepted": 15, "rejected": 5}


def test_bulk_reject_of_one_finding_on_the_filtered_forms_and_the_filter_is_the_queue(tmp_path: Path) -> None:
    from playwright.sync_api import expect

    db, store = _db(tmp_path)
    rows = store.triage()
    with_code = [r["id"] for r in rows if "all-exact" in (r["codes"] or "").split(",")]
    open_before = sum(1 for r in rows for f in store.effective_form(r["id"])["flags"] if f["code"] == "all-exact")
    assert with_code and open_before
    with review_app(db) as url, browser() as b:
        page = open_page(b, url, "风险排序")
        page.get_by_label("问题类型").click()
        page.keyboard.type("完成值与目标完全一致")
        page.keyboard.press("Enter")
        page.keyboard.press("Escape")
        settle(page)
        expect(page.get_by_text(f"共 {len(with_code)} 份")).to_be_visible(timeout=30000)
        page.get_by_text(re.compile("^批量处理：筛选出的")).click()
        page.get_by_text("我已核对筛选条件，确认批量处理这些问题").click()
        page.get_by_role("button", name="全部驳回").click()
        expect(page.get_by_text(f"已批量驳回 {open_before} 条问题")).to_be_visible(timeout=30000)
        page.get_by_role("button", name="打开排在最前的表（先待核，再按风险）").click()
        expect(page.get_by_text(f"第 1 / {len(with_code)} 份（风险排序页的筛选结果）")).to_be_visible(timeout=30000)
    assert _decisions(db) == {"rejected": open_before}
    for fid in with_code:
        assert all(f.get("decision") == "rejected" for f in store.effective_form(fid)["flags"] if f["code"] == "all-exact")


def test_the_source_view_follows_the_flag_being_decided(tmp_path: Path) -> None:
    """The source beside the flags shows the current flag's evidence: on opening, after J, after a row
    click in the flag list, and after 在原文中定位 far below (which brings the source into sight)."""
    from playwright.sync_api import expect

    from extractor.app_support import document_pages

    db, store = _db(tmp_path)
    pages = document_pages(store.document_of(store.triage()[0]["id"])["path"])

    def spans_of(fid: int) -> list[str | None]:
        return [pages[f["where"]["page"] - 1][f["where"]["start"]:f["where"]["end"]]
                if (f.get("where") or {}).get("start") is not None else None for f in store.effective_form(fid)["flags"]]

    first, nxt = 0, 1  # nothing decided yet: the panel opens on the first flag
    fid = next(r["id"] for r in store.triage() if len(sp := spans_of(r["id"])) > 6 and sp[0] and sp[1]
               and sp[0] != sp[1])
    spans = spans_of(fid)
    far = len(spans) - 1
    while spans[far] is None or spans[far] in (spans[first], spans[nxt]):
        far -= 1
    assert far > nxt
    name = store.effective_form(fid)["project_name"]
    with review_app(db) as url, browser() as b:
        page = _open_by_name(b, url, name)
        settle(page, 1000)
        mark = page.locator("[data-testid='stHtml'] mark").first
        expect(page.get_by_role("combobox", name="定位字段")).to_have_value(f"当前问题的原文位置（第 {first + 1} 条）", timeout=30000)
        expect(mark).to_have_text(spans[first], timeout=30000)
        page.locator("body").press("J")
        expect(page.get_by_role("combobox", name="定位字段")).to_have_value(f"当前问题的原文位置（第 {nxt + 1} 条）", timeout=30000)
        expect(mark).to_have_text(spans[nxt], timeout=30000)
        mid = next(k for k in range(nxt + 1, far) if spans[k] and spans[k] != spans[nxt])
        grid = page.locator("[data-testid='stDataFrame']").first  # the flag list
        grid.scroll_into_view_if_needed()
        box = grid.bounding_box()
        page.mouse.click(box["x"] + 12, box["y"] + 35 * (mid + 1) + 17)  # the row's marker
        expect(page.get_by_role("combobox", name="定位字段")).to_have_value(f"当前问题的原文位置（第 {mid + 1} 条）",
                                                                           timeout=30000)
        expect(mark).to_have_text(spans[mid], timeout=30000)
        expect(page.get_by_role("button", name="所选 1 条全部采纳")).to_be_visible()
        settle(page, 500)
        page.get_by_text("逐条详细处理").click()
        box = page.locator("[data-testid='stExpanderDetails']").last
        spot = box.get_by_role("button", name="在原文中定位").nth(far)
        expect(spot).to_be_visible(timeout=30000)
        settle(page, 300)
        spot.click()
        expect(page.get_by_role("combobox", name="定位字段")).to_have_value(f"当前问题的原文位置（第 {far + 1} 条）", timeout=30000)
        expect(mark).to_have_text(spans[far], timeout=30000)
        page.wait_for_timeout(800)
        expect(page.get_by_role("heading", name="原文", exact=True)).to_be_in_viewport()
        page.screenshot(path=str(SHOTS / "source_follows_flag.png"))


def test_a_flag_decided_while_a_correction_is_typed_keeps_the_typed_text(tmp_path: Path) -> None:
    """A decision redraws the flags only: a value typed but not yet saved in the edit form survives it
    and is saved after (nothing a reviewer typed is lost)."""
    from browser_support import field
    from playwright.sync_api import expect

    db, store = _db(tmp_path)
    with review_app(db) as url, browser() as b:
        page = open_page(b, url, "逐表审核")
        settle(page, 1000)
        fid = store.triage()[0]["id"]
        field(page, "项目负责人").fill("边审边改")
        page.locator("h3", has_text="审核意见").click()  # the cursor out of the box: keys decide again
        settle(page)  # leaving the box commits it (a rerun); a key pressed mid-rerun may land on the old page
        page.locator("body").press("A")
        expect(page.get_by_text("第 1 条已采纳")).to_be_visible(timeout=30000)
        expect(field(page, "项目负责人")).to_have_value("边审边改")
        page.get_by_role("button", name="保存更正").click()
        expect(page.get_by_text("已保存 1 处更正")).to_be_visible(timeout=30000)
    assert store.effective_form(fid)["project_lead"] == "边审边改"
    assert _decisions(db) == {"accepted": 1}


def test_a_row_picked_on_a_later_page_of_the_triage_table_opens_that_form(tmp_path: Path) -> None:
    """The triage table is drawn a page at a time (20,000 forms stay fast); a row clicked on page 2 is
    that page's row, not the first page's."""
    from playwright.sync_api import expect

    db = tmp_path / "review.db"
    store = Store(db, rereview=reviewer(load_config()))
    for name in ("000_6226a1c3cfbc3ef3.txt", "003_3db43c30d19b3157.txt"):
        shutil.copy(ROOT / "samples" / name, tmp_path / name)
    import_files(store, sorted(tmp_path.glob("*.txt")))
    rows = store.triage()
    assert len(rows) > 12
    want = rows[10]["project_name"] or "（表格残片）"
    with review_app(db, env={"EXTRACTOR_PAGE_ROWS": "10"}) as url, browser() as b:
        page = open_page(b, url, "风险排序")
        expect(page.get_by_text(f"页码（共 {-(-len(rows) // 10)} 页）")).to_be_visible(timeout=30000)
        page.get_by_label(re.compile("页码")).fill("2")
        page.get_by_label(re.compile("页码")).press("Enter")
        expect(page.get_by_text(f"本页为第 11–{min(20, len(rows))} 份")).to_be_visible(timeout=30000)
        settle(page, 500)
        grid = page.locator("[data-testid='stDataFrame']").first
        box = grid.bounding_box()
        page.mouse.click(box["x"] + 12, box["y"] + 35 + 17)  # the first row's marker
        expect(page.get_by_role("heading", name=want)).to_be_visible(timeout=30000)
