"""Hand-built audit results for the reporting tests, and an HTML parser for checking them.

``make_result()``: a FAIL (impact ratio by sex), an INCONCLUSIVE with reasons (by race),
a blocking PASS (true positive rate by sex) and an advisory PASS on a scalar metric;
two groupings, confidence intervals, an EXCLUDED, a SMALL and an UNDEFINED group, a
metric no finding uses (false positive rate by sex), an
evidence table holding numpy scalars and a NaN, and a full provenance record.
``make_hostile_result()``: the same with markup in every string that data or a policy controls.
"""

from __future__ import annotations

import dataclasses
from typing import Any

import numpy as np
import pytest

from audit.core.findings import Finding, Severity, Verdict
from audit.core.measurements import (
    AuditorOutput,
    EvidenceTable,
    GroupStatus,
    GroupValue,
    MetricResult,
)
from audit.core.provenance import Provenance
from audit.core.result import AuditResult, PolicySummary, RequirementSummary

SCRIPT = "<script>alert(1)</script>"
ATTRIBUTE = '" onmouseover="x'
IMAGE = "<img src=x onerror=y>"
HOSTILE = (SCRIPT, ATTRIBUTE, IMAGE)

SEX_SELECTION = MetricResult(
    metric="selection_rate",
    auditor="fairness",
    grouping=("sex",),
    value=0.2543,
    description="Share of applicants the model selects.",
    confidence_level=0.95,
    groups=(
        GroupValue("Female", 15_218, 0.2001, 0.1937, 0.2068),
        GroupValue("Male", 30_527, 0.2811, 0.2760, 0.2863),
        GroupValue(
            "unknown",
            312,
            0.2244,
            status=GroupStatus.EXCLUDED,
            note="Under 2% of rows; excluded from comparisons as NYC LL144 allows.",
        ),
    ),
)
SEX_TPR = MetricResult(
    metric="true_positive_rate",
    auditor="fairness",
    grouping=("sex",),
    value=0.6702,
    description="Share of qualified applicants the model selects.",
    confidence_level=0.95,
    groups=(
        GroupValue("Female", 15_218, 0.6519, 0.6301, 0.6744),
        GroupValue("Male", 30_527, 0.6931, 0.6812, 0.7049),
    ),
)
SEX_FPR = MetricResult(
    metric="false_positive_rate",
    auditor="fairness",
    grouping=("sex",),
    value=0.0913,
    description="Share of unqualified applicants the model selects.",
    confidence_level=0.95,
    groups=(
        GroupValue("Female", 15_218, 0.0417, 0.0369, 0.0466),
        GroupValue("Male", 30_527, 0.1208, 0.1161, 0.1254),
        GroupValue(
            "unknown",
            312,
            None,
            status=GroupStatus.UNDEFINED,
            note="No negatives in this group.",
        ),
    ),
)
RACE_SELECTION = MetricResult(
    metric="selection_rate",
    auditor="fairness",
    grouping=("race",),
    value=0.2543,
    confidence_level=0.95,
    groups=(
        GroupValue("White", 38_903, 0.2619, 0.2575, 0.2662),
        GroupValue("Black", 4_685, 0.1873, 0.1761, 0.1990),
        GroupValue(
            "Pacific Islander",
            12,
            0.25,
            status=GroupStatus.SMALL,
            note="12 rows, fewer than the minimum of 30.",
        ),
        GroupValue(
            "Other",
            0,
            None,
            status=GroupStatus.UNDEFINED,
            note="No rows in the audited data.",
        ),
    ),
)
ACCURACY = MetricResult(
    metric="accuracy",
    auditor="fairness",
    grouping=(),
    value=0.8462,
    description="Share of correct predictions over the whole population.",
)
IMPACT_TABLE = EvidenceTable(
    title="Impact ratios by sex",
    columns=("Group", "Rows", "Selection rate", "Impact ratio"),
    rows=(
        ("Female", 15_218, np.float64(0.2001), np.float64(0.7118)),
        ("Male", 30_527, 0.2811, 1.0),
        ("unknown", np.int64(312), 0.2244, float("nan")),
    ),
    caption="Selection rate of each category divided by that of the most selected category.",
)

OUTPUT = AuditorOutput(
    auditor="fairness",
    metrics=(SEX_SELECTION, SEX_TPR, SEX_FPR, RACE_SELECTION, ACCURACY),
    method=(
        "Groups are formed from the sensitive columns.\n\n"
        "Confidence intervals come from 200 bootstrap resamples."
    ),
    tables=(IMPACT_TABLE,),
    limitations=("Only the recorded sensitive attributes were audited.",),
    warnings=("The race column has 3 missing values.",),
    config={
        "min_group_size": 30,
        "exclude_below_share": 0.02,
        "bootstrap": np.int64(200),
        "confidence_level": 0.95,
        "nested": {"seed_offset": 1, "ratio": float("inf")},
    },
)

