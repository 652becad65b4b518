"""Test helpers: sample data, a database migrated by the runner, a seed-style hand migration, the tables the
backend's models create, SQL run on a test database, and a snapshot of schema and data."""

from __future__ import annotations

from typing import Any

import psycopg
from support.databases import Database

from setup_wizard.database.migrate import Runner
from setup_wizard.database.migration_files import load_migrations

PREREQUISITES = next(m for m in load_migrations() if m.name.startswith("0001")).text


def planned(name: str, case: int) -> str:
    """The plan sentence file `name` declares as its case number `case` (-- setup_wizard:plan:, from 0)."""
    return next(m for m in load_migrations() if m.name == name).plan[case].text


def noticed(tag: str) -> str:
    """The Korean sentence a file declares for its notice `setup_wizard:<tag>` (-- setup_wizard:notice:)."""
    return next(text for m in load_migrations() for declared, text in m.notices if declared == tag)


def add_sample_data(conn: psycopg.Connection[Any], users: int = 3, per_user: int = 4) -> None:
    """Users 1..N (id 1 included) and memories spread over time, newest last per user."""
    conn.execute(PREREQUISITES.encode())
    conn.execute(
        """INSERT INTO users (email, type)
           SELECT 'user' || g || '@example.com', 'USER' FROM generate_series(1, %s) AS g""",
        [users],
    )
    conn.execute(
        """INSERT INTO conversation_memories (user_id, query, response_summary, relevance, created_at)
           SELECT u, '질문 ' || u || '-' || n || ' ' || repeat('가', 120), '요약', 'HIGH',
                  timestamptz '2025-01-01' + (u * 100 + n) * interval '1 minute'
             FROM generate_series(1, %s) AS u, generate_series(1, %s) AS n""",
        [users, per_user],
    )


# The end state of the seed's recreate_chat_sessions.sql, run by hand by a teammate, then used:
# no ON DELETE CASCADE / NOT NULL on chat_sessions.user_id, no defaults on the timestamps, its own
# AFTER INSERT trigger; this one also lacks an index and the foreign key, and carries a second
# counting trigger someone added by hand.
SEED_HAND_MIGRATION = """
CREATE TABLE chat_sessions (
    session_id VARCHAR(100) PRIMARY KEY,
    user_id INTEGER REFERENCES users(id),
    title VARCHAR(200) DEFAULT '새 대화',
    last_message TEXT,
    message_count INTEGER DEFAULT 0,
    created_at TIMESTAMP WITH TIME ZONE,
    updated_at TIMESTAMP WITH TIME ZONE,
    is_active BOOLEAN DEFAULT TRUE,
    metadata JSONB
);
ALTER TABLE conversation_memories ADD COLUMN session_id VARCHAR(100);
CREATE INDEX idx_chat_sessions_user_id ON chat_sessions(user_id);
CREATE INDEX idx_chat_sessions_updated_at ON chat_sessions(updated_at DESC);
CREATE INDEX idx_conv_mem_session_id ON conversation_memories(session_id);

CREATE OR REPLACE FUNCTION update_chat_session_timestamp() RETURNS TRIGGER AS $$
BEGIN NEW.updated_at = NOW(); RETURN NEW; END; $$ LANGUAGE plpgsql;
CREATE TRIGGER trigger_update_chat_session_timestamp BEFORE UPDATE ON chat_sessions
    FOR EACH ROW EXECUTE FUNCTION update_chat_session_timestamp();

CREATE OR REPLACE FUNCTION update_session_message_count() RETURNS TRIGGER AS $$
BEGIN
    UPDATE chat_sessions SET message_count = message_count + 1,
           last_message = LEFT(NEW.query, 100), updated_at = NOW()
     WHERE session_id = NEW.session_id;
    RETURN NEW;
END; $$ LANGUAGE plpgsql;
CREATE TRIGGER trigger_update_session_message_count AFTER INSERT ON conversation_memories
    FOR EACH ROW EXECUTE FUNCTION update_session_message_count();
CREATE TRIGGER count_messages_again AFTER INSERT ON conversation_memories
    FOR EACH ROW EXECUTE FUNCTION update_session_message_count();

INSERT INTO chat_sessions (session_id, user_id, title, message_count, created_at, updated_at)
SELECT 'session-migrated-' || user_id || '-1700000000', user_id, '이전 대화 (마이그레이션)', count(*),
       min(created_at), max(created_at)
  FROM conversation_memories GROUP BY user_id;
UPDATE conversation_memories SET session_id = 'session-migrated-' || user_id || '-1700000000';
-- A chat made after the migration, and a memory that never got a session.
INSERT INTO chat_sessions (session_id, user_id, title, message_count, created_at, updated_at)
VALUES ('chat-new-1', 1, '강남 전세', 0, now(), now());
"""


def hand_migrate(conn: psycopg.Connection[Any]) -> None:
    conn.execute(SEED_HAND_MIGRATION.encode())
    # Mimic the backend's two triggers counting one insert: that is the bug we must not keep.
    conn.execute(
        """INSERT INTO conversation_memories (user_id, query, response_summary, relevance, session_id)
           VALUES (1, '새 채팅 질문', '요약', 'HIGH', 'chat-new-1'),
                  (2, '세션 없는 질문', '요약', 'LOW', NULL)"""
    )


