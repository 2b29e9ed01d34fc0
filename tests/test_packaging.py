"""The wheel a user installs holds every file the package reads at run time.

The shipped packs live in ``policies/`` and reach the package through the symbolic link
``audit/policy/packs``; an editable install (the README's) follows the link in place, so
only a built wheel shows whether they, the report templates and the counterfactual name
lists are really packaged.  The wheel is built with pip from a copy of the tracked files
(pip builds in the source folder, which must stay clean).
"""

from __future__ import annotations

import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]


def _tracked_files() -> list[str]:
    if shutil.which("git") is None or not (REPO / ".git").exists():
        pytest.skip("not a git checkout: the tracked files are unknown")
    listed = subprocess.run(
        ["git", "ls-files", "-z"], cwd=REPO, capture_output=True, check=True
    ).stdout.decode()
    return [name for name in listed.split("\0") if name]


@pytest.fixture(scope="module")
def wheel(tmp_path_factory) -> zipfile.ZipFile:
    source = tmp_path_factory.mktemp("source")
    for name in _tracked_files():
        origin, copy = REPO / name, source / name
        if not origin.is_symlink() and not origin.exists():
            continue  # deleted in the working tree, not yet committed
        copy.parent.mkdir(parents=True, exist_ok=True)
        if origin.is_symlink():
            copy.symlink_to(origin.readlink())
        else:
            shutil.copy2(origin, copy)
    out = tmp_path_factory.mktemp("wheel")
    built = subprocess.run(
        [sys.executable, "-m", "pip", "wheel", "--no-deps", "-q", "-w", str(out), str(source)],
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert built.returncode == 0, built.stderr[-2000:]
    (path,) = out.glob("maas_audit-*.whl")
    return zipfile.ZipFile(path)


def test_every_shipped_pack_is_in_the_wheel(wheel):
    names = set(wheel.namelist())
    packs = sorted(p.name for p in (REPO / "policies").glob("*.yaml"))
    assert packs
    for pack in packs:
        assert f"audit/policy/packs/{pack}" in names
        assert wheel.read(f"audit/policy/packs/{pack}") == (REPO / "policies" / pack).read_bytes()


def test_templates_name_lists_and_type_marker_are_in_the_wheel(wheel):
    names = set(wheel.namelist())
    templates = sorted((REPO / "audit" / "reporting" / "templates").iterdir())
    assert templates
    for template in templates:
        assert f"audit/reporting/templates/{template.name}" in names
    for data in (REPO / "audit" / "auditors" / "counterfactual").glob("*.yaml"):
        assert f"audit/auditors/counterfactual/{data.name}" in names
    assert "audit/py.typed" in names
    entry_points = next(n for n in names if n.endswith(".dist-info/entry_points.txt"))
    assert "maas-audit" in wheel.read(entry_points).decode()
