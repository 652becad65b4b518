"""The migrations and their runner against a real PostgreSQL."""

from __future__ import annotations

import shutil
import threading
from pathlib import Path

import psycopg
import pytest
from support.checklist import items
from support.databases import Database
from support.dbstate import DATA_QUERIES, add_sample_data, counting_triggers, hand_migrate, snapshot
from support.probe_migration import PROBE, probe_dir

from setup_wizard.database.drift import find_drift
from setup_wizard.database.migrate import MigrationError, Runner
from setup_wizard.database.migration_files import load_migrations, sql_dir
from setup_wizard.database.migration_history import HISTORY_TABLE, read_plan
from setup_wizard.database.repair import apply_repairs, plan_repairs


def apply(db: Database, recreate: bool = False, directory: Path | None = None, lock_timeout: float = 10):
    with db.connect() as conn:
        return Runner(conn, load_migrations(directory), lock_timeout=lock_timeout).apply(recreate=recreate)


def test_fresh_database_gets_the_whole_contract(database: Database) -> None:
    result = apply(database)
    assert [o.action for o in result.outcomes] == ["applied"] * len(load_migrations())
    with database.connect() as conn:
        state = snapshot(conn)
    indexes = {name for name, _ in state["indexes"]}
    assert {
        "idx_expires_at", "idx_chat_sessions_user_id", "idx_chat_sessions_updated_at",
        "idx_chat_sessions_user_updated", "idx_conv_mem_session_id", "idx_conv_mem_session_created",
    } <= indexes
    constraints = {(t, n): (d, v) for t, n, d, v in state["constraints"]}
    fk = constraints[("conversation_memories", "fk_conv_mem_session")]
    assert fk == ("FOREIGN KEY (session_id) REFERENCES chat_sessions(session_id) ON DELETE CASCADE", True)
    assert "ON DELETE CASCADE" in constraints[("chat_sessions", "chat_sessions_user_id_fkey")][0]
    triggers = {n for _t, n, _d in state["triggers"]}
    assert triggers == {"trigger_update_chat_session_timestamp", "trigger_update_session_message_count"}
    columns = {(t, c): (ty, nn, d) for t, c, ty, nn, d in state["columns"]}
    assert columns[("chat_sessions", "title")] == ("character varying(200)", True, "'새 대화'::character varying")
    assert columns[("sessions", "request_count")] == ("integer", True, "0")
    assert columns[("conversation_memories", "session_id")][0] == "character varying(100)"
    assert database.scalar("SELECT enum_range(NULL::usertype)::text") == "{ADMIN,USER,AGENT}"
    assert database.scalar(f"SELECT count(*) FROM {HISTORY_TABLE}") == len(load_migrations())


def test_existing_memories_get_one_session_per_user(database: Database) -> None:
    with database.connect() as conn:
        add_sample_data(conn, users=3, per_user=4)
    apply(database)
    with database.connect() as conn:
        rows = conn.execute(
            """SELECT s.user_id, s.title, s.message_count, s.created_at = min(m.created_at),
                      s.last_message, count(m.*)
                 FROM chat_sessions s JOIN conversation_memories m USING (session_id)
                GROUP BY s.session_id ORDER BY s.user_id"""
        ).fetchall()
        unlinked = conn.execute("SELECT count(*) FROM conversation_memories WHERE session_id IS NULL")
        assert unlinked.fetchone() == (0,)
    assert [(r[0], r[1], r[2], r[3], r[5]) for r in rows] == [
        (u, "이전 대화 (마이그레이션)", 4, True, 4) for u in (1, 2, 3)
    ]
    for user_id, *_rest, last_message, _n in rows:
        assert last_message == ("질문 " + f"{user_id}-4 " + "가" * 120)[:100]