def migrate(database: Database, dev_user: bool = True) -> None:
    with database.connect() as conn:
        Runner(conn, load_migrations()).apply()
        if dev_user:
            conn.execute("INSERT INTO users (id, email, type) VALUES (1, 'dev@example.com', 'ADMIN')")


def run_sql(database: Database, text: str, params: object = None) -> None:
    with database.connect() as conn:
        conn.execute(text.encode() if params is None else text, params)  # type: ignore[arg-type]


# What Base.metadata.create_all emits for the backend's models (app/models/users.py, chat.py, memory.py,
# session.py at 0564bfb): PostgreSQL's own constraint names, ascending indexes, extra ix_* indexes and no
# database defaults where the model sets them in Python.
MODELS_DDL = """
CREATE TYPE usertype AS ENUM ('ADMIN', 'USER', 'AGENT');
CREATE TABLE users (
    id SERIAL NOT NULL, email VARCHAR(200) NOT NULL, type usertype NOT NULL, is_active BOOLEAN,
    created_at TIMESTAMP WITH TIME ZONE DEFAULT now(), updated_at TIMESTAMP WITH TIME ZONE, PRIMARY KEY (id));
CREATE UNIQUE INDEX ix_users_email ON users (email);
CREATE INDEX ix_users_id ON users (id);
CREATE TABLE chat_sessions (
    session_id VARCHAR(100) NOT NULL, user_id INTEGER NOT NULL, title VARCHAR(200) NOT NULL, last_message TEXT,
    message_count INTEGER, created_at TIMESTAMP WITH TIME ZONE DEFAULT now() NOT NULL,
    updated_at TIMESTAMP WITH TIME ZONE DEFAULT now() NOT NULL, is_active BOOLEAN, metadata JSONB,
    PRIMARY KEY (session_id), FOREIGN KEY(user_id) REFERENCES users (id) ON DELETE CASCADE);
CREATE INDEX idx_chat_sessions_user_id ON chat_sessions (user_id);
CREATE INDEX idx_chat_sessions_updated_at ON chat_sessions (updated_at);
CREATE INDEX idx_chat_sessions_user_updated ON chat_sessions (user_id, updated_at);
CREATE INDEX ix_chat_sessions_user_id ON chat_sessions (user_id);
CREATE TABLE chat_messages (
    id UUID NOT NULL, session_id VARCHAR(100) NOT NULL, sender_type VARCHAR(20) NOT NULL, content TEXT NOT NULL,
    created_at TIMESTAMP WITH TIME ZONE DEFAULT now(), PRIMARY KEY (id),
    FOREIGN KEY(session_id) REFERENCES chat_sessions (session_id) ON DELETE CASCADE);
CREATE INDEX ix_chat_messages_session_id ON chat_messages (session_id);
CREATE TABLE sessions (
    session_id VARCHAR(100) NOT NULL, user_id INTEGER, metadata TEXT,
    created_at TIMESTAMP WITH TIME ZONE DEFAULT now() NOT NULL, expires_at TIMESTAMP WITH TIME ZONE NOT NULL,
    last_activity TIMESTAMP WITH TIME ZONE DEFAULT now() NOT NULL, request_count INTEGER NOT NULL,
    PRIMARY KEY (session_id));
CREATE INDEX idx_expires_at ON sessions (expires_at);
CREATE INDEX ix_sessions_session_id ON sessions (session_id);
CREATE INDEX ix_sessions_user_id ON sessions (user_id);
CREATE TABLE conversation_memories (
    id UUID NOT NULL, user_id INTEGER NOT NULL, query TEXT NOT NULL, response_summary TEXT NOT NULL,
    relevance VARCHAR(20) NOT NULL, intent_detected VARCHAR(50), entities_mentioned JSONB,
    created_at TIMESTAMP WITH TIME ZONE DEFAULT now() NOT NULL, conversation_metadata JSONB,
    session_id VARCHAR(100), PRIMARY KEY (id),
    FOREIGN KEY(user_id) REFERENCES users (id) ON DELETE CASCADE,
    FOREIGN KEY(session_id) REFERENCES chat_sessions (session_id) ON DELETE CASCADE);
CREATE INDEX idx_conv_mem_user_created ON conversation_memories (user_id, created_at);
CREATE INDEX idx_conv_mem_relevance ON conversation_memories (relevance);
CREATE INDEX idx_conv_mem_session_id ON conversation_memories (session_id);
CREATE INDEX idx_conv_mem_session_created ON conversation_memories (session_id, created_at);
CREATE INDEX ix_conversation_memories_user_id ON conversation_memories (user_id);
CREATE INDEX ix_conversation_memories_session_id ON conversation_memories (session_id);
CREATE TABLE user_preferences (
    id SERIAL NOT NULL, user_id INTEGER NOT NULL, preferences JSONB NOT NULL,
    created_at TIMESTAMP WITH TIME ZONE DEFAULT now() NOT NULL, updated_at TIMESTAMP WITH TIME ZONE DEFAULT now(),
    PRIMARY KEY (id), FOREIGN KEY(user_id) REFERENCES users (id) ON DELETE CASCADE, UNIQUE (user_id));
CREATE TABLE entity_memories (
    id UUID NOT NULL, user_id INTEGER NOT NULL, entity_type VARCHAR(50) NOT NULL, entity_id VARCHAR(100) NOT NULL,
    entity_name VARCHAR(200), mention_count INTEGER,
    first_mentioned_at TIMESTAMP WITH TIME ZONE DEFAULT now() NOT NULL,
    last_mentioned_at TIMESTAMP WITH TIME ZONE DEFAULT now(), entity_context JSONB,
    PRIMARY KEY (id), CONSTRAINT uq_user_entity UNIQUE (user_id, entity_type, entity_id),
    FOREIGN KEY(user_id) REFERENCES users (id) ON DELETE CASCADE);
CREATE INDEX idx_entity_mem_user_type ON entity_memories (user_id, entity_type);
CREATE INDEX idx_entity_mem_entity ON entity_memories (entity_type, entity_id);
CREATE INDEX ix_entity_memories_user_id ON entity_memories (user_id);
INSERT INTO users (id, email, type) VALUES (1, 'dev@example.com', 'ADMIN');
INSERT INTO chat_sessions (session_id, user_id, title) VALUES ('s-1', 1, '첫 대화');
INSERT INTO conversation_memories (id, user_id, query, response_summary, relevance, session_id)
VALUES (gen_random_uuid(), 1, '질문', '요약', 'RELEVANT', 's-1');
"""


