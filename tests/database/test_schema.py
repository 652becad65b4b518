"""The contract against the real server: memory tables, a database made by the backend's models,
counting triggers that are not ours, drift repaired without losing a row, and the search_path."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import psycopg
import pytest
from support.checklist import items
from support.databases import Database
from support.dbstate import MODELS_DDL, add_sample_data, hand_migrate, noticed, planned, run_sql

from setup_wizard.database import contract, live_schema
from setup_wizard.database.contract import COUNTING_PATTERN
from setup_wizard.database.drift import find_drift
from setup_wizard.database.live_schema import counting_triggers
from setup_wizard.database.migrate import Runner
from setup_wizard.database.migration_files import load_migrations, sql_dir
from setup_wizard.database.migration_history import HISTORY_TABLE
from setup_wizard.database.preview import describe_pending, summarise_notices
from setup_wizard.database.repair import apply_repairs, plan_repairs
from setup_wizard.database.verify import verification_rows
from setup_wizard.messages import finish as msg
from setup_wizard.results import Status


def migrate(conn: psycopg.Connection[Any]) -> list[str]:
    result = Runner(conn, load_migrations()).apply()
    return [notice for outcome in result.outcomes for notice in outcome.notices]


def data(conn: psycopg.Connection[Any]) -> dict[str, Any]:
    """Every row of the backend's tables, as text, for before/after comparisons."""
    out = {}
    for table, key in (("users", "id"), ("conversation_memories", "id"), ("sessions", "session_id"),
                       ("chat_sessions", "session_id"), ("user_preferences", "id"), ("entity_memories", "id")):
        if conn.execute("SELECT to_regclass(%s) IS NOT NULL", [table]).fetchone() == (True,):
            out[table] = conn.execute(f"SELECT {key}::text, t::text FROM {table} AS t ORDER BY 1").fetchall()
    return out


def full_run_with_data(database: Database) -> psycopg.Connection[Any]:
    conn = database.connect()
    add_sample_data(conn, users=3, per_user=4)
    migrate(conn)
    conn.execute("""INSERT INTO sessions (session_id, user_id, expires_at)
                    VALUES ('http-1', 1, now() + interval '1 day');
                    INSERT INTO user_preferences (user_id, preferences) VALUES (1, '{"region": "강남"}');
                    INSERT INTO entity_memories (user_id, entity_type, entity_id, entity_name)
                    VALUES (2, 'region', '11680', '강남구')""".encode())
    return conn


# --- one place --------------------------------------------------------------------------------------------

def test_the_counting_test_in_0003_is_the_contracts() -> None:
    text = (sql_dir() / "0003_chat_sessions.sql").read_text(encoding="utf-8")
    assert text.count(COUNTING_PATTERN) == 2  # the step that drops counting triggers, and the plan that names them
    assert contract.COUNTED_SESSIONS in text and contract.COUNTERS_DISAGREE in text  # the recount


def test_checkpoint_tables_are_stated_once() -> None:
    from setup_wizard.database import checkpoints

    assert checkpoints.TABLES is contract.CHECKPOINT_TABLES


# --- the memory tables ------------------------------------------------------------------------------------

