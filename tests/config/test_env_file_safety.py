"""The .env promises, held by the real program (a subprocess, a pseudo-terminal) in every output mode:

- a backend/.env that cannot be read (a folder, a looping or broken link, no permission) is refused by
  name, exit 2, nothing changed;
- restricting a readable .env only takes bits away (444 -> 400, never gaining write);
- the previous .env is kept where git does not look and only its owner can read (600), the last screen
  names it; `check` judges every other file in backend/ holding the secrets.
"""

from __future__ import annotations

import errno
import json
import os
import subprocess
from datetime import datetime
from pathlib import Path
from typing import Any
from urllib.parse import quote

import pytest
from support.databases import Database
from support.dbstate import add_sample_data
from support.pgserver import free_port
from support.program import PASSWORD, assert_no_secret, backend_form, clean_environ, run_cli
from support.ptyrun import Terminal

from setup_wizard.database.checkpoints import library_installed
from setup_wizard.machine.system import Platform
from setup_wizard.messages import catalogue as catalogue_msg
from setup_wizard.messages import envfiles as envfiles_msg
from setup_wizard.messages import finish as finish_msg

ENTER = "\r"
SECRET_KEY = "SECRET_KEY=team-secret-key-1234"


def snapshot(root: Path) -> dict[str, Any]:
    """Every entry under root as it is: links (not followed), folders, bytes and mode of files."""
    seen: dict[str, Any] = {}
    for folder, dirs, files in os.walk(root, followlinks=False):
        for name in [*dirs, *files]:
            path = Path(folder) / name
            key = str(path.relative_to(root))
            if path.is_symlink():
                seen[key] = ("link", os.readlink(path))
            elif path.is_dir():
                seen[key] = ("dir", path.stat().st_mode & 0o777)
            else:
                seen[key] = ("file", path.read_bytes(), path.stat().st_mode & 0o777)
    return seen


def files_in(folder: Path) -> list[Path]:
    return sorted(p for p in folder.rglob("*") if p.is_file()) if folder.exists() else []


# --- 4. a backend/.env that cannot be read --------------------------------------------------------------

def unreadable_project(root: Path, kind: str) -> tuple[Path, str]:
    """A project whose backend/.env is `kind`; the sentence that must name it."""
    backend = root / "backend"
    (backend / "app").mkdir(parents=True)
    (backend / "app" / "main.py").write_text("app = None\n", encoding="utf-8")
    env = backend / ".env"
    shown = root.resolve() / "backend" / ".env"
    if kind == "folder":  # a virtual environment made as `python -m venv .env`
        (env / "bin").mkdir(parents=True)
        (env / "pyvenv.cfg").write_text("home = /usr/bin\n", encoding="utf-8")
        return root, envfiles_msg.ENV_FILE_IS_DIR.format(path=shown)
    if kind == "loop":
        env.symlink_to(".env")
        return root, envfiles_msg.ENV_FILE_LOOP.format(path=shown)
    env.symlink_to("../shared/team.env")  # the shared file moved away
    return root, envfiles_msg.ENV_FILE_BROKEN_LINK.format(path=shown, target="../shared/team.env")


KINDS = ("folder", "loop", "broken_link")
MODES = (("check",), ("check", "-v"), ("check", "--json"), ("check", "--report", "report.md"),
         ("--yes",), ("--yes", "-v"), ("--yes", "--json"), ("run", "--yes", "--json", "-v"))


