"""`check`: every item passing and failing against the real server, read-only, the report without secrets."""

from __future__ import annotations

import hashlib
import os
import subprocess
import sys
from pathlib import Path
from urllib.parse import quote

import psycopg
import pytest
from support.checklist import items, needs_langgraph
from support.databases import Database
from support.dbstate import add_sample_data, hand_migrate, migrate, run_sql, snapshot
from support.pgserver import free_port
from support.program import PASSWORD, assert_no_secret, clean_environ, run_inprocess
from support.recorded import windows_two_versions

from setup_wizard.database import checkpoints
from setup_wizard.database.contract import FAIL, WARN
from setup_wizard.database.drift import find_drift
from setup_wizard.database.migration_files import load_migrations
from setup_wizard.database.server_facts import version_status
from setup_wizard.flow.check_registry import Check
from setup_wizard.flow.checks import REGISTRY
from setup_wizard.machine.system import Platform
from setup_wizard.results import Report, Status, Step
from setup_wizard.scrub import Scrubber

SECRET_KEY = "sk-recognisable-secret-key-7731"
MONGO_PASSWORD = "mongo-pw-5521"


def write_env(folder: Path, url: str, *, mode: int = 0o600, extra: str = "") -> Path:
    (folder / "backend").mkdir(exist_ok=True)
    path = folder / "backend" / ".env"
    path.write_text(
        f"SECRET_KEY={SECRET_KEY}\n"
        f"DATABASE_URL={url}\n"
        f"MONGODB_URL=mongodb://app:{MONGO_PASSWORD}@localhost:27017/app\n"
        f"OPENAI_API_KEY={SECRET_KEY}-openai\n{extra}",
        encoding="utf-8",
    )
    path.chmod(mode)
    return path


def backend_url(database: Database, scheme: str = "postgresql+psycopg") -> str:
    return database.url.replace("postgresql://", f"{scheme}://")


def git(folder: Path, *args: str) -> None:
    subprocess.run(["git", "-C", str(folder), *args], check=True, capture_output=True,
                   env={**clean_environ(), "GIT_AUTHOR_NAME": "t", "GIT_AUTHOR_EMAIL": "t@example.com",
                        "GIT_COMMITTER_NAME": "t", "GIT_COMMITTER_EMAIL": "t@example.com"})


def statuses(steps: dict[str, Step]) -> dict[str, str]:
    return {key: step.status.value for key, step in steps.items()}


def tree_hashes(folder: Path) -> dict[str, str]:
    return {str(p.relative_to(folder)): hashlib.sha256(p.read_bytes()).hexdigest()
            for p in sorted(folder.rglob("*")) if p.is_file()}


# --- the whole checklist -------------------------------------------------------------------------------

def test_ready_project_passes_every_item(database: Database, tmp_path: Path) -> None:
    migrate(database)
    git(tmp_path, "init", "-q")
    (tmp_path / ".gitignore").write_text("backend/.env\n", encoding="utf-8")
    write_env(tmp_path, backend_url(database))
    steps = items(tmp_path)
    expected_ok = ["python", "packages", "postgres", "psql", "env_file", "env_gitignore", "env_permissions",
                   "backend_env", "backend_url", "settings", "server", "login", "database", "privileges",
                   "encoding", "migrations", "checksums",
                   "schema_tables", "schema_indexes", "schema_constraints", "schema_triggers", "search_path",
                   "dev_user"]
    assert {key: statuses(steps)[key] for key in expected_ok} == dict.fromkeys(expected_ok, "ok")
    # The server in CI may not be 17: the item then warns, with the stable code.
    major = int(database.scalar("SHOW server_version_num")) // 10000
    assert steps["server_version"].status is version_status(major)
    assert steps["checkpoints"].status is Status.INFO
    assert "서버를 처음 시작할 때 자동으로 만들어집니다" in steps["checkpoints"].detail
    assert not any(step.status is Status.FAIL for step in steps.values())