def test_memory_tables_are_created_used_and_cascade(database: Database) -> None:
    with database.connect() as conn:
        assert dict(describe_pending(conn, ["0004_memory_tables.sql"]))["0004_memory_tables.sql"] == (
            planned("0004_memory_tables.sql", 1))
        migrate(conn)
        assert find_drift(conn) == []
        conn.execute("INSERT INTO users (id, email, type) VALUES (7, 'u7@example.com', 'USER')")
        conn.execute("""INSERT INTO user_preferences (user_id) VALUES (7)""")
        conn.execute("""INSERT INTO entity_memories (user_id, entity_type, entity_id, entity_name)
                        VALUES (7, 'property', 'apt-1', '래미안')""")
        assert conn.execute("SELECT preferences::text, created_at IS NOT NULL FROM user_preferences").fetchone() == (
            "{}", True)
        assert conn.execute("SELECT mention_count, id IS NOT NULL FROM entity_memories").fetchone() == (1, True)
        with pytest.raises(psycopg.errors.UniqueViolation):
            conn.execute("""INSERT INTO entity_memories (user_id, entity_type, entity_id)
                            VALUES (7, 'property', 'apt-1')""")
        rows = {r.label: (r.total_rows, r.unique_users) for r in verification_rows(conn)}
        assert rows["user_preferences"] == (1, 1) and rows["entity_memories"] == (1, 1)
        conn.execute("DELETE FROM users WHERE id = 7")
        assert conn.execute("SELECT (SELECT count(*) FROM user_preferences) + (SELECT count(*) FROM entity_memories)"
                            ).fetchone() == (0,)
        indexes = {r[0] for r in conn.execute("SELECT indexname FROM pg_indexes WHERE schemaname = 'public'")}
        assert {"idx_entity_mem_user_type", "idx_entity_mem_entity", "idx_conv_mem_relevance"} <= indexes
        assert conn.execute("SELECT count(*) FROM pg_constraint WHERE conname = 'uq_user_entity'").fetchone() == (1,)


def test_the_verification_counts_users_exactly_with_and_without_the_user_key(database: Database) -> None:
    """The cheap verification query reads the same numbers as counting every memory by hand: the users of
    linked memories through users' key while a validated foreign key vouches for it, from the memories
    themselves once it does not (a memory of a user who is not in users still counts)."""
    truth = """SELECT count(*) FILTER (WHERE session_id IS NOT NULL),
                      count(DISTINCT user_id) FILTER (WHERE session_id IS NOT NULL),
                      count(*) FILTER (WHERE session_id IS NULL),
                      count(DISTINCT user_id) FILTER (WHERE session_id IS NULL)
                 FROM conversation_memories"""

    def read(conn: psycopg.Connection[Any]) -> tuple[int, ...]:
        rows = {r.label: (r.total_rows, r.unique_users) for r in verification_rows(conn)}
        return (*rows[msg.VERIFY_WITH_SESSION], *rows[msg.VERIFY_WITHOUT_SESSION])

    with database.connect() as conn:
        add_sample_data(conn, users=4, per_user=3)
        migrate(conn)
        # User 2 gets one unlinked memory beside its linked ones; user 5 has only unlinked memories.
        conn.execute("INSERT INTO users (id, email, type) VALUES (5, 'u5@example.com', 'USER')")
        conn.execute("""INSERT INTO conversation_memories (user_id, query, response_summary, relevance)
                        VALUES (2, 'q', 's', 'HIGH'), (5, 'q', 's', 'HIGH'), (5, 'q2', 's', 'HIGH')""")
        assert read(conn) == conn.execute(truth).fetchone() == (12, 4, 3, 2)
        # No foreign key any more: a memory may name a user that is not in users; it is still counted.
        conn.execute("ALTER TABLE conversation_memories DROP CONSTRAINT conversation_memories_user_id_fkey")
        session = conn.execute("SELECT session_id FROM chat_sessions WHERE user_id = 1").fetchone()
        assert session is not None
        conn.execute("""INSERT INTO conversation_memories (user_id, query, response_summary, relevance, session_id)
                        VALUES (99, 'q', 's', 'HIGH', %s)""", [session[0]])
        assert read(conn) == conn.execute(truth).fetchone() == (13, 5, 3, 2)


# --- a database made by the backend's own models ------------------------------------------------------------
# (support.dbstate.MODELS_DDL: what Base.metadata.create_all emits for them)

def session_keys(conn: psycopg.Connection[Any]) -> list[str]:
    return [r[0] for r in conn.execute("""
        SELECT conname FROM pg_constraint WHERE conrelid = 'conversation_memories'::regclass AND contype = 'f'
           AND confrelid = 'chat_sessions'::regclass ORDER BY 1""")]


