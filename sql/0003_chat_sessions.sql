-- 0003_chat_sessions.sql
--
-- GPT-style multi-chat: `chat_sessions`, the link `conversation_memories.session_id`, the triggers
-- that keep each session's message_count / last_message / updated_at right, and one
-- '이전 대화 (마이그레이션)' session per user for the memories that existed before.
--
-- Unlike the seed's recreate_chat_sessions.sql this never drops anything: every step adds only
-- what is missing. On a database migrated by hand with the seed (chat_sessions and the session_id
-- column already there) existing sessions and links are kept as they are; only missing indexes,
-- the foreign key and our triggers are added.
--
-- setup_wizard:baseline-when: SELECT to_regclass('chat_sessions') IS NOT NULL AND EXISTS (SELECT 1 FROM pg_attribute WHERE attrelid = to_regclass('conversation_memories') AND attname = 'session_id' AND NOT attisdropped)
--
-- setup_wizard:replaces-checksum: b88c6fd9067b0167862a26ccacf1bd098aaec8784c18d00c558df4311d363ca6
--   (the first release of this file: a database it was applied to needs nothing more from this version;
--    a second foreign key or a removed trigger it left is reported by `check` and repaired by --yes)
-- setup_wizard:replaces-checksum: 3392d3ded0612620c844ed234453bc1681c12b911ab43a56760a5b94dde0c6eb
--   (the second release, which installed the counting trigger without bringing the existing sessions'
--    counters in line: `check` reports sessions whose counters disagree, and --yes re-runs this file)
-- setup_wizard:replaces-checksum: 99e3d37e0469de8a6ef42f8473663bb5b9852dd2e9693b36eca65f019d4b5897
--   (the third release: the same steps, whose notices were English sentences instead of the tags below)
-- setup_wizard:replaces-checksum: 2560942379a4571fe76cb50ac7e2e8b8d3cedbf1590d09926592d832f8fc35d4
--   (the fourth release: the same sessions, whose last message was found by sorting every memory)
-- setup_wizard:plan-when: SELECT count(*) AS count, string_agg(tg.tgname, ', ' ORDER BY tg.tgname) AS names FROM pg_trigger AS tg JOIN pg_proc AS p ON p.oid = tg.tgfoid WHERE to_regclass('chat_sessions') IS NOT NULL AND EXISTS (SELECT 1 FROM pg_attribute WHERE attrelid = to_regclass('conversation_memories') AND attname = 'session_id' AND NOT attisdropped) AND tg.tgrelid = to_regclass('conversation_memories') AND NOT tg.tgisinternal AND tg.tgname <> 'trigger_update_session_message_count' AND p.prosrc ~* 'update\s+(only\s+)?("?\w+"?\.)?"?chat_sessions"?\s+(as\s+\w+\s+)?set\s[^;]*message_count' HAVING count(*) > 0
-- setup_wizard:plan: 손으로 마이그레이션한 chat_sessions 와 기존 연결은 그대로 두고, 빠진 인덱스·외래 키·트리거만 더합니다. 메시지를 두 번 세는 트리거 {count}개를 정리합니다: {names}
-- setup_wizard:plan-when: SELECT WHERE to_regclass('chat_sessions') IS NOT NULL AND EXISTS (SELECT 1 FROM pg_attribute WHERE attrelid = to_regclass('conversation_memories') AND attname = 'session_id' AND NOT attisdropped)
-- setup_wizard:plan: 손으로 마이그레이션한 chat_sessions 와 기존 연결은 그대로 두고, 빠진 인덱스·외래 키·트리거만 더합니다.
-- setup_wizard:plan-when: SELECT WHERE to_regclass('conversation_memories') IS NULL
-- setup_wizard:plan: chat_sessions 테이블과 트리거를 만듭니다. 옮길 기존 대화는 없습니다.
-- setup_wizard:plan-when: SELECT count(DISTINCT user_id) AS users, count(*) AS memories FROM conversation_memories HAVING count(*) > 0
-- setup_wizard:plan: chat_sessions 테이블을 만들고, 사용자 {users}명의 대화 {memories}개를 '이전 대화 (마이그레이션)' 세션으로 연결합니다.
-- setup_wizard:plan: chat_sessions 테이블과 트리거를 만듭니다. 옮길 기존 대화는 없습니다.
-- setup_wizard:notice: memories-migrated 사용자 {users}명의 기존 대화를 '이전 대화 (마이그레이션)' 세션 {sessions}개로 연결했습니다.
-- setup_wizard:notice: no-memories-to-migrate 옮길 기존 대화가 없었습니다.
-- setup_wizard:notice: links-kept conversation_memories.session_id 가 이미 있어 기존 연결을 그대로 두었습니다.
-- setup_wizard:notice: session-fk-kept conversation_memories.session_id 에는 외래 키({name})가 이미 있어 새로 만들지 않았습니다.
-- setup_wizard:notice: session-fk-not-valid 없는 세션을 가리키는 대화가 있어 외래 키 fk_conv_mem_session 을 검증하지 않은 채로 두었습니다 (새로 들어오는 행은 검사합니다).
-- setup_wizard:notice: dropped-counting-trigger {name} 트리거가 chat_sessions 의 메시지 수를 한 번 더 세고 있어서 지웠습니다. 꼭 다시 필요하면 아래 문장으로 되살릴 수 있습니다 (그러면 메시지가 다시 두 번 세어집니다):\n{restore};
--
-- Run it in one transaction. By hand:
--   psql "postgresql://postgres:PASSWORD@localhost:5432/real_estate" -1 -f sql/0003_chat_sessions.sql