@pytest.mark.slow
@pytest.mark.parametrize("kind", KINDS)
def test_unreadable_backend_env_is_refused_by_name_in_every_mode(tmp_path: Path, kind: str,
                                                                 user_data_folder: Path) -> None:
    root, sentence = unreadable_project(tmp_path, kind)
    before = snapshot(root)
    # Nothing may be reached either: a server here would only hide a run that went on.
    environ = clean_environ(PGPORT=str(free_port()), PGHOST="127.0.0.1")
    for args in MODES:
        result = run_cli(*args, cwd=root, env=environ)
        both = result.stdout + result.stderr
        assert result.returncode == 2, (args, both)
        assert "Traceback" not in both and envfiles_msg.ENV_FILE_NONE not in both, (args, both)
        if "--json" in args:
            document = json.loads(result.stdout)
            assert not document["ok"]
            assert [(s["code"], s["detail"]) for s in document["steps"]] == [("env_file_invalid", sentence)], args
            assert document["steps"][0]["fix"]
        else:
            assert sentence in result.stderr, (args, both)
            assert catalogue_msg.LABEL_FIX in result.stderr
        assert snapshot(root) == before, args  # no report, no .env, nothing moved
    assert files_in(user_data_folder) == []


@pytest.mark.slow
@pytest.mark.parametrize("kind", KINDS)
def test_unreadable_backend_env_in_the_wizard(tmp_path: Path, kind: str) -> None:
    root, sentence = unreadable_project(tmp_path, kind)
    before = snapshot(root)
    run = Terminal(root, columns=250)
    assert run.finish() == 2, run.output
    assert sentence in run.output and envfiles_msg.ENV_FILE_NONE not in run.output
    assert snapshot(root) == before


def test_permission_denied_is_named_in_korean(tmp_path: Path) -> None:
    """The tests run as root, who reads any file: the mapping of EACCES is checked directly."""
    from setup_wizard.config.envfile import unreadable_error

    path = tmp_path / ".env"
    error = unreadable_error(path, PermissionError(errno.EACCES, "Permission denied", str(path)))
    assert error.code == "env_file_invalid" and error.exit_code == 2
    assert error.detail == envfiles_msg.ENV_FILE_NO_PERMISSION.format(path=path)
    assert "Permission denied" not in error.detail and error.fix is not None and "chmod u+r" in error.fix


