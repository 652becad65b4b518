-- 0004_memory_tables.sql
--
-- The backend's long-term memory beside the chat (its app/models/memory.py and
-- migrations/create_memory_tables.sql): `user_preferences` (one row of preferences per user) and
-- `entity_memories` (the properties, regions and agents a user has mentioned), and the index on
-- conversation_memories(relevance). Without them the chat still answers, but every query that reads
-- or records preferences and entities fails.
--
-- Each object is created only when it is missing; an existing table (made by the backend's models,
-- or by hand) is left exactly as it is.
--
-- setup_wizard:baseline-when: SELECT to_regclass('user_preferences') IS NOT NULL AND to_regclass('entity_memories') IS NOT NULL
-- setup_wizard:plan-when: SELECT WHERE to_regclass('user_preferences') IS NOT NULL AND to_regclass('entity_memories') IS NOT NULL
-- setup_wizard:plan: user_preferences, entity_memories 가 이미 있어 그대로 두고, 빠진 인덱스만 더합니다.
-- setup_wizard:plan: user_preferences, entity_memories 테이블과 conversation_memories(relevance) 인덱스를 만듭니다 (백엔드가 사용자의 선호와 언급한 매물·지역을 기억하는 곳).
--
-- Safe to run any number of times. By hand:
--   psql "postgresql://postgres:PASSWORD@localhost:5432/real_estate" -1 -f sql/0004_memory_tables.sql

CREATE TABLE IF NOT EXISTS user_preferences (
    id          serial       PRIMARY KEY,
    user_id     integer      NOT NULL UNIQUE REFERENCES users (id) ON DELETE CASCADE,
    preferences jsonb        NOT NULL DEFAULT '{}',
    created_at  timestamptz  NOT NULL DEFAULT now(),
    updated_at  timestamptz  DEFAULT now()
);

CREATE TABLE IF NOT EXISTS entity_memories (
    id                  uuid          PRIMARY KEY DEFAULT gen_random_uuid(),
    user_id             integer       NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    entity_type         varchar(50)   NOT NULL,
    entity_id           varchar(100)  NOT NULL,
    entity_name         varchar(200),
    mention_count       integer       DEFAULT 1,
    first_mentioned_at  timestamptz   NOT NULL DEFAULT now(),
    last_mentioned_at   timestamptz   DEFAULT now(),
    entity_context      jsonb,
    CONSTRAINT uq_user_entity UNIQUE (user_id, entity_type, entity_id)
);

CREATE INDEX IF NOT EXISTS idx_entity_mem_user_type ON entity_memories (user_id, entity_type);
CREATE INDEX IF NOT EXISTS idx_entity_mem_entity    ON entity_memories (entity_type, entity_id);

-- The backend filters memories by relevance. Any index whose only key is `relevance` does that job
-- (the models create this one under the same name), so a second one is never built beside it.
DO $$
BEGIN
    IF NOT EXISTS (
        SELECT 1 FROM pg_index AS i
          JOIN pg_attribute AS a ON a.attrelid = i.indrelid AND a.attnum = i.indkey[0]
         WHERE i.indrelid = 'conversation_memories'::regclass
           AND i.indnkeyatts = 1 AND a.attname = 'relevance'
           AND i.indpred IS NULL AND i.indexprs IS NULL
    ) THEN
        CREATE INDEX idx_conv_mem_relevance ON conversation_memories (relevance);
    END IF;
END
$$;
