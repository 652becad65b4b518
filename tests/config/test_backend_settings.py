"""Settings as the backend reads them: a matrix of layouts, each judged twice and compared.

For every layout (files in backend/ and at the project root, plus an environment) this asserts
1. the wizard's verdict (config/backend.py: ok, or the failing code) and where the wizard connects
   (config/settings.load_settings, fed as the flow feeds it), and
2. what the backend's own loader does with the same files, run with the backend's pinned libraries in a
   separate venv (tests/support/backend_loader.py, tests/backend-requirements.txt): engine created or the
   exception class, and where libpq would connect;
and that the two agree: the wizard says ok exactly when the backend starts with a password, and then
both name the same port, user and database.
"""

from __future__ import annotations

import codecs
import json
import os
import subprocess
import sys
import warnings
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
from support import SUPPORT

from setup_wizard.config.backend import backend_view
from setup_wizard.config.backend_layout import find_layout
from setup_wizard.config.envfile import default_env_path, read_env_file
from setup_wizard.config.load import load_settings, os_login_name
from setup_wizard.config.steps import settings_steps
from setup_wizard.results import Status

ROOT = Path(__file__).resolve().parents[2]
LOADER = SUPPORT / "backend_loader.py"
URL = "postgresql+psycopg://app:pw@localhost:5433/real_estate"
LOGIN = os_login_name(os.environ)


@pytest.fixture(scope="session")
def backend_python() -> Path:
    venv = Path(os.environ.get("SETUP_WIZARD_BACKEND_VENV", ROOT / ".venv-backend"))
    python = venv / ("Scripts/python.exe" if os.name == "nt" else "bin/python")
    if not python.exists():
        text = (
            f"\n!!! SKIPPED: the backend's loader venv is missing ({venv}).\n"
            "!!! The settings matrix was NOT compared with the backend's own libraries. Create it with:\n"
            "!!!   python3 -m venv .venv-backend && .venv-backend/bin/pip install -r tests/backend-requirements.txt\n"
        )
        sys.stderr.write(text)
        warnings.warn(text, stacklevel=1)
        pytest.skip(text)
    return python


@dataclass(frozen=True)
class Layout:
    name: str
    backend_env: bytes | None = None  # backend/.env
    root_env: bytes | None = None  # the project root's .env
    environ: dict[str, str] = field(default_factory=dict)
    code: str | None = None  # the wizard's first failing code; None: ok
    loader_error: str | None = None  # the backend's exception class; None: engine created
    # Where both connect when ok: port, user, dbname, password given?
    target: tuple[str, str, str, bool] | None = None


def utf8(text: str) -> bytes:
    return text.encode("utf-8")


