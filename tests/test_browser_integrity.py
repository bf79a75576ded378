"""Nothing a reviewer does is lost, nothing is skipped in silence, no upload escapes its folder: one
test per defect of issue 12, each in a real review app driven by headless chromium."""

from __future__ import annotations

import http.server
import re
import shutil
import threading
from pathlib import Path

import pytest
from browser_support import SHOTS, browser, field, need_chromium, open_flag_details, open_page, review_app, settle
from conftest import ROOT

need_chromium()

from playwright.sync_api import expect  # noqa: E402

from extractor.core.config import load_config  # noqa: E402
from extractor.pipeline.importer import import_files  # noqa: E402
from extractor.pipeline.process import reviewer  # noqa: E402
from extractor.store.database import Store  # noqa: E402

SAMPLE = ROOT / "samples" / "001_cc20b351adbf8378.txt"
DONE = re.compile(r"导入完成|已导入 \d+ 个文件")  # the earlier release's wording too: these tests were run against it
SCAN = ROOT / "samples" / "001_cc20b351adbf8378.scan.pdf"  # five pages of OCR: an import that takes a while


def _busy_folder(tmp_path: Path, n: int, pages: int = 5) -> Path:
    import pymupdf

    folder = tmp_path / "many"
    folder.mkdir()
    with pymupdf.open(str(SCAN)) as scan, pymupdf.open() as part:
        part.insert_pdf(scan, to_page=pages - 1)
        part.save(str(folder / "0扫描件.pdf"))
    for k in range(n):
        shutil.copy(SAMPLE, folder / f"批量{k:02d}.txt")
    return folder


def _parts() -> list[str]:
    """The sample's five forms as separate texts."""
    text = SAMPLE.read_text(encoding="utf-8")
    starts = [i for i in range(len(text)) if text.startswith("项目支出绩效自评表", i)]
    cut = [text.rfind("\n", 0, i) + 1 for i in starts]
    return [text[a:b] for a, b in zip(cut, cut[1:] + [len(text)])]


def _db_with(tmp_path: Path, files: dict[str, str]) -> tuple[Path, Store]:
    db = tmp_path / "data" / "review.db"
    store = Store(db, rereview=reviewer(load_config()))
    paths = []
    for name, text in files.items():
        p = tmp_path / "src" / name
        p.parent.mkdir(parents=True, exist_ok=True)
        p.write_text(text, encoding="utf-8")
        paths.append(p)
    import_files(store, paths)
    return db, store


def _form_page(page, name: str) -> None:  # type: ignore[no-untyped-def]
    page.locator("[data-testid='stSidebar']").get_by_text("逐表审核", exact=True).click()
    expect(page.get_by_role("heading", name=name)).to_be_visible(timeout=60000)
    settle(page)


def _first(store: Store) -> tuple[int, str]:
    r = store.triage()[0]
    return r["id"], r["project_name"]


def test_1_two_tabs_the_later_save_is_refused_with_the_diff_and_kept(tmp_path: Path) -> None:
    db, store = _db_with(tmp_path, {"a.txt": _parts()[0]})
    fid, name = _first(store)
    with review_app(db) as url, browser() as b:
        a, bt = open_page(b, url), open_page(b, url)
        _form_page(a, name)
        _form_page(bt, name)
        field(a, "项目负责人").fill("甲窗口")
        a.get_by_role("button", name="保存更正").click()
        expect(a.get_by_text("已保存 1 处更正")).to_be_visible(timeout=30000)
        field(bt, "联系电话").fill("010-乙窗口")
        bt.get_by_role("button", name="保存更正").click()
        expect(bt.get_by_text("他人已修改").first).to_be_visible(timeout=30000)
        expect(bt.get_by_text("对方保存的修改")).to_be_visible()
        bt.screenshot(path=str(SHOTS / "integrity_1_refused.png"))
        assert store.effective_form(fid)["phone"] != "010-乙窗口"  # refused, not applied
        bt.get_by_role("button", name="载入最新内容").click()
        settle(bt, 1000)
        bt.screenshot(path=str(SHOTS / "integrity_1_reloaded.png"), full_page=True)
        expect(field(bt, "项目负责人")).to_have_value("甲窗口", timeout=30000)
        expect(field(bt, "联系电话")).to_have_value("010-乙窗口")  # the refused edit kept
        bt.get_by_role("button", name="保存更正").click()
        expect(bt.get_by_text("已保存 1 处更正")).to_be_visible(timeout=30000)
    form = store.effective_form(fid)
    assert form["project_lead"] == "甲窗口" and form["phone"] == "010-乙窗口"


