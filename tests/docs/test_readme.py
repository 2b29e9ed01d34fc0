"""README.md against the code it describes: options, defaults, quoted output and counts.

Each test holds one claim the README makes to a new user (an option they type, a default
they rely on, a sentence the tool prints, a count) to what the installed tool does, so the
text cannot drift from the code unnoticed.
"""

from __future__ import annotations

import contextlib
import importlib.util
import io
import re
import tomllib
from pathlib import Path
from types import ModuleType

import pandas as pd
import pytest
import yaml

from audit import run_audit
from audit.adapters.http import DEFAULT_CONCURRENCY
from audit.auditors.explanations.config import ExplanationsConfig
from audit.auditors.masking.config import MaskingConfig
from audit.auditors.privacy.config import PrivacyConfig
from audit.cli.main import main
from audit.core.protocols import ChunkedAuditor
from audit.engine import DEFAULT_CHUNK_ROWS
from audit.plugins import get_auditor

REPO = Path(__file__).resolve().parents[2]
README = (REPO / "README.md").read_text(encoding="utf-8")
BLOCK = re.compile(r"^```(\w+)\n(.*?)^```", re.DOTALL | re.MULTILINE)
OTHER_TOOLS_OPTIONS = {
    "--extra-index-url",  # pip
    "--port",  # the stand-in LLM, python -m audit.testing.llm
    "--flip-rate",  # the stand-in LLM
    "--metricframe-max",  # benchmarks/run.py
    "--strict",  # mkdocs build
}
"""Options the README shows for commands other than maas-audit."""


def _flat(text: str) -> str:
    """``text`` with every run of whitespace made one space (the README wraps its lines)."""
    return " ".join(text.split())


def _section(heading: str) -> str:
    """The README's text from ``heading`` to the next heading of any level."""
    start = README.index(f"\n{heading}\n")
    end = README.find("\n#", start + len(heading) + 2)
    return README[start : end if end != -1 else len(README)]


def _blocks(language: str) -> list[str]:
    """The bodies of the README's fenced blocks in ``language``."""
    return [body for lang, body in BLOCK.findall(README) if lang == language]


def _cli(argv: list[str]) -> tuple[int, str]:
    """Run ``maas-audit argv`` in this process; its exit code and standard output."""
    shown = io.StringIO()
    with contextlib.redirect_stdout(shown):
        code = main(argv)
    return code, shown.getvalue()


def _options(*command: str) -> set[str]:
    """The options ``maas-audit COMMAND --help`` lists."""
    code, shown = _cli([*command, "--help"])
    assert code == 0
    return set(re.findall(r"(?<![\w-])--[a-z][a-z-]*[a-z]", shown))


