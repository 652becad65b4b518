"""DATABASE_URL exactly as the backend reads it: generated cases, each run through the backend's own
libraries and through the wizard, must agree.

The backend side is tests/support/backend_loader.py --batch under the backend's pinned libraries (python-dotenv
1.0.1, pydantic-settings 2.4, SQLAlchemy 2.0.23, psycopg 3.2; tests/backend-requirements.txt): for each
case, does it start (or the exception class), the URL it reads, the keyword arguments its psycopg dialect
hands psycopg.connect, libpq's resolved options, and whether libpq refuses those parameters. The wizard
side is config/backend.backend_view (the verdict) and config/load.load_settings (the connection it
checks, fed as the flow feeds it); its parameters are resolved by libpq the same way, in this process.

Required for every case: the same URL; the wizard's first fatal code is the one the backend's outcome
implies (EXPECTED below); and where the backend can connect, libpq sees the same host list, ports, user,
password, database and every other parameter from both.

Cases come from a seeded generator over URL parts (IPv4, IPv6 and socket hosts, host lists, ?host= and
?port= values, percent-encoding in every part, spaces and reserved characters, empty parts) and over .env
syntax (quotes, escapes, export, comments, `${VAR}`, the environment overriding the file). The default run
checks a fixed sample; SETUP_WIZARD_SLOW=1 checks thousands more (the slow tier).
"""

from __future__ import annotations

import base64
import json
import os
import random
import subprocess
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
from support import SUPPORT

from setup_wizard.config import backend_verdict as b
from setup_wizard.config.backend import backend_view
from setup_wizard.config.backend_layout import Layout
from setup_wizard.config.libpq_env import libpq_environment
from setup_wizard.config.load import load_settings, os_login_name
from setup_wizard.config.settings import Settings
from setup_wizard.errors import UsageError

LOADER = SUPPORT / "backend_loader.py"
LOGIN = os_login_name(os.environ)
REJECTED = "backend_url_rejected"  # spelled out: this file also runs against the code before issue 19


@dataclass(frozen=True)
class Case:
    env: bytes | None  # backend/.env
    environ: dict[str, str] = field(default_factory=dict)
    note: str = ""

    def request(self) -> dict[str, Any]:
        return {"env": None if self.env is None else base64.b64encode(self.env).decode(), "environ": self.environ}


class BatchLoader:
    def __init__(self, python: Path) -> None:
        env = {"PATH": os.environ.get("PATH", ""), "PYTHONIOENCODING": "utf-8"}
        self.process = subprocess.Popen([str(python), str(LOADER), "--batch"], env=env, stdin=subprocess.PIPE,
                                        stdout=subprocess.PIPE, text=True, encoding="utf-8")

    def load(self, cases: list[Case]) -> list[dict[str, Any]]:
        assert self.process.stdin is not None and self.process.stdout is not None
        self.process.stdin.write(json.dumps([case.request() for case in cases]) + "\n")
        self.process.stdin.flush()
        answer = self.process.stdout.readline()
        assert answer, "the backend loader stopped"
        results: list[dict[str, Any]] = json.loads(answer)
        return results

    def close(self) -> None:
        assert self.process.stdin is not None
        self.process.stdin.close()
        self.process.wait(timeout=30)


@pytest.fixture(scope="module")
def batch(backend_python: Path) -> Iterator[BatchLoader]:
    loader = BatchLoader(backend_python)
    yield loader
    loader.close()


@pytest.fixture(scope="module")
def backend_python() -> Path:
    root = Path(__file__).resolve().parents[2]
    venv = Path(os.environ.get("SETUP_WIZARD_BACKEND_VENV", root / ".venv-backend"))
    python = venv / ("Scripts/python.exe" if os.name == "nt" else "bin/python")
    if not python.exists():
        pytest.skip(f"!!! the backend's loader venv is missing ({venv}): DATABASE_URL not compared")
    return python


# --- the two sides ----------------------------------------------------------------------------------