SNAPSHOT_QUERIES = {
    "columns": """SELECT c.relname, a.attname, format_type(a.atttypid, a.atttypmod), a.attnotnull,
                         pg_get_expr(d.adbin, d.adrelid)
                    FROM pg_attribute a JOIN pg_class c ON c.oid = a.attrelid
                    JOIN pg_namespace n ON n.oid = c.relnamespace
                    LEFT JOIN pg_attrdef d ON d.adrelid = a.attrelid AND d.adnum = a.attnum
                   WHERE n.nspname = 'public' AND c.relkind = 'r' AND a.attnum > 0
                     AND NOT a.attisdropped ORDER BY 1, 2""",
    "indexes": "SELECT indexname, indexdef FROM pg_indexes WHERE schemaname = 'public' ORDER BY 1",
    "constraints": """SELECT conrelid::regclass::text, conname, pg_get_constraintdef(oid), convalidated
                        FROM pg_constraint WHERE connamespace = 'public'::regnamespace ORDER BY 1, 2""",
    "triggers": """SELECT tgrelid::regclass::text, tgname, pg_get_triggerdef(oid) FROM pg_trigger
                    WHERE NOT tgisinternal ORDER BY 1, 2""",
    "functions": """SELECT proname, md5(prosrc) FROM pg_proc
                     WHERE pronamespace = 'public'::regnamespace ORDER BY 1""",
    "schemas": "SELECT nspname FROM pg_namespace WHERE nspname NOT LIKE 'pg\\_%' ORDER BY 1",
}

# The rows themselves (the sample data is small), so a failing comparison shows which row moved.
# Each key names the table it reads: a table that does not exist snapshots as None, and the key can
# no longer name a table that is not there (it once read "memories", so the memories were never compared).
DATA_QUERIES: dict[str, tuple[str, str]] = {
    "users": ("users", "SELECT u::text FROM users u ORDER BY id"),
    # Every column, session_id included: the links the --recreate restore must bring back.
    "memories": ("conversation_memories", "SELECT m::text FROM conversation_memories m ORDER BY id"),
    "chat_sessions": ("chat_sessions", "SELECT s::text FROM chat_sessions s ORDER BY session_id"),
    "chat_messages": ("chat_messages", "SELECT m::text FROM chat_messages m ORDER BY id"),
    "history": ("setup_wizard_migrations",
                "SELECT name, checksum, kind, applied_at::text FROM setup_wizard_migrations ORDER BY name"),
}


def snapshot(conn: psycopg.Connection[Any]) -> dict[str, Any]:
    state: dict[str, Any] = {k: conn.execute(q).fetchall() for k, q in SNAPSHOT_QUERIES.items()}
    for key, (table, query) in DATA_QUERIES.items():
        assert f" FROM {table} " in query, (key, table)
        exists = conn.execute("SELECT to_regclass(%s) IS NOT NULL", [table]).fetchone()
        state[key] = conn.execute(query).fetchall() if exists and exists[0] else None
    return state


def counting_triggers(conn: psycopg.Connection[Any]) -> list[str]:
    rows = conn.execute(
        """SELECT tg.tgname FROM pg_trigger tg JOIN pg_proc p ON p.oid = tg.tgfoid
            WHERE tg.tgrelid = 'conversation_memories'::regclass AND NOT tg.tgisinternal
              AND p.prosrc ILIKE '%message_count%' ORDER BY 1"""
    ).fetchall()
    return [r[0] for r in rows]
