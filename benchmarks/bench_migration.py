"""On-demand benchmark: how long linking the existing memories to chat sessions takes.

Not part of the test suite; it prints figures and never asserts timings. Run it as

    python benchmarks/bench_migration.py [--users 10000 --memories 1000000] [--skip-seed]

In one run, at the requested scale and at a 10x smaller one, it builds a template database
(sql/0001_prerequisites.sql plus generated users and memories), copies it with
CREATE DATABASE ... TEMPLATE and times on the copies:

- the seed's approach (recreate_chat_sessions.sql as its guide describes it: foreign key and indexes
  first, then a PL/pgSQL loop that links the memories user by user);
- the "rewrite floor": ADD COLUMN plus one ALTER COLUMN ... TYPE ... USING rewrite of the table;
- the "UPDATE floor": ADD COLUMN plus one UPDATE of every row (for context);
- ours: Runner(conn, load_migrations()).apply(), then a rerun of the Runner, then the whole CLI twice:
  its first run after the Runner still has work (LangGraph's checkpoint tables when that extra is
  installed, the dev user), its second is the rerun a person does when something breaks.

The throwaway server comes from tests/support/pgserver.py and runs with fsync=off,
synchronous_commit=off and full_page_writes=off: absolute figures are lower than on a durable
server, the ratios between the approaches are what this measures.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import psycopg
from psycopg import errors as pg_errors

from setup_wizard.database.migrate import Runner
from setup_wizard.database.migration_files import load_migrations

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO / "tests"))

from support.pgserver import TestServer, running_server  # noqa: E402

PASSWORD = "bench-password"
PREREQUISITES = REPO / "sql" / "0001_prerequisites.sql"
# Memories go to the first 90% of the users: the rest registered but never chatted, so
# "sessions == users with memories" is a real check, not "sessions == users".
CHATTING_USERS_SHARE = 0.9

# Target figures from the brief; printed beside the measurements, never asserted.
TARGET_OURS_OVER_REWRITE = 3.0
TARGET_SCALING = 12.0
TARGET_RERUN_SECONDS = 1.0


# --- Data -------------------------------------------------------------------------------------------

# Set-based and deterministic (setseed): users, then memories in created_at order (as they were
# appended over a year), spread over the chatting users with a mild skew towards low ids.
LOAD_SQL = """
SELECT setseed(0.42);

INSERT INTO users (email, type, is_active, created_at)
SELECT 'user' || g || '@example.com',
       (CASE WHEN g % 50 = 0 THEN 'AGENT' WHEN g = 1 THEN 'ADMIN' ELSE 'USER' END)::usertype,
       g % 20 <> 0,
       timestamptz '2024-01-01 00:00:00+09' + (g * interval '10 minutes')
  FROM generate_series(1, {users}) AS g;

INSERT INTO conversation_memories
       (user_id, query, response_summary, relevance, intent_detected, entities_mentioned,
        created_at, conversation_metadata)
SELECT 1 + floor({chatting} * power(random(), 1.3))::int,
       -- 30-80 characters: a Korean question plus a distinguishing tail.
       (ARRAY['강남구 아파트 전세 시세 알려줘', '서초구 30평대 매매가 얼마야?',
              '마포구 신축 오피스텔 월세 추천해줘', '분당 역세권 아파트 중에 학군 좋은 곳은?',
              '송파구 재건축 단지 진행 상황 알려줘', '용산구 빌라 전세 사기 예방 방법은?'])
           [1 + g % 6]
           || ' ' || left(repeat(md5(g::text), 2), 10 + (g * 7) % 40),
       '사용자는 ' || (ARRAY['강남구', '서초구', '마포구', '분당', '송파구', '용산구'])[1 + g % 6]
           || ' 지역의 매물 정보를 문의함. 최근 실거래가와 시세 추이, 주변 교통 및 학군 정보를 '
           || '요약하여 안내하였고 추가 조건(예산, 면적, 입주 시기)을 확인함. ' || md5((g * 31)::text),
       (ARRAY['HIGH', 'MEDIUM', 'LOW'])[1 + (g * 13) % 3],
       (ARRAY['search_real_estate', 'market_trend', 'legal_advice', 'loan_inquiry', NULL])[1 + g % 5],
       jsonb_build_object('region',
                          (ARRAY['강남구', '서초구', '마포구', '분당', '송파구', '용산구'])[1 + g % 6],
                          'price_range', (g % 20) * 10000 || '만원',
                          'area_pyeong', 10 + g % 40),
       timestamptz '2024-01-01 00:00:00+09'
           + (g::double precision / {memories}) * interval '365 days'
           + (random() * interval '30 minutes'),
       CASE WHEN g % 4 = 0 THEN jsonb_build_object('model', 'gpt-4o-mini', 'tokens', 200 + g % 800) END
  FROM generate_series(1, {memories}) AS g;