def expected_code(loaded: dict[str, Any]) -> str | None:
    """The wizard's first fatal code that the backend's outcome implies."""
    if loaded["error_class"] == "UnicodeDecodeError":
        return b.ENV_NOT_UTF8
    if not loaded["ok"]:
        if loaded.get("raw_url") == "":
            return "empty"  # URL_MISSING, URL_EMPTY_ENVIRON or ENV_BOM: nothing to parse
        if loaded["error_class"] in ("NoSuchModuleError", "ModuleNotFoundError"):
            return b.URL_SCHEME
        return b.URL_INVALID
    if loaded["async_dialect"]:
        return b.URL_SCHEME  # psycopg_async: both engines made, the synchronous one never connects
    if loaded.get("target_error") or loaded.get("libpq_refusal"):
        return REJECTED
    return None


@dataclass
class Wizard:
    code: str | None
    url: str | None
    settings: Settings | None
    problems: tuple[b.Problem, ...]


def wizard(case: Case) -> Wizard:
    layout = Layout(backend_dir=Path("/nonexistent/backend"), env_raw=case.env)
    view = backend_view(layout, case.environ, windows=False, login_name=LOGIN)
    fatal = [p.code for p in view.problems if p.fatal]
    code = fatal[0] if fatal else None
    if code in (b.URL_MISSING, b.URL_EMPTY_ENVIRON, b.ENV_BOM):
        code = "empty"
    try:
        settings: Settings | None = load_settings(None, case.environ, view.intended_env_values(), None,
                                                  login_name=LOGIN)
    except UsageError:
        settings = None
    return Wizard(code, view.url, settings, view.problems)


def libpq_view(settings: Settings) -> dict[str, str]:
    """libpq's resolved options for the wizard's connection (nothing is sent: finished at once)."""
    from psycopg import pq
    from psycopg.conninfo import make_conninfo

    params = {k: str(v) for k, v in settings.conninfo_params().items()}
    with libpq_environment(settings.libpq_environ):
        pgconn = pq.PGconn.connect_start(make_conninfo("", **params).encode())
        try:
            return {o.keyword.decode(): o.val.decode("utf-8", "replace") for o in pgconn.info if o.val is not None}
        finally:
            pgconn.finish()


def disagreement(case: Case, loaded: dict[str, Any]) -> str | None:
    """None when both sides agree on every value of the file, the URL, the verdict and the connection;
    else what differs."""
    from setup_wizard.config.dotenv_backend import backend_values

    ours = wizard(case)
    want = expected_code(loaded)
    if case.env is not None and "dotenv" in loaded:
        read = backend_values(case.env.decode("utf-8"), case.environ)
        mine = {key: value for key, value in read.items() if key not in case.environ}
        if mine != loaded["dotenv"]:
            return f".env values: backend {loaded['dotenv']}, wizard {mine}"
    if "raw_url" in loaded and ours.url != loaded["raw_url"]:
        return f"URL: backend {loaded['raw_url']!r}, wizard {ours.url!r}"
    if ours.code != want:
        return f"verdict: backend implies {want}, wizard {ours.code} ({ours.problems}); backend: {loaded}"
    if want is not None:
        return None
    if ours.settings is None:
        return f"the backend connects, the wizard loads no settings; backend: {loaded}"
    theirs = loaded["libpq"]
    mine = libpq_view(ours.settings)
    keys = {"host", "port", "user", "password", "dbname"} | set(loaded["params"])
    diff = {k: (theirs.get(k), mine.get(k)) for k in sorted(keys) if theirs.get(k) != mine.get(k)}
    if diff:
        return f"connection (backend, wizard): {diff}; params {loaded['params']}"
    return None


def check(batch: BatchLoader, cases: list[Case]) -> None:
    failures = []
    for start in range(0, len(cases), 500):
        chunk = cases[start : start + 500]
        for case, loaded in zip(chunk, batch.load(chunk), strict=True):
            problem = disagreement(case, loaded)
            if problem is not None:
                failures.append(f"{case}\n  -> {problem}")
    assert not failures, f"{len(failures)} of {len(cases)} disagree:\n" + "\n".join(failures[:15])


# --- explicit cases: one for each kind of disagreement issue 19 found ------------------------------

def url_case(url: str, note: str, environ: dict[str, str] | None = None) -> Case:
    return Case(f"DATABASE_URL={url}\n".encode(), environ or {}, note)