def _upload(page, name: str, data: bytes) -> None:  # type: ignore[no-untyped-def]
    page.locator("[data-testid='stFileUploaderDropzoneInput']").set_input_files(
        files=[{"name": name, "mimeType": "text/plain", "buffer": data}])
    expect(page.get_by_text(name).first).to_be_visible(timeout=30000)
    settle(page)
    page.get_by_role("button", name="开始导入").click()
    expect(page.get_by_text(DONE).first).to_be_visible(timeout=90000)
    settle(page)


def test_2_a_same_name_upload_is_another_document_and_corrections_stay_put(tmp_path: Path) -> None:
    db = tmp_path / "data" / "review.db"
    store = Store(db, rereview=reviewer(load_config()))
    parts = _parts()
    with review_app(db) as url, browser() as b:
        page = open_page(b, url, "导入")
        _upload(page, "自评表.txt", parts[0].encode("utf-8"))
        fid, name = _first(store)
        _form_page(page, name)
        field(page, "项目负责人").fill("甲部门的更正")
        page.get_by_role("button", name="保存更正").click()
        expect(page.get_by_text("已保存 1 处更正")).to_be_visible(timeout=30000)
        page.locator("[data-testid='stSidebar']").get_by_text("导入", exact=True).click()
        page.reload()
        page.locator("[data-testid='stSidebar']").get_by_text("导入", exact=True).click()
        _upload(page, "自评表.txt", parts[1].encode("utf-8"))
    assert len(store.documents()) == 2 and len(store.triage()) == 2
    assert store.effective_form(fid)["project_lead"] == "甲部门的更正" and store.raw_form(fid)[0]["project_name"] == name
    other = next(r["id"] for r in store.triage() if r["id"] != fid)
    assert not store.corrections(other) and store.effective_form(other)["project_lead"] != "甲部门的更正"


def _flag_keys(flags: list[dict]) -> list[str]:
    """rule|indicator|n-th of that pair: how a decision names its flag."""
    seen: dict[tuple, int] = {}
    out = []
    for f in flags:
        pair = (f.get("code"), f.get("indicator"))
        out.append(f"{pair[0]}|{pair[1]}|{seen.get(pair, 0)}")
        seen[pair] = seen.get(pair, 0) + 1
    return out


def test_3_a_correction_keeps_the_flag_decision_and_asks_to_reconfirm(tmp_path: Path) -> None:
    db, store = _db_with(tmp_path, {"a.txt": _parts()[0]})
    fid, name = _first(store)
    form = store.effective_form(fid)
    i, fl = next((k, f) for k, f in enumerate(form["flags"]) if f["code"] == "vague-target" and f.get("evidence"))
    with review_app(db) as url, browser() as b:
        page = open_page(b, url)
        _form_page(page, name)
        open_flag_details(page)
        box = page.locator("[data-testid='stForm']").filter(has_text="保存处理意见").nth(i)
        box.get_by_text("修改后采纳", exact=True).click()
        box.get_by_label("修改后的说明（选“修改后采纳”时填写）").fill("评审组改写的意见")
        box.get_by_role("button", name="保存处理意见").click()
        expect(page.get_by_text("已保存处理意见：修改后采纳")).to_be_visible(timeout=30000)
        # another reviewer corrects the quoted target (still vague: the flag stays, its evidence changes)
        target = f"indicators.{fl['indicator']}.target"
        old = form["indicators"][fl["indicator"]]["target"]
        store.save_corrections(fid, store.raw_form(fid)[1], {target: old + "（较好）"}, who="乙")
        page.reload()
        _form_page(page, name)
        open_flag_details(page)
        details = page.locator("[data-testid='stExpander']").filter(has_text="保存处理意见")
        expect(details.get_by_text("评审组改写的意见").first).to_be_visible(timeout=30000)
        expect(page.get_by_text("请重新确认").first).to_be_visible()
    after = store.effective_form(fid)
    key = _flag_keys(form["flags"])[i]
    same = dict(zip(_flag_keys(after["flags"]), after["flags"]))[key]
    assert same["decision"] == "edited" and same["message"] == "评审组改写的意见" and same["reconfirm"]