"""


# --- The seed's migration, written from its guide ---------------------------------------------------

# Guide steps 1-4: (drop,) create chat_sessions, add the column, its foreign key and indexes, the
# triggers. Step 5, the per-user loop, is timed apart (SEED_LOOP).
SEED_DDL = """
DROP TABLE IF EXISTS chat_sessions CASCADE;
ALTER TABLE conversation_memories DROP CONSTRAINT IF EXISTS fk_conv_mem_session;
ALTER TABLE conversation_memories DROP COLUMN IF EXISTS session_id;

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
CREATE INDEX idx_chat_sessions_user_id ON chat_sessions (user_id);
CREATE INDEX idx_chat_sessions_updated_at ON chat_sessions (updated_at DESC);
CREATE INDEX idx_chat_sessions_user_updated ON chat_sessions (user_id, updated_at DESC);

ALTER TABLE conversation_memories ADD COLUMN session_id VARCHAR(100);
ALTER TABLE conversation_memories
    ADD CONSTRAINT fk_conv_mem_session FOREIGN KEY (session_id)
    REFERENCES chat_sessions (session_id) ON DELETE CASCADE;
CREATE INDEX idx_conv_mem_session_id ON conversation_memories (session_id);
CREATE INDEX idx_conv_mem_session_created ON conversation_memories (session_id, created_at DESC);

CREATE OR REPLACE FUNCTION update_chat_session_timestamp() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    NEW.updated_at = NOW();
    RETURN NEW;
END;
$$;
CREATE TRIGGER trigger_update_chat_session_timestamp
    BEFORE UPDATE ON chat_sessions
    FOR EACH ROW EXECUTE FUNCTION update_chat_session_timestamp();

CREATE OR REPLACE FUNCTION update_session_message_count() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    UPDATE chat_sessions
       SET message_count = message_count + 1, last_message = LEFT(NEW.query, 100), updated_at = NOW()
     WHERE session_id = NEW.session_id;
    RETURN NEW;
END;
$$;
CREATE TRIGGER trigger_update_session_message_count
    AFTER INSERT ON conversation_memories
    FOR EACH ROW EXECUTE FUNCTION update_session_message_count();
"""

# Guide step 5: one '이전 대화 (마이그레이션)' session per user, then that user's memories linked to it.
SEED_LOOP = """
DO $$
DECLARE
    u INTEGER;
    new_session_id VARCHAR(100);
    n_users INTEGER := 0;
BEGIN
    FOR u IN SELECT DISTINCT user_id FROM conversation_memories WHERE session_id IS NULL LOOP
        new_session_id := 'session-migrated-' || u || '-' || to_char(NOW(), 'YYYYMMDDHH24MISS');
        INSERT INTO chat_sessions (session_id, user_id, title, created_at, updated_at)
        VALUES (new_session_id, u, '이전 대화 (마이그레이션)', NOW(), NOW());
        UPDATE conversation_memories
           SET session_id = new_session_id
         WHERE user_id = u AND session_id IS NULL;
        n_users := n_users + 1;
    END LOOP;
    RAISE NOTICE 'Migration completed: % users processed', n_users;