P = "postgresql+psycopg://"
EXPLICIT = [
    # 1. false alarms: the backend starts and connects
    url_case(f"'{P}app:pass word@localhost:5433/real_estate'", "space in password"),
    url_case(f"'{P}app:pw@localhost:5433/test database'", "space in database"),
    url_case(f"{P}app:pw@/real_estate?host=a,b,c&port=1,2,3", "multi-host list"),
    # 2. another connection
    url_case(f"{P}app:pw@/real_estate?host=db:5678", "host:port in ?host="),
    url_case(f"{P}app:pw@/real_estate?host=db1:5433&host=db2:5434", "repeated host="),
    url_case(f"{P}app:pw@%68ost:5433/real_estate", "percent in host"),
    url_case(f"{P}app:pw@%2Fvar%2Flib%2Fpostgresql/real_estate", "encoded socket path"),
    Case(b"PW=fromfile\nDATABASE_URL=" + P.encode() + b"app:${PW}@localhost:5433/real_estate\n",
         {"PW": "fromenv"}, "${VAR} with the variable in the environment"),
    # 3. missed crashes
    url_case(f"{P}app:pw@localhost:/real_estate", "empty port"),
    url_case(f"{P}app:pw@/real_estate?host=a:xyz&host=b:5432", "non-numeric port in ?host="),
    url_case(f"\" {P}app:pw@localhost:5433/real_estate\"", "quoted URL with a leading space"),
    # 4. smaller
    url_case(f"\"{P}app:pw@localhost:5433/real_estate \"", "trailing space in the database"),
    url_case(f"{P}app:pw@localhost:5433/real_estate?client_encoding=latin1", "client_encoding"),
    url_case("postgresql+psycopg_async://app:pw@localhost:5433/real_estate", "psycopg_async"),
    # libpq refuses what SQLAlchemy accepts
    url_case(f"{P}app:pw@localhost:99999/real_estate", "port out of range"),
    url_case(f"{P}app:pw@localhost/real_estate?foo=1", "unknown option"),
    # .env syntax where python-dotenv 1.0.1 (the backend's) and 1.2 (the wizard's library) differ
    Case(b"DATABASE_URL= # " + P.encode() + b"app:pw@localhost:5433/real_estate\n", {}, "value after '= #'"),
    Case(b'PW="a\\\\"b"\nDATABASE_URL=' + P.encode() + b"app:${PW}@localhost:5433/real_estate\n", {},
         "escaped backslash before a quote"),
]

# What each explicit case comes to on both sides (the generator finds the rest).
EXPLICIT_CODES = [None, None, None, None, None, None, None, None, b.URL_INVALID, b.URL_INVALID, b.URL_INVALID,
                  None, None, b.URL_SCHEME, REJECTED, REJECTED, b.URL_INVALID, None]


@pytest.mark.slow
@pytest.mark.parametrize("case", EXPLICIT, ids=[c.note for c in EXPLICIT])
def test_explicit_case_agrees(case: Case, batch: BatchLoader) -> None:
    (loaded,) = batch.load([case])
    assert expected_code(loaded) == EXPLICIT_CODES[EXPLICIT.index(case)], loaded
    assert disagreement(case, loaded) is None, disagreement(case, loaded)


def test_explicit_connections() -> None:
    """The values the wizard connects with, spelled out for the cases whose point is the connection."""
    from setup_wizard.config.backend_url import engine_params

    def settings(case: Case) -> Settings:
        found = wizard(case).settings
        assert found is not None
        return found

    spaced = settings(EXPLICIT[0])
    assert spaced.password == "pass word" and settings(EXPLICIT[1]).dbname == "test database"
    multi = settings(EXPLICIT[2]).conninfo_params()
    assert (multi["host"], multi["port"]) == ("a,b,c", "1,2,3")
    written = settings(EXPLICIT[2]).url()  # what the wizard writes back keeps the list, in SQLAlchemy's form
    assert {k: engine_params(written).params[k] for k in ("host", "port")} == {"host": "a,b,c", "port": "1,2,3"}
    split = settings(EXPLICIT[3])
    assert (split.host, split.port) == ("db", 5678)
    assert settings(EXPLICIT[4]).conninfo_params()["host"] == "db1,db2"
    assert settings(EXPLICIT[4]).conninfo_params()["port"] == "5433,5434"
    assert settings(EXPLICIT[5]).host == "%68ost"
    assert settings(EXPLICIT[7]).password == "fromenv"
    assert settings(EXPLICIT[11]).dbname == "real_estate "
    assert settings(EXPLICIT[12]).conninfo_params()["client_encoding"] == "latin1"


