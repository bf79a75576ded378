"""The review database's schema as numbered migrations, keyed on ``PRAGMA user_version``.

Each ``mNNN_*`` function takes the database one version up and runs in its own transaction with
the version bump, so a database is always at a whole version. A new column or table is a new
function at the end of :data:`MIGRATIONS`; an existing one is never edited, because databases in
the field have already run it. Databases made before versioning (version 0 with tables present)
are brought up by the same functions: each one is written to be a no-op where its change is
already there.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Callable

from extractor.core.errors import ExtractorError

_INITIAL = """
CREATE TABLE IF NOT EXISTS documents(
  id INTEGER PRIMARY KEY, path TEXT UNIQUE NOT NULL, name TEXT NOT NULL, sha256 TEXT, kind TEXT,
  status TEXT NOT NULL, error TEXT, imported_at TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS forms(
  id INTEGER PRIMARY KEY, document_id INTEGER NOT NULL REFERENCES documents(id) ON DELETE CASCADE,
  idx INTEGER NOT NULL, project_name TEXT, department TEXT, data TEXT NOT NULL,
  risk REAL, self_total REAL, recomputed_total REAL, gap REAL, n_error INTEGER, n_warn INTEGER, n_info INTEGER,
  codes TEXT, reviewed INTEGER NOT NULL DEFAULT 0, version INTEGER NOT NULL DEFAULT 0,
  UNIQUE(document_id, idx));
CREATE TABLE IF NOT EXISTS corrections(
  id INTEGER PRIMARY KEY, form_id INTEGER NOT NULL REFERENCES forms(id) ON DELETE CASCADE,
  field TEXT NOT NULL, old_value TEXT, new_value TEXT, who TEXT, at TEXT NOT NULL,
  active INTEGER NOT NULL DEFAULT 1, stale INTEGER NOT NULL DEFAULT 0);
CREATE TABLE IF NOT EXISTS flag_decisions(
  id INTEGER PRIMARY KEY, form_id INTEGER NOT NULL REFERENCES forms(id) ON DELETE CASCADE,
  flag_key TEXT NOT NULL, decision TEXT NOT NULL, comment TEXT, message TEXT, who TEXT, at TEXT NOT NULL,
  UNIQUE(form_id, flag_key));
CREATE TABLE IF NOT EXISTS drafts(
  name TEXT PRIMARY KEY, text TEXT NOT NULL, who TEXT, at TEXT NOT NULL);
CREATE INDEX IF NOT EXISTS forms_risk ON forms(risk DESC);
CREATE INDEX IF NOT EXISTS corrections_form ON corrections(form_id)
"""


def m001_initial(c: sqlite3.Connection) -> None:
    """Documents, forms, corrections, flag decisions and drafts."""
    for stmt in _INITIAL.split(";"):
        if stmt.strip():
            c.execute(stmt)


def m002_forms_confidence(c: sqlite3.Connection) -> None:
    """The reading confidence of each form as a column (forms read with low confidence go first)."""
    have = {r[1] for r in c.execute("PRAGMA table_info(forms)")}
    if "confidence" not in have:
        c.execute("ALTER TABLE forms ADD COLUMN confidence REAL")
    c.execute("UPDATE forms SET confidence=json_extract(data, '$.confidence') WHERE confidence IS NULL")


MIGRATIONS: list[Callable[[sqlite3.Connection], None]] = [m001_initial, m002_forms_confidence]


def version(c: sqlite3.Connection) -> int:
    return int(c.execute("PRAGMA user_version").fetchone()[0])


def migrate(c: sqlite3.Connection) -> int:
    """Run every migration the database has not had (``c`` in autocommit mode); returns its version."""
    have = version(c)
    if have > len(MIGRATIONS):
        raise ExtractorError(f"审核数据库的版本（{have}）比本程序支持的（{len(MIGRATIONS)}）更新。"
                             "请升级本工具后再打开，数据库未作任何改动")
    for n in range(have, len(MIGRATIONS)):
        c.execute("BEGIN IMMEDIATE")
        try:
            if version(c) == n:  # another process may have migrated meanwhile
                MIGRATIONS[n](c)
                c.execute(f"PRAGMA user_version={n + 1}")
        except BaseException:
            c.execute("ROLLBACK")
            raise
        c.execute("COMMIT")
    return version(c)