def test_a_database_made_by_the_models_is_valid_as_it_is(database: Database, tmp_path: Path) -> None:
    with database.connect() as conn:
        conn.execute(MODELS_DDL.encode())
        # Before any migration: only what the models really lack (the triggers are ours to add), and the
        # one session's message_count, which the models leave to Python (NULL here, one memory).
        assert {d.code for d in find_drift(conn)} == {"trigger_missing", "counters_disagree"}
        notices = migrate(conn)
        assert find_drift(conn) == []
        assert session_keys(conn) == ["conversation_memories_session_id_fkey"]  # never a second key
        assert noticed("session-fk-kept").format(name="conversation_memories_session_id_fkey") in (
            summarise_notices(notices))
        assert plan_repairs(conn) == []
        # The backend's inserts still work and are counted once, on top of the memory counted by 0003.
        conn.execute("""INSERT INTO conversation_memories (id, user_id, query, response_summary, relevance, session_id)
                        VALUES (gen_random_uuid(), 1, '두 번째', '요약', 'RELEVANT', 's-1')""")
        assert conn.execute("SELECT message_count FROM chat_sessions").fetchone() == (2,)
    steps = items(tmp_path, dsn=database.url)
    for key in ("schema_tables", "schema_indexes", "schema_constraints", "schema_triggers", "search_path"):
        assert steps[key].status is Status.OK, (key, steps[key].detail)


def test_a_second_foreign_key_is_reported_and_dropped(database: Database, tmp_path: Path) -> None:
    with database.connect() as conn:
        conn.execute(MODELS_DDL.encode())
        migrate(conn)
        # What the first release of 0003 did on such a database.
        conn.execute("""ALTER TABLE conversation_memories ADD CONSTRAINT fk_conv_mem_session FOREIGN KEY (session_id)
                        REFERENCES chat_sessions (session_id) ON DELETE CASCADE""")
        drift = find_drift(conn)
        assert [(d.code, d.severity) for d in drift] == [("fk_duplicate", contract.WARN)]
    step = items(tmp_path, dsn=database.url)["schema_constraints"]
    assert step.status is Status.WARN and "fk_conv_mem_session" in step.detail
    assert "python -m setup_wizard --yes" in (step.fix or "")
    with database.connect() as conn:
        before = data(conn)
        outcomes = apply_repairs(conn, plan_repairs(conn))
        assert [o.status for o in outcomes] == ["applied"]
        assert session_keys(conn) == ["conversation_memories_session_id_fkey"]
        assert find_drift(conn) == [] and data(conn) == before


def test_duplicate_counting_triggers_are_reported(database: Database, tmp_path: Path) -> None:
    with database.connect() as conn:
        migrate(conn)
        conn.execute("INSERT INTO users (id, email, type) VALUES (1, 'dev@example.com', 'ADMIN')")
        conn.execute("""CREATE FUNCTION count_again() RETURNS trigger LANGUAGE plpgsql AS $$
                        BEGIN UPDATE public.chat_sessions SET message_count = message_count + 1
                               WHERE session_id = NEW.session_id; RETURN NEW; END $$;
                        CREATE TRIGGER zz_count_again AFTER INSERT ON conversation_memories
                        FOR EACH ROW EXECUTE FUNCTION count_again()""")
    step = items(tmp_path, dsn=database.url)["schema_triggers"]
    assert step.status is Status.FAIL and "zz_count_again" in step.detail
    assert "python -m setup_wizard --yes" in (step.fix or "")


# --- counting triggers that are not ours -------------------------------------------------------------------

TEAMMATE_TRIGGER = """
CREATE TABLE user_stats (user_id int PRIMARY KEY, message_count int NOT NULL DEFAULT 0);
CREATE FUNCTION bump_user_stats() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    INSERT INTO user_stats (user_id, message_count) VALUES (NEW.user_id, 1)
    ON CONFLICT (user_id) DO UPDATE SET message_count = user_stats.message_count + 1;
    RETURN NEW;
END $$;
CREATE TRIGGER keep_user_stats AFTER INSERT ON conversation_memories
    FOR EACH ROW EXECUTE FUNCTION bump_user_stats();
"""