def test_fresh_database_lists_every_pending_file_and_skips_the_schema(database: Database, tmp_path: Path) -> None:
    steps = items(tmp_path, dsn=database.url)
    assert steps["migrations"].status is Status.FAIL and steps["migrations"].code == "migrations_pending"
    for migration in load_migrations():
        assert f"- {migration.name}" in steps["migrations"].detail
    assert steps["checksums"].status is Status.SKIP
    assert steps["schema_tables"].status is Status.SKIP
    assert steps["dev_user"].status is Status.SKIP
    # Settings came from --dsn and there is no .env file: its items are skipped, not failed.
    for key in ("env_file", "env_gitignore", "env_permissions", "backend_url"):
        assert steps[key].status is Status.SKIP, key


def test_settings_from_the_environment_skip_the_env_items(database: Database, tmp_path: Path) -> None:
    steps = items(tmp_path, environ=clean_environ(DATABASE_URL=database.url))
    assert steps["env_file"].status is Status.SKIP
    assert steps["login"].status is Status.OK


def test_no_env_file_and_no_other_settings_warns(tmp_path: Path) -> None:
    steps = items(tmp_path, environ=clean_environ(PGPORT=str(free_port()), PGHOST="127.0.0.1"))
    # PG* variables came from the environment: skipped; with nothing at all, a warning with its fix.
    assert steps["env_file"].status is Status.SKIP
    bare = items(tmp_path, environ={k: v for k, v in clean_environ().items() if k != "PGPORT"})
    assert bare["env_file"].status is Status.WARN and bare["env_file"].code == "env_file_missing"
    assert "DATABASE_URL=postgresql+psycopg://" in (bare["env_file"].fix or "")


def test_unreachable_server_fails_once_and_skips_what_needs_it(tmp_path: Path) -> None:
    steps = items(tmp_path, dsn=f"postgresql://postgres:x@127.0.0.1:{free_port()}/db")
    assert steps["server"].status is Status.FAIL and steps["server"].code == "server_not_running"
    needs = [check.id for check in REGISTRY if check.needs_connection]
    assert needs and all(steps[key].status is Status.SKIP for key in needs)
    assert steps["python"].status is Status.OK  # the rest still ran


def test_wrong_password_and_missing_database(database: Database, tmp_path: Path) -> None:
    wrong = items(tmp_path, dsn=database.server.url(database.name, password="wrong"))
    assert wrong["login"].status is Status.FAIL and wrong["login"].code == "auth_failed"
    missing = items(tmp_path, dsn=database.server.url("no_such_db_x1"))
    assert missing["database"].status is Status.FAIL and missing["database"].code == "database_missing"
    assert missing["login"].status is Status.OK


# --- items one by one ------------------------------------------------------------------------------------

def test_psql_and_git_missing_from_path(database: Database, tmp_path: Path) -> None:
    git(tmp_path, "init", "-q")
    write_env(tmp_path, backend_url(database))
    steps = items(tmp_path, environ=clean_environ(PATH=str(tmp_path / "empty")))
    # Debian's own folder is still found: the fix names psql by its full path.
    assert steps["psql"].status is Status.WARN and steps["psql"].code == "psql_not_found"
    assert "/bin/psql" in (steps["psql"].fix or "")
    assert steps["env_gitignore"].status is Status.SKIP  # no git to ask


def test_postgres_installations_on_windows_from_recordings(tmp_path: Path) -> None:
    steps = items(tmp_path, dsn=f"postgresql://postgres:x@127.0.0.1:{free_port()}/db", system=windows_two_versions())
    install = steps["postgres"]
    assert install.status is Status.OK and "16" in install.detail and "17" in install.detail
    assert any("postgresql-x64-17" in line and "5433" in line for line in install.detail.splitlines())
    psql = steps["psql"]
    assert psql.status is Status.WARN and psql.code == "psql_not_found"
    assert r"C:\Program Files\PostgreSQL\17\bin\psql.exe" in (psql.fix or "")  # the chosen one, full path


def test_no_postgres_installed_is_a_warning(tmp_path: Path) -> None:
    from support.recorded_system import RecordedSystem

    bare = RecordedSystem(platform=Platform.WINDOWS, environ={"PATH": r"C:\Windows"})
    steps = items(tmp_path, dsn=f"postgresql://postgres:x@127.0.0.1:{free_port()}/db", system=bare)
    assert steps["postgres"].status is Status.WARN and steps["postgres"].code == "postgres_not_found"
    assert "winget" in (steps["postgres"].fix or "")