@pytest.mark.parametrize("user_index", [True, False], ids=["with_user_index", "backend_tables_without_it"])
def test_a_tie_on_the_latest_memory_still_gives_one_session_per_user(database: Database, user_index: bool) -> None:
    """The latest memory is joined back by its time: two memories at that time make one session, with the
    text of one of them, whether or not conversation_memories has the (user_id, created_at) index 0001 adds
    (tables the backend made itself do not)."""
    with database.connect() as conn:
        add_sample_data(conn, users=3, per_user=4)
        conn.execute("""INSERT INTO conversation_memories (user_id, query, response_summary, relevance, created_at)
                        SELECT user_id, '같은 시각 ' || user_id, '요약', 'HIGH', max(created_at)
                          FROM conversation_memories GROUP BY user_id""")
        if not user_index:
            conn.execute("DROP INDEX idx_conv_mem_user_created")
    apply(database)
    with database.connect() as conn:
        rows = conn.execute("""SELECT s.user_id, s.message_count, s.last_message, count(m.*)
                                 FROM chat_sessions s JOIN conversation_memories m USING (session_id)
                                GROUP BY s.session_id ORDER BY s.user_id""").fetchall()
    assert [(user_id, count, linked) for user_id, count, _last, linked in rows] == [(u, 5, 5) for u in (1, 2, 3)]
    for user_id, _count, last_message, _linked in rows:
        assert last_message in (f"같은 시각 {user_id}", ("질문 " + f"{user_id}-4 " + "가" * 120)[:100])


def test_three_reruns_change_nothing(database: Database) -> None:
    with database.connect() as conn:
        add_sample_data(conn)
    apply(database)
    with database.connect() as conn:
        before = snapshot(conn)
    assert before["memories"] and before["chat_sessions"]  # the comparison below has rows to compare
    for _ in range(3):
        result = apply(database)
        assert [o.action for o in result.outcomes] == ["skipped"] * len(load_migrations())
    with database.connect() as conn:
        assert snapshot(conn) == before


def test_hand_migrated_database_is_recorded_as_baseline_and_kept(database: Database) -> None:
    with database.connect() as conn:
        add_sample_data(conn)
        hand_migrate(conn)
        links_before = conn.execute(
            "SELECT id, session_id FROM conversation_memories ORDER BY id").fetchall()
        sessions_before = conn.execute(
            "SELECT session_id, user_id, title, message_count, created_at, updated_at "
            "FROM chat_sessions ORDER BY 1").fetchall()
        assert counting_triggers(conn) == ["count_messages_again", "trigger_update_session_message_count"]
    result = apply(database)
    assert {o.name: o.action for o in result.outcomes}["0003_chat_sessions.sql"] == "baseline"
    with database.connect() as conn:
        assert conn.execute("SELECT id, session_id FROM conversation_memories ORDER BY id").fetchall() == (
            links_before)
        # The sessions are kept; their counts are brought in line with their memories (the hand migration's
        # two triggers counted chat-new-1's one memory twice).
        assert conn.execute(
            "SELECT session_id, user_id, title, created_at, updated_at FROM chat_sessions ORDER BY 1").fetchall() == [
            row[:3] + row[4:] for row in sessions_before]
        assert conn.execute("""SELECT count(*) FROM chat_sessions AS s WHERE message_count <>
                               (SELECT count(*) FROM conversation_memories AS m WHERE m.session_id = s.session_id)
                            """).fetchone() == (0,)
        kinds = dict(conn.execute(f"SELECT name, kind FROM {HISTORY_TABLE}").fetchall())
        assert kinds["0003_chat_sessions.sql"] == "baseline"
        # What the contract has and the hand migration lacked was added.
        assert conn.execute("SELECT to_regclass('idx_chat_sessions_user_updated') IS NOT NULL").fetchone() == (
            True,)
        assert conn.execute("SELECT convalidated FROM pg_constraint WHERE conname = 'fk_conv_mem_session'"
                            ).fetchone() == (True,)
        # Exactly one trigger counts: one insert adds one.
        assert counting_triggers(conn) == ["trigger_update_session_message_count"]
        before = conn.execute("SELECT message_count FROM chat_sessions WHERE session_id = 'chat-new-1'"
                              ).fetchone()
        conn.execute("""INSERT INTO conversation_memories (user_id, query, response_summary, relevance,
                        session_id) VALUES (1, 'q', 's', 'HIGH', 'chat-new-1')""")
        after = conn.execute("SELECT message_count FROM chat_sessions WHERE session_id = 'chat-new-1'"
                             ).fetchone()
        assert before is not None and after is not None and after[0] == before[0] + 1
    assert [o.action for o in apply(database).outcomes] == ["skipped"] * len(load_migrations())


