"""`maas-audit policy init`: a commented starter policy that validates, and never clobbers."""

from __future__ import annotations

from pathlib import Path

from audit.cli.main import main
from audit.policy import load_policy
from audit.policy.explain import starter_policy
from audit.policy.packs import packs_dir


def test_starter_validates_and_points_editors_at_the_schema(tmp_path, monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)
    assert main(["policy", "init", "policies/mine.yaml"]) == 0
    path = Path("policies/mine.yaml")
    text = path.read_text(encoding="utf-8")
    first = text.splitlines()[0]
    assert first.startswith("# yaml-language-server: $schema=")
    schema = (path.parent / first.split("$schema=", 1)[1]).resolve()
    assert schema == (packs_dir() / "schema.json").resolve()
    loaded = load_policy(path)
    assert [r.id for r in loaded.policy.requirements] == ["selection-rate-ratio"]
    assert "#" in text.split("requirements:", 1)[1]  # commented examples
    assert "policy validate policies/mine.yaml" in capsys.readouterr().out
    assert main(["policy", "validate", str(path)]) == 0


def test_init_refuses_to_overwrite(tmp_path, monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)
    Path("policy.yaml").write_text("mine", encoding="utf-8")
    assert main(["policy", "init"]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "policy.yaml exists" in err and "--force" in err
    assert Path("policy.yaml").read_text(encoding="utf-8") == "mine"
    assert main(["policy", "init", "--force"]) == 0
    load_policy("policy.yaml")


def test_init_to_stdout_with_own_schema_url(tmp_path, monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)
    assert main(["policy", "init", "-", "--schema", "https://example.org/schema.json"]) == 0
    out = capsys.readouterr().out
    assert out.startswith("# yaml-language-server: $schema=https://example.org/schema.json\n")
    assert list(tmp_path.iterdir()) == []


def test_starter_text_is_a_valid_policy(tmp_path):
    path = tmp_path / "p.yaml"
    path.write_text(starter_policy(schema="schema.json"), encoding="utf-8")
    assert load_policy(path).policy.name == "my-policy"


def test_init_into_a_folder_is_refused_even_with_force(tmp_path, capsys):
    folder = tmp_path / "policies"
    folder.mkdir()
    assert main(["policy", "init", str(folder), "--force"]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "is a folder" in err and "internal error" not in err
    assert folder.is_dir() and not list(folder.iterdir())


def test_init_where_nothing_can_be_written_is_one_line(tmp_path, capsys):
    blocker = tmp_path / "a-file"
    blocker.write_text("not a folder", encoding="utf-8")
    assert main(["policy", "init", str(blocker / "policy.yaml")]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and err.startswith("maas-audit: error: cannot write ")
    assert blocker.read_text(encoding="utf-8") == "not a folder"