# --- the generator -----------------------------------------------------------------------------------

NAMES = ["db", "localhost", "db-1.example", "127.0.0.1", "::1", "fe80::1%eth0", "/tmp", "/var/run/postgresql",
         "%68ost", "%2Ftmp", "d b", "한글", "a@b", ""]
WORDS = ["app", "postgres", "pass word", "p@ss", "p:ss", "p/ss", "p?ss", "p#ss", "p%40ss", "p%3Ass", "%zz", "%",
         "p+ss", "p&ss", "p=ss", "p,ss", "한글", "%ED%95%9C", "", " ", "p ", "${PW}", "${PW:-dflt}", "$PW", "p\\ss"]
DBS = ["real_estate", "test database", "real_estate ", "%72eal", "a/b", "db?x", "한글", "", "%ED%95%9C", "db#x"]
PORTS = ["5432", "5433", "", "0", "99999", "xyz", " 12", "1_000", "-1", "65535"]
QUERY = ["sslmode=disable", "sslmode=prefer", "application_name=a%20b", "connect_timeout=10",
         "client_encoding=latin1", "options=-c%20x%3Dy", "foo=1", "target_session_attrs=any", "sslmode=bogus",
         "host=", "port="]


def _host_value(rng: random.Random) -> str:
    kind = rng.randrange(6)
    if kind == 0:
        return rng.choice(NAMES)
    if kind == 1:
        return f"{rng.choice(NAMES)}:{rng.choice(PORTS)}"
    if kind == 2:
        return ",".join(rng.choice(NAMES[:8]) for _ in range(rng.randint(2, 3)))
    if kind == 3:
        return f":{rng.choice(PORTS)}"
    if kind == 4:
        return ",".join(f"{rng.choice(NAMES[:4])}:{rng.choice(PORTS)}" for _ in range(2))
    return rng.choice(["%2Ftmp", "a%2Cb", "[::1]:5432", "db:1:2"])


def _query(rng: random.Random) -> str:
    parts = []
    for _ in range(rng.choice([0, 0, 1, 1, 2, 3])):
        kind = rng.randrange(4)
        if kind == 0:
            parts.append("host=" + _host_value(rng))
        elif kind == 1:
            parts.append("port=" + ",".join(rng.choice(PORTS) for _ in range(rng.randint(1, 3))))
        else:
            parts.append(rng.choice(QUERY))
    return "?" + "&".join(parts) if parts else ""


def gen_url(rng: random.Random) -> str:
    scheme = rng.choice(["postgresql+psycopg"] * 12 + ["postgresql", "postgresql+psycopg_async", "postgres",
                                                       "POSTGRESQL+PSYCOPG", "postgresql+asyncpg"])
    auth = rng.choice(["", "{u}@", "{u}:{p}@", ":{p}@", "{u}:@", "{u}:{p}@"])
    auth = auth.format(u=rng.choice(WORDS), p=rng.choice(WORDS))
    host = rng.choice(["", "{h}", "{h}", "[{h6}]", "{h}:{port}", "{h}:{port}", "[{h6}]:{port}"])
    host = host.format(h=rng.choice([n for n in NAMES if ":" not in n]), h6=rng.choice(["::1", "fe80::1%25eth0"]),
                       port=rng.choice(PORTS))
    path = rng.choice(["", "/", "/{d}", "/{d}", "/{d}"]).format(d=rng.choice(DBS))
    url = f"{scheme}://{auth}{host}{path}{_query(rng)}"
    if rng.random() < 0.05:
        url = rng.choice([" ", "\t"]) + url
    if rng.random() < 0.05:
        url += " "
    return url


