"""`check`'s packages item: each required package's installed version, read from its metadata's header."""

from __future__ import annotations

from importlib.metadata import version
from pathlib import Path

import pytest
from support.checklist import items

from setup_wizard.flow import checks_machine
from setup_wizard.flow.checks import REGISTRY
from setup_wizard.packages import installed_version
from setup_wizard.results import Status


@pytest.mark.parametrize("name", [*checks_machine.REQUIRED_PACKAGES, "pytest", "pexpect"])
def test_the_version_is_the_one_importlib_metadata_reads(name: str) -> None:
    assert installed_version(name) == version(name)


def test_a_package_not_installed_has_no_version() -> None:
    assert installed_version("setup-wizard-no-such-package") is None


def test_only_the_header_names_the_version(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A long description that quotes another `Version:` line (a changelog) is not the header."""
    wheel_style = tmp_path / "demo_pkg-2.1.0.dist-info"
    wheel_style.mkdir()
    (wheel_style / "METADATA").write_text(
        "Metadata-Version: 2.1\nName: demo-pkg\nversion: 2.1.0\nSummary: x\n\nChangelog\nVersion: 9.9\n",
        encoding="utf-8")
    egg_style = tmp_path / "old_pkg-0.3.egg-info"
    egg_style.mkdir()
    (egg_style / "PKG-INFO").write_text("Metadata-Version: 1.1\nName: old-pkg\nVersion:  0.3\n", encoding="utf-8")
    monkeypatch.syspath_prepend(str(tmp_path))
    assert installed_version("demo-pkg") == "2.1.0"
    assert installed_version("old-pkg") == "0.3"


def test_a_missing_required_package_fails_the_item_by_name(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    only_packages = [c for c in REGISTRY if c.id == "packages"]
    listed = items(tmp_path, checks=only_packages)["packages"]
    assert listed.status is Status.OK and f"rich {version('rich')}" in listed.detail
    monkeypatch.setattr(checks_machine, "REQUIRED_PACKAGES", (*checks_machine.REQUIRED_PACKAGES, "no-such-pkg"))
    step = items(tmp_path, checks=only_packages)["packages"]
    assert step.status is Status.FAIL and step.code == "package_missing"
    assert "no-such-pkg" in step.detail and "psycopg" not in step.detail