def test_env_file_git_and_permissions(database: Database, tmp_path: Path) -> None:
    path = write_env(tmp_path, backend_url(database), mode=0o644)
    outside = items(tmp_path)
    assert outside["env_gitignore"].status is Status.SKIP  # not in a repository
    assert outside["env_permissions"].status is Status.WARN
    assert outside["env_permissions"].code == "env_file_readable" and "chmod 600" in (
        outside["env_permissions"].fix or "")
    assert items(tmp_path, system=windows_two_versions())["env_permissions"].status is Status.SKIP  # NTFS ACLs

    git(tmp_path, "init", "-q")
    not_ignored = items(tmp_path)["env_gitignore"]
    assert not_ignored.status is Status.WARN and not_ignored.code == "env_file_not_ignored"
    (tmp_path / ".gitignore").write_text(".env\n", encoding="utf-8")
    path.chmod(0o600)
    good = items(tmp_path)
    assert good["env_gitignore"].status is Status.OK and good["env_permissions"].status is Status.OK
    git(tmp_path, "add", "-f", "backend/.env")
    git(tmp_path, "commit", "-q", "-m", "oops")
    tracked = items(tmp_path)["env_gitignore"]
    assert tracked.status is Status.WARN and tracked.code == "env_file_tracked"
    assert "git rm --cached" in (tracked.fix or "")


@pytest.mark.parametrize(("scheme", "status"), [("postgresql+psycopg", Status.OK), ("postgresql", Status.FAIL),
                                                  ("postgresql+asyncpg", Status.FAIL), ("postgres", Status.FAIL),
                                                  ("POSTGRESQL+PSYCOPG", Status.FAIL)])
def test_database_url_scheme_as_the_backend_needs_it(database: Database, tmp_path: Path, scheme: str,
                                                     status: Status) -> None:
    write_env(tmp_path, backend_url(database, scheme))
    step = items(tmp_path)["backend_url"]
    assert step.status is status
    if status is not Status.OK:
        assert step.code == "backend_url_scheme" and "postgresql+psycopg://" in (step.fix or "")
        assert f"{scheme}://" in step.detail


def test_database_url_differing_from_dsn(database: Database, tmp_path: Path) -> None:
    write_env(tmp_path, backend_url(database).replace(f"/{database.name}", "/other_db"))
    steps = items(tmp_path, dsn=database.url)
    step = steps["backend_dsn"]
    assert step.status is Status.WARN and step.code == "backend_dsn_elsewhere"
    assert "/other_db" in step.detail and f"/{database.name}" in step.detail
    assert steps["backend_url"].status is Status.OK


def test_separate_postgres_keys_stop_the_backend(tmp_path: Path) -> None:
    # The backend's engines read DATABASE_URL only: POSTGRES_* alone is a failure with its fix.
    (tmp_path / ".env").write_text(f"POSTGRES_HOST=127.0.0.1\nPOSTGRES_PORT={free_port()}\nPOSTGRES_PASSWORD=x\n",
                                   encoding="utf-8")
    step = items(tmp_path)["backend_url"]
    assert step.status is Status.FAIL and step.code == "backend_url_missing"
    assert "POSTGRES_HOST" in step.detail and "--yes" in (step.fix or "")


def test_database_encoding(server, tmp_path: Path) -> None:
    name = "latin_" + os.urandom(4).hex()
    with psycopg.connect(**server.conninfo("postgres"), autocommit=True) as conn:
        conn.execute(f"CREATE DATABASE {name} ENCODING 'SQL_ASCII' TEMPLATE template0 LC_COLLATE 'C' LC_CTYPE 'C'")
    try:
        step = items(tmp_path, dsn=server.url(name))["encoding"]
    finally:
        with psycopg.connect(**server.conninfo("postgres"), autocommit=True) as conn:
            conn.execute(f"DROP DATABASE {name}")
    assert step.status is Status.FAIL and step.code == "database_encoding" and "SQL_ASCII" in step.detail


