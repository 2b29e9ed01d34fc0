"""The explanations auditor's evidence: tables, charts and method text from a measurement.

Everything here presents numbers :mod:`audit.auditors.explanations.measure` computed;
nothing is measured again.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

from audit.auditors.explanations.applicants import ApplicantReasons, pseudonyms
from audit.auditors.explanations.config import ExplanationsConfig
from audit.auditors.explanations.engine import Explained
from audit.auditors.explanations.measure import Case, Measurement
from audit.auditors.explanations.reasons import principal_reasons, top_contributions
from audit.auditors.explanations.summaries import share
from audit.core.measurements import BarChart, EvidenceTable

if TYPE_CHECKING:
    import pandas as pd

__all__ = ["LIMITATIONS", "charts", "method_text", "tables"]

Cell = str | int | float | None

LIMITATIONS = (
    "Attributions explain the model's output relative to a baseline row; another baseline "
    "gives other numbers. The baseline is stated in the evidence.",
    "With a single baseline row, a row whose value of a column equals the baseline's gets no "
    "attribution on that column, so the group holding the baseline's value of a sensitive "
    "column shows none on it; reliance is judged on the highest group.",
    "Perturbation methods build rows that mix real values with baseline values; when columns "
    "are strongly related such rows can be unlike any real applicant, and the model's answer "
    "on them may not reflect its behaviour on real data.",
    "Shapley value sampling and Kernel SHAP are estimates from random samples; their spread "
    "across seeds and methods is reported as stability, not removed.",
    "Proxies are found one column at a time; several columns together can reveal a sensitive "
    "attribute that none reveals alone.",
    "A small share of attribution on sensitive columns and proxies does not show the "
    "decisions are fair: disparities can arise from legitimate-looking columns. Read it with "
    "the fairness findings.",
    "The principal reasons of an adverse decision are computed from the model; an "
    "adverse-action notice must still be reviewed, and reasons that name a sensitive column "
    "or a proxy call for investigation, not for disclosure as they stand.",
)

_MAX_GROUP_CHARTS = 8
_MAX_APPLICANTS_SHOWN = 500
_CHART_COLUMNS = 15


def _cost_table(m: Measurement) -> EvidenceTable:
    ex, plan = m.explained, m.plan
    cost = ex.cost
    rows: list[tuple[Cell, Cell]] = [
        ("Method", ex.method),
        ("Comparison", ", ".join(sorted({r.method for r in ex.runs} - {ex.method})) or None),
        ("Runs", len(ex.runs)),
        ("Rows explained", m.explained_rows),
        ("  of which random sample", len(plan.sample)),
        ("  of which small-group top-up", len(plan.top_up)),
        ("  of which adverse decisions", m.explained_rows - len(plan.sample) - len(plan.top_up)),
        ("Model calls", cost.model_calls),
        ("Rows evaluated by the model", cost.rows),
        ("HTTP requests", cost.requests),
        ("Device", ex.device),
        ("Attributed output", ex.attributed),
        ("Output at the baseline", ex.baseline_score),
        ("Largest completeness error (Integrated Gradients)", ex.completeness_error),
        ("Seconds", round(ex.seconds, 2)),
    ]
    return EvidenceTable(
        title="Cost of the explanations",
        columns=("Quantity", "Value"),
        rows=tuple(rows),
        caption="Model calls and rows the explanations cost. Each call carries many rows "
        "and many perturbations; a served model receives full requests, never one per "
        "perturbation.",
    )


def _importance_table(m: Measurement) -> EvidenceTable:
    per_run = np.array([r.importance for r in m.runs])
    total = m.importance.sum()
    shares = m.importance / total if total > 0 else None
    order = np.argsort(-m.importance, kind="stable")
    rows = tuple(
        (
            m.columns[i],
            float(m.importance[i]),
            None if shares is None else float(shares[i]),
            float(per_run[:, i].min()),
            float(per_run[:, i].max()),
            m.roles.get(m.columns[i]),
        )
        for i in order
    )
    return EvidenceTable(
        title="Global importance of each column",
        columns=("Column", "Mean |attribution|", "Share", "Lowest run", "Highest run", "Role"),
        rows=rows,
        caption=f"Over the {len(m.plan.sample)} randomly sampled rows; runs: "
        + ", ".join(r.label for r in m.runs)
        + ".",
    )


def _stability_table(m: Measurement) -> EvidenceTable:
    k = m.top_k
    return EvidenceTable(
        title="Stability across runs",
        columns=("Run", "Spearman with the first run", f"Top-{k} overlap", f"Top {k}"),
        rows=tuple((r.label, r.spearman, r.overlap, ", ".join(r.top) or None) for r in m.runs),
    )


def _group_tables(m: Measurement) -> list[EvidenceTable]:
    tables = []
    k = m.top_k
    for grouping in m.groupings:
        groups = grouping.groups
        rows = tuple(
            (column, *(float(g.importance[i]) if g.rows else None for g in groups))
            for i, column in enumerate(m.columns)
        )
        label = " \N{MULTIPLICATION SIGN} ".join(grouping.columns)
        tables.append(
            EvidenceTable(
                title=f"Mean |attribution| by group: {label}",
                columns=("Column", *(f"{g.label} (n={g.rows})" for g in groups)),
                rows=rows,
                caption="Rows: the random sample and, for small groups, extra rows of the group.",
            )
        )
        tables.append(
            EvidenceTable(
                title=f"Top {k} columns by group: {label}",
                columns=("Group", "Explained rows", f"Top {k}", "Overlap with overall"),
                rows=tuple((g.label, g.rows, ", ".join(g.top) or None, g.overlap) for g in groups),
                caption=f"Overall top {k}: {', '.join(m.overall_top)}.",
            )
        )
    return tables


def _proxy_table(m: Measurement, settings: ExplanationsConfig) -> EvidenceTable:
    ordered = sorted(m.proxies, key=lambda p: (p.sensitive, -(p.probe_auc or 0.0)))
    rows = tuple(
        (
            p.sensitive,
            p.column,
            p.mutual_information,
            p.normalised_mi,
            p.probe_auc,
            "yes" if p.is_proxy else "no",
            share(m.importance, m.columns, {p.column}),
        )
        for p in ordered
    )
    return EvidenceTable(
        title="Proxies of sensitive columns",
        columns=(
            "Sensitive column",
            "Column",
            "Mutual information (nats)",
            "Normalised MI",
            "Probe AUC",
            "Proxy",
            "Attribution share",
        ),
        rows=rows,
        caption=f"A column is a proxy when a probe predicting the sensitive column from it "
        f"alone reaches an AUC of {settings.proxy_auc_threshold:g}.",
    )


def _reasons(m: Measurement, case: Case) -> str:
    found = principal_reasons(case.attributions, case.values, m.columns, m.top_k, m.roles)
    return "; ".join(found) or "no column lowered the score below the baseline"


def _adverse_table(m: Measurement) -> EvidenceTable:
    k = m.top_k
    return EvidenceTable(
        title="Most adverse decisions by group: principal reasons (context, not a notice)",
        columns=("Group", "Row", "Output", f"Principal reasons (up to {k})"),
        rows=tuple((c.group, c.row, c.score, _reasons(m, c)) for c in m.adverse),
        caption="Context for review: the columns whose values lowered the output most "
        f"relative to the baseline (output {m.explained.baseline_score:.3f}) for the most "
        "adverse decisions of each group. Reasons under Regulation B (12 CFR 1002.9(b)(2)) "
        "belong to each applicant; these group-level examples are not an adverse-action "
        "notice.",
    )


def _phrase(m: Measurement, column: int, value: float) -> str:
    name = m.columns[column]
    role = f" [{m.roles[name]}]" if name in m.roles else ""
    return f"{name} ({value:+.3f}){role}"


def _reference_words(found: ApplicantReasons) -> str:
    if found.reference == "near_cutoff":
        return (
            f"the {len(found.reference_rows)} approved applicants of lowest score (at or "
            "slightly above the minimum passing score: the first method of Regulation B "
            "comment 9(b)(2)-5"
        )
    return (
        f"a uniform random sample of {len(found.reference_rows)} applicants (all "
        "applicants: the second method of Regulation B comment 9(b)(2)-5"
    )


def _applicant_tables(m: Measurement, data: pd.DataFrame) -> tuple[EvidenceTable, ...]:
    found = m.applicants
    if found is None:
        return ()
    k = m.top_k
    reasons = found.reasons(k)
    shown = min(len(found.rows), _MAX_APPLICANTS_SHOWN)
    names = pseudonyms(data, found.rows[:shown])
    per_applicant = EvidenceTable(
        title="Principal reasons of each adverse decision",
        columns=("Applicant", "Output", f"Principal reasons (up to {k})"),
        rows=tuple(
            (
                names[i],
                float(found.scores[i]),
                "; ".join(_phrase(m, c, float(found.values[i, c])) for c in reasons[i])
                or "none: no column lowered the output below the average",
            )
            for i in range(shown)
        ),
        caption="For each adverse decision, the columns for which the applicant's output "
        "fell furthest below the average output with that column taken from "
        f"{_reference_words(found)}, exact for a model that adds one score per column), "
        "with how far it fell in units of the attributed output. Applicants are "
        "named by pseudonyms keyed with a digest of the audited data, and no value of any "
        "column is shown. A reason that names a sensitive column or a proxy calls for "
        "investigation, not for disclosure as it stands."
        + (
            f" The first {shown} of {len(found.rows)} are shown." if shown < len(found.rows) else ""
        ),
    )
    counts = np.zeros(len(m.columns), dtype=np.int64)
    for chosen in reasons:
        counts[list(chosen)] += 1
    order = np.argsort(-counts, kind="stable")
    frequency = EvidenceTable(
        title="How often each column is a principal reason",
        columns=("Column", "Adverse decisions", "Share", "Role"),
        rows=tuple(
            (
                m.columns[i],
                int(counts[i]),
                float(counts[i]) / len(found.rows),
                m.roles.get(m.columns[i]),
            )
            for i in order
            if counts[i] > 0
        ),
        caption=f"Adverse decisions in the data: {found.adverse_total}; given reasons: "
        f"{len(found.rows)}"
        + (" (a uniform random sample)" if len(found.rows) < found.adverse_total else "")
        + f"; with at least one reason: {int(found.established.sum())}. Mean output of "
        f"the reference applicants: {found.reference_score:.3f}. Cost: "
        f"{found.cost.model_calls:,} model calls evaluating {found.cost.rows:,} rows.",
    )
    return per_applicant, frequency


def _local_table(m: Measurement) -> EvidenceTable:
    k = m.top_k
    rows = tuple(
        (
            c.row,
            c.score,
            float(c.attributions.sum()),
            "; ".join(top_contributions(c.attributions, c.values, m.columns, k, m.roles)),
        )
        for c in m.local
    )
    return EvidenceTable(
        title="Local explanations of sampled rows",
        columns=("Row", "Output", "Sum of attributions", f"Largest contributions (top {k})"),
        rows=rows,
        caption=f"Output at the baseline: {m.explained.baseline_score:.3f}; "
        + _sum_words(m.explained.method),
    )


def _sum_words(method: str) -> str:
    """What the sum of a row's attributions is, for ``method``."""
    if method == "feature_ablation":
        # Each column is ablated alone, so the effects of columns acting together are
        # counted in none of them, or in several.
        return (
            "feature ablation gives each column the change in output when it alone takes "
            "the baseline's value, so a row's attributions need not add up to its output "
            "minus the baseline's."
        )
    return "the attributions of a row add up to about its output minus the baseline's."