def _env_line(rng: random.Random, url: str) -> str:
    key = rng.choice(["DATABASE_URL"] * 6 + ["database_url", "export DATABASE_URL", "Database_Url"])
    form = rng.randrange(8)
    if form == 0:
        return f'{key}="{url}"'
    if form == 1:
        return f"{key}='{url}'"
    if form == 2:
        return f"{key}={url}  # 메인 DB"
    if form == 3:
        return f'{key} = "{url.replace(chr(34), chr(92) + chr(34))}" # note'
    if form == 4:
        return f"{key}= # note"
    return f"{key}={url}"


KEYS = ["PW", "X", "K1", "k1", "Key-2", "한글키", "export"]
VALUES = ["v", "a b", "a #c", "a#c", " #c", "", "${X}", "${X:-d}", "${PW}x${K1}", "$X", "${}", "${X:-}", "é",
          "a\\b", "a\\'b", 'a\\"b', "a\\\\", "\\n\\t\\x41", "'", '"', "a'b", "{x}", "${X}${X}"]


def gen_line(rng: random.Random) -> str:
    """One .env statement, well-formed or not: quotes, escapes, export, comments, spaces, interpolation."""
    key, value = rng.choice(KEYS), rng.choice(VALUES)
    shapes = ["{k}={v}", "{k}='{v}'", '{k}="{v}"', "export {k}={v}", " {k} = {v}", "\t{k}={v}", "'{k}'={v}",
              "{k}", "{k}=", "{k}= # c", "# {k}={v}", "{k}={v} # c", '{k}="{v}\n{v}"', "{k}='{v}' junk",
              "exportt {k}={v}", "{k}=={v}", "=x", "{k} x={v}"]
    return rng.choice(shapes).format(k=key, v=value)


def gen_case(rng: random.Random) -> Case:
    url = gen_url(rng)
    environ: dict[str, str] = {}
    for name, values in (("PW", ["fromenv", "e n v", "e@v", ""]), ("PGPORT", ["6000", "x", "1,2"]),
                         ("PGUSER", ["pguser"]), ("PGPASSWORD", ["pgpw"]), ("PGDATABASE", ["pgdb"]),
                         ("PGHOST", ["/tmp", "pghost", "a,b"])):
        if rng.random() < 0.15:
            environ[name] = rng.choice(values)
    if rng.random() < 0.1:
        return Case(None, {**environ, "DATABASE_URL": url}, "environment only")
    for name, values in (("X", ["envx", ""]), ("K1", ["envk"])):
        if rng.random() < 0.15:
            environ[name] = rng.choice(values)
    lines = [gen_line(rng) for _ in range(rng.choice([0, 0, 1, 2, 4]))]
    if rng.random() < 0.3:
        lines.append(rng.choice(["# 설정", "", "SECRET_KEY=abc", "BROKEN 'line", "EMPTY=", "NOVALUE"]))
    if rng.random() < 0.3:
        lines.append(rng.choice(["PW=fromfile", "PW='f i l e'", 'PW="q\\"uote"', "PW=a#b", "PW=${HOME}x"]))
    if rng.random() < 0.1:
        lines.append(_env_line(rng, gen_url(rng)))  # a first DATABASE_URL the later one replaces
    lines.append(_env_line(rng, url))
    if rng.random() < 0.2:
        environ["DATABASE_URL"] = rng.choice([gen_url(rng), "", url])
    newline = rng.choice(["\n", "\n", "\r\n"])
    return Case(newline.join(lines).encode() + newline.encode(), environ)


def generated(seed: int, count: int) -> list[Case]:
    rng = random.Random(seed)
    return [gen_case(rng) for _ in range(count)]


@pytest.mark.slow
def test_generated_sample_agrees(batch: BatchLoader) -> None:
    """A fixed, seeded sample in every run."""
    check(batch, generated(19, 400))


@pytest.mark.slow
@pytest.mark.skipif(os.environ.get("SETUP_WIZARD_SLOW") != "1", reason="slow tier: SETUP_WIZARD_SLOW=1")
@pytest.mark.timeout(900)
def test_generated_thousands_agree(batch: BatchLoader) -> None:
    seed = int(os.environ.get("SETUP_WIZARD_SEED", "2026"))
    check(batch, generated(seed, int(os.environ.get("SETUP_WIZARD_CASES", "5000"))))


# --- the wizard connects where the backend would: several hosts, a port inside ?host= -----------------