def test_changed_checksums_are_named(database: Database, tmp_path: Path) -> None:
    migrate(database)
    run_sql(database, "UPDATE setup_wizard_migrations SET checksum = 'edited' WHERE name = '0002_sessions.sql'")
    step = items(tmp_path, dsn=database.url)["checksums"]
    assert step.status is Status.FAIL and step.code == "checksum_mismatch"
    assert "0002_sessions.sql" in step.detail and "0003" not in step.detail


def test_dev_user(database: Database, tmp_path: Path) -> None:
    migrate(database, dev_user=False)
    step = items(tmp_path, dsn=database.url)["dev_user"]
    assert step.status is Status.FAIL and step.code == "dev_user_missing" and "INSERT INTO users" in (step.fix or "")
    assert database.scalar("SELECT count(*) FROM users") == 0  # check reports; it does not create
    run_sql(database, "INSERT INTO users (id, email, type) VALUES (1, 'dev@example.com', 'ADMIN')")
    assert items(tmp_path, dsn=database.url)["dev_user"].status is Status.OK


# --- schema drift ----------------------------------------------------------------------------------------

def test_migrated_database_has_no_drift(database: Database) -> None:
    migrate(database)
    with database.connect() as conn:
        assert find_drift(conn) == []


@pytest.mark.slow
@pytest.mark.parametrize(
    ("change", "kind", "name", "severity"),
    [
        ("DROP INDEX idx_chat_sessions_user_updated", "indexes", "idx_chat_sessions_user_updated", WARN),
        ("DROP INDEX idx_expires_at; CREATE INDEX idx_expires_at ON sessions (created_at)", "indexes",
         "idx_expires_at", WARN),
        ("ALTER TABLE chat_sessions ALTER COLUMN title TYPE text", "tables", "chat_sessions.title", FAIL),
        ("ALTER TABLE chat_sessions ALTER COLUMN user_id DROP NOT NULL", "tables", "chat_sessions.user_id", WARN),
        ("ALTER TABLE chat_sessions ALTER COLUMN updated_at DROP DEFAULT", "tables", "chat_sessions.updated_at",
         WARN),
        ("ALTER TABLE sessions DROP COLUMN request_count", "tables", "sessions.request_count", FAIL),
        ("DROP TABLE sessions", "tables", "sessions", FAIL),
        ("ALTER TABLE conversation_memories DROP CONSTRAINT fk_conv_mem_session", "constraints",
         "fk_conv_mem_session", FAIL),
        ("ALTER TABLE conversation_memories DROP CONSTRAINT fk_conv_mem_session; "
         "ALTER TABLE conversation_memories ADD CONSTRAINT fk_conv_mem_session FOREIGN KEY (session_id) "
         "REFERENCES chat_sessions (session_id) ON DELETE CASCADE NOT VALID", "constraints", "fk_conv_mem_session",
         WARN),
        ("ALTER TABLE chat_sessions DROP CONSTRAINT chat_sessions_user_id_fkey; "
         "ALTER TABLE chat_sessions ADD FOREIGN KEY (user_id) REFERENCES users (id)", "constraints",
         "chat_sessions_user_id_fkey", WARN),
        ("DROP TRIGGER trigger_update_chat_session_timestamp ON chat_sessions", "triggers",
         "trigger_update_chat_session_timestamp", FAIL),
        ("ALTER TABLE chat_sessions DISABLE TRIGGER trigger_update_chat_session_timestamp", "triggers",
         "trigger_update_chat_session_timestamp", FAIL),
        ("CREATE TRIGGER count_again AFTER INSERT ON conversation_memories FOR EACH ROW "
         "EXECUTE FUNCTION update_session_message_count()", "triggers",
         "count_again, trigger_update_session_message_count", FAIL),
    ],
)
def test_each_kind_of_drift_is_named(database: Database, change: str, kind: str, name: str, severity: str) -> None:
    migrate(database)
    with database.connect() as conn:
        conn.execute(change.encode())
        drift = find_drift(conn)
    assert [(d.kind, d.name, d.severity) for d in drift] == [(kind, name, severity)]