def test_counts_follow_insert_delete_and_move(database: Database) -> None:
    with database.connect() as conn:
        add_sample_data(conn, users=2, per_user=3)
    apply(database)
    with database.connect() as conn:
        a, b = [r[0] for r in conn.execute("SELECT session_id FROM chat_sessions ORDER BY user_id")]
        conn.execute("""INSERT INTO conversation_memories (user_id, query, response_summary, relevance,
                        session_id) VALUES (1, '최신 질문', 's', 'HIGH', %s)""", [a])
        conn.execute("DELETE FROM conversation_memories WHERE query LIKE '질문 1-1 %%'")
        conn.execute("UPDATE conversation_memories SET session_id = %s WHERE query LIKE '질문 1-2 %%'", [b])
        rows = conn.execute(
            """SELECT s.session_id, s.message_count, s.last_message,
                      (SELECT count(*) FROM conversation_memories m WHERE m.session_id = s.session_id),
                      (SELECT left(query, 100) FROM conversation_memories m WHERE m.session_id = s.session_id
                        ORDER BY created_at DESC LIMIT 1)
                 FROM chat_sessions s ORDER BY user_id"""
        ).fetchall()
    for _sid, count, last, real_count, real_last in rows:
        assert count == real_count
        assert last == real_last


def test_changed_file_is_reported_not_rerun(database: Database, tmp_path: Path) -> None:
    apply(database)
    changed = tmp_path / "sql"
    shutil.copytree(sql_dir(), changed)
    path = changed / "0002_sessions.sql"
    path.write_text(path.read_text(encoding="utf-8") + "\nCREATE TABLE should_not_exist ();\n", "utf-8")
    with pytest.raises(MigrationError) as caught:
        apply(database, directory=changed)
    assert caught.value.code == "checksum_mismatch"
    assert "0002_sessions.sql" in caught.value.detail
    assert database.scalar("SELECT to_regclass('should_not_exist')") is None


def test_line_endings_do_not_count_as_a_change(database: Database, tmp_path: Path) -> None:
    apply(database)
    crlf = tmp_path / "sql"
    crlf.mkdir()
    for path in sql_dir().glob("*.sql"):
        (crlf / path.name).write_bytes(path.read_bytes().replace(b"\n", b"\r\n"))
    assert [o.action for o in apply(database, directory=crlf).outcomes] == ["skipped"] * len(load_migrations())


def test_failing_migration_rolls_back_everything(database: Database, tmp_path: Path) -> None:
    broken = tmp_path / "sql"
    shutil.copytree(sql_dir(), broken)
    (broken / "0004_broken.sql").write_text(
        "CREATE TABLE half_done (id int);\nINSERT INTO half_done VALUES (1);\nSELECT 1 / 0;\n", "utf-8")
    with pytest.raises(MigrationError) as caught:
        apply(database, directory=broken)
    assert caught.value.code == "migration_failed"
    assert "22012" in caught.value.detail and "0004_broken.sql" in caught.value.detail
    assert [o.action for o in caught.value.outcomes] == ["applied", "applied", "applied", "failed"]
    assert database.scalar("SELECT to_regclass('half_done')") is None
    assert database.scalar(f"SELECT count(*) FROM {HISTORY_TABLE} WHERE name = '0004_broken.sql'") == 0


