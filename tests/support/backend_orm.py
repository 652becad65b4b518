"""The backend's chat models through its own ORM (SQLAlchemy 2.0.23, psycopg 3.2: tests/backend-requirements.txt).

Run with the backend's venv python: `python tests/support/backend_orm.py` with the database URL (SQLAlchemy form,
postgresql+psycopg://) in the environment variable DATABASE_URL. It declares the two classes of the backend's
app/models/chat.py at the contract commit (0564bfb) that matter here, column for column: ChatSession with
`messages` (cascade "all, delete-orphan") and ChatMessage (uuid id given in Python). Then, as the backend's
session endpoints do: a session with two messages is added, read back, and deleted through the ORM
(`session.delete(chat_session)`, which first loads chat_sessions' messages). Prints one JSON object:
{ok, error_class, messages_after}. Imports nothing from setup_wizard.
"""

from __future__ import annotations

import json
import os
import uuid

from sqlalchemy import TIMESTAMP, Boolean, Column, ForeignKey, Integer, String, Text, create_engine, select
from sqlalchemy.dialects.postgresql import JSONB, UUID
from sqlalchemy.orm import Session, declarative_base, relationship
from sqlalchemy.sql import func

Base = declarative_base()


class ChatSession(Base):  # type: ignore[valid-type,misc]
    __tablename__ = "chat_sessions"
    session_id = Column(String(100), primary_key=True)
    user_id = Column(Integer, nullable=False, index=True)
    title = Column(String(200), nullable=False, default="새 대화")
    last_message = Column(Text)
    message_count = Column(Integer, default=0)
    created_at = Column(TIMESTAMP(timezone=True), server_default=func.now(), nullable=False)
    updated_at = Column(TIMESTAMP(timezone=True), server_default=func.now(), nullable=False)
    is_active = Column(Boolean, default=True)
    session_metadata = Column("metadata", JSONB)
    messages = relationship("ChatMessage", back_populates="session", cascade="all, delete-orphan")


class ChatMessage(Base):  # type: ignore[valid-type,misc]
    __tablename__ = "chat_messages"
    id = Column(UUID(as_uuid=True), primary_key=True, default=uuid.uuid4)
    session_id = Column(String(100), ForeignKey("chat_sessions.session_id", ondelete="CASCADE"), nullable=False,
                        index=True)
    sender_type = Column(String(20), nullable=False)
    content = Column(Text, nullable=False)
    created_at = Column(TIMESTAMP(timezone=True), server_default=func.now())
    session = relationship("ChatSession", back_populates="messages")


def main() -> dict[str, object]:
    engine = create_engine(os.environ["DATABASE_URL"])
    try:
        with Session(engine) as db:
            chat = ChatSession(session_id="orm-" + uuid.uuid4().hex[:8], user_id=1, title="ORM")
            chat.messages = [ChatMessage(sender_type="user", content="질문"),
                             ChatMessage(sender_type="assistant", content="답")]
            db.add(chat)
            db.commit()
            loaded = db.get(ChatSession, chat.session_id)
            assert loaded is not None and len(loaded.messages) == 2
            db.delete(loaded)
            db.commit()
            left = db.scalars(select(ChatMessage)).all()
            return {"ok": True, "error_class": None, "messages_after": len(left)}
    except Exception as error:  # reported, as the backend's endpoint would fail with it
        cause = getattr(error, "orig", None) or error
        return {"ok": False, "error_class": type(cause).__name__, "messages_after": None}
    finally:
        engine.dispose()


if __name__ == "__main__":
    print(json.dumps(main()))