def test_drift_in_the_checklist_after_migrations(database: Database, tmp_path: Path) -> None:
    migrate(database)
    run_sql(database, "DROP INDEX idx_conv_mem_session_created; "
                      "DROP TRIGGER trigger_update_session_message_count ON conversation_memories")
    steps = items(tmp_path, dsn=database.url)
    assert steps["schema_indexes"].status is Status.WARN and "idx_conv_mem_session_created" in (
        steps["schema_indexes"].detail)
    triggers = steps["schema_triggers"]
    assert triggers.status is Status.FAIL and triggers.code == "schema_drift"
    assert "trigger_update_session_message_count" in triggers.detail
    assert "python -m setup_wizard --yes" in (triggers.fix or "")


def test_hand_migrated_database_drift_is_a_warning_while_migrations_are_pending(database: Database,
                                                                                tmp_path: Path) -> None:
    with database.connect() as conn:
        add_sample_data(conn)
        hand_migrate(conn)
    steps = items(tmp_path, dsn=database.url)
    assert "기준점" in steps["migrations"].detail
    triggers = steps["schema_triggers"]
    assert triggers.status is Status.WARN and "count_messages_again" in triggers.detail
    assert "fk_conv_mem_session" in steps["schema_constraints"].detail


# --- crashes ------------------------------------------------------------------------------------------

def test_a_crashing_check_is_one_failed_item(tmp_path: Path) -> None:
    def fine(_ctx: object) -> list[Step]:
        return [Step("before", Status.OK, "before")]

    def crash(_ctx: object) -> list[Step]:
        raise RuntimeError(f"boom with {PASSWORD} inside")

    def after(_ctx: object) -> list[Step]:
        return [Step("after", Status.OK, "after")]

    checks = [Check("before", "before", fine), Check("crash", "크래시", crash), Check("after", "after", after)]
    steps = items(tmp_path, dsn=f"postgresql://postgres:{quote(PASSWORD, safe='')}@127.0.0.1:1/db", checks=checks)
    assert list(steps) == ["before", "crash", "after"]
    crashed = steps["crash"]
    assert crashed.status is Status.FAIL and crashed.code == "check_crashed"
    assert "RuntimeError: boom with" in crashed.detail
    assert_no_secret(crashed.detail)


def test_a_check_crashing_on_a_real_database_does_not_stop_the_rest(database: Database, tmp_path: Path) -> None:
    # Tables the backend did not make: the verification query fails on the server.
    run_sql(database, "CREATE TABLE chat_sessions (session_id text PRIMARY KEY, user_id int); "
                      "CREATE TABLE conversation_memories (id int PRIMARY KEY, session_id text)")
    proc = run_inprocess("check", "--json", "--dsn", database.url, cwd=tmp_path)
    document = proc.json()
    steps = {s["id"]: s for s in document["steps"]}
    assert proc.code == 1
    assert steps["verification"]["status"] == "fail" and steps["verification"]["code"] == "check_crashed"
    assert "UndefinedColumn" in steps["verification"]["detail"]
    assert list(steps)[-1] == "checkpoints"  # the check after it still ran
    assert "conversation_memories.user_id" in steps["schema_tables"]["detail"]


# --- read-only, the report, secrets -----------------------------------------------------------------------

def test_check_changes_nothing_and_the_report_has_no_secret(database: Database, tmp_path: Path) -> None:
    with database.connect() as conn:
        add_sample_data(conn)
        hand_migrate(conn)
    git(tmp_path, "init", "-q")
    write_env(tmp_path, backend_url(database), mode=0o644)
    git(tmp_path, "add", "-A")
    git(tmp_path, "commit", "-q", "-m", "project")
    with database.connect() as conn:
        before = snapshot(conn)
    assert before["memories"] and before["chat_sessions"]
    files_before = tree_hashes(tmp_path)

    human = run_inprocess("check", "-v", "--report", "report.md", cwd=tmp_path)
    as_json = run_inprocess("check", "--json", "-v", cwd=tmp_path)
    assert human.code == 1 and as_json.code == 1
    # The same verdict both ways: the pending migrations fail, nothing else does.
    document = as_json.json()
    assert document["ok"] is False
    assert [s["code"] for s in document["steps"] if s["status"] == "fail"] == ["migrations_pending"]
    assert "오류 코드: migrations_pending" in human.stdout and "문제 1개" in human.stdout

    with database.connect() as conn:
        assert snapshot(conn) == before
    files_after = tree_hashes(tmp_path)
    report = (tmp_path / "report.md").read_text(encoding="utf-8")
    assert files_after.pop("report.md")
    assert files_after == files_before  # every other file byte-identical, .git included

    for text in (report, human.stdout, human.stderr, as_json.stdout):
        assert_no_secret(text)
        for secret in (SECRET_KEY, MONGO_PASSWORD, "sk-recognisable"):
            assert secret not in text
    # What a helper needs, in Korean: the checklist, versions, settings with sources, the last failure.
    for heading in ("## 점검 항목", "## 환경", "## 마지막 실패", "운영 체제", "Python", "PostgreSQL 서버",
                    "rich", "psycopg", "설정: 비밀번호", ".env DATABASE_URL", "migrations_pending",
                    "count_messages_again"):
        assert heading in report, heading
    assert "✗ **마이그레이션**" in report
    assert "비밀번호: ********" in human.stdout and "경로:" in human.stdout  # -v: sources and paths


