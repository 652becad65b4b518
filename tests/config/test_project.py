"""Finding the project's backend/.env from the wrong folder, as git finds .git."""

from __future__ import annotations

import io
import json
from pathlib import Path

from support.databases import Database
from support.program import backend_form, clean_environ

from setup_wizard import cli
from setup_wizard.config.envwrite import target_path
from setup_wizard.config.project import find_backend
from setup_wizard.environment import Environment


def _project(root: Path) -> Path:
    (root / ".git").mkdir(parents=True)
    (root / "backend" / "app").mkdir(parents=True)
    (root / "frontend" / "src").mkdir(parents=True)
    return root


def test_backend_is_found_from_every_usual_wrong_folder(tmp_path: Path) -> None:
    root = _project(tmp_path / "repo")
    backend = (root / "backend").resolve()
    assert find_backend(root) is not None and find_backend(root).folder == backend  # type: ignore[union-attr]
    for start, how in [(root, "inside"), (root / "backend", "here"), (root / "backend" / "app", "parent"),
                       (root / "frontend", "sibling"), (root / "frontend" / "src", "parent")]:
        found = find_backend(start)
        assert found is not None and found.folder == backend and found.how == how, start


def test_no_backend_outside_a_project_and_no_env_file_is_created_there(tmp_path: Path) -> None:
    lonely = tmp_path / "somewhere"
    (lonely / ".git").mkdir(parents=True)
    assert find_backend(lonely) is None
    assert target_path(lonely, None) is None


def test_check_from_a_subfolder_reads_the_backend_env(database: Database, tmp_path: Path) -> None:
    root = _project(tmp_path / "repo")
    (root / "backend" / ".env").write_text(f"DATABASE_URL={backend_form(database.url)}\n", encoding="utf-8")
    out, err = io.StringIO(), io.StringIO()
    env = Environment(stdin=io.StringIO(), stdout=out, stderr=err, environ=clean_environ(),
                      cwd=root / "frontend" / "src")
    code = cli.main(["check", "--json"], env)
    steps = {s["id"]: s for s in json.loads(out.getvalue())["steps"]}
    assert steps["env_file"]["status"] == "ok"
    assert str((root / "backend" / ".env").resolve()) in steps["env_file"]["detail"]
    assert steps["login"]["status"] == "ok"
    assert code == 1  # migrations are pending: check fails, but it checked the right database