def test_4_an_upload_named_to_escape_the_data_folder_stays_inside(tmp_path: Path) -> None:
    db = tmp_path / "data" / "review.db"
    store = Store(db, rereview=reviewer(load_config()))
    evil = ["../../escaped.txt", "/tmp/escaped-abs.txt"]
    with review_app(db) as url, browser() as b:
        page = open_page(b, url, "导入")
        sent = {"n": 0}

        def rename(route, request):  # type: ignore[no-untyped-def]
            body = request.post_data_buffer
            for k, bad in enumerate(evil):
                body = body.replace(f'filename="evil{k}.txt"'.encode(), f'filename="{bad}"'.encode())
            sent["n"] += 1
            route.continue_(post_data=body)

        page.route("**/_stcore/upload_file/**", rename)
        page.locator("[data-testid='stFileUploaderDropzoneInput']").set_input_files(
            files=[{"name": f"evil{k}.txt", "mimeType": "text/plain", "buffer": _parts()[k].encode("utf-8")}
                   for k in range(2)])
        expect(page.get_by_text("evil1.txt").first).to_be_visible(timeout=30000)
        settle(page)
        page.get_by_role("button", name="开始导入").click()
        expect(page.get_by_text(DONE).first).to_be_visible(timeout=90000)
    assert sent["n"] >= 2
    assert not (tmp_path / "escaped.txt").exists() and not (tmp_path.parent / "escaped.txt").exists()
    assert not Path("/tmp/escaped-abs.txt").exists()
    paths = [Path(d["path"]) for d in store.documents()]
    assert len(paths) == 2 and all((tmp_path / "data" / "uploads").resolve() in p.parents for p in paths)
    assert sorted(d["name"] for d in store.documents()) == ["escaped-abs.txt", "escaped.txt"]  # the name kept as data


def test_5_a_second_session_saves_while_the_first_imports(tmp_path: Path) -> None:
    db, store = _db_with(tmp_path, {"a.txt": _parts()[0]})
    fid, name = _first(store)
    folder = _busy_folder(tmp_path, 4, pages=1)
    with review_app(db) as url, browser() as b:
        importer, reviewer_tab = open_page(b, url, "导入"), open_page(b, url)
        _form_page(reviewer_tab, name)
        importer.get_by_label("或输入文件夹路径").fill(str(folder))
        importer.get_by_label("或输入文件夹路径").press("Enter")
        settle(importer)
        importer.get_by_role("button", name="开始导入").click()
        running = []
        status = "SELECT status FROM imports ORDER BY id DESC"
        for k in range(5):  # saves while the import writes, each one confirmed
            row = store.conn.execute(status).fetchone()
            running.append(row is not None and row[0] == "running")
            field(reviewer_tab, "项目负责人").fill(f"导入期间更正{k}")
            reviewer_tab.get_by_role("button", name="保存更正").click()
            settle(reviewer_tab)
            expect(reviewer_tab.get_by_text(re.compile(f"已保存 1 处更正（第 {k + 1} 版）|已保存 1 处更正。$"))
                   ).to_be_visible(timeout=30000)
            assert not reviewer_tab.locator("[data-testid='stException']").count()
            if k >= 2 and not running[-1]:
                break
        expect(importer.get_by_text(DONE).first).to_be_visible(timeout=240000)
    assert sum(running) >= 1, "no save landed while the import was writing"
    assert store.effective_form(fid)["project_lead"] == f"导入期间更正{k}"
    assert len(store.documents()) == 6


def test_6_text_in_a_number_field_is_marked_there_and_the_valid_edit_is_saved(tmp_path: Path) -> None:
    db, store = _db_with(tmp_path, {"a.txt": _parts()[0]})
    fid, name = _first(store)
    with review_app(db) as url, browser() as b:
        page = open_page(b, url)
        _form_page(page, name)
        field(page, "项目负责人").fill("有效的更正")
        field(page, "总分得分").fill("95分")
        page.get_by_role("button", name="保存更正").click()
        expect(page.get_by_text("“95分”不是数字").first).to_be_visible(timeout=30000)
        settle(page)
        expect(field(page, "总分得分")).to_have_value("95分")  # what was typed stays
        expect(field(page, "项目负责人")).to_have_value("有效的更正")
        assert not page.locator("[data-testid='stException']").count()
        page.screenshot(path=str(SHOTS / "integrity_6_field_error.png"))
    form = store.effective_form(fid)
    assert form["project_lead"] == "有效的更正" and form["total_score"] != "95分"


