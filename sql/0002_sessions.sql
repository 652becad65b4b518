-- 0002_sessions.sql
--
-- `sessions`: the backend's SessionManager keeps its HTTP sessions here (the seed's
-- create_sessions_table.sql). Expired sessions are found through idx_expires_at.
--
-- setup_wizard:baseline-when: SELECT to_regclass('sessions') IS NOT NULL
--   (a table made by hand with the seed is recorded as a baseline; only a missing index is added)
-- setup_wizard:plan-when: SELECT WHERE to_regclass('sessions') IS NOT NULL
-- setup_wizard:plan: 이미 있는 sessions 테이블은 그대로 두고, 빠진 인덱스만 더합니다.
-- setup_wizard:plan: sessions 테이블을 만듭니다 (백엔드가 로그인 세션을 저장하는 곳).
--
-- Safe to run any number of times. By hand:
--   psql "postgresql://postgres:PASSWORD@localhost:5432/real_estate" -1 -f sql/0002_sessions.sql

CREATE TABLE IF NOT EXISTS sessions (
    session_id     varchar(100) PRIMARY KEY,
    user_id        integer,
    metadata       text,
    created_at     timestamptz  NOT NULL DEFAULT now(),
    expires_at     timestamptz  NOT NULL,
    last_activity  timestamptz  NOT NULL DEFAULT now(),
    request_count  integer      NOT NULL DEFAULT 0
);

CREATE INDEX IF NOT EXISTS idx_expires_at ON sessions (expires_at);