MATRIX = [
    Layout("utf8", utf8(f"SECRET_KEY=abc\nDATABASE_URL={URL}\n"),
           target=("5433", "app", "real_estate", True)),
    Layout("bom_before_database_url", codecs.BOM_UTF8 + utf8(f"DATABASE_URL={URL}\n"),
           code="backend_env_bom", loader_error="ArgumentError"),
    Layout("bom_before_a_comment", codecs.BOM_UTF8 + utf8(f"# 백엔드 설정\nDATABASE_URL={URL}\n"),
           target=("5433", "app", "real_estate", True)),
    Layout("utf16_powershell", codecs.BOM_UTF16_LE + f"DATABASE_URL={URL}\r\n".encode("utf-16-le"),
           code="backend_env_encoding", loader_error="UnicodeDecodeError"),
    Layout("cp949_hangul_comment", f"# 데이터베이스 설정\nDATABASE_URL={URL}\n".encode("cp949"),
           code="backend_env_encoding", loader_error="UnicodeDecodeError"),
    Layout("only_postgres_keys",
           utf8("POSTGRES_HOST=localhost\nPOSTGRES_PORT=5433\nPOSTGRES_USER=app\nPOSTGRES_PASSWORD=pw\n"),
           code="backend_url_missing", loader_error="ArgumentError"),
    Layout("root_env_only", None, utf8(f"DATABASE_URL={URL}\n"),
           code="backend_env_outside", loader_error="ArgumentError"),
    Layout("lower_case_database_url", utf8(f"database_url={URL}\n"),
           target=("5433", "app", "real_estate", True)),
    Layout("export_quotes_inline_comment", utf8(f'export DATABASE_URL="{URL}"  # 메인 DB\n'),
           target=("5433", "app", "real_estate", True)),
    Layout("single_quotes_crlf", utf8(f"SECRET_KEY='x y'\r\nDATABASE_URL='{URL}'\r\n"),
           target=("5433", "app", "real_estate", True)),
    Layout("scheme_postgresql_psycopg2", utf8(f"DATABASE_URL={URL.replace('+psycopg', '')}\n"),
           code="backend_url_scheme", loader_error="ModuleNotFoundError"),
    Layout("scheme_asyncpg", utf8(f"DATABASE_URL={URL.replace('+psycopg', '+asyncpg')}\n"),
           code="backend_url_scheme", loader_error="ModuleNotFoundError"),
    Layout("scheme_postgres", utf8(f"DATABASE_URL={URL.replace('postgresql+psycopg', 'postgres')}\n"),
           code="backend_url_scheme", loader_error="NoSuchModuleError"),
    Layout("scheme_upper_case", utf8(f"DATABASE_URL={URL.replace('postgresql+psycopg', 'POSTGRESQL+PSYCOPG')}\n"),
           code="backend_url_scheme", loader_error="NoSuchModuleError"),
    Layout("environment_overrides_file", utf8(f"DATABASE_URL={URL}\n"),
           environ={"DATABASE_URL": "postgresql+psycopg://envuser:pw2@localhost:6001/envdb"},
           target=("6001", "envuser", "envdb", True)),
    Layout("environment_rescues_bom_file", codecs.BOM_UTF8 + utf8(f"DATABASE_URL={URL}\n"),
           environ={"DATABASE_URL": "postgresql+psycopg://envuser:pw2@localhost:6001/envdb"},
           target=("6001", "envuser", "envdb", True)),
    Layout("empty_environment_hides_file", utf8(f"DATABASE_URL={URL}\n"), environ={"DATABASE_URL": ""},
           code="backend_url_empty_environ", loader_error="ArgumentError"),
    Layout("pgport_never_beats_url_port", utf8(f"DATABASE_URL={URL}\n"), environ={"PGPORT": "6000"},
           target=("5433", "app", "real_estate", True)),
    Layout("pgport_fills_missing_port",
           utf8("DATABASE_URL=postgresql+psycopg://app:pw@localhost/real_estate\n"), environ={"PGPORT": "6000"},
           target=("6000", "app", "real_estate", True)),
    Layout("pgpassword_with_passwordless_url",
           utf8("DATABASE_URL=postgresql+psycopg://app@localhost:5433/real_estate\nPOSTGRES_PASSWORD=pw\n"),
           environ={"PGPASSWORD": "pw"}, target=("5433", "app", "real_estate", True)),
    Layout("password_only_in_postgres_password",
           utf8("DATABASE_URL=postgresql+psycopg://app@localhost:5433/real_estate\nPOSTGRES_PASSWORD=pw\n"),
           code="backend_password_only_in_keys"),
    Layout("url_without_dbname", utf8("DATABASE_URL=postgresql+psycopg://app:pw@localhost:5433\n"),
           target=("5433", "app", "app", True)),
    Layout("url_without_dbname_or_user", utf8("DATABASE_URL=postgresql+psycopg://:pw@localhost:5433/\n"),
           target=("5433", LOGIN, LOGIN, True)),
    Layout("pguser_and_pgdatabase_fill_the_url",
           utf8("DATABASE_URL=postgresql+psycopg://:pw@localhost:5433\n"),
           environ={"PGUSER": "pguser", "PGDATABASE": "pgdb"}, target=("5433", "pguser", "pgdb", True)),
    Layout("url_parameters",
           utf8(f"DATABASE_URL={URL}?connect_timeout=10&application_name=chat&sslmode=prefer"
                "&options=-c%20statement_timeout%3D5000\n"),
           target=("5433", "app", "real_estate", True)),
]


