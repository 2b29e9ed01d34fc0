"""The explanations auditor's numbers: importance overall, per run, per group, and local cases.

:func:`measure` samples the rows, runs the attribution methods and scores the proxies,
then reduces the attributions to plain numbers (dataclasses of NumPy arrays).  Nothing
here builds a report object: :mod:`audit.auditors.explanations.metrics` turns these
numbers into metric results, :mod:`audit.auditors.explanations.evidence` into tables and
charts.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np
import numpy.typing as npt

from audit.auditors.explanations.applicants import (
    ApplicantReasons,
    applicant_reasons,
    reference_rows,
)
from audit.auditors.explanations.config import ExplanationsConfig
from audit.auditors.explanations.engine import Explained, explain, rows_per_call
from audit.auditors.explanations.forward import ModelForward
from audit.auditors.explanations.proxies import ProxyScore, score_proxies
from audit.auditors.explanations.sampling import RowPlan, plan_rows
from audit.auditors.explanations.summaries import (
    importance,
    rank_correlation,
    share,
    top_k,
    top_k_overlap,
)
from audit.core.context import Task
from audit.core.groups import Grouping, groupings_for

if TYPE_CHECKING:
    from audit.core.context import AuditContext

__all__ = [
    "Case",
    "GroupNumbers",
    "GroupingNumbers",
    "Measurement",
    "RunNumbers",
    "measure",
]

FloatArray = npt.NDArray[np.float64]
IntArray = npt.NDArray[np.int64]


@dataclass(frozen=True, eq=False)
class RunNumbers:
    """One attribution run's global importance, compared with the first run.

    Attributes
    ----------
    label:
        The run, e.g. ``"shapley_value_sampling (seed 1)"``.
    importance:
        Mean |attribution| per column over the random sample.
    spearman:
        Rank correlation with the first run's importance; None when undefined.
    overlap:
        Share of the first run's top-k columns that are this run's too; None when
        neither run has attribution.
    top:
        This run's top-k columns.
    """

    label: str
    importance: FloatArray
    spearman: float | None
    overlap: float | None
    top: tuple[str, ...]


@dataclass(frozen=True, eq=False)
class GroupNumbers:
    """What the model relies on within one group's explained rows.

    Attributes
    ----------
    label:
        The group's display label.
    rows:
        Explained rows of the group (random sample and top-up).
    importance:
        Mean |attribution| per column over those rows (zeros when there are none).
    top:
        The group's top-k columns.
    overlap:
        Share of the whole population's top-k that are the group's too; None when the
        group has no explained rows, or it or the population has no attribution.
    sensitive_share, proxy_share:
        Share of the group's attribution on the grouping's sensitive input columns and
        on their proxies; None when the group has no attribution at all.
    """

    label: str
    rows: int
    importance: FloatArray
    top: tuple[str, ...]
    overlap: float | None
    sensitive_share: float | None
    proxy_share: float | None


@dataclass(frozen=True, eq=False)
class GroupingNumbers:
    """The numbers of one grouping: its sensitive inputs, their proxies and every group.

    Attributes
    ----------
    columns:
        The grouping's sensitive columns.
    inputs:
        Those of them the model reads.
    proxies:
        Columns that are proxies of any of them.
    sensitive_share, proxy_share:
        The whole population's shares on ``inputs`` and on ``proxies``.
    groups:
        One entry per group, in group-code order.
    problem:
        Why reliance on the grouping cannot be measured (a sensitive column with fewer
        than two known values); None when it can.
    """

    columns: tuple[str, ...]
    inputs: frozenset[str]
    proxies: frozenset[str]
    sensitive_share: float | None
    proxy_share: float | None
    groups: tuple[GroupNumbers, ...]
    problem: str | None = None


@dataclass(frozen=True, eq=False)
class Case:
    """One explained row shown on its own.

    Attributes
    ----------
    group:
        The single-column group it was chosen for (adverse decisions); None otherwise.
    row:
        The row's label in the data's index, as text.
    score:
        The model's attributed output for the row.
    attributions:
        Per column, in the model's column order.
    values:
        The row's value of each column.
    """

    group: str | None
    row: str
    score: float
    attributions: FloatArray
    values: tuple[Any, ...]


@dataclass(frozen=True, eq=False)
class Measurement:
    """Everything the explanations auditor measured, as plain numbers.

    Attributes
    ----------
    columns:
        The model's input columns.
    sensitive:
        The sensitive columns.
    top_k:
        Length of every top-k list.
    explained:
        The attribution step's output (runs, cost, baseline).
    plan:
        Which data rows were explained, and why.
    proxies:
        Every candidate column scored against every sensitive column.
    roles:
        Column -> ``"sensitive"`` or ``"proxy of sex, race"``.
    importance:
        Global importance (primary method) over the random sample.
    overall_top:
        The top-k columns of ``importance``.
    runs:
        Every run, the first being the reference of the stability comparison.
    groupings:
        One entry per grouping of the sensitive columns.
    adverse:
        The most adverse decisions of each single-column group.
    local:
        The first ``n_local`` rows of the random sample.
    applicants:
        Per-applicant principal reasons of adverse decisions; None when not measured.
    applicants_problem:
        Why they were not measured, when they were not.
    """

    columns: tuple[str, ...]
    sensitive: tuple[str, ...]
    top_k: int
    explained: Explained
    plan: RowPlan
    proxies: tuple[ProxyScore, ...]
    roles: dict[str, str]
    importance: FloatArray
    overall_top: tuple[str, ...]
    runs: tuple[RunNumbers, ...]
    groupings: tuple[GroupingNumbers, ...]
    adverse: tuple[Case, ...]
    local: tuple[Case, ...]
    applicants: ApplicantReasons | None = None
    applicants_problem: str | None = None

    @property
    def explained_rows(self) -> int:
        """Rows explained, each once."""
        return len(self.explained.primary)

    @property
    def stability(self) -> float | None:
        """Lowest rank correlation between the first run and any other; None if undefined."""
        known = [r.spearman for r in self.runs[1:] if r.spearman is not None]
        return min(known) if known else None


def _roles(
    columns: Sequence[str], sensitive: Sequence[str], proxies: Sequence[ProxyScore]
) -> dict[str, str]:
    roles = {c: "sensitive" for c in sensitive if c in columns}
    for column in columns:
        of = sorted({p.sensitive for p in proxies if p.is_proxy and p.column == column})
        if of and column not in roles:
            roles[column] = "proxy of " + ", ".join(of)
    return roles


def _proxies_of(proxies: Sequence[ProxyScore], sensitive: Sequence[str]) -> frozenset[str]:
    return frozenset(p.column for p in proxies if p.is_proxy and p.sensitive in sensitive)


def _runs(
    explained: Explained, sample_pos: IntArray, columns: Sequence[str], k: int
) -> tuple[RunNumbers, ...]:
    first = importance(explained.runs[0].values[sample_pos])
    first_top = top_k(first, columns, k)
    out = []
    for run in explained.runs:
        own = importance(run.values[sample_pos])
        own_top = top_k(own, columns, k)
        out.append(
            RunNumbers(
                label=run.label,
                importance=own,
                spearman=rank_correlation(first, own),
                overlap=top_k_overlap(first_top, own_top),
                top=own_top,
            )
        )
    return tuple(out)


def _too_few_values(groupings: Sequence[Grouping], columns: Sequence[str]) -> str | None:
    """Why ``columns`` cannot be judged: one of them holds fewer than two known values.

    Attributions are relative to a baseline that holds the column's most frequent value,
    so a column with one value gets none, whatever the model does with it; and with no
    second group there is no proxy to find and no group to compare.
    """
    for grouping in groupings:
        if len(grouping.columns) != 1 or grouping.columns[0] not in columns:
            continue
        known = [
            label
            for label, unknown in zip(grouping.labels, grouping.unknown, strict=True)
            if not unknown
        ]
        column = grouping.columns[0]
        if not known:
            return f"the sensitive column {column} holds no value: it is missing in every row"
        if len(known) == 1:
            return (
                f"every row with a value of the sensitive column {column} has the same one "
                f"({known[0]}), so reliance on it cannot be measured"
            )
    return None


def _grouping(
    grouping: Grouping,
    *,
    explained: Explained,
    rows: IntArray,
    group_pos: IntArray,
    columns: Sequence[str],
    inputs: frozenset[str],
    proxies: frozenset[str],
    overall: FloatArray,
    overall_top: tuple[str, ...],
    k: int,
    problem: str | None,
) -> GroupingNumbers:
    codes = grouping.codes[rows[group_pos]]
    groups = []
    for code, label in enumerate(grouping.labels):
        members = np.asarray(group_pos[codes == code], dtype=np.int64)
        weights = importance(explained.primary[members])
        own = top_k(weights, columns, k)
        groups.append(
            GroupNumbers(
                label=label,
                rows=len(members),
                importance=weights,
                top=own,
                overlap=top_k_overlap(own, overall_top) if own and overall_top else None,
                sensitive_share=share(weights, columns, inputs),
                proxy_share=share(weights, columns, proxies),
            )
        )
    return GroupingNumbers(
        columns=grouping.columns,
        inputs=inputs,
        proxies=proxies,
        sensitive_share=share(overall, columns, inputs),
        proxy_share=share(overall, columns, proxies),
        groups=tuple(groups),
        problem=problem,
    )


def _applicants(
    context: AuditContext, settings: ExplanationsConfig, columns: Sequence[str]
) -> tuple[ApplicantReasons | None, str | None]:
    """Per-applicant principal reasons, or why there are none."""
    if settings.reason_rows == 0:
        return None, "per-applicant reasons were not requested (set reason_rows)"
    outcomes = context.outcomes
    if outcomes.task is not Task.BINARY:
        return None, "per-applicant reasons need a binary decision; the task is regression"
    decisions = np.asarray(outcomes.y_pred)
    adverse = np.flatnonzero(decisions == 0).astype(np.int64)
    if len(adverse) == 0:
        return None, "the model made no adverse decision in the data"
    rng = np.random.default_rng(np.random.SeedSequence([abs(int(context.seed)), 9002]))
    if len(adverse) > settings.reason_rows:
        chosen = np.sort(rng.choice(adverse, size=settings.reason_rows, replace=False))
    else:
        chosen = adverse
    reference_at = reference_rows(
        len(context.data),
        reference=settings.reason_reference,
        size=settings.reason_reference_rows,
        decisions=decisions,
        scores=outcomes.y_score,
        rng=rng,
    )
    if len(reference_at) == 0:
        return None, "no approved applicant to compare with (reason_reference: near_cutoff)"
    bar = context.progress("explanations: per-applicant reasons", 1)
    forward = ModelForward(
        context.model,
        None,
        rows_per_call=rows_per_call(settings, context.model),
        task=outcomes.task,
        positive_label=context.roles.positive_label,
    )
    try:
        found = applicant_reasons(
            forward,
            context.data,
            columns,
            adverse=np.asarray(chosen, dtype=np.int64),
            adverse_total=len(adverse),
            reference=settings.reason_reference,
            reference_at=reference_at,
        )
        bar.update(1)
    finally:
        bar.close()
    return found, None


def measure(
    context: AuditContext, settings: ExplanationsConfig, columns: Sequence[str]
) -> Measurement:
    """Explain the model on a sample of ``context``'s rows and reduce it to numbers.

    Parameters
    ----------
    context:
        Data, column roles, outcomes and the model, which is called.
    settings:
        The auditor's settings.
    columns:
        The model's input columns, all present in the data.

    Raises
    ------
    ImportError
        When Captum (or PyTorch) is missing.
    Exception
        Whatever the model raises; the auditor turns it into unmeasured metrics.
    """
    data = context.data
    cols = tuple(columns)
    sensitive = tuple(context.roles.sensitive)
    k = settings.top_k
    groupings = groupings_for(data, sensitive, intersectional=True) if sensitive else []
    rng = np.random.default_rng(np.random.SeedSequence(abs(int(context.seed))))
    plan = plan_rows(
        len(data),
        n_rows=settings.n_rows,
        groupings=groupings,
        min_group_rows=settings.min_group_rows,
        adverse_per_group=settings.adverse_per_group,
        outcomes=context.outcomes,
        rng=rng,
    )
    rows = plan.rows()
    position = {int(r): i for i, r in enumerate(rows.tolist())}
    bar = context.progress("explanations: attributions", 1)
    try:
        explained = explain(
            model=context.model,
            data=data,
            rows=data.iloc[rows].loc[:, list(cols)],
            columns=cols,
            settings=settings,
            task=context.outcomes.task,
            positive_label=context.roles.positive_label,
            seed=int(context.seed),
        )
        bar.update(1)
    finally:
        bar.close()
    candidates = [c for c in cols if c not in sensitive]
    proxies = (
        score_proxies(
            data,
            sensitive,
            candidates,
            auc_threshold=settings.proxy_auc_threshold,
            max_rows=settings.proxy_rows,
            seed=int(context.seed),
        )
        if sensitive
        else []
    )

    def positions(of: IntArray) -> IntArray:
        return np.asarray([position[int(r)] for r in of], dtype=np.int64)

    sample_pos = positions(plan.sample)
    group_pos = positions(np.concatenate([plan.sample, plan.top_up]))
    overall = importance(explained.primary[sample_pos])
    overall_top = top_k(overall, cols, k)

    def case(pos: int, group: str | None) -> Case:
        data_row = int(rows[pos])
        row = data.iloc[data_row]
        return Case(
            group=group,
            row=str(data.index[data_row]),
            score=float(explained.row_scores[pos]),
            attributions=explained.primary[pos],
            values=tuple(row[c] for c in cols),
        )

    adverse = tuple(
        case(position[int(data_row)], label)
        for label, data_rows in plan.adverse.items()
        for data_row in data_rows.tolist()
    )
    local = tuple(case(pos, None) for pos in sample_pos[: settings.n_local].tolist())
    applicants, applicants_problem = _applicants(context, settings, cols)
    return Measurement(
        columns=cols,
        sensitive=sensitive,
        top_k=k,
        explained=explained,
        plan=plan,
        proxies=tuple(proxies),
        roles=_roles(cols, sensitive, proxies),
        importance=overall,
        overall_top=overall_top,
        runs=_runs(explained, sample_pos, cols, k),
        groupings=tuple(
            _grouping(
                grouping,
                explained=explained,
                rows=rows,
                group_pos=group_pos,
                columns=cols,
                inputs=frozenset(c for c in grouping.columns if c in cols),
                proxies=_proxies_of(proxies, grouping.columns),
                overall=overall,
                overall_top=overall_top,
                k=k,
                problem=_too_few_values(groupings, grouping.columns),
            )
            for grouping in groupings
        ),
        adverse=adverse,
        local=local,
        applicants=applicants,
        applicants_problem=applicants_problem,
    )