def _baseline_table(m: Measurement) -> EvidenceTable:
    return EvidenceTable(
        title="Baseline",
        columns=("Column", "Baseline value"),
        rows=tuple((c, m.explained.baseline.get(c)) for c in m.columns),
    )


def tables(
    m: Measurement, settings: ExplanationsConfig, data: pd.DataFrame
) -> tuple[EvidenceTable, ...]:
    """Every evidence table, in report order (``data`` keys the applicants' pseudonyms)."""
    return (
        _cost_table(m),
        _importance_table(m),
        _stability_table(m),
        *_group_tables(m),
        _proxy_table(m, settings),
        _adverse_table(m),
        *_applicant_tables(m, data),
        _local_table(m),
        _baseline_table(m),
    )


def charts(m: Measurement, *, min_group_rows: int) -> tuple[BarChart, ...]:
    """Global importance, then importance per group of each single sensitive column."""
    per_run = np.array([r.importance for r in m.runs])
    order = np.argsort(-m.importance, kind="stable")[:_CHART_COLUMNS]
    highlighted = tuple(c for c in m.columns if c in m.roles)
    out = [
        BarChart(
            title="Global importance: mean |attribution| per column",
            labels=tuple(m.columns[i] for i in order),
            values=tuple(float(m.importance[i]) for i in order),
            low=tuple(float(per_run[:, i].min()) for i in order),
            high=tuple(float(per_run[:, i].max()) for i in order),
            highlighted=highlighted,
            highlight_label="sensitive column or proxy",
            value_label="mean |attribution|",
            caption="Whiskers span the runs (seeds and methods).",
        )
    ]
    for grouping in m.groupings:
        if len(grouping.columns) != 1:
            continue
        for group in grouping.groups:
            if group.rows < min_group_rows:
                continue
            if len(out) > _MAX_GROUP_CHARTS:
                break
            group_order = np.argsort(-group.importance, kind="stable")[:_CHART_COLUMNS]
            out.append(
                BarChart(
                    title=f"Importance for {group.label} ({group.rows} rows)",
                    labels=tuple(m.columns[i] for i in group_order),
                    values=tuple(float(group.importance[i]) for i in group_order),
                    highlighted=highlighted,
                    highlight_label="sensitive column or proxy",
                    value_label="mean |attribution|",
                )
            )
    return tuple(out)


