"""Auditor discovery through entry points, with real (tiny) distributions made in the test."""

import sys
import textwrap

import pytest

from audit.errors import PluginError
from audit.plugins import DISABLE_AUTOLOAD_ENV, discover_auditors, get_auditor

PLUGIN_SOURCE = """
from pydantic import BaseModel, ConfigDict

from audit.core.measurements import AuditorOutput, MetricResult


class Settings(BaseModel):
    model_config = ConfigDict(extra="forbid")
    value: float = 1.0


class ConstantAuditor:
    name = "constant"
    Config = Settings

    def metrics(self):
        return {"constant_value": "the configured value"}

    def run(self, context, config):
        rows = float(len(context.data))
        return AuditorOutput(
            auditor=self.name,
            metrics=(
                MetricResult(metric="constant_value", auditor=self.name, grouping=(),
                             value=config.value),
                MetricResult(metric="rows_seen", auditor=self.name, grouping=(), value=rows),
            ),
            method="Returns the configured value.",
        )


class Crashing(ConstantAuditor):
    name = "crashing"

    def run(self, context, config):
        raise RuntimeError("boom")
"""


def make_distribution(root, dist_name, module, source, entry_points):
    """Write an installed-looking distribution (module + .dist-info) under ``root``."""
    (root / f"{module}.py").write_text(source)
    info = root / f"{dist_name.replace('-', '_')}-0.1.dist-info"
    info.mkdir()
    (info / "METADATA").write_text(f"Metadata-Version: 2.1\nName: {dist_name}\nVersion: 0.1\n")
    lines = "\n".join(f"{name} = {target}" for name, target in entry_points.items())
    (info / "entry_points.txt").write_text(f"[maas_audit.auditors]\n{lines}\n")


@pytest.fixture
def plugin_path(tmp_path, monkeypatch):
    monkeypatch.syspath_prepend(str(tmp_path))
    monkeypatch.delenv(DISABLE_AUTOLOAD_ENV, raising=False)
    yield tmp_path
    for module in ("constant_plugin", "broken_plugin", "dup_plugin"):
        sys.modules.pop(module, None)
    discover_auditors(refresh=True)


def test_builtin_fairness_is_found_through_entry_points():
    plugins = {p.name: p for p in discover_auditors(refresh=True)}
    assert plugins["fairness"].distribution == "maas-audit"
    assert plugins["fairness"].error is None
    assert "selection_rate" in get_auditor("fairness").metrics()


def test_third_party_auditor_is_discovered(plugin_path):
    make_distribution(
        plugin_path,
        "maas-audit-constant",
        "constant_plugin",
        PLUGIN_SOURCE,
        {"constant": "constant_plugin:ConstantAuditor"},
    )
    plugins = {p.name: p for p in discover_auditors(refresh=True)}
    assert plugins["constant"].distribution == "maas-audit-constant"
    assert plugins["constant"].version == "0.1"
    assert get_auditor("constant").metrics() == {"constant_value": "the configured value"}


def test_broken_plugin_is_named_not_fatal(plugin_path):
    (plugin_path / "broken_plugin.py").write_text("raise ImportError('missing dependency xyz')\n")
    make_distribution(plugin_path, "maas-audit-broken", "unused", "", {"broken": "broken_plugin:X"})
    plugins = {p.name: p for p in discover_auditors(refresh=True)}
    assert plugins["broken"].auditor is None
    assert "missing dependency xyz" in plugins["broken"].error
    assert plugins["fairness"].error is None
    with pytest.raises(
        PluginError, match="auditor 'broken' from maas-audit-broken cannot be imported"
    ):
        get_auditor("broken")


def test_duplicate_names_are_reported(plugin_path):
    make_distribution(
        plugin_path,
        "maas-audit-dup",
        "dup_plugin",
        PLUGIN_SOURCE.replace('name = "constant"', 'name = "fairness"'),
        {"fairness": "dup_plugin:ConstantAuditor"},
    )
    discover_auditors(refresh=True)
    with pytest.raises(PluginError, match="registered twice"):
        get_auditor("fairness")


def test_autoload_switch_keeps_only_builtins(plugin_path, monkeypatch):
    make_distribution(
        plugin_path,
        "maas-audit-constant",
        "constant_plugin",
        PLUGIN_SOURCE,
        {"constant": "constant_plugin:ConstantAuditor"},
    )
    monkeypatch.setenv(DISABLE_AUTOLOAD_ENV, "1")
    names = {p.name for p in discover_auditors(refresh=True)}
    assert "constant" not in names
    assert "fairness" in names


def test_unknown_auditor_lists_installed():
    with pytest.raises(
        PluginError, match=r"no auditor named 'nope' is installed; installed auditors: .*fairness"
    ):
        get_auditor("nope")


def test_third_party_auditor_runs_in_an_audit(plugin_path, adult_sample):
    from audit import run_audit

    make_distribution(
        plugin_path,
        "maas-audit-constant",
        "constant_plugin",
        PLUGIN_SOURCE,
        {"constant": "constant_plugin:ConstantAuditor", "crashing": "constant_plugin:Crashing"},
    )
    discover_auditors(refresh=True)
    policy = plugin_path / "policy.yaml"
    policy.write_text(
        textwrap.dedent("""
        name: plugin-policy
        version: "1"
        description: uses a third-party auditor
        auditors:
          constant: {value: 0.5}
        requirements:
          - id: value-at-most-one
            title: The constant is at most one
            citation: test
            auditor: constant
            metric: constant_value
            compare: at_most
            threshold: 1.0
          - id: crash
            title: A crashing auditor never passes
            citation: test
            auditor: crashing
            metric: constant_value
            compare: at_most
            threshold: 1.0
    """)
    )
    result = run_audit(
        model="column:income",
        data=adult_sample,
        policy=policy,
        target="income",
        sensitive=["sex"],
        positive_label=">50K",
    )
    verdicts = {f.requirement_id: f for f in result.findings}
    assert verdicts["value-at-most-one"].verdict.value == "PASS"
    assert verdicts["value-at-most-one"].measured == 0.5
    assert verdicts["crash"].verdict.value == "INCONCLUSIVE"
    assert any("boom" in w for w in result.output("crashing").warnings)
    assert not result.passed


def test_binding_a_policy_imports_only_the_auditors_it_names():
    import subprocess
    import sys

    code = (
        "import sys\n"
        "from audit.policy import load_policy\n"
        "from audit.policy.bind import bind_auditors\n"
        "bound = bind_auditors(load_policy('four-fifths'))\n"
        "print([a.name for a, _ in bound], "
        "[m for m in ('captum', 'opacus', 're2', 'audit.auditors.masking') if m in sys.modules])\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "['fairness'] []"