def test_a_teammates_trigger_on_another_table_survives(database: Database) -> None:
    with database.connect() as conn:
        add_sample_data(conn)
        hand_migrate(conn)  # also carries a second trigger counting into chat_sessions
        conn.execute(TEAMMATE_TRIGGER.encode())
        assert [t.name for t in counting_triggers(conn)] == ["count_messages_again",
                                                             "trigger_update_session_message_count"]
        plan = dict(describe_pending(conn, ["0003_chat_sessions.sql"]))["0003_chat_sessions.sql"]
        assert "count_messages_again" in plan and "keep_user_stats" not in plan
        notices = migrate(conn)
        names = [r[0] for r in conn.execute("""SELECT tgname FROM pg_trigger WHERE NOT tgisinternal
                                                 AND tgrelid = 'conversation_memories'::regclass ORDER BY 1""")]
        assert names == ["keep_user_stats", "trigger_update_session_message_count"]
        dropped = [n for n in notices if n.startswith("setup_wizard:dropped-counting-trigger ")]
        assert dropped == ["setup_wizard:dropped-counting-trigger name=count_messages_again restore=CREATE TRIGGER "
                           "count_messages_again AFTER INSERT ON public.conversation_memories FOR EACH ROW EXECUTE "
                           "FUNCTION update_session_message_count()"]
        summary = "\n".join(summarise_notices(notices))
        assert "count_messages_again 트리거가" in summary and "CREATE TRIGGER count_messages_again" in summary
        stats_before = conn.execute("SELECT coalesce(sum(message_count), 0) FROM user_stats").fetchone()
        conn.execute("""INSERT INTO conversation_memories (user_id, query, response_summary, relevance, session_id)
                        VALUES (1, 'q', 's', 'HIGH', 'chat-new-1')""")
        assert conn.execute("SELECT coalesce(sum(message_count), 0) FROM user_stats").fetchone() == (
            stats_before[0] + 1,) if stats_before else False
        assert [d for d in find_drift(conn) if d.kind == "triggers"] == []


# --- drift after a full run, repaired without losing a row ----------------------------------------------

DRIFTS = {
    "chat_sessions dropped CASCADE": "DROP TABLE chat_sessions CASCADE",
    "sessions without request_count": "ALTER TABLE sessions DROP COLUMN request_count",
    "foreign keys without cascade": """
        ALTER TABLE chat_sessions DROP CONSTRAINT chat_sessions_user_id_fkey;
        ALTER TABLE chat_sessions ADD CONSTRAINT chat_sessions_user_id_fkey FOREIGN KEY (user_id) REFERENCES users (id);
        ALTER TABLE conversation_memories DROP CONSTRAINT fk_conv_mem_session;
        ALTER TABLE conversation_memories ADD CONSTRAINT fk_conv_mem_session FOREIGN KEY (session_id)
            REFERENCES chat_sessions (session_id);
        ALTER TABLE entity_memories DROP CONSTRAINT entity_memories_user_id_fkey;
        ALTER TABLE entity_memories ADD FOREIGN KEY (user_id) REFERENCES users (id)""",
    "an index dropped": "DROP INDEX idx_chat_sessions_user_updated; DROP INDEX idx_conv_mem_relevance",
    "a trigger dropped": "DROP TRIGGER trigger_update_session_message_count ON conversation_memories",
    "memory tables dropped": "DROP TABLE entity_memories; DROP TABLE user_preferences",
    "defaults and NOT NULL changed": """
        ALTER TABLE chat_sessions ALTER COLUMN updated_at DROP DEFAULT;
        ALTER TABLE sessions ALTER COLUMN user_id SET NOT NULL;
        ALTER TABLE chat_sessions ALTER COLUMN user_id DROP NOT NULL""",
}


