-- 0005_chat_messages.sql
--
-- `chat_messages`, which the backend's models declare beside chat_sessions (app/models/chat.py:
-- ChatMessage, and ChatSession.messages with cascade delete-orphan). Without it the backend's ORM
-- cannot delete a chat session (UndefinedTable: chat_messages), nor can the endpoints that rename a
-- session, list its messages or delete it.
--
-- Created only when it is missing, as the models make it: an existing table (made by the models'
-- create_all, with their own names ix_chat_messages_session_id and chat_messages_session_id_fkey, or by
-- hand) is left exactly as it is; the wizard's check compares it with the contract.
-- The models give `id` a value in Python (uuid4); the database default does the same for plain SQL.
--
-- setup_wizard:baseline-when: SELECT to_regclass('chat_messages') IS NOT NULL
-- setup_wizard:plan-when: SELECT WHERE to_regclass('chat_messages') IS NOT NULL
-- setup_wizard:plan: 이미 있는 chat_messages 테이블은 그대로 두고, 빠진 인덱스만 더합니다.
-- setup_wizard:plan: chat_messages 테이블을 만듭니다 (백엔드 모델이 chat_sessions 옆에 두는 곳: 세션을 지우면 메시지도 함께 지워짐).
--
-- Safe to run any number of times. By hand:
--   psql "postgresql://postgres:PASSWORD@localhost:5432/real_estate" -1 -f sql/0005_chat_messages.sql

CREATE TABLE IF NOT EXISTS chat_messages (
    id           uuid          PRIMARY KEY DEFAULT gen_random_uuid(),
    session_id   varchar(100)  NOT NULL REFERENCES chat_sessions (session_id) ON DELETE CASCADE,
    sender_type  varchar(20)   NOT NULL,
    content      text          NOT NULL,
    created_at   timestamptz   DEFAULT now()
);

-- The messages of one session are read, and deleted with it, by session_id. Any index whose only key is
-- session_id does that job (the models call theirs ix_chat_messages_session_id): never a second one.
DO $$
BEGIN
    IF NOT EXISTS (
        SELECT 1 FROM pg_index AS i
          JOIN pg_attribute AS a ON a.attrelid = i.indrelid AND a.attnum = i.indkey[0]
         WHERE i.indrelid = 'chat_messages'::regclass
           AND i.indnkeyatts = 1 AND a.attname = 'session_id'
           AND i.indpred IS NULL AND i.indexprs IS NULL
    ) THEN
        CREATE INDEX idx_chat_messages_session_id ON chat_messages (session_id);
    END IF;
END
$$;