def make(tmp_path: Path, layout: Layout) -> Path:
    (tmp_path / "backend" / "app").mkdir(parents=True)
    if layout.backend_env is not None:
        (tmp_path / "backend" / ".env").write_bytes(layout.backend_env)
    if layout.root_env is not None:
        (tmp_path / ".env").write_bytes(layout.root_env)
    return tmp_path


class Loader:
    """The backend's loader under the backend's libraries: one `--serve` process for the session whose
    forked children each load one layout (tests/support/backend_loader.py), or one process per layout where
    there is no fork."""

    def __init__(self, python: Path) -> None:
        self.python = python
        self.server: subprocess.Popen[str] | None = None
        if hasattr(os, "fork"):
            self.server = subprocess.Popen([str(python), str(LOADER), "--serve"], env=self.base_env(),
                                           stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True,
                                           encoding="utf-8")

    @staticmethod
    def base_env() -> dict[str, str]:
        env = {"PATH": os.environ.get("PATH", ""), "LANG": "C.UTF-8", "PYTHONIOENCODING": "utf-8"}
        for key in ("SYSTEMROOT", "SystemRoot"):  # a Windows Python cannot start without it
            if key in os.environ:
                env[key] = os.environ[key]
        return env

    def load(self, backend: Path, environ: dict[str, str]) -> dict[str, Any]:
        env = {**self.base_env(), "HOME": str(backend), **environ}
        if self.server is None:
            done = subprocess.run([str(self.python), str(LOADER)], cwd=backend, env=env, capture_output=True,
                                  text=True, encoding="utf-8", timeout=60)
            assert done.returncode == 0, done.stderr
            answer = done.stdout
        else:
            assert self.server.stdin is not None and self.server.stdout is not None
            self.server.stdin.write(json.dumps({"cwd": str(backend), "environ": env}) + "\n")
            self.server.stdin.flush()
            answer = self.server.stdout.readline()
            assert answer, "the backend loader stopped"
        result: dict[str, Any] = json.loads(answer)
        return result

    def close(self) -> None:
        if self.server is not None:
            assert self.server.stdin is not None
            self.server.stdin.close()
            self.server.wait(timeout=30)


@pytest.fixture(scope="session")
def loader(backend_python: Path) -> Iterator[Loader]:
    running = Loader(backend_python)
    yield running
    running.close()


def wizard_verdict(project: Path, environ: dict[str, str]) -> tuple[str | None, Any]:
    view = backend_view(find_layout(project), environ, login_name=LOGIN)
    fatal = [p.code for p in view.problems if p.fatal]
    # The settings the wizard connects with, loaded as the flow loads them (tolerant read of the file).
    found = default_env_path(project)
    env_file = read_env_file(found) if found is not None else None
    settings = load_settings(None, environ, env_file.values if env_file else None,
                             env_file.path if env_file else None, login_name=LOGIN)
    return (fatal[0] if fatal else None), (view, settings)