def test_permission_denied_through_the_program_in_every_mode(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """The same, through cli.main: the open of backend/.env fails with EACCES as it does for another user."""
    from support.program import run_inprocess

    (tmp_path / "backend" / "app").mkdir(parents=True)
    env = tmp_path / "backend" / ".env"
    env.write_text("DATABASE_URL=postgresql+psycopg://postgres:pw@127.0.0.1:1/real_estate\n", encoding="utf-8")
    real_open = os.open

    def denying_open(path: Any, flags: int, *args: Any, **kwargs: Any) -> int:
        if Path(path).resolve() == env.resolve():
            raise PermissionError(errno.EACCES, "Permission denied", str(path))
        return real_open(path, flags, *args, **kwargs)

    monkeypatch.setattr(os, "open", denying_open)
    sentence = envfiles_msg.ENV_FILE_NO_PERMISSION.format(path=env.resolve())
    for args in (("check",), ("check", "-v"), ("check", "--json"), ("--yes",), ("--yes", "--json")):
        result = run_inprocess(*args, cwd=tmp_path)
        assert result.code == 2, (args, result.stdout, result.stderr)
        if "--json" in args:
            assert [s["detail"] for s in result.json()["steps"]] == [sentence]
        else:
            assert sentence in result.stderr and "Permission denied" not in result.stderr


def test_a_venv_named_env_at_the_project_root_is_not_the_settings(tmp_path: Path) -> None:
    """Only what stands at backend/.env counts; a `.env` virtual environment beside backend/ is skipped."""
    (tmp_path / ".env" / "bin").mkdir(parents=True)
    (tmp_path / "backend" / "app").mkdir(parents=True)
    result = run_cli("check", "--json", cwd=tmp_path, env=clean_environ(PGPORT=str(free_port())))
    steps = json.loads(result.stdout)["steps"]
    assert result.returncode == 1 and not any(s["code"] == "env_file_invalid" for s in steps)
    assert any(s["id"] == "env_file" for s in steps)


# --- 6. restricting a readable .env only removes bits ----------------------------------------------------

def env_lines(url: str) -> str:
    return f"# backend settings\n{SECRET_KEY}\nDATABASE_URL={backend_form(url)}  # 팀 서버\n"


def without_password(url: str) -> str:
    return url.replace(":" + quote(PASSWORD, safe="") + "@", "@")


@pytest.mark.slow
def test_read_only_env_stays_read_only_when_restricted(database: Database, tmp_path: Path) -> None:
    with database.connect() as conn:
        add_sample_data(conn)
    (tmp_path / "backend" / "app").mkdir(parents=True)
    path = tmp_path / "backend" / ".env"
    path.write_text(env_lines(without_password(database.url)), encoding="utf-8")
    path.chmod(0o444)
    before = path.read_text(encoding="utf-8")
    run = Terminal(tmp_path, columns=250, timeout=20)
    run.ask("의 비밀번호", PASSWORD + ENTER)
    run.ask(envfiles_msg.ASK_SAVE, ENTER)
    run.ask(envfiles_msg.ASK_RESTRICT_ENV.format(mode="400"), ENTER)  # the question says what it will be
    run.ask("위 마이그레이션을 적용할까요?", ENTER)
    if library_installed():
        run.ask("LangGraph 체크포인트 테이블", ENTER)
    assert run.finish() == 0, run.output
    assert path.stat().st_mode & 0o777 == 0o400  # group/other read taken away, no write added
    assert envfiles_msg.ENV_RESTRICTED.format(mode="400", path=path.resolve()) in run.output
    after = path.read_text(encoding="utf-8")
    assert after == before.replace("postgres@", f"postgres:{quote(PASSWORD, safe='')}@")


@pytest.mark.slow
@pytest.mark.parametrize(("mode", "fix"), [(0o444, "400"), (0o644, "600"), (0o640, "600"), (0o755, "700")])
def test_check_advises_only_removing_bits(tmp_path: Path, mode: int, fix: str) -> None:
    (tmp_path / "backend" / "app").mkdir(parents=True)
    path = tmp_path / "backend" / ".env"
    path.write_text(f"DATABASE_URL=postgresql+psycopg://postgres:pw@127.0.0.1:{free_port()}/real_estate\n",
                    encoding="utf-8")
    path.chmod(mode)
    for args in (("check", "--json"), ("check", "-v"), ("check", "--report", "r.md")):
        result = run_cli(*args, cwd=tmp_path)
        if "--json" in args:
            step = next(s for s in json.loads(result.stdout)["steps"] if s["id"] == "env_permissions")
            assert step["code"] == "env_file_readable" and step["fix"] == f"chmod {fix} {path.resolve()}"
        elif "--report" in args:
            assert f"chmod {fix} {path.resolve()}" in (tmp_path / "r.md").read_text(encoding="utf-8")
        else:
            assert f"chmod {fix} {path.resolve()}" in result.stdout
    assert path.stat().st_mode & 0o777 == mode  # check changes nothing


# --- 7. backups: private, out of git's sight, named on the last screen ----------------------------------

def git(root: Path, *args: str) -> str:
    return subprocess.run(["git", "-C", str(root), *args], check=True, capture_output=True, text=True,
                          env={**clean_environ(), "GIT_AUTHOR_NAME": "t", "GIT_AUTHOR_EMAIL": "t@example.com",
                               "GIT_COMMITTER_NAME": "t", "GIT_COMMITTER_EMAIL": "t@example.com"}).stdout


def team_repository(root: Path, env_text: str) -> Path:
    """A clone as a newcomer has it: .gitignore lists .env, the code is committed, .env is 644."""
    (root / "backend" / "app").mkdir(parents=True)
    (root / "backend" / "app" / "main.py").write_text("app = None\n", encoding="utf-8")
    (root / ".gitignore").write_text(".env\n__pycache__/\n", encoding="utf-8")
    git(root, "init", "-q")
    git(root, "add", ".")
    git(root, "commit", "-q", "-m", "start")
    path = root / "backend" / ".env"
    path.write_text(env_text, encoding="utf-8")
    path.chmod(0o644)
    return path


def backups_in(user_data_folder: Path) -> list[Path]:
    return files_in(user_data_folder / "setup_wizard" / "backups")


@pytest.mark.slow
def test_two_saves_in_the_wizard_keep_private_backups_out_of_git(database: Database, tmp_path: Path,
                                                                 user_data_folder: Path) -> None:
    with database.connect() as conn:
        add_sample_data(conn)
    typed_over = env_lines(without_password(database.url))
    path = team_repository(tmp_path, typed_over)
    status_before = git(tmp_path, "status", "--porcelain", "--untracked-files=all")
    kept: list[bytes] = []
    for number in (1, 2):
        if number == 2:  # the password goes missing again (a teammate's .env pasted over): retyped, saved again
            path.write_text(typed_over, encoding="utf-8")
            path.chmod(0o644)
        kept.append(path.read_bytes())
        run = Terminal(tmp_path, columns=250, timeout=20)
        run.ask("의 비밀번호", PASSWORD + ENTER)
        run.ask(envfiles_msg.ASK_SAVE, ENTER)
        run.ask(envfiles_msg.ASK_RESTRICT_ENV.format(mode="600"), ENTER)
        if number == 1:
            run.ask("위 마이그레이션을 적용할까요?", ENTER)
            if library_installed():
                run.ask("LangGraph 체크포인트 테이블", ENTER)
        assert run.finish() == 0, run.output
        backups = backups_in(user_data_folder)
        assert len(backups) == number
        newest = max(backups, key=lambda p: p.stat().st_mtime_ns)
        # The last screen names it: after the verdict, on one line to copy.
        final = run.output[run.output.rindex(finish_msg.SUMMARY_OK):]
        shown = final.splitlines()
        assert all(part in shown for part in envfiles_msg.BACKUP_KEPT.format(path=newest).splitlines()), final
    backups = backups_in(user_data_folder)
    assert sorted(b.read_bytes() for b in backups) == sorted(kept)
    assert all(SECRET_KEY.encode() in b.read_bytes() for b in backups)
    assert all(b.stat().st_mode & 0o777 == 0o600 for b in backups)
    assert all(b.parent.stat().st_mode & 0o077 == 0 for b in backups)
    assert git(tmp_path, "status", "--porcelain", "--untracked-files=all") == status_before == ""
    assert sorted(p.name for p in path.parent.iterdir()) == [".env", "app"]
    # .env before/after: only the URL gained the password; SECRET_KEY and the comment stay.
    assert path.read_text(encoding="utf-8") == typed_over.replace("postgres@",
                                                                  f"postgres:{quote(PASSWORD, safe='')}@")
    assert path.stat().st_mode & 0o777 == 0o600


@pytest.mark.slow
def test_yes_fixes_keep_private_backups_out_of_git_in_every_output_mode(database: Database, tmp_path: Path,
                                                                         user_data_folder: Path) -> None:
    """--yes rewrites postgresql:// as postgresql+psycopg:// (a fix that loses nothing): the previous file is
    a backup, named at the end of the text and in the JSON step."""
    with database.connect() as conn:
        add_sample_data(conn)
    old_scheme = f"# backend settings\n{SECRET_KEY}\nDATABASE_URL={database.url}\n"
    path = team_repository(tmp_path, old_scheme)
    status_before = git(tmp_path, "status", "--porcelain", "--untracked-files=all")
    for number, args in enumerate((("--yes",), ("--yes", "-v"), ("--yes", "--json")), start=1):
        path.write_text(old_scheme, encoding="utf-8")
        path.chmod(0o644)
        result = run_cli(*args, cwd=tmp_path)
        assert result.returncode == 0, result.stdout + result.stderr
        assert_no_secret(result.stdout, result.stderr)
        backups = backups_in(user_data_folder)
        assert len(backups) == number
        newest = max(backups, key=lambda p: p.stat().st_mtime_ns)
        assert newest.read_text(encoding="utf-8") == old_scheme and newest.stat().st_mode & 0o777 == 0o600
        last = envfiles_msg.BACKUP_KEPT.format(path=newest).splitlines()  # the message, then the path on its own line
        if "--json" in args:
            details = [s["detail"] for s in json.loads(result.stdout)["steps"] if s["id"] == "env_save"]
            assert len(details) == 1 and str(newest) in details[0]
            assert result.stderr.rstrip().splitlines()[-len(last):] == last
        else:
            assert result.stdout.rstrip().splitlines()[-len(last):] == last
        assert path.read_text(encoding="utf-8") == old_scheme.replace("postgresql://", "postgresql+psycopg://")
        assert git(tmp_path, "status", "--porcelain", "--untracked-files=all") == status_before == ""
        assert sorted(p.name for p in path.parent.iterdir()) == [".env", "app"]


@pytest.mark.slow
def test_check_judges_every_file_holding_the_secrets(tmp_path: Path) -> None:
    url = f"postgresql+psycopg://postgres:old-pw@127.0.0.1:{free_port()}/real_estate"
    env = team_repository(tmp_path, f"{SECRET_KEY}\nDATABASE_URL={url}\n")
    env.chmod(0o600)
    backend = env.parent
    # What older versions left (644, untracked), a copy someone committed, a template meant to be committed.
    (backend / ".env.bak").write_text(f"{SECRET_KEY}\nDATABASE_URL={url}\n", encoding="utf-8")
    (backend / ".env.bak").chmod(0o644)
    (backend / ".env.local").write_text("POSTGRES_PASSWORD=local-pw\n", encoding="utf-8")
    (backend / ".env.local").chmod(0o600)
    (backend / ".env.example").write_text("DATABASE_URL=postgresql+psycopg://postgres:비밀번호@localhost/x\n"
                                          "SECRET_KEY=change-me\n", encoding="utf-8")
    git(tmp_path, "add", "-f", "backend/.env.local", "backend/.env.example")
    git(tmp_path, "commit", "-q", "-m", "oops")
    before = snapshot(tmp_path)
    wanted = [f"chmod 600 {(backend / '.env.bak').resolve()}",
              f"git -C {backend.resolve()} rm --cached -- .env.local",
              f"rm {(backend / '.env.bak').resolve()}"]
    for args in (("check",), ("check", "-v"), ("check", "--json"), ("check", "--report", "report.md")):
        result = run_cli(*args, cwd=tmp_path)
        assert result.returncode == 1 and "Traceback" not in result.stderr
        if "--json" in args:
            step = next(s for s in json.loads(result.stdout)["steps"] if s["id"] == "env_copies")
            assert step["status"] == "warn" and step["code"] == "env_copy_exposed"
            text = step["detail"] + "\n" + step["fix"]
        elif "--report" in args:
            text = (tmp_path / "report.md").read_text(encoding="utf-8")
            (tmp_path / "report.md").unlink()
            assert "env_copy_exposed" in text
        else:
            text = result.stdout
            assert envfiles_msg.STEP_ENV_COPIES in text and "env_copy_exposed" in text
        assert envfiles_msg.ENV_COPY_NOT_IGNORED.format(name=".env.bak") in text
        assert envfiles_msg.ENV_COPY_READABLE.format(name=".env.bak", mode="644") in text
        assert envfiles_msg.ENV_COPY_TRACKED.format(name=".env.local") in text
        assert ".env.example" not in text and "local-pw" not in text and "team-secret" not in text
        for command in wanted:
            assert command in text, (args, text)
        assert snapshot(tmp_path) == before  # check changes nothing


def test_check_is_calm_about_private_ignored_copies(tmp_path: Path) -> None:
    env = team_repository(tmp_path, f"{SECRET_KEY}\n")
    env.chmod(0o600)
    (tmp_path / ".gitignore").write_text(".env\n.env.*\n!.env.example\n", encoding="utf-8")
    (env.parent / ".env.local").write_text("POSTGRES_PASSWORD=pw\n", encoding="utf-8")
    (env.parent / ".env.local").chmod(0o600)
    result = run_cli("check", "--json", cwd=tmp_path, env=clean_environ(PGPORT=str(free_port())))
    step = next(s for s in json.loads(result.stdout)["steps"] if s["id"] == "env_copies")
    assert step["status"] == "ok" and ".env.local" in step["detail"]


def test_secret_copies_by_content_not_name(tmp_path: Path) -> None:
    from setup_wizard.config.secret_files import secret_copies

    files = {".env": "SECRET_KEY=x\n", ".env.bak-20250102-030405": "SECRET_KEY=x\n",
             "dev.env": "DATABASE_URL=postgresql://u:p@h/d\n", ".env.plain": "DATABASE_URL=postgresql://u@h/d\n",
             ".env.sample": "POSTGRES_PASSWORD=x\n", ".env.empty": "POSTGRES_PASSWORD=\n", "notes.txt": "SECRET=x\n"}
    for name, text in files.items():
        (tmp_path / name).write_text(text, encoding="utf-8")
    assert [p.name for p in secret_copies(tmp_path, [tmp_path / ".env"])] == [".env.bak-20250102-030405",
                                                                             "dev.env"]


def test_a_backup_is_never_readable_by_others_even_for_a_moment(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                                                backups: Any) -> None:
    """With umask 000 (a shared machine's loose setting): every file the backup writer creates is 600
    when it is renamed into place, and the folders are 700."""
    from setup_wizard.config.envwrite import EnvChange, save_env

    path = tmp_path / ".env"
    path.write_text(f"{SECRET_KEY}\nPOSTGRES_PASSWORD=old\n", encoding="utf-8")
    path.chmod(0o644)
    modes: list[int] = []
    real_replace = os.replace

    def replace(src: Any, dst: Any) -> None:
        if Path(dst).is_relative_to(backups.folder):  # (the .env's own rename is envwrite's, 644 kept)
            modes.append(os.stat(src).st_mode & 0o777)
        real_replace(src, dst)

    monkeypatch.setattr(os, "replace", replace)
    old_umask = os.umask(0)
    try:
        result = save_env(path, [EnvChange("POSTGRES_PASSWORD", "new", "***")], now=datetime(2025, 1, 2, 3, 4, 5),
                          backups=backups)
    finally:
        os.umask(old_umask)
    assert result.backup is not None and result.backup.read_text(encoding="utf-8").endswith("=old\n")
    assert modes == [0o600]
    assert result.backup.stat().st_mode & 0o777 == 0o600
    assert result.backup.parent.stat().st_mode & 0o777 == 0o700
    assert path.stat().st_mode & 0o777 == 0o644  # the .env keeps its mode (restricting is asked separately)


def test_backup_folder_per_platform() -> None:
    from setup_wizard.config.backups import data_folder

    assert data_folder({"HOME": "/home/u"}, Platform.LINUX) == Path("/home/u/.local/share/setup_wizard")
    assert data_folder({"HOME": "/home/u", "XDG_DATA_HOME": "/d"}, Platform.LINUX) == Path("/d/setup_wizard")
    assert data_folder({"HOME": "/home/u", "XDG_DATA_HOME": "rel"}, Platform.LINUX) == Path(
        "/home/u/.local/share/setup_wizard")
    assert data_folder({"HOME": "/Users/u"}, Platform.MACOS) == Path(
        "/Users/u/Library/Application Support/setup_wizard")
    assert data_folder({"LOCALAPPDATA": "C:/Users/u/AppData/Local"}, Platform.WINDOWS) == Path(
        "C:/Users/u/AppData/Local/setup_wizard")