def test_concurrent_runs_apply_each_file_once(database: Database) -> None:
    with database.connect() as conn:
        add_sample_data(conn, users=20, per_user=50)
    results: list[list[str]] = []
    errors: list[BaseException] = []
    barrier = threading.Barrier(3)

    def worker() -> None:
        try:
            with database.connect() as conn:
                runner = Runner(conn, load_migrations())
                barrier.wait()
                results.append([o.action for o in runner.apply().outcomes])
        except BaseException as exc:  # pragma: no cover - reported below
            errors.append(exc)

    threads = [threading.Thread(target=worker) for _ in range(3)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert not errors
    files = len(load_migrations())
    assert sorted(results) == sorted([["applied"] * files, ["skipped"] * files, ["skipped"] * files])
    assert database.scalar("SELECT count(*) FROM chat_sessions") == 20
    assert database.scalar("SELECT sum(message_count) FROM chat_sessions") == 1000
    assert database.scalar(f"SELECT count(*) FROM {HISTORY_TABLE}") == len(load_migrations())


@pytest.mark.slow
def test_held_lock_gives_up_with_lock_timeout(database: Database) -> None:
    with database.connect() as conn:
        add_sample_data(conn)
    holder = database.connect()
    holder.autocommit = False
    holder.execute("""INSERT INTO conversation_memories (user_id, query, response_summary, relevance)
                      VALUES (1, 'uncommitted', 's', 'HIGH')""")
    try:
        with pytest.raises(MigrationError) as caught:
            apply(database, lock_timeout=1)
    finally:
        holder.rollback()
        holder.close()
    assert caught.value.code == "lock_timeout"
    assert "pid" in caught.value.detail
    assert "pg_terminate_backend" in (caught.value.fix or "")
    assert database.scalar("SELECT to_regclass('chat_sessions')") is None
    names = database.scalar(f"SELECT string_agg(name, ',' ORDER BY name) FROM {HISTORY_TABLE}")
    assert names == "0001_prerequisites.sql,0002_sessions.sql"
    # Once the lock is gone the same run completes.
    assert [o.action for o in apply(database).outcomes] == ["skipped", "skipped", "applied", "applied", "applied"]


def test_recreate_backs_up_and_the_restore_brings_everything_back(database: Database) -> None:
    with database.connect() as conn:
        add_sample_data(conn)
        hand_migrate(conn)
    apply(database)
    with database.connect() as conn:
        conn.execute("INSERT INTO chat_messages (session_id, sender_type, content) "
                     "VALUES ('chat-new-1', 'user', '안녕')")
        before = snapshot(conn)
        links = conn.execute("SELECT count(*) FROM conversation_memories WHERE session_id IS NOT NULL"
                             ).fetchone()
    result = apply(database, recreate=True)
    assert result.recreated is not None
    schema = result.recreated.schema
    with database.connect() as conn:
        assert conn.execute(f'SELECT count(*) FROM "{schema}".chat_sessions').fetchone() == (4,)
        assert conn.execute(f'SELECT count(*) FROM "{schema}".conversation_memories_session').fetchone() == links
        # Recreated: every memory linked to its user's one migrated session, counts right.
        assert conn.execute("SELECT count(*) FROM chat_sessions").fetchone() == (3,)
        assert conn.execute("SELECT count(*) FROM conversation_memories WHERE session_id IS NULL"
                            ).fetchone() == (0,)
        # No memory was lost: 3 users x 4, plus the two added after the hand migration.
        assert conn.execute("SELECT count(*) FROM conversation_memories").fetchone() == (14,)
        # chat_messages keeps its rows (DROP ... CASCADE took only its key into chat_sessions).
        assert conn.execute("SELECT count(*) FROM chat_messages").fetchone() == (1,)
        comment = conn.execute("SELECT obj_description(%s::regnamespace)", [schema]).fetchone()
        assert comment and result.recreated.restore_sql in comment[0]
        # The printed restore works: sessions and links exactly as before.
        conn.execute(result.recreated.restore_sql.encode())
        restored = conn.execute(DATA_QUERIES["chat_sessions"][1]).fetchall()
    with database.connect() as conn:
        conn.execute(f'DROP SCHEMA "{schema}" CASCADE')
        # --yes's repairs bring chat_messages' key back, valid again now that its session is back.
        assert [o.status for o in apply_repairs(conn, plan_repairs(conn))] == ["applied"]
        assert find_drift(conn) == []
        state = snapshot(conn)
    assert before["memories"] and before["chat_sessions"]  # there was something to lose
    assert restored == before["chat_sessions"]
    assert state["chat_sessions"] == before["chat_sessions"]
    assert state["memories"] == before["memories"]  # every memory, its session link included
    assert state["users"] == before["users"]
    assert state["chat_messages"] == before["chat_messages"]


def test_read_plan_is_read_only_on_an_empty_database(database: Database) -> None:
    with database.connect() as conn:
        conn.execute("SET default_transaction_read_only = on")
        plan = read_plan(conn, load_migrations())
    assert [item.state for item in plan] == ["pending"] * len(load_migrations())
    assert database.scalar(f"SELECT to_regclass('{HISTORY_TABLE}')") is None


def test_runner_needs_autocommit(database: Database) -> None:
    with (
        psycopg.connect(**database.server.conninfo(database.name)) as conn,  # type: ignore[arg-type]
        pytest.raises(ValueError),
    ):
        Runner(conn, load_migrations())


# --- what a file declares about itself: its plan sentences and its notices ---------------------------------

# The checksums the previous release (before the files declared their plan and notices) recorded.
PREVIOUS_RELEASE = {
    "0001_prerequisites.sql": "74b184a18b3db35877c336c531754ed3148dc4e15645d687cf2759a3e120b58e",
    "0002_sessions.sql": "f78350636c4047ef023b7dba57fc396a52484ad2ac2983366ffec6bb1745a0c9",
    "0003_chat_sessions.sql": "99e3d37e0469de8a6ef42f8473663bb5b9852dd2e9693b36eca65f019d4b5897",
    "0004_memory_tables.sql": "fe637be271134c0f068c4c5360a58313049b03aa3f1152736cca06f52bd512ec",
    "0005_chat_messages.sql": "ceda23938c6925620850154ea206a5896c66da49b887f8edb7f0851a3d2d8a0c",
}

# 0003 as it was before its sessions' last message was joined back instead of sorted out of every memory.
RELEASE_BEFORE_THE_JOINED_LAST_MESSAGE = {
    "0003_chat_sessions.sql": "2560942379a4571fe76cb50ac7e2e8b8d3cedbf1590d09926592d832f8fc35d4",
}


@pytest.mark.parametrize("release", [PREVIOUS_RELEASE, RELEASE_BEFORE_THE_JOINED_LAST_MESSAGE],
                         ids=["before_declarations", "before_the_joined_last_message"])
def test_a_database_recorded_by_the_previous_release_counts_as_applied(database: Database, tmp_path: Path,
                                                                       release: dict[str, str]) -> None:
    assert set(release) <= {m.name for m in load_migrations()}
    apply(database)
    with database.connect() as conn:
        for name, checksum in release.items():
            conn.execute(f"UPDATE {HISTORY_TABLE} SET checksum = %s WHERE name = %s", [checksum, name])
        assert {item.state for item in read_plan(conn, load_migrations())} == {"applied"}
    assert {o.action for o in apply(database).outcomes} == {"skipped"}
    assert items(tmp_path, dsn=database.url)["checksums"].status.name == "OK"


def test_plan_and_notice_lines_are_words_not_sql(tmp_path: Path) -> None:
    """Rewording what a file says about itself leaves its checksum alone; changing its SQL does not."""
    before = {m.name: m.checksum for m in load_migrations()}
    folder = tmp_path / "sql"
    shutil.copytree(sql_dir(), folder)
    path = folder / "0002_sessions.sql"
    text = path.read_text("utf-8")
    path.write_text(text.replace("setup_wizard:plan: sessions 테이블을", "setup_wizard:plan: 새 sessions 테이블을")
                    .replace("setup_wizard:plan-when:", "setup_wizard:notice: extra 더한 알림입니다.\n"
                             "-- setup_wizard:plan-when:"), "utf-8")
    reworded = {m.name: m for m in load_migrations(folder)}
    assert reworded["0002_sessions.sql"].plan[1].text.startswith("새 sessions")
    assert reworded["0002_sessions.sql"].notices == (("extra", "더한 알림입니다."),)
    assert {name: m.checksum for name, m in reworded.items()} == before
    path.write_text(text.replace("CREATE TABLE IF NOT EXISTS sessions", "CREATE TABLE IF NOT EXISTS  sessions"))
    assert load_migrations(folder)[1].checksum != before["0002_sessions.sql"]


def test_a_new_migration_declares_its_plan_and_notices_without_code(database: Database, tmp_path: Path) -> None:
    """A probe file with its plan sentences and its notice in its header: the preview and the summary tell
    them, with no line of code knowing the file."""
    from setup_wizard.database.preview import describe_pending, summarise_notices

    migrations = load_migrations(probe_dir(tmp_path))
    with database.connect() as conn:
        assert describe_pending(conn, ["0099_probe.sql"], migrations) == [("0099_probe.sql",
                                                                          "비어 있는 시험용 표를 만듭니다.")]
        add_sample_data(conn, users=1203, per_user=1)
        plan = dict(describe_pending(conn, [m.name for m in migrations], migrations))
        assert plan["0099_probe.sql"] == "사용자 1,203명을 시험용 표에 적습니다."
        result = Runner(conn, migrations).apply()
    notices = [notice for outcome in result.outcomes for notice in outcome.notices]
    assert "setup_wizard:probe-written users=1203 table=probe (user_id)" in notices
    summary = summarise_notices(notices, migrations=migrations)
    assert "시험용 표에 사용자 1,203명을 적었습니다 (probe (user_id))." in summary
    assert not any(text.startswith("setup_wizard:") for text in summary)


def test_a_plan_query_that_fails_says_only_which_file_is_applied(database: Database, tmp_path: Path) -> None:
    """A declared query that does not run here (its table is missing) costs the preview its sentence,
    not the run: the file is named as PLAN_GENERIC names it, and the connection is still usable."""
    from setup_wizard.database.preview import describe_pending
    from setup_wizard.messages import migrations as msg

    folder = probe_dir(tmp_path)
    (folder / "0099_probe.sql").write_text(PROBE.replace("to_regclass('users') IS NULL", "count(*) FROM nowhere"))
    (folder / "0098_typo.sql").write_text("-- setup_wizard:plan-when: SELECT 1 AS one\n-- setup_wizard:plan: {two}\n")
    migrations = load_migrations(folder)
    with database.connect() as conn:
        plan = dict(describe_pending(conn, [m.name for m in migrations], migrations))
        assert plan["0099_probe.sql"] == msg.PLAN_GENERIC.format(name="0099_probe.sql")
        assert plan["0098_typo.sql"] == msg.PLAN_GENERIC.format(name="0098_typo.sql")
        assert msg.PLAN_GENERIC.format(name="0001_prerequisites.sql") != plan["0001_prerequisites.sql"]
        assert conn.execute("SELECT 1").fetchone() == (1,)


def test_every_shipped_file_says_what_it_will_do_before_and_after(database: Database) -> None:
    """Each file's declared plan queries run on an empty and on a migrated database."""
    from setup_wizard.database.preview import describe_pending
    from setup_wizard.messages import migrations as msg

    names = [m.name for m in load_migrations()]
    generic = {msg.PLAN_GENERIC.format(name=name) for name in names}
    with database.connect() as conn:
        assert not generic & {text for _, text in describe_pending(conn, names)}
        add_sample_data(conn)
        Runner(conn, load_migrations()).apply()
        assert not generic & {text for _, text in describe_pending(conn, names)}