def test_7_unsaved_edits_are_guarded_and_an_import_survives_clicking_away(tmp_path: Path) -> None:
    parts = _parts()
    db, store = _db_with(tmp_path, {"a.txt": parts[0] + parts[1]})
    rows = store.triage()
    name = rows[0]["project_name"]
    folder = _busy_folder(tmp_path, 3, pages=1)
    with review_app(db) as url, browser() as b:
        page = open_page(b, url)
        _form_page(page, name)
        lead = field(page, "项目负责人")
        lead.fill("尚未保存")
        lead.press("Alt+ArrowRight")  # typing in a field: the shortcut must not leave the form
        page.wait_for_timeout(800)
        expect(page.get_by_role("heading", name=name)).to_be_visible()
        expect(lead).to_have_value("尚未保存")
        asked: list[str] = []
        stay = {"on": True}
        page.on("dialog", lambda d: (asked.append(d.message), d.dismiss() if stay["on"] else d.accept()))
        page.get_by_role("button", name="下一份 →").click()
        page.wait_for_timeout(800)
        expect(page.get_by_role("heading", name=name)).to_be_visible()
        page.locator("[data-testid='stSidebar']").get_by_text("风险排序", exact=True).click()
        page.wait_for_timeout(800)
        expect(lead).to_have_value("尚未保存")
        assert len(asked) == 2 and all("尚未保存的修改" in m for m in asked)  # once per attempt
        # an import the reviewer walks away from runs to its end
        stay["on"] = False  # now leave, discarding the edit
        page.locator("[data-testid='stSidebar']").get_by_text("导入", exact=True).click()
        page.get_by_label("或输入文件夹路径").fill(str(folder))
        page.get_by_label("或输入文件夹路径").press("Enter")
        settle(page)
        page.get_by_role("button", name="开始导入").click()
        page.wait_for_timeout(300)
        page.locator("[data-testid='stSidebar']").get_by_text("风险排序", exact=True).click()  # at once
        settle(page)
        page.locator("[data-testid='stSidebar']").get_by_text("导入", exact=True).click()
        expect(page.get_by_text("导入完成")).to_be_visible(timeout=180000)
        expect(page.get_by_text("读取 4 个").first).to_be_visible()
    assert len(store.documents()) == 5


def test_8_files_with_nothing_found_or_failed_are_reported_and_listed_first(tmp_path: Path) -> None:
    db = tmp_path / "data" / "review.db"
    store = Store(db, rereview=reviewer(load_config()))
    folder = tmp_path / "in"
    folder.mkdir()
    (folder / "说明.txt").write_text("本单位年度工作总结。全年完成各项任务。", encoding="utf-8")
    (folder / "损坏.pdf").write_bytes(b"%PDF-1.7\n1 0 obj<<>>\n")
    (folder / "旧格式.doc").write_bytes(b"\xd0\xcf\x11\xe0 legacy")
    shutil.copy(SAMPLE, folder / "正常.txt")
    with review_app(db) as url, browser() as b:
        page = open_page(b, url, "导入")
        page.get_by_label("或输入文件夹路径").fill(str(folder))
        page.get_by_label("或输入文件夹路径").press("Enter")
        settle(page)
        page.get_by_role("button", name="开始导入").click()
        report = page.get_by_text(DONE).first
        expect(report).to_be_visible(timeout=90000)
        text = report.inner_text()
        assert "读取 1 个（5 份自评表" in text and "未找到自评表 1 个" in text and "失败 1 个" in text
        assert "跳过 1 个" in text
        page.locator("[data-testid='stSidebar']").get_by_text("风险排序", exact=True).click()
        expect(page.get_by_text("2 个文件没有可审核的自评表")).to_be_visible(timeout=30000)
        page.screenshot(path=str(SHOTS / "integrity_8_problems_first.png"))
    no_forms = store.conn.execute("SELECT name FROM documents d WHERE NOT EXISTS "
                                  "(SELECT 1 FROM forms f WHERE f.document_id=d.id)").fetchall()
    assert {r[0] for r in no_forms} == {"说明.txt", "损坏.pdf"}


class _Hits(http.server.BaseHTTPRequestHandler):
    hits: list[str] = []

    def do_GET(self) -> None:  # noqa: N802
        _Hits.hits.append(self.path)
        self.send_response(200)
        self.send_header("Content-Type", "image/png")
        self.end_headers()

    def log_message(self, *args: object) -> None:
        pass


def test_11_markdown_in_a_form_is_shown_as_text_and_never_fetched(tmp_path: Path) -> None:
    server = http.server.HTTPServer(("127.0.0.1", 0), _Hits)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    img = f"![](http://127.0.0.1:{server.server_port}/pixel.png)"
    part = _parts()[0].replace("2024年度区信访办信访宣传项目经费", f"宣传项目{img}经费", 1)
    part = part.replace("购买宣传材料", f"购买宣传材料{img}", 1)
    db, store = _db_with(tmp_path, {"a.txt": part})
    fid, name = _first(store)
    assert img in name
    with review_app(db) as url, browser() as b:
        page = open_page(b, url)
        page.locator("[data-testid='stSidebar']").get_by_text("逐表审核", exact=True).click()
        expect(page.get_by_role("heading", name=name)).to_be_visible(timeout=60000)
        settle(page, 1500)
        assert page.locator("main img[src*='pixel.png']").count() == 0
    server.shutdown()
    assert _Hits.hits == []


@pytest.fixture(autouse=True)
def _shots() -> None:
    SHOTS.mkdir(parents=True, exist_ok=True)
