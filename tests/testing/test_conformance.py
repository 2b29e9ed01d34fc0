"""The conformance kit: every built-in auditor passes it, and each check catches its breach."""

from typing import ClassVar

import pytest
from pydantic import BaseModel, ConfigDict

from audit.core.measurements import AuditorOutput, EvidenceTable, MetricResult
from audit.plugins import get_auditor
from audit.testing import ConformanceError, check_auditor


@pytest.mark.parametrize(
    "name", ["fairness", "explanations", "privacy", "masking", "counterfactual"]
)
def test_every_builtin_auditor_keeps_the_contract(name):
    check_auditor(type(get_auditor(name)))


class _Settings(BaseModel):
    model_config = ConfigDict(extra="forbid")
    level: int = 1


class GoodAuditor:
    """A minimal auditor that keeps the contract; the broken ones below change one thing."""

    name: ClassVar[str] = "good"
    Config = _Settings
    needs_model = False

    def metrics(self):
        return {"row_count": "Rows in the data."}

    def result(self, context):
        if len(context.data) < 10:
            return MetricResult("row_count", self.name, (), None, reason="fewer than 10 rows")
        return MetricResult("row_count", self.name, (), float(len(context.data)))

    def run(self, context, config):
        return AuditorOutput(self.name, (self.result(context),), method="counts rows")


class Loose(BaseModel):
    level: int = 1


class LooseConfig(GoodAuditor):
    Config = Loose


class BadName(GoodAuditor):
    name = "Bad Name"


class NoMetrics(GoodAuditor):
    def metrics(self):
        return {}


class Undeclared(GoodAuditor):
    def run(self, context, config):
        extra = MetricResult("surprise", self.name, (), 1.0)
        return AuditorOutput(self.name, (self.result(context), extra), method="")


class Raises(GoodAuditor):
    def run(self, context, config):
        if len(context.data) < 10:
            raise ValueError("too few rows")
        return super().run(context, config)


class NoReason(GoodAuditor):
    def run(self, context, config):
        value = float(len(context.data)) if len(context.data) >= 10 else None
        return AuditorOutput(self.name, (MetricResult("row_count", self.name, (), value),), "")


class Leaks(GoodAuditor):
    def run(self, context, config):
        first = str(context.data["record_id"].iloc[0])
        table = EvidenceTable("Rows", ("first row",), ((first,),))
        return AuditorOutput(self.name, (self.result(context),), "", tables=(table,))


class LeaksInAWarning(GoodAuditor):
    def run(self, context, config):
        output = super().run(context, config)
        note = f"row {context.data['record_id'].iloc[3]} looks odd"
        return AuditorOutput(output.auditor, output.metrics, "", warnings=(note,))


class StrayRange(GoodAuditor):
    metric_ranges: ClassVar = {"row_count": (0.0, None), "rows_seen": (0.0, None)}


class UpsideDownRange(GoodAuditor):
    metric_ranges: ClassVar = {"row_count": (1.0, 0.0)}


def test_a_minimal_auditor_passes():
    check_auditor(GoodAuditor)


@pytest.mark.parametrize(
    ("auditor", "message"),
    [
        (BadName, "check 'name' failed: the class attribute 'name' must be a lowercase slug"),
        (LooseConfig, "check 'config' failed: Config accepts a setting it does not know"),
        (NoMetrics, "check 'metrics' failed: metrics() must declare at least one metric"),
        (Undeclared, "check 'output' failed: metric 'surprise' is not declared by metrics()"),
        (Raises, "check 'missing data' failed: run() raised ValueError: too few rows"),
        (NoReason, "check 'missing data' failed: metric 'row_count' (overall) has no value"),
        (Leaks, "check 'no raw values' failed: the output shows the raw value 'zq-canary-00000'"),
        (LeaksInAWarning, "check 'no raw values' failed: the output shows the raw value"),
        (StrayRange, "check 'metrics' failed: metric_ranges names 'rows_seen', which metrics()"),
        (UpsideDownRange, "check 'metrics' failed: metric_ranges gives 'row_count' a range from"),
    ],
)
def test_each_check_catches_its_breach(auditor, message):
    with pytest.raises(ConformanceError) as info:
        check_auditor(auditor)
    assert str(info.value).startswith(message)


def test_settings_are_validated_with_the_auditors_config():
    with pytest.raises(ConformanceError, match=r"^check 'config' failed: the settings do not"):
        check_auditor(GoodAuditor, settings={"level": "high"})