def _project(tmp_path: Path, text: str) -> Path:
    (tmp_path / "backend" / "app").mkdir(parents=True)
    (tmp_path / "backend" / ".env").write_text(text, encoding="utf-8")
    return tmp_path


def test_host_lists_connect_where_the_backend_would(server: Any) -> None:
    """The first host refuses, libpq goes on to the second, as the backend's psycopg does."""
    from urllib.parse import quote

    from support.pgserver import free_port

    from setup_wizard.database.connect import connect

    auth = f"postgres:{quote(server.password, safe='')}"
    for url in (f"{P}{auth}@/postgres?host=127.0.0.1,127.0.0.1&port={free_port()},{server.port}",
                f"{P}{auth}@/postgres?host=127.0.0.1:{free_port()}&host=127.0.0.1:{server.port}",
                f"{P}{auth}@/postgres?host=127.0.0.1:{server.port}"):
        settings = load_settings(None, {}, {"DATABASE_URL": url}, None)
        with connect(settings) as conn:
            assert (conn.info.host, conn.info.port) == ("127.0.0.1", server.port), url


def test_check_connects_through_a_host_list(server: Any, tmp_path: Path) -> None:
    """`check` (text and --json) reaches the server through a multi-host DATABASE_URL: no false alarm."""
    from urllib.parse import quote

    from support.pgserver import free_port
    from support.program import assert_no_secret, run_inprocess

    url = (f"{P}postgres:{quote(server.password, safe='')}@/postgres"
           f"?host=127.0.0.1,127.0.0.1&port={free_port()},{server.port}")
    project = _project(tmp_path, f"DATABASE_URL={url}\n")
    result = run_inprocess("check", "--json", cwd=project)
    steps = {step["id"]: step for step in json.loads(result.stdout)["steps"]}
    assert steps["backend_url"]["status"] == "ok", steps["backend_url"]
    assert steps["server"]["status"] == "ok", steps["server"]
    text = run_inprocess("check", cwd=project)
    assert "backend_url_invalid" not in text.stdout and "dsn_invalid" not in text.stdout
    assert_no_secret(result.stdout, text.stdout)


# --- a backend/.env too large to check is not a missing DATABASE_URL --------------------------------

def test_too_large_backend_env_is_not_missing(tmp_path: Path) -> None:
    """Over the 1 MiB limit the file is refused by name (env_file_invalid, exit 2), in every mode, even
    when the settings come from another file: never `backend_url_missing` for a file that holds the URL."""
    from support.program import run_inprocess

    (tmp_path / "backend" / "app").mkdir(parents=True)
    with (tmp_path / "backend" / ".env").open("wb") as handle:
        handle.write(b"DATABASE_URL=postgresql+psycopg://app:pw@localhost:5433/real_estate\n")
        handle.truncate(2 * 1024 * 1024)  # sparse
    (tmp_path / "small.env").write_text("DATABASE_URL=postgresql+psycopg://app:pw@localhost:1/x\n", encoding="utf-8")
    for args in (["check", "--json"], ["--yes", "--json"]):
        result = run_inprocess(*args, "--env-file", "small.env", cwd=tmp_path)
        codes = [step.get("code") for step in json.loads(result.stdout)["steps"]]
        assert result.code != 0 and "env_file_invalid" in codes and "backend_url_missing" not in codes, codes
        assert "2097152" in result.stdout
    text = run_inprocess("check", "--env-file", "small.env", "--report", "report.md", cwd=tmp_path)
    report = (tmp_path / "report.md").read_text(encoding="utf-8")
    for shown in (text.stdout, report):
        assert "너무 큽니다" in shown and "backend_url_missing" not in shown


# --- one parse per run ----------------------------------------------------------------------------------

def test_env_file_is_parsed_once_per_run(tmp_path: Path) -> None:
    from support.program import run_inprocess

    from setup_wizard.config.dotenv_backend import parse_env_text

    project = _project(tmp_path, "# 설정\nPW=pw\nDATABASE_URL=postgresql+psycopg://app:${PW}@localhost:1/x\n")
    parse_env_text.cache_clear()
    run_inprocess("check", "--json", cwd=project)
    assert parse_env_text.cache_info().misses == 1