def test_report_scrubs_secrets_that_reach_a_message(database: Database, tmp_path: Path) -> None:
    write_env(tmp_path, backend_url(database))
    target = tmp_path / "r.md"

    def leaky(_ctx: object) -> list[Step]:
        return [Step("leaky", Status.FAIL, "leaky",
                     f"{PASSWORD} {quote(PASSWORD, safe='')} {SECRET_KEY} postgresql://u:{MONGO_PASSWORD}@h/d")]

    items(tmp_path, checks=[Check("leaky", "leaky", leaky)], report=target)
    text = target.read_text(encoding="utf-8")
    assert_no_secret(text)
    assert SECRET_KEY not in text and MONGO_PASSWORD not in text
    assert "postgresql://u:***@h/d" in text


def test_scrubber_ignores_short_flags_but_masks_given_passwords() -> None:
    scrub = Scrubber.collect(["pw"], {"DEBUG_KEY": "1", "API_TOKEN": "tok-12345", "URL": "redis://:r3d1s-pw@h"})
    assert scrub("a 1 b pw tok-12345 r3d1s-pw") == "a 1 b *** *** ***"


@pytest.mark.parametrize("args", [["--yes", "--report", "r.md"], ["check", "--report", "no/such/dir/r.md"],
                                  ["check", "--report", "."], ["check", "--report", "backend/.env"]])
def test_report_usage_errors(tmp_path: Path, args: list[str]) -> None:
    env_path = write_env(tmp_path, "postgresql+psycopg://postgres:x@127.0.0.1:1/db")
    before = env_path.read_bytes()
    proc = run_inprocess(*args, cwd=tmp_path)
    assert proc.code == 2, proc.stderr
    assert "Traceback" not in proc.stderr and proc.stdout == ""
    assert "--report" in proc.stderr and any("\uac00" <= ch <= "\ud7a3" for ch in proc.stderr)
    assert env_path.read_bytes() == before


def test_ascii_symbols_when_the_console_cannot_draw_them(database: Database, tmp_path: Path) -> None:
    proc = subprocess.run([sys.executable, "-m", "setup_wizard", "check", "--dsn", database.url], cwd=tmp_path,
                          env=clean_environ(PYTHONIOENCODING="cp949"), capture_output=True, check=False)
    assert proc.returncode == 1, proc.stderr  # the fresh database's pending migrations
    stdout = proc.stdout.decode("cp949")
    assert "[OK]" in stdout and "[X]" in stdout and "[i]" in stdout and "문제 1개" in stdout
    assert "✓" not in stdout


# --- LangGraph checkpoint tables ----------------------------------------------------------------------------

def test_checkpoint_tables_partial_is_a_warning(database: Database, tmp_path: Path) -> None:
    run_sql(database, "CREATE TABLE checkpoint_migrations (v integer PRIMARY KEY)")
    step = items(tmp_path, dsn=database.url)["checkpoints"]
    assert step.status is Status.WARN and step.code == "checkpoint_tables_incomplete"
    assert "checkpoint_blobs" in step.detail