@pytest.mark.slow
@pytest.mark.parametrize("layout", MATRIX, ids=[layout.name for layout in MATRIX])
def test_matrix_wizard_and_backend_agree(tmp_path: Path, layout: Layout, loader: Loader) -> None:
    project = make(tmp_path, layout)
    code, (view, settings) = wizard_verdict(project, layout.environ)
    loaded = loader.load(project / "backend", layout.environ)

    # 1. each side as expected
    assert code == layout.code, view.problems
    if layout.loader_error is not None:
        assert not loaded["ok"] and loaded["error_class"] == layout.loader_error, loaded
    target = loaded["target"]
    # 2. they agree: ok exactly when the backend starts and has a password to give
    backend_works = bool(loaded["ok"] and target and target["password_set"])
    assert (code is None) == backend_works, (code, loaded)
    if code is None:
        assert layout.target is not None
        assert (target["port"], target["user"], target["dbname"], target["password_set"]) == layout.target
        # ... and the wizard connects exactly there.
        assert (str(settings.port), settings.user, settings.dbname, settings.password is not None) == layout.target
        assert loaded["url"] and "pw" not in loaded["url"]
    # 3. the checklist items carry the same verdict
    steps = settings_steps(view, settings)
    failing = [s.code for s in steps if s.status is Status.FAIL]
    assert failing[:1] == ([code] if code else [])
    for step in steps:
        assert "pw2" not in step.detail + (step.fix or "") and ":pw@" not in step.detail + (step.fix or "")


@pytest.mark.slow
def test_loader_alone_runs_under_the_backend_pins(backend_python: Path) -> None:
    done = subprocess.run([str(backend_python), "-c",
                           "import dotenv, pydantic_settings, sqlalchemy; from importlib.metadata import version;"
                           "print(version('python-dotenv'), pydantic_settings.__version__, sqlalchemy.__version__)"],
                          capture_output=True, text=True, timeout=60)
    dotenv_version, settings_version, sqlalchemy_version = done.stdout.split()
    assert dotenv_version == "1.0.1"
    assert settings_version.startswith("2.4.")
    assert sqlalchemy_version == "2.0.23"


# --- issue 12: URL parameters and a URL without a database, against the real server ---------------

def test_url_parameters_connect(server: Any) -> None:
    from setup_wizard.database.connect import connect

    url = (server.url("postgres").replace("postgresql://", "postgresql+psycopg://")
           + "?connect_timeout=10&application_name=chat&sslmode=disable&options=-c%20statement_timeout%3D4321")
    settings = load_settings(None, {}, {"DATABASE_URL": url}, None)
    with connect(settings) as conn:
        row = conn.execute("SELECT current_setting('statement_timeout'), current_setting('application_name')"
                           ).fetchone()
    assert row == ("4321ms", "setup_wizard")


def test_url_without_database_connects_to_the_users_database(server: Any) -> None:
    from setup_wizard.database.connect import connect

    url = server.url("postgres").replace("postgresql://", "postgresql+psycopg://").rsplit("/", 1)[0]
    settings = load_settings(None, {}, {"DATABASE_URL": url}, None)
    assert settings.dbname == "postgres"  # the superuser's name, as libpq and the backend use it
    with connect(settings) as conn:
        row = conn.execute("SELECT current_database()").fetchone()
    assert row == ("postgres",)
    view = backend_view(layout_for(url), {}, login_name=LOGIN)
    steps = settings_steps(view, settings)
    warned = [s for s in steps if s.code == "backend_url_no_dbname"]
    assert warned and warned[0].status is Status.WARN and "데이터베이스(postgres)를" in warned[0].detail


def layout_for(url: str) -> Any:
    from setup_wizard.config.backend_layout import Layout as BackendLayout

    return BackendLayout(backend_dir=Path("/nonexistent/backend"), env_raw=f"DATABASE_URL={url}\n".encode())


# --- fixes that lose nothing: after them, the backend's own loader starts ---------------------------

FIXABLE = [layout for layout in MATRIX if layout.code is not None and layout.code != "backend_url_empty_environ"]