@pytest.mark.slow
@pytest.mark.parametrize("change", list(DRIFTS), ids=list(DRIFTS))
def test_drift_is_repaired_and_every_row_kept(database: Database, tmp_path: Path, change: str) -> None:
    with full_run_with_data(database) as conn:
        before = data(conn)
        conn.execute(DRIFTS[change].encode())
        drift = find_drift(conn)
        assert drift
        lost = data(conn)  # what the change itself took (a dropped table's rows)
    steps = items(tmp_path, dsn=database.url)
    failing = [s for s in steps.values() if s.id.startswith("schema_") and s.status is not Status.OK]
    assert failing and all("python -m setup_wizard --yes" in (s.fix or "") for s in failing)
    with database.connect() as conn:
        repairs = plan_repairs(conn)
        assert repairs and all(r.safe for r in repairs), [(r.id, r.safe) for r in repairs]
        outcomes = apply_repairs(conn, repairs, lock_timeout=5)
        assert all(o.status in ("applied", "gone") for o in outcomes), outcomes
        assert find_drift(conn) == []
        assert plan_repairs(conn) == []
        after = data(conn)
        for table, rows in lost.items():
            # No row that the change left is lost (by key: an added column changes the row's text).
            assert {key for key, _row in rows} <= {key for key, _row in after[table]}, table
            if change != "sessions without request_count":
                assert set(rows) <= set(after[table]), table
        assert after["conversation_memories"] == before["conversation_memories"]
        assert after["users"] == before["users"]
        if change == "chat_sessions dropped CASCADE":
            # The sessions are back for every linked memory, and the key is valid again.
            assert conn.execute("""SELECT count(*) FROM conversation_memories AS m WHERE NOT EXISTS
                                   (SELECT 1 FROM chat_sessions AS s WHERE s.session_id = m.session_id)
                                   AND m.session_id IS NOT NULL""").fetchone() == (0,)
        kinds = conn.execute(f"SELECT count(*) FROM {HISTORY_TABLE} WHERE kind = 'repair'").fetchone()
        assert kinds is not None and kinds[0] >= 1
        # A rerun of the migrations has nothing to do.
        assert {o.action for o in Runner(conn, load_migrations()).apply().outcomes} == {"skipped"}


def test_an_older_history_table_accepts_repairs(database: Database) -> None:
    with full_run_with_data(database) as conn:
        conn.execute(f"""ALTER TABLE {HISTORY_TABLE} DROP CONSTRAINT setup_wizard_migrations_kind_check;
                         ALTER TABLE {HISTORY_TABLE} ADD CHECK (kind IN ('applied', 'baseline'))""".encode())
        conn.execute("DROP INDEX idx_expires_at")
        assert [o.status for o in apply_repairs(conn, plan_repairs(conn))] == ["applied"]
        assert find_drift(conn) == []


# --- what is not repaired: a fix that works --------------------------------------------------------------

MANUAL = {
    "a column of another type": ("ALTER TABLE chat_sessions ALTER COLUMN title TYPE text", "column_type"),
    "NULLs under a NOT NULL": ("""ALTER TABLE chat_sessions ALTER COLUMN user_id DROP NOT NULL;
                                 INSERT INTO chat_sessions (session_id, user_id) VALUES ('orphan', NULL)""",
                              "set_not_null"),
    "duplicates under a unique key": ("""ALTER TABLE user_preferences DROP CONSTRAINT user_preferences_user_id_key;
                                        INSERT INTO user_preferences (user_id) VALUES (1)""", "unique"),
}


@pytest.mark.parametrize("change", list(MANUAL), ids=list(MANUAL))
def test_what_is_not_safe_is_a_failing_item_whose_sql_works(database: Database, tmp_path: Path,
                                                            change: str) -> None:
    sql, prefix = MANUAL[change]
    with full_run_with_data(database) as conn:
        conn.execute(sql.encode())
        manual = [r for r in plan_repairs(conn) if not r.safe]
        assert [r.id.split(":")[0] for r in manual] == [prefix]
        assert apply_repairs(conn, manual) == []  # never applied by the wizard
    steps = items(tmp_path, dsn=database.url)
    shown = "\n".join(s.fix or "" for s in steps.values() if s.id.startswith("schema_"))
    assert manual[0].sql in shown and "0003" not in shown
    # The SQL a person is told to run really fixes it (here: with the duplicate row handled first).
    with database.connect() as conn:
        if prefix == "unique":
            conn.execute("DELETE FROM user_preferences WHERE id = (SELECT max(id) FROM user_preferences)")
            conn.execute(manual[0].sql.split("\n", 1)[1].encode())
        else:
            conn.execute(manual[0].sql.encode())
        assert find_drift(conn) == []


