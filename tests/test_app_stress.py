"""Four review-app sessions (Streamlit's AppTest, each in its own process) save to the same forms
while another writer is killed with SIGKILL again and again: no confirmed save is lost, every
refused save is told to the session that made it, and the database passes its integrity check."""

from __future__ import annotations

import json
import os
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

from conftest import ROOT

from extractor.core.config import load_config
from extractor.pipeline.importer import import_files
from extractor.pipeline.process import reviewer
from extractor.store.database import Store

SESSION = r"""
import json, sys
from streamlit.testing.v1 import AppTest
app, n, saves = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
at = AppTest.from_file(app, default_timeout=120)
at.run()
at.sidebar.radio[0].set_value("逐表审核").run()
if n % 2:
    at.button(key="next").click().run()
for k in range(saves):
    value = f"会话{n}-第{k}次"
    box = next(t for t in at.text_input if t.label == "项目负责人")
    box.set_value(value)
    next(b for b in at.button if b.label == "保存更正").click().run()
    said = [e.value for e in at.exception] + [s.value for s in at.success] + [e.value for e in at.error]
    if at.exception:
        print(json.dumps({"k": k, "value": value, "outcome": "exception", "said": said}, ensure_ascii=False))
        break
    if any("已保存 1 处更正" in s.value for s in at.success):
        outcome = "saved"
    elif any("他人已修改" in e.value for e in at.error):
        outcome = "refused"
        next(b for b in at.button if b.label == "载入最新内容").click().run()
    else:
        outcome = "silent"
    print(json.dumps({"k": k, "value": value, "outcome": outcome, "said": said}, ensure_ascii=False), flush=True)
"""

WRITER = r"""
import sys, time
sys.path.insert(0, sys.argv[3])
from extractor.store.database import Store, ConcurrentEditError
s = Store(sys.argv[1])
ids = [int(x) for x in sys.argv[2].split(",")]
print("ready", flush=True)
k = 0
while True:
    fid = ids[k % len(ids)]
    try:
        s.save_corrections(fid, s.version(fid), {"project_lead": f"写入进程{sys.argv[4]}-{k}"}, who="writer")
        print(f"写入进程{sys.argv[4]}-{k}", flush=True)
    except ConcurrentEditError:
        pass
    k += 1
    time.sleep(0.5)  # a busy colleague, not a flood: the sessions get their turns
"""


def test_four_sessions_and_a_killed_writer_lose_no_confirmed_save(tmp_path: Path) -> None:
    db = tmp_path / "review.db"
    src = tmp_path / "form.txt"
    src.write_text((ROOT / "samples" / "001_cc20b351adbf8378.txt").read_text(encoding="utf-8"), encoding="utf-8")
    store = Store(db, rereview=reviewer(load_config()))
    import_files(store, [src])
    ids = [r["id"] for r in store.triage()][:2]  # the two forms every session and the writer edit
    store.close()
    env = {**os.environ, "EXTRACTOR_DB": str(db), "EXTRACTOR_SEED": "0"}
    sessions = [subprocess.Popen([sys.executable, "-c", SESSION, str(ROOT / "review_app.py"), str(n), "8"],
                                 env=env, cwd=tmp_path, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
                for n in range(4)]
    writer_confirmed: list[str] = []
    kills = 0
    while any(p.poll() is None for p in sessions) and kills < 40:
        w = subprocess.Popen([sys.executable, "-c", WRITER, str(db), ",".join(map(str, ids)), str(ROOT), str(kills)],
                             stdout=subprocess.PIPE, text=True)
        assert w.stdout.readline().strip() == "ready"  # started up: now kill it while it writes
        time.sleep(0.2 + (kills % 4) * 0.15)
        os.kill(w.pid, signal.SIGKILL)  # in the middle of whatever save it is making
        w.wait()
        writer_confirmed += [x for x in w.stdout.read().split("\n") if x]
        kills += 1
    outcomes = []
    for p in sessions:
        out, _ = p.communicate(timeout=600)
        outcomes += [json.loads(x) for x in out.splitlines() if x.startswith("{")]
    assert len(outcomes) == 32, outcomes  # every attempt of every session reported
    assert not [o for o in outcomes if o["outcome"] in ("exception", "silent")], outcomes
    saved = [o["value"] for o in outcomes if o["outcome"] == "saved"]
    assert saved and kills >= 3 and writer_confirmed
    conn = sqlite3.connect(db)
    assert conn.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
    stored = {json.loads(r[0]) for r in conn.execute("SELECT new_value FROM corrections")}
    assert set(saved) <= stored and set(writer_confirmed) <= stored
    print(f"\n会话保存 {len(saved)} 次、被拒绝并告知 {sum(o['outcome'] == 'refused' for o in outcomes)} 次；"
          f"写入进程被强制结束 {kills} 次，确认写入 {len(writer_confirmed)} 次；全部在库")