def _load(path: Path) -> ModuleType:
    """The Python file at ``path``, imported as a module of its own."""
    spec = importlib.util.spec_from_file_location(path.stem, path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def _number(text: str) -> float:
    """A number as the README writes it (``2,000,000``)."""
    return float(text.replace(",", ""))


def test_every_option_the_readme_names_is_one_maas_audit_accepts() -> None:
    named = set(re.findall(r"(?<![\w-])--[a-z][a-z-]*[a-z]", README)) - OTHER_TOOLS_OPTIONS
    accepted = (
        _options("run") | _options("verify") | _options("diff") | _options("policy", "explain")
    )
    assert named - accepted == set()


def test_every_policy_the_readme_shows_validates_as_written(tmp_path: Path) -> None:
    policies = [b for b in _blocks("yaml") if "requirements:" in b]
    assert len(policies) >= 2
    for number, body in enumerate(policies):
        path = tmp_path / f"policy-{number}.yaml"
        path.write_text(body, encoding="utf-8")
        assert _cli(["policy", "validate", str(path)])[0] == 0, body


def test_the_quoted_policy_explain_sentence_is_what_it_prints(tmp_path: Path) -> None:
    (policy,) = [b for b in _blocks("yaml") if "name: hiring-screen" in b]
    path = tmp_path / "hiring-screen.yaml"
    path.write_text(policy, encoding="utf-8")
    quoted = re.search(r'\("(BLOCKING — .*?) \.\.\.\)\."\);', _flat(README))
    assert quoted is not None
    code, shown = _cli(["policy", "explain", str(path), "--sensitive", "sex,race"])
    assert code == 0
    assert quoted.group(1) in _flat(shown)


def test_the_quick_start_names_every_pack_the_demo_policy_extends() -> None:
    demo = yaml.safe_load((REPO / "examples" / "demo-policy.yaml").read_text(encoding="utf-8"))
    quick_start = _section("## Quick start")
    assert demo["extends"]
    for pack in demo["extends"]:
        assert f"`{pack}`" in quick_start, pack


def test_passed_is_true_only_for_pass_as_the_python_example_says() -> None:
    comment = re.search(r"result\.passed\s+#(.*)", README)
    assert comment is not None and "PASS" in comment.group(1) and "ADVISORY" in comment.group(1)
    decisions = pd.DataFrame(
        {
            "sex": ["F", "M"] * 50,
            "race": ["A"] * 50 + ["B"] * 50,
            "decision": ["yes", "no", "yes", "yes"] * 25,
            "hired": ["yes", "no"] * 50,
        }
    )
    result = run_audit(
        model="column:decision",
        data=decisions,
        policy="nyc-ll144",  # advisory requirements only
        target="hired",
        positive_label="yes",
        sensitive=["sex", "race"],  # LL144's intersectional ratios need both
    )
    assert result.verdict.value == "ADVISORY"
    assert result.passed is False


def test_the_torch_pin_is_not_said_to_choose_the_cpu_build_unless_it_does() -> None:
    constraints = (REPO / "constraints.txt").read_text(encoding="utf-8")
    (pin,) = re.findall(r"^torch==\S+", constraints, re.MULTILINE)
    assert f"`{pin}`" in README
    chooses_cpu = "+cpu" in pin or "download.pytorch.org/whl/cpu" in constraints
    if not chooses_cpu:
        assert not re.search(rf"pins `{re.escape(pin)}`, the CPU build", _flat(README))


def test_the_layout_lists_every_built_in_auditor() -> None:
    project = tomllib.loads((REPO / "pyproject.toml").read_text(encoding="utf-8"))
    entry_points = project["project"]["entry-points"]["maas_audit.auditors"]
    layout = _flat(_section("## Layout"))
    built_in = [name for name, target in entry_points.items() if target.startswith("audit.")]
    assert built_in
    for name in built_in:
        assert f"{name}/" in layout, name


def test_the_engines_section_names_the_auditors_they_refuse() -> None:
    project = tomllib.loads((REPO / "pyproject.toml").read_text(encoding="utf-8"))
    names = list(project["project"]["entry-points"]["maas_audit.auditors"])
    refused = {n for n in names if not isinstance(get_auditor(n), ChunkedAuditor)}
    named = re.search(r"a policy with another auditor \(([^)]*)\)", _flat(README))
    assert named is not None
    assert set(re.split(r",\s*", named.group(1))) == refused


def test_the_masking_corpus_counts_are_the_corpus_file_s() -> None:
    path = REPO / "tests" / "auditors" / "masking" / "extract_corpus.py"
    cells = [cell for cells in _load(path).CORPUS.values() for cell in cells]
    claim = re.search(
        r"extract_corpus\.py` holds (\d+) hand-written, hand-labelled cells "
        r"of realistic extracts \((\d+) without PII\)",
        _flat(README),
    )
    assert claim is not None
    assert int(claim.group(1)) == len(cells)
    assert int(claim.group(2)) == sum(1 for _, label in cells if not label)


def test_the_feature_ablation_cost_adds_up_for_the_example_config() -> None:
    config = yaml.safe_load((REPO / "examples" / "screening-llm.yaml").read_text("utf-8"))
    fields = len(set(re.findall(r"{{\s*(?:row\[\"([^\"]+)\"\]|(\w+))\s*}}", config["prompt"])))
    claim = re.search(r"explained ([\d,]+) rows in ([\d,]+) requests", _flat(README))
    assert claim is not None and config["samples"] == 1
    rows, requests = (_number(group) for group in claim.groups())
    assert rows * (fields + 2) + 1 == requests


@pytest.mark.parametrize(
    ("pattern", "default"),
    [
        (r"`--concurrency N` keeps N requests in flight \(default ([\d,]+)", DEFAULT_CONCURRENCY),
        (r"`--chunk-rows` rows at a time \(default ([\d,]+)\)", DEFAULT_CHUNK_ROWS),
        (r"`min_group_rows` \(([\d,]+)\)", ExplanationsConfig.model_validate({}).min_group_rows),
        (
            r"`adverse_per_group` \(([\d,]+)\)",
            ExplanationsConfig.model_validate({}).adverse_per_group,
        ),
        (
            r"`max_hash_values` \(default ([\d,]+)\)",
            MaskingConfig.model_validate({}).max_hash_values,
        ),
        (
            r"under `min_group_size` \(([\d,]+)\) rows",
            PrivacyConfig.model_validate({}).min_group_size,
        ),
        (r"`max_interval_width` \(([\d.]+)\)", PrivacyConfig.model_validate({}).max_interval_width),
    ],
)
def test_a_default_the_readme_quotes_is_the_code_s(pattern: str, default: float) -> None:
    quoted = re.search(pattern, _flat(README))
    assert quoted is not None, pattern
    assert _number(quoted.group(1)) == default


def test_the_privacy_model_folder_default_is_the_code_s() -> None:
    quoted = re.search(r"`output_dir` \(default `([^`]+)`", _flat(README))
    assert quoted is not None
    assert quoted.group(1) == PrivacyConfig.model_validate({}).output_dir


def test_the_errors_the_readme_names_are_those_run_audit_raises():
    from audit import errors

    for name in ("PolicyError", "DataError", "ModelSpecError", "PluginError"):
        assert issubclass(getattr(errors, name), errors.UsageError), name
    assert issubclass(errors.EndpointError, errors.ModelError)
    assert "a `ModelError` (`EndpointError` for a served model)" in README