# --- the search_path ------------------------------------------------------------------------------------

def test_a_search_path_starting_elsewhere_keeps_the_tables_where_the_backend_has_them(database: Database,
                                                                                      tmp_path: Path) -> None:
    with database.connect() as conn:
        add_sample_data(conn)  # users and conversation_memories in public
        conn.execute("CREATE SCHEMA other")
        conn.execute(f'ALTER DATABASE "{database.name}" SET search_path = other, public')
    with database.connect() as conn:
        assert conn.execute("SELECT current_schema()").fetchone() == ("other",)
        assert live_schema.contract_schema(conn) == "public"
        migrate(conn)
        in_other = conn.execute("SELECT count(*) FROM pg_class WHERE relnamespace = 'other'::regnamespace"
                                ).fetchone()
        assert in_other == (0,)
        assert conn.execute("SELECT to_regclass('public.chat_sessions') IS NOT NULL").fetchone() == (True,)
        assert find_drift(conn) == []
        # A repair goes to public too.
        conn.execute("DROP INDEX public.idx_expires_at")
        assert [o.status for o in apply_repairs(conn, plan_repairs(conn))] == ["applied"]
        assert conn.execute("SELECT to_regclass('public.idx_expires_at') IS NOT NULL").fetchone() == (True,)
    steps = items(tmp_path, dsn=database.url)
    assert steps["search_path"].status is Status.OK and steps["schema_tables"].status is Status.OK
    # A table of the same name earlier on the path: the backend would read that one.
    run_sql(database, "CREATE TABLE other.chat_sessions (session_id text)")
    step = items(tmp_path, dsn=database.url)["search_path"]
    assert step.status is Status.WARN and step.code == "search_path_shadow"
    assert "chat_sessions" in step.detail and "other, public" in step.detail
    assert "ALTER ROLE" in (step.fix or "") and "search_path = public" in (step.fix or "")
    assert items(tmp_path, dsn=database.url)["schema_tables"].status is Status.OK  # read in public
    with database.connect() as conn:  # the verification reads public's chat_sessions, not the empty one
        assert verification_rows(conn)[0].total_rows == 3


def test_a_fresh_database_with_such_a_path_gets_its_tables_in_the_first_schema(database: Database) -> None:
    with database.connect() as conn:
        conn.execute("CREATE SCHEMA other")
        conn.execute(f'ALTER DATABASE "{database.name}" SET search_path = other, public')
    with database.connect() as conn:
        migrate(conn)
        assert live_schema.contract_schema(conn) == "other"
        assert conn.execute("SELECT to_regclass('other.users') IS NOT NULL, to_regclass('public.users') IS NULL"
                            ).fetchone() == (True, True)
        assert find_drift(conn) == []


# --- the final checklist the flow draws ---------------------------------------------------------------------

def test_the_checklist_names_each_object_and_the_fix(database: Database, tmp_path: Path) -> None:
    """The one checklist (`check`'s database items; the run's last screen is the same list read again)."""
    with full_run_with_data(database) as conn:
        items_ = items(tmp_path, dsn=database.url)
        assert all(items_[key].status is Status.OK for key in ("migrations", "checksums", "schema_tables",
                                                               "schema_indexes", "schema_constraints",
                                                               "schema_triggers", "search_path", "dev_user"))
        conn.execute("DROP TABLE entity_memories; ALTER TABLE chat_sessions ALTER COLUMN title TYPE text")
        tables = items(tmp_path, dsn=database.url)["schema_tables"]
        assert tables.status is Status.FAIL and "entity_memories" in tables.detail
        assert tables.code == "schema_drift"
        assert "python -m setup_wizard --yes" in (tables.fix or "")
        assert 'ALTER TABLE "chat_sessions" ALTER COLUMN "title" TYPE character varying(200)' in (tables.fix or "")