@needs_langgraph
def test_run_creates_checkpoint_tables_with_the_library_and_check_reads_its_version(
        database: Database, tmp_path: Path) -> None:
    created = run_inprocess("--yes", "--json", "--dsn", database.url, cwd=tmp_path)
    assert created.code == 0, created.stdout
    step = next(s for s in created.json()["steps"] if s["id"] == "checkpoints")
    assert step["status"] == "ok" and "setup()" in step["detail"]
    expected = checkpoints.expected_migration()
    assert database.scalar("SELECT max(v) FROM checkpoint_migrations") == expected
    assert database.scalar("SELECT count(*) FROM pg_class WHERE relname = ANY(%s) AND relkind = 'r'",
                           [list(checkpoints.TABLES)]) == 4
    # The library's indexes were built (CREATE INDEX CONCURRENTLY needs autocommit) and are valid.
    assert database.scalar("SELECT bool_and(indisvalid) FROM pg_index WHERE indrelid = 'checkpoints'::regclass")

    again = run_inprocess("--yes", "--json", "--dsn", database.url, cwd=tmp_path)
    assert again.code == 0, again.stdout
    step = next(s for s in again.json()["steps"] if s["id"] == "checkpoints")
    assert step["status"] == "ok" and "이미 있습니다" in step["detail"]

    present = items(tmp_path, dsn=database.url)["checkpoints"]
    assert present.status is Status.OK and f"버전 {expected}" in present.detail
    run_sql(database, "INSERT INTO checkpoint_migrations (v) VALUES (9999)")
    ahead = items(tmp_path, dsn=database.url)["checkpoints"]
    assert ahead.status is Status.WARN and ahead.code == "checkpoint_library_outdated"


@needs_langgraph
def test_checkpoint_setup_waits_for_our_lock(database: Database) -> None:
    from setup_wizard.config.load import load_settings
    from setup_wizard.database.run_lock import ADVISORY_LOCK_KEY
    from setup_wizard.errors import WizardError

    settings = load_settings(database.url, {}, None, None)
    with database.connect() as holder, database.connect() as conn:
        holder.execute("SELECT pg_advisory_lock(%s)", [ADVISORY_LOCK_KEY])
        with pytest.raises(WizardError) as caught:
            checkpoints.create_tables(conn, settings, lambda _t: None, wait_seconds=0.5)
        assert caught.value.code == "run_in_progress"  # issue 12: another run holds our lock
        assert database.scalar("SELECT to_regclass('checkpoints')") is None
        holder.execute("SELECT pg_advisory_unlock(%s)", [ADVISORY_LOCK_KEY])
        assert checkpoints.create_tables(conn, settings, lambda _t: None).complete


def test_report_object_json_shape_is_unchanged() -> None:
    # "checklist" (the run's last screen) was added deliberately; the rest is as it was.
    report = Report()
    report.add(Step("x", Status.INFO, "t", "d", more=("hidden",)))
    report.facts["OS"] = "Linux"
    assert report.to_json() == {"ok": True, "steps": [{"id": "x", "status": "info", "code": None, "title": "t",
                                                       "detail": "d", "fix": None}],
                                "migrations": [], "verification": [], "checklist": []}


@needs_langgraph
def test_a_failing_checkpoint_setup_is_explained_and_the_run_stands(database: Database, tmp_path: Path) -> None:
    # A table of that name that the library did not make: its setup() fails on the server.
    run_sql(database, "CREATE TABLE checkpoints (x integer)")
    proc = run_inprocess("--yes", "--json", "--dsn", database.url, cwd=tmp_path)
    assert proc.code == 1
    steps = {s["id"]: s for s in proc.json()["steps"]}
    assert steps["migrations"]["status"] == "ok"
    assert steps["checkpoints"]["status"] == "fail" and steps["checkpoints"]["code"] == "checkpoint_setup_failed"
    assert "Traceback" not in proc.stderr
    assert_no_secret(proc.stdout, proc.stderr)
    assert database.scalar("SELECT to_regclass('chat_sessions') IS NOT NULL")


def test_expected_migration_read_statically_matches_the_library() -> None:
    from setup_wizard.database import checkpoints

    if not checkpoints.library_installed():
        pytest.skip("the [checkpoints] extra is not installed")
    from langgraph.checkpoint.postgres import PostgresSaver

    assert checkpoints._migrations_in_source() == len(PostgresSaver.MIGRATIONS)
    assert checkpoints.expected_migration() == len(PostgresSaver.MIGRATIONS) - 1