REQUIREMENTS = (
    RequirementSummary(
        id="ll144-impact-ratio-sex",
        title="Impact ratio by sex",
        citation="NYC Local Law 144, 6 RCNY § 5-301",
        auditor="fairness",
        metric="selection_rate",
        comparison="ratio_to_max",
        threshold=0.8,
        severity=Severity.BLOCKING,
        group_by="sex",
    ),
    RequirementSummary(
        id="ll144-impact-ratio-race",
        title="Impact ratio by race",
        citation="NYC Local Law 144, 6 RCNY § 5-301",
        auditor="fairness",
        metric="selection_rate",
        comparison="ratio_to_max",
        threshold=0.8,
        severity=Severity.BLOCKING,
        group_by="race",
    ),
    RequirementSummary(
        id="equal-opportunity",
        title="Equal opportunity",
        citation="EU AI Act, Art. 10(2)(f)",
        auditor="fairness",
        metric="true_positive_rate",
        comparison="max_difference",
        threshold=0.1,
        severity=Severity.BLOCKING,
        group_by="sex",
    ),
    RequirementSummary(
        id="accuracy-floor",
        title="Minimum accuracy",
        citation="Internal model-risk standard 4.2",
        auditor="fairness",
        metric="accuracy",
        comparison="at_least",
        threshold=0.8,
        severity=Severity.ADVISORY,
        group_by="",
    ),
)


def _finding(req: RequirementSummary, **found: Any) -> Finding:
    """A finding on ``req``: its own fields plus ``found`` (verdict, measured, ...)."""
    return Finding(
        requirement_id=req.id,
        title=req.title,
        citation=req.citation,
        auditor=req.auditor,
        metric=req.metric,
        comparison=req.comparison,
        threshold=req.threshold,
        severity=req.severity,
        **found,
    )


FINDINGS = (
    _finding(
        REQUIREMENTS[0],
        verdict=Verdict.FAIL,
        measured=0.7118,
        grouping=("sex",),
        summary="The lowest impact ratio by sex is 0.712 (Female), below the threshold of 0.8.",
        worst_group="Female",
        reference_group="Male",
        reasons=("Group 'unknown' (312 rows) was excluded: under 2% of rows.",),
    ),
    _finding(
        REQUIREMENTS[1],
        verdict=Verdict.INCONCLUSIVE,
        measured=None,
        grouping=("race",),
        summary="The impact ratio by race could not be established.",
        reasons=(
            "Group 'Pacific Islander' has 12 rows, fewer than the minimum of 30.",
            "Group 'Other' has no rows, so its selection rate is undefined.",
        ),
    ),
    _finding(
        REQUIREMENTS[2],
        verdict=Verdict.PASS,
        measured=0.0412,
        grouping=("sex",),
        summary="True positive rates by sex differ by at most 0.041, within 0.1.",
        worst_group="Female",
        reference_group="Male",
    ),
    _finding(
        REQUIREMENTS[3],
        verdict=Verdict.PASS,
        measured=0.8462,
        grouping=(),
        summary="Accuracy is 0.846, at least 0.8.",
    ),
)

PROVENANCE = Provenance(
    data_sha256="a" * 64,
    model_sha256="b" * 64,
    policy_sha256="c" * 64,
    seed=20240501,
    started_at="2024-05-01T11:58:02+00:00",
    finished_at="2024-05-01T12:00:00+00:00",
    command=("maas-audit", "run", "--policy", "policies/nyc ll144.yaml", "--model", "m.skops"),
    versions={"python": "3.11.9", "maas-audit": "0.1.0", "numpy": "1.26.4"},
    platform="Linux-6.1.0-x86_64-with-glibc2.36 (cpython)",
    data_source="data/applicants.csv",
)


def make_result() -> AuditResult:
    return AuditResult(
        findings=FINDINGS,
        outputs=(OUTPUT,),
        policy=PolicySummary(
            name="NYC Local Law 144 bias audit",
            version="2024.1",
            description="Impact ratios of automated employment decision tools.",
            sources=("policies/nyc-ll144.yaml", "pack:nyc-ll144"),
            requirements=REQUIREMENTS,
        ),
        provenance=PROVENANCE,
        model={"kind": "sklearn", "location": "models/screening.skops", "threshold": 0.5},
        data={
            "source": "data/applicants.csv",
            "rows": 46_057,
            "target": "hired",
            "sensitive": ["sex", "race"],
            "positive_label": 1,
        },
    )


def make_one_finding_result(comparison: str, threshold: float, measured: float) -> AuditResult:
    """A result with one finding on the selection rates by sex: ``comparison`` to
    ``threshold`` (``significance``, ``ratio_to_max`` or ``at_most``), failed when
    ``measured`` is on the wrong side of it."""
    failed = measured > threshold if comparison == "at_most" else measured < threshold
    requirement = RequirementSummary(
        id=f"four-fifths-{comparison}",
        title="Selection rates by sex",
        citation="29 CFR 1607.4(D)",
        auditor="fairness",
        metric="selection_rate",
        comparison=comparison,
        threshold=threshold,
        severity=Severity.BLOCKING,
        group_by="sex",
    )
    finding = _finding(
        requirement,
        verdict=Verdict.FAIL if failed else Verdict.PASS,
        measured=measured,
        grouping=("sex",),
        summary="The selection rate of Female is lower than Male's.",
        worst_group="Female",
    )
    result = make_result()
    policy = dataclasses.replace(result.policy, requirements=(requirement,))
    return dataclasses.replace(result, findings=(finding,), policy=policy)