END
$$;
"""

# The floors fill the same column with the same kind of value, without sessions, keys or indexes.
FLOOR_VALUE = "('session-migrated-' || user_id || '-x')::varchar(100)"
REWRITE_FLOOR_SQL = f"""
ALTER TABLE conversation_memories ADD COLUMN session_id varchar(100);
ALTER TABLE conversation_memories ALTER COLUMN session_id TYPE varchar(100) USING {FLOOR_VALUE};
"""
UPDATE_FLOOR_SQL = f"""
ALTER TABLE conversation_memories ADD COLUMN session_id varchar(100);
UPDATE conversation_memories SET session_id = {FLOOR_VALUE};
"""


# --- Results ----------------------------------------------------------------------------------------


@dataclass
class Check:
    name: str
    expected: int
    actual: int

    @property
    def ok(self) -> bool:
        return self.expected == self.actual


@dataclass
class ScaleResult:
    users: int
    memories: int
    chatting_users: int = 0
    table_mb: float = 0.0
    load_seconds: float = 0.0
    seed_seconds: float | None = None  # None: skipped or stopped at the cap
    seed_loop_seconds: float | None = None
    seed_capped: bool = False
    seed_null_links: int | None = None
    rewrite_floor: float = 0.0
    update_floor: float = 0.0
    ours: float = 0.0
    ours_per_file: list[tuple[str, str, float]] = field(default_factory=list)
    checks: list[Check] = field(default_factory=list)
    rerun_runner: float = 0.0
    rerun_actions: list[str] = field(default_factory=list)
    first_cli: float = 0.0
    rerun_cli: float = 0.0
    rerun_cli_exit: int = -1
    rerun_cli_ok: bool | None = None

    @property
    def label(self) -> str:
        return f"{self.memories:,} / {self.users:,}"


# --- Helpers ----------------------------------------------------------------------------------------


def connect(server: TestServer, dbname: str) -> psycopg.Connection[Any]:
    return psycopg.connect(server.url(dbname), autocommit=True)


@contextmanager
def database_copy(server: TestServer, admin: psycopg.Connection[Any], template: str,
                  name: str) -> Iterator[psycopg.Connection[Any]]:
    """A fresh copy of the template, checkpointed so no earlier work's writes land in the timing."""
    admin.execute(f"CREATE DATABASE {name} TEMPLATE {template} STRATEGY = FILE_COPY")
    admin.execute("CHECKPOINT")
    conn = connect(server, name)
    try:
        yield conn
    finally:
        conn.close()
        admin.execute(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")


def timed(action: Callable[[], object]) -> float:
    started = time.perf_counter()
    action()
    return time.perf_counter() - started


def scalar(conn: psycopg.Connection[Any], query: str) -> Any:
    row = conn.execute(query.encode()).fetchone()
    return row[0] if row else None


def say(text: str) -> None:
    print(f"  .. {text}", file=sys.stderr, flush=True)


def fmt_seconds(value: float | None) -> str:
    return "-" if value is None else f"{value:.2f} s"


def fmt_ratio(numerator: float | None, denominator: float | None) -> str:
    if numerator is None or not denominator:
        return "-"
    return f"{numerator / denominator:.2f}x"


# --- The measurements -------------------------------------------------------------------------------


def build_template(server: TestServer, admin: psycopg.Connection[Any], name: str,
                   result: ScaleResult) -> None:
    admin.execute(f"CREATE DATABASE {name}")
    with connect(server, name) as conn:
        started = time.perf_counter()
        conn.execute(PREREQUISITES.read_text(encoding="utf-8").encode())
        chatting = max(1, int(result.users * CHATTING_USERS_SHARE))
        load = LOAD_SQL.format(users=result.users, memories=result.memories, chatting=chatting)
        with conn.transaction():
            # Bulk load only: the rows are consistent by construction, so the per-row foreign key
            # checks (internal triggers) are skipped. The timed runs never do this.
            conn.execute("SET LOCAL session_replication_role = replica")
            conn.execute(load.encode())
        conn.execute("VACUUM (FREEZE, ANALYZE)")
        result.load_seconds = time.perf_counter() - started
        result.chatting_users = int(scalar(conn, "SELECT count(DISTINCT user_id) FROM conversation_memories"))
        result.table_mb = scalar(conn, "SELECT pg_total_relation_size('conversation_memories')") / 2**20


def run_seed(server: TestServer, admin: psycopg.Connection[Any], template: str, result: ScaleResult,
             cap_seconds: float) -> None:
    with database_copy(server, admin, template, "bench_seed") as conn:
        # One cap for every statement; the per-user loop is the one that can reach it.
        conn.execute(f"SET statement_timeout = '{int(cap_seconds * 1000)}ms'")
        started = time.perf_counter()
        try:
            # The guide promises rollback on error: the seed runs as one transaction.
            with conn.transaction():
                conn.execute(SEED_DDL.encode())
                loop_started = time.perf_counter()
                conn.execute(SEED_LOOP.encode())
                result.seed_loop_seconds = time.perf_counter() - loop_started
        except pg_errors.QueryCanceled:
            result.seed_capped = True
            result.seed_loop_seconds = None
            return
        result.seed_seconds = time.perf_counter() - started
        conn.execute("RESET statement_timeout")
        result.seed_null_links = int(
            scalar(conn, "SELECT count(*) FROM conversation_memories WHERE session_id IS NULL"))


def run_floor(server: TestServer, admin: psycopg.Connection[Any], template: str, name: str,
              sql_text: str) -> float:
    with database_copy(server, admin, template, name) as conn:

        def one_transaction() -> None:
            with conn.transaction():
                conn.execute(sql_text.encode())

        return timed(one_transaction)


def verify_ours(conn: psycopg.Connection[Any]) -> list[Check]:
    memories = int(scalar(conn, "SELECT count(*) FROM conversation_memories"))
    return [
        Check("memories with NULL session_id", 0,
              int(scalar(conn, "SELECT count(*) FROM conversation_memories WHERE session_id IS NULL"))),
        Check("chat_sessions == users with memories",
              int(scalar(conn, "SELECT count(DISTINCT user_id) FROM conversation_memories")),
              int(scalar(conn, "SELECT count(*) FROM chat_sessions"))),
        Check("sum(message_count) == memories", memories,
              int(scalar(conn, "SELECT coalesce(sum(message_count), 0) FROM chat_sessions"))),
        Check("fk_conv_mem_session validated (1 = yes)", 1,
              int(scalar(conn, """SELECT count(*) FROM pg_constraint
                                   WHERE conname = 'fk_conv_mem_session' AND convalidated"""))),
    ]


def run_cli(server: TestServer, dbname: str) -> tuple[float, int, bool | None]:
    """The whole wizard as a user runs it, from an empty folder (so it finds no .env to update)."""
    with tempfile.TemporaryDirectory(prefix="bench_cli_") as cwd:
        env = {k: v for k, v in os.environ.items() if not k.startswith("PG")}
        started = time.perf_counter()
        done = subprocess.run(
            [sys.executable, "-m", "setup_wizard", "--yes", "--json", "--dsn", server.url(dbname)],
            cwd=cwd, env=env, capture_output=True, text=True, check=False,
        )
        seconds = time.perf_counter() - started
    try:
        ok = bool(json.loads(done.stdout).get("ok"))
    except (json.JSONDecodeError, AttributeError):
        ok = None
    if done.returncode != 0:
        say(f"CLI exit {done.returncode}: {done.stdout[-500:]} {done.stderr[-500:]}")
    return seconds, done.returncode, ok


def run_ours(server: TestServer, admin: psycopg.Connection[Any], template: str, result: ScaleResult) -> None:
    migrations = load_migrations()
    with database_copy(server, admin, template, "bench_ours") as conn:
        started = time.perf_counter()
        applied = Runner(conn, migrations, lock_timeout=10.0).apply()
        result.ours = time.perf_counter() - started
        result.ours_per_file = [(o.name, o.action, o.seconds) for o in applied.outcomes]
        result.checks = verify_ours(conn)

        started = time.perf_counter()
        rerun = Runner(conn, migrations, lock_timeout=10.0).apply()
        result.rerun_runner = time.perf_counter() - started
        result.rerun_actions = [o.action for o in rerun.outcomes]

        result.first_cli, _, _ = run_cli(server, "bench_ours")
        result.rerun_cli, result.rerun_cli_exit, result.rerun_cli_ok = run_cli(server, "bench_ours")


def measure_scale(server: TestServer, users: int, memories: int, args: argparse.Namespace) -> ScaleResult:
    result = ScaleResult(users=users, memories=memories)
    template = f"bench_tmpl_{memories}"
    with connect(server, "postgres") as admin:
        say(f"[{result.label}] building the template database")
        build_template(server, admin, template, result)
        say(f"[{result.label}] loaded in {result.load_seconds:.1f} s, table {result.table_mb:.0f} MB")
        if not args.skip_seed:
            say(f"[{result.label}] seed (cap {args.seed_cap_seconds:g} s)")
            run_seed(server, admin, template, result, args.seed_cap_seconds)
        say(f"[{result.label}] rewrite floor")
        result.rewrite_floor = run_floor(server, admin, template, "bench_rewrite", REWRITE_FLOOR_SQL)
        say(f"[{result.label}] UPDATE floor")
        result.update_floor = run_floor(server, admin, template, "bench_update", UPDATE_FLOOR_SQL)
        say(f"[{result.label}] ours")
        run_ours(server, admin, template, result)
        admin.execute(f"DROP DATABASE {template} WITH (FORCE)")
    return result


# --- Report -----------------------------------------------------------------------------------------


def cpu_model() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text(encoding="utf-8").splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "?"


def print_machine(server: TestServer) -> None:
    with connect(server, "postgres") as conn:
        version = scalar(conn, "SELECT version()")
        settings = conn.execute(
            """SELECT name, setting, unit FROM pg_settings
                WHERE name IN ('fsync', 'synchronous_commit', 'full_page_writes', 'shared_buffers',
                               'work_mem', 'maintenance_work_mem', 'max_wal_size')
                ORDER BY name"""
        ).fetchall()
    print("Machine")
    print(f"  nproc        {len(os.sched_getaffinity(0))}")
    print(f"  CPU          {cpu_model()}")
    print(f"  PostgreSQL   {version}")
    print(f"  Python       {platform.python_version()} ({sys.executable})")
    print("  Server       " + ", ".join(f"{n}={s}{u or ''}" for n, s, u in settings))
    print("  Note         throwaway server from tests/support/pgserver.py: fsync=off, synchronous_commit=off,")
    print("               full_page_writes=off; absolute times are lower than on a durable server.")


def print_scale(r: ScaleResult) -> None:
    print()
    print(f"Scale {r.label} (memories / users; {r.chatting_users:,} users have memories; "
          f"conversation_memories {r.table_mb:.0f} MB with indexes; loaded in {r.load_seconds:.1f} s)")
    if r.seed_capped:
        seed = "> cap (stopped by statement_timeout)"
    elif r.seed_seconds is None:
        seed = "skipped"
    else:
        seed = (f"{r.seed_seconds:.2f} s (per-user loop {fmt_seconds(r.seed_loop_seconds)}; "
                f"memories left unlinked: {r.seed_null_links})")
    print(f"  seed, per-user loop         {seed}")
    print(f"  rewrite floor (ALTER TYPE)  {r.rewrite_floor:.2f} s")
    print(f"  UPDATE floor                {r.update_floor:.2f} s")
    print(f"  ours, Runner.apply()        {r.ours:.2f} s")
    for name, action, seconds in r.ours_per_file:
        print(f"      {name:<28} {action:<9} {seconds:.3f} s")
    print("  correctness of ours")
    for check in r.checks:
        verdict = "PASS" if check.ok else "FAIL"
        print(f"      {verdict}  {check.name}: expected {check.expected:,}, got {check.actual:,}")
    print(f"  rerun, Runner.apply()       {r.rerun_runner:.3f} s  ({', '.join(r.rerun_actions)})")
    cli_state = f"exit {r.rerun_cli_exit}, report ok={r.rerun_cli_ok}"
    print(f"  first whole CLI after the Runner (--yes --json --dsn)  {r.first_cli:.3f} s")
    print(f"  rerun, whole CLI (--yes --json --dsn)  {r.rerun_cli:.3f} s  ({cli_state})")


def print_summary(results: list[ScaleResult]) -> None:
    def seed_cell(r: ScaleResult) -> str:
        if r.seed_capped:
            return "> cap"
        return fmt_seconds(r.seed_seconds) if r.seed_seconds is not None else "skipped"

    print()
    print("Summary (seconds; targets in brackets, reported, not asserted)")
    header = (f"  {'scale (memories / users)':<26}{'seed':>10}{'ours':>9}{'rewrite':>10}{'UPDATE':>9}"
              f"{'ours/rewrite [<=3]':>20}{'rerun Runner [<1]':>19}{'rerun CLI [<1]':>16}")
    print(header)
    print("  " + "-" * (len(header) - 2))
    for r in results:
        print(f"  {r.label:<26}{seed_cell(r):>10}{r.ours:>7.2f} s{r.rewrite_floor:>8.2f} s"
              f"{r.update_floor:>7.2f} s{fmt_ratio(r.ours, r.rewrite_floor):>20}"
              f"{r.rerun_runner:>17.3f} s{r.rerun_cli:>14.3f} s")
    if len(results) == 2:
        small, large = results
        factor = large.memories / small.memories
        print()
        print(f"  Scaling, {large.label} over {small.label} ({factor:g}x rows; target for ours <= 12x):")
        print(f"      ours             {fmt_ratio(large.ours, small.ours)}")
        print(f"      rewrite floor    {fmt_ratio(large.rewrite_floor, small.rewrite_floor)}")
        print(f"      UPDATE floor     {fmt_ratio(large.update_floor, small.update_floor)}")
        if large.seed_capped:
            print("      seed             > cap at the large scale")
        elif large.seed_seconds is None:
            print("      seed             skipped")
        else:
            print(f"      seed             {fmt_ratio(large.seed_seconds, small.seed_seconds)}")
    # The brief's target is for the requested (large) scale; at the 10x smaller one the floor is a few
    # tenths of a second and the fixed costs (five files, two index builds, ANALYZE, VACUUM) dominate
    # the ratio, which the table above still shows.
    large = results[-1]
    verdicts = [(f"ours/rewrite <= {TARGET_OURS_OVER_REWRITE:g} at {large.label}",
                 large.ours <= TARGET_OURS_OVER_REWRITE * large.rewrite_floor)]
    if len(results) == 2 and results[0].ours:
        verdicts.append((f"ours(large)/ours(small) <= {TARGET_SCALING:g}",
                         results[1].ours <= TARGET_SCALING * results[0].ours))
    verdicts += [
        (f"rerun (Runner and CLI) < {TARGET_RERUN_SECONDS:g} s at {r.label}",
         max(r.rerun_runner, r.rerun_cli) < TARGET_RERUN_SECONDS)
        for r in results
    ]
    verdicts.append(("all correctness checks pass", all(c.ok for r in results for c in r.checks)))
    print()
    for text, met in verdicts:
        print(f"  {'MET    ' if met else 'NOT MET'}  {text}")


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--users", type=int, default=10_000, help="users at the large scale")
    parser.add_argument("--memories", type=int, default=1_000_000, help="memories at the large scale")
    parser.add_argument("--skip-seed", action="store_true", help="do not time the seed's per-user loop")
    parser.add_argument("--seed-cap-seconds", type=float, default=900.0,
                        help="stop the seed (statement_timeout) after this long and report '> cap'")
    parser.add_argument("--no-small", action="store_true", help="skip the 10x smaller scale")
    args = parser.parse_args(argv)
    if args.users < 10 or args.memories < 10:
        parser.error("--users and --memories must be at least 10")
    return args


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    scales = [(args.users, args.memories)]
    if not args.no_small:
        scales.insert(0, (args.users // 10, args.memories // 10))
    started = time.perf_counter()
    with running_server(PASSWORD) as server:
        print_machine(server)
        results = [measure_scale(server, users, memories, args) for users, memories in scales]
    for result in results:
        print_scale(result)
    print_summary(results)
    print(f"\nTotal benchmark wall time {time.perf_counter() - started:.0f} s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