-- 1. chat_sessions ---------------------------------------------------------------------------------

CREATE TABLE IF NOT EXISTS chat_sessions (
    session_id     varchar(100) PRIMARY KEY,
    user_id        integer      NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    title          varchar(200) NOT NULL DEFAULT '새 대화',
    last_message   text,
    message_count  integer      DEFAULT 0,
    created_at     timestamptz  NOT NULL DEFAULT now(),
    updated_at     timestamptz  NOT NULL DEFAULT now(),
    is_active      boolean      DEFAULT true,
    metadata       jsonb
);

-- The seed's table has no defaults on created_at / updated_at. Adding a default touches no row.
ALTER TABLE chat_sessions
    ALTER COLUMN title         SET DEFAULT '새 대화',
    ALTER COLUMN message_count SET DEFAULT 0,
    ALTER COLUMN created_at    SET DEFAULT now(),
    ALTER COLUMN updated_at    SET DEFAULT now(),
    ALTER COLUMN is_active     SET DEFAULT true;

CREATE INDEX IF NOT EXISTS idx_chat_sessions_user_id      ON chat_sessions (user_id);
CREATE INDEX IF NOT EXISTS idx_chat_sessions_updated_at   ON chat_sessions (updated_at DESC);
CREATE INDEX IF NOT EXISTS idx_chat_sessions_user_updated ON chat_sessions (user_id, updated_at DESC);

-- 2. conversation_memories.session_id, and the sessions for the memories that existed before --------
--
-- Only when the column is new. Every existing memory then goes to its user's one migrated session,
-- whose id is a function of the user id alone; so the column is filled in a single rewrite of the
-- table (ALTER COLUMN ... TYPE ... USING), which keeps the table, its grants and dependants and
-- rebuilds its indexes in bulk. An UPDATE of every row would maintain each index row by row and take
-- several times as long; the seed's per-user loop is quadratic.

DO $$
DECLARE
    -- now() is the transaction's start: the same value in every statement below.
    id_prefix   constant text := 'session-migrated-';
    id_suffix   constant text := '-' || to_char(now() AT TIME ZONE 'UTC', 'YYYYMMDDHH24MISS');
    n_sessions  bigint;
BEGIN
    IF EXISTS (
        SELECT 1 FROM pg_attribute
         WHERE attrelid = 'conversation_memories'::regclass
           AND attname = 'session_id' AND NOT attisdropped
    ) THEN
        RAISE NOTICE 'setup_wizard:links-kept';
        RETURN;
    END IF;

    -- One session per user: created when the user's first memory was, last_message from the latest.
    -- The latest memory is found by joining each user's last time back (one row per user, or a few on
    -- a tie), not by sorting every memory: 0.15-0.5 s instead of 0.9 s at a million memories.
    INSERT INTO chat_sessions (session_id, user_id, title, last_message, message_count,
                               created_at, updated_at)
    SELECT DISTINCT ON (per_user.user_id)
           id_prefix || per_user.user_id || id_suffix,
           per_user.user_id,
           '이전 대화 (마이그레이션)',
           left(latest.query, 100),
           per_user.n,
           per_user.first_at,
           per_user.last_at
      FROM (SELECT user_id, count(*) AS n, min(created_at) AS first_at, max(created_at) AS last_at
              FROM conversation_memories
             WHERE user_id IS NOT NULL
             GROUP BY user_id) AS per_user
      LEFT JOIN conversation_memories AS latest  -- LEFT: a user whose memories have no time still gets a session
        ON latest.user_id = per_user.user_id AND latest.created_at = per_user.last_at
     ORDER BY per_user.user_id
    ON CONFLICT (session_id) DO NOTHING;
    GET DIAGNOSTICS n_sessions = ROW_COUNT;

    ALTER TABLE conversation_memories ADD COLUMN session_id varchar(100);
    IF n_sessions > 0 THEN
        EXECUTE format(
            'ALTER TABLE conversation_memories ALTER COLUMN session_id TYPE varchar(100) '
            'USING (%L || user_id || %L)::varchar(100)', id_prefix, id_suffix);
    END IF;
    IF n_sessions > 0 THEN
        RAISE NOTICE 'setup_wizard:memories-migrated users=% sessions=%', n_sessions, n_sessions;
    ELSE
        RAISE NOTICE 'setup_wizard:no-memories-to-migrate';
    END IF;
