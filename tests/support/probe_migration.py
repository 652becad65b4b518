"""A probe migration nothing in the code knows about (0099_probe.sql), declaring its plan and its notice in
its header, and a copy of the migrations folder holding it (for the sql_dir seam)."""

from __future__ import annotations

import shutil
from pathlib import Path

from setup_wizard.database.migration_files import sql_dir

PROBE = """-- 0099_probe.sql: a migration nothing in the code knows about.
-- setup_wizard:plan-when: SELECT WHERE to_regclass('users') IS NULL
-- setup_wizard:plan: 비어 있는 시험용 표를 만듭니다.
-- setup_wizard:plan-when: SELECT count(*) AS users FROM users HAVING count(*) > 0
-- setup_wizard:plan: 사용자 {users}명을 시험용 표에 적습니다.
-- setup_wizard:plan: 비어 있는 시험용 표를 만듭니다.
-- setup_wizard:notice: probe-written 시험용 표에 사용자 {users}명을 적었습니다 ({table}).
CREATE TABLE IF NOT EXISTS probe (user_id integer);
DO $$
DECLARE n bigint;
BEGIN
    INSERT INTO probe SELECT id FROM users;
    GET DIAGNOSTICS n = ROW_COUNT;
    RAISE NOTICE 'setup_wizard:probe-written users=% table=%', n, 'probe (user_id)';
END
$$;
"""


def probe_dir(tmp_path: Path) -> Path:
    folder = tmp_path / "sql"
    shutil.copytree(sql_dir(), folder)
    (folder / "0099_probe.sql").write_text(PROBE, "utf-8")
    return folder