def method_text(
    settings: ExplanationsConfig, explained: Explained | None, sampled: int | None = None
) -> str:
    """How the explanations were computed, and (when they were) what it cost.

    ``sampled`` is the size of the random sample actually drawn: fewer than ``n_rows``
    when the data holds fewer rows, and then the sample is all of them.
    """
    if sampled is not None and sampled < settings.n_rows:
        over = f"all {sampled} rows of the data (fewer than the {settings.n_rows} asked for)"
    else:
        over = f"a uniform random sample of {settings.n_rows} rows"
    lines = [
        "Attributions are computed with Captum and reported per column of the data as the "
        "model receives it: categorical columns encoded inside a pipeline are perturbed as "
        "whole columns (feature masks over the original columns), so one-hot inputs add up "
        "to their column. PyTorch models are explained with Integrated Gradients on their "
        "declared encoding, compared with feature ablation; every other model with Captum's "
        "perturbation methods (feature ablation, Shapley value sampling, Kernel SHAP) through "
        "a forward function that calls the model adapter on rows built from the perturbed "
        "inputs.",
        f"Global importance is the mean absolute attribution over {over}; per-group "
        "importance adds random rows to groups with fewer "
        f"than {settings.min_group_rows} sampled rows. A proxy is a non-sensitive column from "
        "which a cross-fitted probe predicts a sensitive column with an AUC of at least "
        f"{settings.proxy_auc_threshold:g}; its mutual information with the sensitive column "
        "is reported too. Sampling methods run with seeds seed, seed + 1, ...; all sampling "
        "starts from the audit's seed.",
    ]
    if explained is not None:
        cost = explained.cost
        http = f" in {cost.requests:,} HTTP requests" if cost.requests is not None else ""
        lines.append(
            f"This audit used {explained.method}"
            + (
                " compared with "
                + ", ".join(sorted({r.method for r in explained.runs} - {explained.method}))
                if len({r.method for r in explained.runs}) > 1
                else ""
            )
            + f", on {explained.device}. Explaining {len(explained.primary):,} rows cost "
            f"{cost.model_calls:,} model calls evaluating {cost.rows:,} rows{http}. "
            f"The attributed output is {explained.attributed}."
        )
    return "\n\n".join(lines)