END
$$;

-- 3. The foreign key ----------------------------------------------------------------------------------
--
-- Exactly one key may link conversation_memories.session_id to chat_sessions: when one exists under
-- any name (the backend's models call theirs conversation_memories_session_id_fkey) it is kept, never
-- doubled. Otherwise fk_conv_mem_session is added NOT VALID and then validated, so that a hand-migrated
-- database whose memories point at a session that no longer exists keeps every row: the key then stays
-- NOT VALID (new rows are still checked) and the wizard's check reports the orphans.

DO $$
DECLARE
    key_name   name;
    validated  boolean;
BEGIN
    SELECT c.conname, c.convalidated INTO key_name, validated
      FROM pg_constraint AS c
     WHERE c.conrelid = 'conversation_memories'::regclass AND c.contype = 'f'
       AND c.confrelid = 'chat_sessions'::regclass
       AND c.conkey = ARRAY[(SELECT attnum FROM pg_attribute
                              WHERE attrelid = 'conversation_memories'::regclass AND attname = 'session_id')]
       AND c.confkey = ARRAY[(SELECT attnum FROM pg_attribute
                               WHERE attrelid = 'chat_sessions'::regclass AND attname = 'session_id')]
     ORDER BY c.conname = 'fk_conv_mem_session' DESC, c.convalidated DESC, c.conname
     LIMIT 1;
    IF NOT FOUND THEN
        ALTER TABLE conversation_memories
            ADD CONSTRAINT fk_conv_mem_session FOREIGN KEY (session_id)
            REFERENCES chat_sessions (session_id) ON DELETE CASCADE NOT VALID;
        key_name := 'fk_conv_mem_session';
        validated := false;
    ELSIF key_name <> 'fk_conv_mem_session' THEN
        RAISE NOTICE 'setup_wizard:session-fk-kept name=%', key_name;
    END IF;
    IF NOT validated THEN
        BEGIN
            EXECUTE format('ALTER TABLE conversation_memories VALIDATE CONSTRAINT %I', key_name);
        EXCEPTION WHEN foreign_key_violation THEN
            RAISE WARNING 'setup_wizard:session-fk-not-valid name=%', key_name;
        END;
    END IF;
END
$$;

CREATE INDEX IF NOT EXISTS idx_conv_mem_session_id      ON conversation_memories (session_id);
CREATE INDEX IF NOT EXISTS idx_conv_mem_session_created ON conversation_memories (session_id, created_at DESC);

-- 4. Triggers -----------------------------------------------------------------------------------------

CREATE OR REPLACE FUNCTION update_chat_session_timestamp() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    NEW.updated_at := now();
    RETURN NEW;
END
$$;

DROP TRIGGER IF EXISTS trigger_update_chat_session_timestamp ON chat_sessions;

-- Every session's message_count and last_message brought in line with its memories, as the triggers below
-- keep them from now on: a database made by the backend's models (create_all) sets message_count only in
-- Python, and no memory inserted before a counting trigger existed was counted (nor twice-counted ones
-- undone). One aggregate over the memories; only sessions that disagree are written, and while the
-- timestamp trigger is gone, so updated_at (the order of the chat list) keeps its value. A session
-- without memories keeps its last_message. The test is setup_wizard/database/contract.py's
-- COUNTED_SESSIONS and COUNTERS_DISAGREE, the same text.
-- No memory may arrive between the count and the new trigger (this file replaces the counting triggers
-- below): inserts wait for this transaction. Taken before any session row, so a backend insert that
-- already counts into a session finishes first instead of deadlocking with us.
LOCK TABLE conversation_memories IN SHARE ROW EXCLUSIVE MODE;
UPDATE chat_sessions AS s
   SET message_count = c.n,
       last_message  = coalesce((SELECT left(m.query, 100) FROM conversation_memories AS m
                                  WHERE m.session_id = s.session_id
                                  ORDER BY m.created_at DESC LIMIT 1), s.last_message)
  FROM (SELECT cs.session_id, coalesce(a.n, 0) AS n, a.last_at
          FROM chat_sessions AS cs
          LEFT JOIN (SELECT session_id, count(*) AS n, max(created_at) AS last_at
                       FROM conversation_memories
                      WHERE session_id IS NOT NULL
                      GROUP BY session_id) AS a ON a.session_id = cs.session_id) AS c
 WHERE c.session_id = s.session_id
   AND (s.message_count IS DISTINCT FROM c.n
        OR (c.n > 0 AND NOT EXISTS (SELECT 1 FROM conversation_memories AS m
                                     WHERE m.session_id = s.session_id AND m.created_at = c.last_at
                                       AND left(m.query, 100) IS NOT DISTINCT FROM s.last_message)));

CREATE TRIGGER trigger_update_chat_session_timestamp
    BEFORE UPDATE ON chat_sessions
    FOR EACH ROW EXECUTE FUNCTION update_chat_session_timestamp();

-- Keeps message_count and last_message right when a memory is inserted (as the seed's did), and
-- beyond the seed when one is deleted or moved to another session.
CREATE OR REPLACE FUNCTION update_session_message_count() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP = 'INSERT' THEN
        IF NEW.session_id IS NOT NULL THEN
            UPDATE chat_sessions
               SET message_count = COALESCE(message_count, 0) + 1,
                   last_message  = left(NEW.query, 100),
                   updated_at    = now()
             WHERE session_id = NEW.session_id;
        END IF;
        RETURN NULL;
    END IF;

    -- DELETE, or UPDATE OF session_id: the session it left loses one message.
    IF OLD.session_id IS NOT NULL
       AND (TG_OP = 'DELETE' OR NEW.session_id IS DISTINCT FROM OLD.session_id) THEN
        UPDATE chat_sessions
           SET message_count = GREATEST(COALESCE(message_count, 0) - 1, 0),
               last_message  = (SELECT left(m.query, 100) FROM conversation_memories AS m
                                 WHERE m.session_id = OLD.session_id
                                 ORDER BY m.created_at DESC LIMIT 1)
         WHERE session_id = OLD.session_id;
    END IF;
    -- UPDATE: the session it joined gains one.
    IF TG_OP = 'UPDATE' AND NEW.session_id IS NOT NULL
       AND NEW.session_id IS DISTINCT FROM OLD.session_id THEN
        UPDATE chat_sessions
           SET message_count = COALESCE(message_count, 0) + 1,
               last_message  = (SELECT left(m.query, 100) FROM conversation_memories AS m
                                 WHERE m.session_id = NEW.session_id
                                 ORDER BY m.created_at DESC LIMIT 1),
               updated_at    = now()
         WHERE session_id = NEW.session_id;
    END IF;
    RETURN NULL;
END
$$;

-- Exactly one trigger may count messages into chat_sessions: before creating ours, drop every trigger
-- on conversation_memories whose function UPDATEs chat_sessions ... SET ... message_count (ours under
-- another name, or the seed's hand-made one), so no insert is ever counted twice. A trigger that keeps a
-- message_count anywhere else is not ours and is left alone. The test is the same regular expression as
-- setup_wizard/database/contract.py's COUNTING_PATTERN. Each trigger removed is named in a notice with
-- the statement that brings it back.
DO $$
DECLARE
    t record;
BEGIN
    FOR t IN
        SELECT tg.tgname, pg_get_triggerdef(tg.oid) AS definition
          FROM pg_trigger AS tg
          JOIN pg_proc AS p ON p.oid = tg.tgfoid
         WHERE tg.tgrelid = 'conversation_memories'::regclass
           AND NOT tg.tgisinternal
           AND p.prosrc ~* 'update\s+(only\s+)?("?\w+"?\.)?"?chat_sessions"?\s+(as\s+\w+\s+)?set\s[^;]*message_count'
         ORDER BY tg.tgname
    LOOP
        EXECUTE format('DROP TRIGGER %I ON conversation_memories', t.tgname);
        IF t.tgname <> 'trigger_update_session_message_count' THEN
            RAISE NOTICE 'setup_wizard:dropped-counting-trigger name=% restore=%', t.tgname, t.definition;
        END IF;
    END LOOP;
END
$$;

-- Ours may exist on a function that does not count (then the loop above left it): replace it.
DROP TRIGGER IF EXISTS trigger_update_session_message_count ON conversation_memories;
CREATE TRIGGER trigger_update_session_message_count
    AFTER INSERT OR DELETE OR UPDATE OF session_id ON conversation_memories
    FOR EACH ROW EXECUTE FUNCTION update_session_message_count();

-- Fresh statistics, so the first queries on the new column and indexes get good plans.
ANALYZE chat_sessions;
ANALYZE conversation_memories;
