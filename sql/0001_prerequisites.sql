-- 0001_prerequisites.sql
--
-- The backend's own objects that the chat-session migration builds on: the enum `usertype`, the
-- tables `users` and `conversation_memories`. Each is created only when it is missing and is never
-- altered when present, so the backend's SQLAlchemy models later find them as they expect.
-- setup_wizard:plan-when: SELECT string_agg(name, ', ' ORDER BY n) AS names FROM (VALUES (1, 'usertype', to_regtype('usertype')::text), (2, 'users', to_regclass('users')::text), (3, 'conversation_memories', to_regclass('conversation_memories')::text)) AS o (n, name, found) WHERE found IS NULL HAVING count(*) > 0
-- setup_wizard:plan: 없는 테이블과 형식을 만듭니다: {names}
-- setup_wizard:plan: users, conversation_memories 가 이미 있어 그대로 둡니다.
--
-- Safe to run any number of times. By hand:
--   psql "postgresql://postgres:PASSWORD@localhost:5432/real_estate" -1 -f sql/0001_prerequisites.sql

DO $$
BEGIN
    IF to_regtype('usertype') IS NULL THEN
        CREATE TYPE usertype AS ENUM ('ADMIN', 'USER', 'AGENT');
    END IF;
END
$$;

CREATE TABLE IF NOT EXISTS users (
    id          serial       PRIMARY KEY,
    email       varchar(200) NOT NULL UNIQUE,
    type        usertype     NOT NULL,
    is_active   boolean      DEFAULT true,
    created_at  timestamptz  DEFAULT now(),
    updated_at  timestamptz
);

-- The index comes with the table, in the same block: an existing table is left exactly as it is.
DO $$
BEGIN
    IF to_regclass('conversation_memories') IS NULL THEN
        CREATE TABLE conversation_memories (
            id                     uuid         PRIMARY KEY DEFAULT gen_random_uuid(),
            user_id                integer      NOT NULL REFERENCES users (id) ON DELETE CASCADE,
            query                  text         NOT NULL,
            response_summary       text         NOT NULL,
            relevance              varchar(20)  NOT NULL,
            intent_detected        varchar(50),
            entities_mentioned     jsonb,
            created_at             timestamptz  NOT NULL DEFAULT now(),
            conversation_metadata  jsonb
        );
        CREATE INDEX idx_conv_mem_user_created ON conversation_memories (user_id, created_at);
    END IF;
END
$$;
