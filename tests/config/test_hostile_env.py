"""Hostile .env files (issue 12): a FIFO, a device or a huge file is refused without blocking, and a save
through a symlink, onto a dangling one, or over an edit made since the read keeps every byte it must."""

from __future__ import annotations

import os
import sys
from pathlib import Path
from typing import Any

import pytest
from support.hostile import failed, posix_only, run_main
from support.program import run_cli

from setup_wizard.errors import WizardError


@posix_only
def test_fifo_env_file_is_refused_without_blocking(tmp_path: Path) -> None:
    fifo = tmp_path / "fifo.env"
    os.mkfifo(fifo)
    proc = run_cli("--yes", "--json", "--env-file", str(fifo), cwd=tmp_path, timeout=30)
    assert proc.returncode == 2
    step = failed(proc.stdout)[0]
    assert step["code"] == "env_file_invalid" and "FIFO" in step["detail"]



@pytest.mark.parametrize("kind", ["dev-zero", "large"])
def test_device_and_huge_env_files_are_refused(tmp_path: Path, kind: str) -> None:
    if kind == "dev-zero":
        if sys.platform == "win32":
            pytest.skip("no /dev/zero")
        path = Path("/dev/zero")
    else:
        path = tmp_path / "huge.env"
        with path.open("wb") as handle:  # sparse: 50 MB without writing 50 MB
            handle.truncate(50 * 1024 * 1024)
    code, out, _err, seconds = run_main("--yes", "--json", "--env-file", str(path), cwd=tmp_path)
    assert code == 2 and seconds < 5
    step = failed(out)[0]
    assert step["code"] == "env_file_invalid"
    assert ("장치" in step["detail"]) if kind == "dev-zero" else ("너무 큽니다" in step["detail"])



@posix_only
def test_fifo_as_backend_env_is_refused_by_name(tmp_path: Path) -> None:
    (tmp_path / "backend").mkdir()
    os.mkfifo(tmp_path / "backend" / ".env")
    proc = run_cli("--yes", "--json", cwd=tmp_path, timeout=30)
    assert proc.returncode == 2
    assert failed(proc.stdout)[0]["code"] == "env_file_invalid"



def test_save_through_a_symlink_writes_the_target(tmp_path: Path, backups: Any) -> None:
    from setup_wizard.config.envfile import read_env_file
    from setup_wizard.config.envwrite import EnvChange, save_env

    shared = tmp_path / "shared"
    shared.mkdir()
    target = shared / "team.env"
    target.write_text("SECRET_KEY=k\nPOSTGRES_PASSWORD=old\n", encoding="utf-8")
    (tmp_path / "backend").mkdir()
    link = tmp_path / "backend" / ".env"
    link.symlink_to(target)
    result = save_env(link, [EnvChange("POSTGRES_PASSWORD", "new", "***")], expected=read_env_file(link),
                      backups=backups)
    assert link.is_symlink() and os.readlink(link) == str(target)
    assert target.read_text(encoding="utf-8") == "SECRET_KEY=k\nPOSTGRES_PASSWORD=new\n"
    assert result.written == target and result.backup is not None
    assert result.backup.read_text(encoding="utf-8").endswith("POSTGRES_PASSWORD=old\n")



def test_save_through_a_dangling_symlink_is_refused(tmp_path: Path, backups: Any) -> None:
    from setup_wizard.config.envwrite import EnvChange, save_env

    link = tmp_path / ".env"
    link.symlink_to(tmp_path / "missing.env")
    with pytest.raises(WizardError) as caught:
        save_env(link, [EnvChange("POSTGRES_PASSWORD", "new", "***")], backups=backups)
    assert caught.value.code == "env_save_failed"
    assert link.is_symlink() and not (tmp_path / "missing.env").exists()



def test_edit_made_since_the_read_is_merged_or_refused(tmp_path: Path, backups: Any) -> None:
    from setup_wizard.config.envfile import read_env_file
    from setup_wizard.config.envwrite import EnvChange, save_env

    path = tmp_path / ".env"
    path.write_text("SECRET_KEY=k\nPOSTGRES_PASSWORD=old\n", encoding="utf-8")
    seen = read_env_file(path)
    # Someone adds a line elsewhere: kept, ours applied on top.
    path.write_text("SECRET_KEY=k\nPOSTGRES_PASSWORD=old\nOPENAI_API_KEY=added\n", encoding="utf-8")
    result = save_env(path, [EnvChange("POSTGRES_PASSWORD", "new", "***")], expected=seen, backups=backups)
    assert result.merged
    assert path.read_text(encoding="utf-8") == "SECRET_KEY=k\nPOSTGRES_PASSWORD=new\nOPENAI_API_KEY=added\n"
    # Someone changes the very key we write: refused, their edit kept.
    seen = read_env_file(path)
    path.write_text("SECRET_KEY=k\nPOSTGRES_PASSWORD=theirs\n", encoding="utf-8")
    with pytest.raises(WizardError) as caught:
        save_env(path, [EnvChange("POSTGRES_PASSWORD", "mine", "***")], expected=seen, backups=backups)
    assert caught.value.code == "env_save_conflict" and "POSTGRES_PASSWORD" in caught.value.detail
    assert "mine" not in caught.value.detail
    assert path.read_text(encoding="utf-8") == "SECRET_KEY=k\nPOSTGRES_PASSWORD=theirs\n"



def test_environment_overrides() -> None:
    from setup_wizard.config.envwrite import environment_overrides

    assert environment_overrides({"PATH": "/bin"}) == []
    assert environment_overrides({"DATABASE_URL": ""}) == ["DATABASE_URL"]  # empty still wins for pydantic
    assert environment_overrides({"database_url": "x", "HOME": "/"}) == ["database_url"]
    assert environment_overrides({"POSTGRES_PASSWORD": "x"}, ["POSTGRES_PASSWORD"]) == ["POSTGRES_PASSWORD"]
    assert environment_overrides({"POSTGRES_PASSWORD": "x"}) == []



def test_edit_detected_from_the_values_the_flow_kept(tmp_path: Path, backups: Any) -> None:
    """The flow keeps only the values it read (flow.env_values): that is enough to refuse a clash."""
    from setup_wizard.config.envwrite import EnvChange, save_env

    path = tmp_path / ".env"
    path.write_text("DATABASE_URL=postgresql+psycopg://someone:else@db/x\n", encoding="utf-8")
    with pytest.raises(WizardError) as caught:  # there was no file when the wizard looked: {}
        save_env(path, [EnvChange("DATABASE_URL", "postgresql+psycopg://me:pw@localhost/real_estate", "***")],
                 expected={}, backups=backups)
    assert caught.value.code == "env_save_conflict"
    assert path.read_text(encoding="utf-8") == "DATABASE_URL=postgresql+psycopg://someone:else@db/x\n"
    result = save_env(path, [EnvChange("POSTGRES_PASSWORD", "pw", "***")],
                      expected={"DATABASE_URL": "postgresql+psycopg://someone:else@db/x"}, backups=backups)
    assert not result.merged and path.read_text(encoding="utf-8").endswith("POSTGRES_PASSWORD=pw\n")