# --- tables the backend declares beyond the contract -----------------------------------------------------

MODEL_FILES = {
    "chat.py": 'class ChatSession(Base):\n    __tablename__ = "chat_sessions"\n\n\n'
               'class ChatMessage(Base):\n    __tablename__ = "chat_messages"\n',
    "real_estate.py": 'class Region(Base):\n    __tablename__ = "regions"\n\n\n'
                      'class RealEstate(Base):\n    """매물"""\n    __tablename__ = "real_estates"\n',
    "real_estate_old.py": 'class Old(Base):\n    __tablename__ = "old_copy"\n',
    "users.py": 'class User(Base):\n    __tablename__ = "users"\n',
    "broken.py": "def (:\n",
}


def test_tables_the_models_declare_beyond_the_contract_are_named(database: Database, tmp_path: Path) -> None:
    with database.connect() as conn:
        migrate(conn)
    assert items(tmp_path, dsn=database.url)["backend_tables"].status is Status.SKIP
    models = tmp_path / "backend" / "app" / "models"
    (models / "old").mkdir(parents=True)
    (models / "old" / "memory.py").write_text('class M(Base):\n    __tablename__ = "in_old_folder"\n', "utf-8")
    for name, text in MODEL_FILES.items():
        (models / name).write_text(text, "utf-8")
    step = items(tmp_path, dsn=database.url)["backend_tables"]
    assert step.status is Status.INFO and step.code == "backend_tables_missing"
    assert "real_estates, regions" in step.detail and "chat_messages" not in step.detail  # 0005 made it
    assert "old_copy" not in step.detail and "in_old_folder" not in step.detail
    assert "create_all" in (step.fix or "") and "init_db.py" in (step.fix or "")
    run_sql(database, "CREATE TABLE regions (id int); CREATE TABLE real_estates (id int)")
    assert items(tmp_path, dsn=database.url)["backend_tables"].status is Status.OK


def test_a_database_recorded_with_the_first_0003_counts_as_applied(database: Database) -> None:
    first_release = "b88c6fd9067b0167862a26ccacf1bd098aaec8784c18d00c558df4311d363ca6"
    with full_run_with_data(database) as conn:
        conn.execute(f"UPDATE {HISTORY_TABLE} SET checksum = %s WHERE name = '0003_chat_sessions.sql'",
                     [first_release])
        assert {o.action for o in Runner(conn, load_migrations()).apply().outcomes} == {"skipped"}
        conn.execute(f"UPDATE {HISTORY_TABLE} SET checksum = 'f00' WHERE name = '0003_chat_sessions.sql'")
        from setup_wizard.database.migration_history import read_plan

        assert [i.state for i in read_plan(conn, load_migrations())][2] == "changed"


@pytest.mark.slow
def test_a_repair_waits_no_longer_than_lock_timeout(database: Database) -> None:
    from setup_wizard.database.migrate import MigrationError

    with full_run_with_data(database) as conn:
        conn.execute("DROP INDEX idx_expires_at")
        holder = database.connect()
        holder.autocommit = False
        holder.execute("LOCK TABLE sessions IN ACCESS SHARE MODE")
        holder.execute("INSERT INTO sessions (session_id, expires_at) VALUES ('held', now())")
        try:
            with pytest.raises(MigrationError) as caught:
                apply_repairs(conn, plan_repairs(conn), lock_timeout=1)
        finally:
            holder.rollback()
            holder.close()
        assert caught.value.code == "lock_timeout" and "pid" in caught.value.detail
        assert conn.execute(f"SELECT count(*) FROM {HISTORY_TABLE} WHERE kind = 'repair'").fetchone() == (0,)
        assert [o.status for o in apply_repairs(conn, plan_repairs(conn))] == ["applied"]