def _hostile_group(group: GroupValue, index: int) -> GroupValue:
    return dataclasses.replace(group, group=f"{HOSTILE[index % 3]}{group.group}")


def make_hostile_result() -> AuditResult:
    """Markup in group labels, titles, citations, column names, notes and settings."""
    base = make_result()
    outputs = tuple(
        dataclasses.replace(
            output,
            metrics=tuple(
                dataclasses.replace(
                    m,
                    metric=m.metric + IMAGE,
                    description=SCRIPT,
                    groups=tuple(_hostile_group(g, i) for i, g in enumerate(m.groups)),
                )
                for m in output.metrics
            ),
            tables=(
                EvidenceTable(
                    title=SCRIPT,
                    columns=(SCRIPT, ATTRIBUTE, IMAGE),
                    rows=((SCRIPT, ATTRIBUTE, IMAGE),),
                    caption=ATTRIBUTE,
                ),
            ),
            method=IMAGE,
            limitations=(SCRIPT,),
            warnings=(ATTRIBUTE,),
            config={SCRIPT: ATTRIBUTE, "x": IMAGE},
        )
        for output in base.outputs
    )
    findings = tuple(
        dataclasses.replace(
            f,
            requirement_id=f.requirement_id + ATTRIBUTE,
            title=SCRIPT,
            citation=f"{SCRIPT} {ATTRIBUTE} {IMAGE}",
            summary=IMAGE,
            metric=f.metric + IMAGE,
            worst_group=f"{SCRIPT}Female" if f.worst_group else None,
            reference_group=f"{ATTRIBUTE}Male" if f.reference_group else None,
            reasons=(SCRIPT, IMAGE),
        )
        for f in base.findings
    )
    policy = dataclasses.replace(
        base.policy,
        name=f"{SCRIPT}{ATTRIBUTE}",
        description=IMAGE,
        sources=(SCRIPT,),
        requirements=tuple(
            dataclasses.replace(r, id=r.id + SCRIPT, title=IMAGE, citation=SCRIPT)
            for r in base.policy.requirements
        ),
    )
    provenance = dataclasses.replace(
        base.provenance,
        command=("maas-audit", SCRIPT, ATTRIBUTE),
        data_source=IMAGE,
        platform=SCRIPT,
        finished_at=SCRIPT,
        versions={SCRIPT: IMAGE},
    )
    return AuditResult(
        findings=findings,
        outputs=outputs,
        policy=policy,
        provenance=provenance,
        model={"kind": SCRIPT, "location": ATTRIBUTE, IMAGE: IMAGE},
        data={"source": IMAGE, "rows": 10, SCRIPT: [ATTRIBUTE]},
    )


@pytest.fixture
def sample_result() -> AuditResult:
    return make_result()


@pytest.fixture
def hostile_result() -> AuditResult:
    return make_hostile_result()


@pytest.fixture
def hostile_strings() -> tuple[str, ...]:
    return HOSTILE


LL144_POLICY = """\
name: ll144-test
version: "1"
extends: nyc-ll144
auditors:
  fairness:
    bootstrap: 0
"""


def _ll144_frame(adult):
    """4,000 Adult rows, 37 with no recorded sex, and a logged decision per row."""
    frame = adult.sample(n=4000, random_state=3).reset_index(drop=True)
    frame["sex"] = frame["sex"].astype(object)
    frame.loc[:36, "sex"] = None
    frame["decision"] = np.where(frame["education-num"] > 10, ">50K", "<=50K")
    return frame


def _ll144_audit(adult, details=None):
    from audit import run_audit
    from audit.policy import parse_policy

    return run_audit(
        model="column:decision",
        data=_ll144_frame(adult),
        policy=parse_policy(LL144_POLICY, source="ll144-test.yaml"),
        target="income",
        positive_label=">50K",
        sensitive=["sex", "race"],
        details=details,
    )


@pytest.fixture(scope="session")
def ll144_result(adult):
    """A real audit of logged decisions against the nyc-ll144 pack, with filing statements."""
    from audit import AuditDetails, SignOff

    return _ll144_audit(
        adult,
        AuditDetails(
            data_description="UCI Adult census extract (test)",
            data_dates="1994 Current Population Survey",
            sign_off=SignOff(
                name="Ada Auditor",
                organisation="Example Audit LLP",
                date="2024-05-02",
                independence="Example Audit LLP has no financial interest in the tool.",
            ),
        ),
    )


@pytest.fixture(scope="session")
def ll144_unsigned(adult):
    """The same audit with no filing statements."""
    return _ll144_audit(adult)