@pytest.mark.slow
@pytest.mark.parametrize("layout", FIXABLE, ids=[layout.name for layout in FIXABLE])
def test_fixes_make_the_backend_start(tmp_path: Path, layout: Layout, loader: Loader, backups: Any) -> None:
    from setup_wizard.config.envfile import decode_env_bytes
    from setup_wizard.config.envfix import plan_backend_env, write_plan

    project = make(tmp_path, layout)
    original = layout.backend_env if layout.backend_env is not None else layout.root_env
    assert original is not None
    for path in (project / "backend" / ".env", project / ".env"):
        if path.exists():
            path.chmod(0o640)

    plan = plan_backend_env(project, layout.environ)
    assert plan is not None and plan.fixes
    for text in [*plan.descriptions, *(c.shown for c in plan.changes)]:
        assert ":pw@" not in text and "=pw" not in text
    # Planning writes nothing: the files stay as they were until the plan is written, in one replace.
    backend_env = project / "backend" / ".env"
    assert (backend_env.read_bytes() == layout.backend_env if layout.backend_env is not None
            else not backend_env.exists())
    intended = load_settings(None, layout.environ, plan.intended_values(), None)
    write_plan(plan, backups=backups)

    code, (view, settings) = wizard_verdict(project, layout.environ)
    assert code is None, view.problems
    loaded = loader.load(project / "backend", layout.environ)
    assert loaded["ok"] and loaded["target"]["password_set"], loaded
    assert (str(settings.port), settings.user, settings.dbname) == (
        loaded["target"]["port"], loaded["target"]["user"], loaded["target"]["dbname"])
    # What the wizard connects with before the write is what the backend reads after it.
    assert intended.conninfo_params() == settings.conninfo_params()

    new = backend_env.read_bytes()
    assert not new.startswith(b"\xef\xbb\xbf")
    new.decode("utf-8")
    if os.name != "nt":
        assert backend_env.stat().st_mode & 0o777 == 0o640
    # Every line of the original is still there (comments included), and the original is kept aside.
    old_text, _ = decode_env_bytes(original)
    new_text = new.decode("utf-8")
    for line in old_text.splitlines():
        if "DATABASE_URL" not in line.upper():
            assert line in new_text.splitlines(), line
    if layout.root_env is not None:
        assert (project / ".env").read_bytes() == layout.root_env
    else:
        assert [p.read_bytes() for p in backups.kept] == [layout.backend_env]
        assert not list((project / "backend").glob(".env.*"))


def test_plan_is_data_with_stable_ids_and_no_secret(tmp_path: Path) -> None:
    from setup_wizard.config.envfix import plan_env_fixes

    layout = Layout("all", "# 설정\nDATABASE_URL=postgresql://app@localhost:5433/real_estate\n"
                           "POSTGRES_PASSWORD=s3cret\n".encode("cp949"))
    project = make(tmp_path, layout)
    fixes = plan_env_fixes(backend_view(find_layout(project), {}, login_name=LOGIN))
    assert [f.id for f in fixes] == ["env_rewrite_utf8", "env_fix_scheme", "env_password_into_url"]
    assert [f.problem for f in fixes] == ["backend_env_encoding", "backend_url_scheme", "backend_password_only_in_keys"]
    assert all("s3cret" not in f.description for f in fixes)


@pytest.mark.skipif(os.name == "nt", reason="symlinks need a privilege on Windows")
def test_fix_writes_through_a_symlink(tmp_path: Path, backups: Any) -> None:
    from setup_wizard.config.envfix import plan_backend_env, write_plan

    shared = tmp_path / "shared.env"
    shared.write_bytes(codecs.BOM_UTF8 + utf8(f"DATABASE_URL={URL}\n"))
    (tmp_path / "backend" / "app").mkdir(parents=True)
    link = tmp_path / "backend" / ".env"
    link.symlink_to(shared)
    plan = plan_backend_env(tmp_path, {})
    assert plan is not None and [f.id for f in plan.fixes] == ["env_rewrite_utf8"]
    write_plan(plan, backups=backups)
    assert link.is_symlink() and shared.read_bytes() == utf8(f"DATABASE_URL={URL}\n")
    assert len(backups.kept) == 1 and backups.kept[0].read_bytes().startswith(codecs.BOM_UTF8)
