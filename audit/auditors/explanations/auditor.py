"""The explanations auditor: what the model relies on, overall, per group, and on what proxies."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any, ClassVar

import numpy as np
import numpy.typing as npt
from pydantic import BaseModel

from audit.auditors._groupings import planned_groupings
from audit.auditors._settings import settings_as
from audit.auditors.explanations.config import ExplanationsConfig
from audit.auditors.explanations.engine import Explained, explain
from audit.auditors.explanations.proxies import ProxyScore, score_proxies
from audit.auditors.explanations.reasons import principal_reasons, top_contributions
from audit.auditors.explanations.sampling import RowPlan, plan_rows
from audit.auditors.explanations.summaries import (
    importance,
    rank_correlation,
    share,
    top_k,
    top_k_overlap,
)
from audit.core.groups import Grouping, groupings_for
from audit.core.measurements import (
    AuditorOutput,
    BarChart,
    EvidenceTable,
    GroupStatus,
    GroupValue,
    MetricResult,
)

if TYPE_CHECKING:
    from audit.core.context import AuditContext

__all__ = ["ExplanationsAuditor"]

FloatArray = npt.NDArray[np.float64]
IntArray = npt.NDArray[np.int64]
Cell = str | int | float | None

AUDITOR = "explanations"

METRICS: Mapping[str, str] = {
    "sensitive_attribution_share": (
        "Share of the total mean |attribution| that falls on the grouping's sensitive columns "
        "(0 when the model does not read them); per group, within the group's rows."
    ),
    "proxy_attribution_share": (
        "Share of the total mean |attribution| that falls on proxies of the grouping's "
        "sensitive columns (columns whose probe AUC reaches the proxy threshold)."
    ),
    "top_k_agreement_across_groups": (
        "Per group, the share of the whole population's top-k columns that are also the "
        "group's top-k; the whole-population value is the lowest group's."
    ),
    "attribution_stability": (
        "Lowest Spearman rank correlation of global column importance between the primary "
        "run and every other run (other seeds, the comparison method)."
    ),
}

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
_LOCAL_CHARTS_COLUMNS = 15


def _list(columns: Sequence[Any], limit: int = 20) -> str:
    names = [str(c) for c in columns]
    extra = f", ... ({len(names)} in all)" if len(names) > limit else ""
    return ", ".join(names[:limit]) + extra


def _input_problem(context: AuditContext, columns: Sequence[str]) -> str | None:
    data = context.data
    if len(data) == 0:
        return "the data has no rows"
    if len(data) < 2:
        return "the data has a single row; explanations need at least two"
    if not columns:
        return "the model reads no columns, so there is nothing to attribute"
    missing = [c for c in columns if c not in data.columns]
    if missing:
        return f"model input column(s) {_list(missing)} not in the data; its columns are: " + _list(
            list(data.columns)
        )
    absent = [c for c in context.roles.sensitive if c not in data.columns]
    if absent:
        return f"sensitive column(s) {_list(absent)} not in the data; its columns are: " + _list(
            list(data.columns)
        )
    y_pred = np.asarray(context.outcomes.y_pred)
    if y_pred.shape != (len(data),):
        return f"the model's decisions have shape {y_pred.shape} for {len(data)} rows"
    return None


class ExplanationsAuditor:
    """What a model relies on: Captum attributions over the user's columns.

    PyTorch models (:class:`~audit.adapters.torch.TorchAdapter`) are explained with
    Integrated Gradients and compared with feature ablation; every other model (HTTP
    endpoints, scikit-learn, ONNX, callables) with Captum's perturbation methods, driven
    through the adapter in batches that span rows and perturbations.  The auditor reports
    global and per-group column importance, the share of attribution on sensitive columns
    and on their proxies, the agreement of top columns across groups, and the principal
    reasons of the most adverse decisions in each group.

    Examples
    --------
    >>> auditor = ExplanationsAuditor()
    >>> auditor.name, "sensitive_attribution_share" in auditor.metrics()
    ('explanations', True)
    """

    name: ClassVar[str] = AUDITOR
    population_metrics: ClassVar[frozenset[str]] = frozenset({"attribution_stability"})
    Config: ClassVar[type[BaseModel]] = ExplanationsConfig

    def metrics(self) -> Mapping[str, str]:
        """Name and one-line description of every metric this auditor measures."""
        return dict(METRICS)

    def run(self, context: AuditContext, config: BaseModel) -> AuditorOutput:
        """Explain the model on a sample of ``context``'s rows.

        Parameters
        ----------
        context:
            Data, column roles, outcomes and the model, which is called.
        config:
            An :class:`ExplanationsConfig` (or a model with the same fields).

        Returns
        -------
        AuditorOutput
            Metrics per grouping, evidence tables, charts, cost and method.  Bad data,
            a failing model or a missing Captum never raise: metrics carry the reason.
        """
        settings = settings_as(config, ExplanationsConfig)
        columns = [str(c) for c in (context.model.input_columns or context.roles.features)]
        problem = _input_problem(context, columns)
        if problem is not None:
            return self._unmeasured(context, settings, problem)
        try:
            return _Measurement(context, settings, columns).output()
        except ImportError as exc:
            return self._unmeasured(context, settings, str(exc))
        except Exception as exc:
            detail = " ".join(str(exc).split())[:300]
            return self._unmeasured(
                context,
                settings,
                f"explaining the model failed: {type(exc).__name__}: {detail}",
            )

    def _unmeasured(
        self, context: AuditContext, settings: ExplanationsConfig, problem: str
    ) -> AuditorOutput:
        """Every metric, for every planned grouping, without a value."""
        planned = planned_groupings(context.roles.sensitive)
        metrics = [
            MetricResult(
                metric=name,
                auditor=AUDITOR,
                grouping=grouping,
                value=None,
                description=METRICS[name],
                reason=problem,
            )
            for grouping in planned
            for name in METRICS
            if name != "attribution_stability"
        ]
        metrics.append(
            MetricResult(
                metric="attribution_stability",
                auditor=AUDITOR,
                grouping=(),
                value=None,
                description=METRICS["attribution_stability"],
                reason=problem,
            )
        )
        return AuditorOutput(
            auditor=AUDITOR,
            metrics=tuple(metrics),
            method=_method_text(settings, None),
            limitations=LIMITATIONS,
            warnings=(f"explanations could not be measured: {problem}",),
            config=settings.model_dump(mode="json"),
        )


class _Measurement:
    """One run of the auditor: sampling, attribution, then the numbers and their evidence."""

    def __init__(
        self, context: AuditContext, settings: ExplanationsConfig, columns: Sequence[str]
    ) -> None:
        self.context = context
        self.settings = settings
        self.columns = tuple(columns)
        self.sensitive = tuple(context.roles.sensitive)
        data = context.data
        self.groupings: list[Grouping] = (
            groupings_for(data, self.sensitive, intersectional=True) if self.sensitive else []
        )
        rng = np.random.default_rng(np.random.SeedSequence(abs(int(context.seed))))
        self.plan: RowPlan = plan_rows(
            len(data),
            n_rows=settings.n_rows,
            groupings=self.groupings,
            min_group_rows=settings.min_group_rows,
            adverse_per_group=settings.adverse_per_group,
            outcomes=context.outcomes,
            rng=rng,
        )
        self.rows: IntArray = self.plan.rows()
        self.position = {int(r): i for i, r in enumerate(self.rows.tolist())}
        bar = context.progress("explanations: attributions", 1)
        try:
            self.explained: Explained = explain(
                model=context.model,
                data=data,
                rows=data.iloc[self.rows].loc[:, list(self.columns)],
                columns=self.columns,
                settings=settings,
                task=context.outcomes.task,
                positive_label=context.roles.positive_label,
                seed=int(context.seed),
            )
            bar.update(1)
        finally:
            bar.close()
        candidates = [c for c in self.columns if c not in self.sensitive]
        self.proxies: list[ProxyScore] = (
            score_proxies(
                data,
                self.sensitive,
                candidates,
                auc_threshold=settings.proxy_auc_threshold,
                max_rows=settings.proxy_rows,
                seed=int(context.seed),
            )
            if self.sensitive
            else []
        )
        self.sample_pos = self._positions(self.plan.sample)
        self.group_pos = self._positions(np.concatenate([self.plan.sample, self.plan.top_up]))
        self.importance = importance(self.explained.primary[self.sample_pos])
        self.overall_top = top_k(self.importance, self.columns, settings.top_k)
        self._by_group: dict[tuple[str, ...], list[tuple[IntArray, FloatArray]]] = {}

    def _positions(self, rows: IntArray) -> IntArray:
        return np.asarray([self.position[int(r)] for r in rows], dtype=np.int64)

    # ------------------------------------------------------------------ roles of columns

    def proxies_of(self, sensitive: Sequence[str]) -> set[str]:
        """Columns that are proxies of any of ``sensitive``."""
        return {p.column for p in self.proxies if p.is_proxy and p.sensitive in sensitive}

    def roles(self) -> dict[str, str]:
        """Column -> ``"sensitive"`` or ``"proxy of sex, race"`` for the report."""
        roles = {c: "sensitive" for c in self.sensitive if c in self.columns}
        for column in self.columns:
            of = sorted({p.sensitive for p in self.proxies if p.is_proxy and p.column == column})
            if of and column not in roles:
                roles[column] = "proxy of " + ", ".join(of)
        return roles

    # ------------------------------------------------------------------ metrics

    def _groups(self, grouping: Grouping) -> list[tuple[IntArray, FloatArray]]:
        """Per group code: its explained rows (positions) and their importance, computed once."""
        found = self._by_group.get(grouping.columns)
        if found is None:
            codes = grouping.codes[self.rows[self.group_pos]]
            found = []
            for code in range(grouping.n_groups):
                members = np.asarray(self.group_pos[codes == code], dtype=np.int64)
                found.append((members, importance(self.explained.primary[members])))
            self._by_group[grouping.columns] = found
        return found

    def _status(self, count: int) -> tuple[GroupStatus, str | None]:
        if count < self.settings.min_group_rows:
            return (
                GroupStatus.SMALL,
                f"{count} explained rows, under the minimum of {self.settings.min_group_rows}",
            )
        return GroupStatus.OK, None

    def _share_metric(
        self, metric: str, grouping: Grouping, chosen: set[str], note: str | None
    ) -> MetricResult:
        groups = []
        for label, (members, weights) in zip(grouping.labels, self._groups(grouping), strict=True):
            status, why = self._status(len(members))
            value = share(weights, self.columns, chosen)
            if value is None and status is GroupStatus.OK:
                status, why = GroupStatus.UNDEFINED, "no attribution at all in this group"
            groups.append(GroupValue(label, len(members), value, status=status, note=why))
        return MetricResult(
            metric=metric,
            auditor=AUDITOR,
            grouping=grouping.columns,
            value=share(self.importance, self.columns, chosen),
            groups=tuple(groups),
            description=METRICS[metric] + (f" {note}" if note else ""),
        )

    def _agreement_metric(self, grouping: Grouping) -> MetricResult:
        groups = []
        for label, (members, weights) in zip(grouping.labels, self._groups(grouping), strict=True):
            status, why = self._status(len(members))
            own = top_k(weights, self.columns, self.settings.top_k)
            value = top_k_overlap(own, self.overall_top) if len(members) else None
            if value is None:
                status, why = GroupStatus.UNDEFINED, "no explained rows in this group"
            groups.append(GroupValue(label, len(members), value, status=status, note=why))
        compared = [g.value for g in groups if g.status is GroupStatus.OK and g.value is not None]
        return MetricResult(
            metric="top_k_agreement_across_groups",
            auditor=AUDITOR,
            grouping=grouping.columns,
            value=min(compared) if compared else None,
            groups=tuple(groups),
            description=METRICS["top_k_agreement_across_groups"]
            + f" k = {self.settings.top_k}; overall top-k: {', '.join(self.overall_top)}.",
            reason=None if compared else "no group has enough explained rows to compare",
        )

    def _stability_metric(self) -> MetricResult:
        runs = self.explained.runs
        first = importance(runs[0].values[self.sample_pos])
        values = [rank_correlation(first, importance(r.values[self.sample_pos])) for r in runs[1:]]
        known = [v for v in values if v is not None]
        reason = None
        if len(runs) < 2:
            reason = "a single run: set repeats of 2 or more, or a comparison method"
        elif not known:
            reason = "the importance of every column is equal, so ranks cannot be compared"
        return MetricResult(
            metric="attribution_stability",
            auditor=AUDITOR,
            grouping=(),
            value=min(known) if known else None,
            description=METRICS["attribution_stability"],
            reason=reason,
        )

    def metrics(self) -> list[MetricResult]:
        """Every metric, per grouping, then the stability of the whole population."""
        out: list[MetricResult] = []
        for grouping in self.groupings:
            inputs = {c for c in grouping.columns if c in self.columns}
            note = None if inputs else "The model does not read these sensitive columns."
            out.append(self._share_metric("sensitive_attribution_share", grouping, inputs, note))
            proxies = self.proxies_of(grouping.columns)
            found = f"Proxies: {', '.join(sorted(proxies))}." if proxies else "No proxy was found."
            out.append(self._share_metric("proxy_attribution_share", grouping, proxies, found))
            out.append(self._agreement_metric(grouping))
        out.append(self._stability_metric())
        return out

    # ------------------------------------------------------------------ evidence

    def cost_table(self) -> EvidenceTable:
        """What explaining cost, and how it was batched."""
        ex, plan = self.explained, self.plan
        cost = ex.cost
        rows: list[tuple[Cell, Cell]] = [
            ("Method", ex.method),
            ("Comparison", ", ".join(sorted({r.method for r in ex.runs} - {ex.method})) or None),
            ("Runs", len(ex.runs)),
            ("Rows explained", len(self.rows)),
            ("  of which random sample", len(plan.sample)),
            ("  of which small-group top-up", len(plan.top_up)),
            ("  of which adverse decisions", len(self.rows) - len(plan.sample) - len(plan.top_up)),
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

    def importance_table(self) -> EvidenceTable:
        """Global importance per column, with its spread across runs."""
        per_run = np.array([importance(r.values[self.sample_pos]) for r in self.explained.runs])
        shares = self.importance / self.importance.sum() if self.importance.sum() > 0 else None
        roles = self.roles()
        order = np.argsort(-self.importance, kind="stable")
        rows = tuple(
            (
                self.columns[i],
                float(self.importance[i]),
                None if shares is None else float(shares[i]),
                float(per_run[:, i].min()),
                float(per_run[:, i].max()),
                roles.get(self.columns[i]),
            )
            for i in order
        )
        return EvidenceTable(
            title="Global importance of each column",
            columns=("Column", "Mean |attribution|", "Share", "Lowest run", "Highest run", "Role"),
            rows=rows,
            caption=f"Over the {len(self.plan.sample)} randomly sampled rows; runs: "
            + ", ".join(r.label for r in self.explained.runs)
            + ".",
        )

    def stability_table(self) -> EvidenceTable:
        """Each run compared with the primary run."""
        runs = self.explained.runs
        first = importance(runs[0].values[self.sample_pos])
        k = self.settings.top_k
        rows = []
        for run in runs:
            own = importance(run.values[self.sample_pos])
            rows.append(
                (
                    run.label,
                    rank_correlation(first, own),
                    top_k_overlap(top_k(first, self.columns, k), top_k(own, self.columns, k)),
                    ", ".join(top_k(own, self.columns, k)),
                )
            )
        return EvidenceTable(
            title="Stability across runs",
            columns=("Run", "Spearman with the first run", f"Top-{k} overlap", f"Top {k}"),
            rows=tuple(rows),
        )

    def group_tables(self) -> list[EvidenceTable]:
        """Per grouping: importance of each column in each group, and each group's top-k."""
        tables = []
        k = self.settings.top_k
        for grouping in self.groupings:
            members = [m for m, _ in self._groups(grouping)]
            weights = [w for _, w in self._groups(grouping)]
            rows = tuple(
                (
                    column,
                    *(
                        float(w[i]) if len(m) else None
                        for w, m in zip(weights, members, strict=True)
                    ),
                )
                for i, column in enumerate(self.columns)
            )
            label = " \N{MULTIPLICATION SIGN} ".join(grouping.columns)
            tables.append(
                EvidenceTable(
                    title=f"Mean |attribution| by group: {label}",
                    columns=(
                        "Column",
                        *(
                            f"{g} (n={len(m)})"
                            for g, m in zip(grouping.labels, members, strict=True)
                        ),
                    ),
                    rows=rows,
                    caption="Rows: the random sample and, for small groups, extra rows of "
                    "the group.",
                )
            )
            tables.append(
                EvidenceTable(
                    title=f"Top {k} columns by group: {label}",
                    columns=("Group", "Explained rows", f"Top {k}", "Overlap with overall"),
                    rows=tuple(
                        (
                            g,
                            len(m),
                            ", ".join(top_k(w, self.columns, k)) if len(m) else None,
                            top_k_overlap(top_k(w, self.columns, k), self.overall_top)
                            if len(m)
                            else None,
                        )
                        for g, m, w in zip(grouping.labels, members, weights, strict=True)
                    ),
                    caption=f"Overall top {k}: {', '.join(self.overall_top)}.",
                )
            )
        return tables

    def proxy_table(self) -> EvidenceTable:
        """Every candidate column scored against every sensitive column."""
        ordered = sorted(self.proxies, key=lambda p: (p.sensitive, -(p.probe_auc or 0.0)))
        rows = tuple(
            (
                p.sensitive,
                p.column,
                p.mutual_information,
                p.normalised_mi,
                p.probe_auc,
                "yes" if p.is_proxy else "no",
                share(self.importance, self.columns, {p.column}),
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
            f"alone reaches an AUC of {self.settings.proxy_auc_threshold:g}.",
        )

    def _values(self, position: int) -> list[Any]:
        row = self.context.data.iloc[int(self.rows[position])]
        return [row[c] for c in self.columns]

    def adverse_table(self) -> EvidenceTable:
        """The most adverse decisions in each group, with their principal reasons."""
        k, roles = self.settings.top_k, self.roles()
        rows = []
        for label, data_rows in self.plan.adverse.items():
            for data_row in data_rows.tolist():
                pos = self.position[int(data_row)]
                reasons = principal_reasons(
                    self.explained.primary[pos], self._values(pos), self.columns, k, roles
                )
                rows.append(
                    (
                        label,
                        str(self.context.data.index[int(data_row)]),
                        float(self.explained.row_scores[pos]),
                        "; ".join(reasons) or "no column lowered the score below the baseline",
                    )
                )
        return EvidenceTable(
            title="Most adverse decisions by group: principal reasons",
            columns=("Group", "Row", "Output", f"Principal reasons (up to {k})"),
            rows=tuple(rows),
            caption="The columns whose values lowered the output most relative to the "
            f"baseline (output {self.explained.baseline_score:.3f}), as an adverse-action "
            "notice lists them (ECOA; Regulation B, 12 CFR 1002.9(b)(2)).",
        )

    def local_table(self) -> EvidenceTable:
        """A few random rows, each with its largest contributions."""
        k, roles = self.settings.top_k, self.roles()
        shown = self.sample_pos[: self.settings.n_local]
        rows = tuple(
            (
                str(self.context.data.index[int(self.rows[pos])]),
                float(self.explained.row_scores[pos]),
                float(self.explained.primary[pos].sum()),
                "; ".join(
                    top_contributions(
                        self.explained.primary[pos], self._values(pos), self.columns, k, roles
                    )
                ),
            )
            for pos in shown.tolist()
        )
        return EvidenceTable(
            title="Local explanations of sampled rows",
            columns=("Row", "Output", "Sum of attributions", f"Largest contributions (top {k})"),
            rows=rows,
            caption=f"Output at the baseline: {self.explained.baseline_score:.3f}; the "
            "attributions of a row add up to about its output minus the baseline's.",
        )

    def baseline_table(self) -> EvidenceTable:
        """The baseline every attribution is relative to."""
        return EvidenceTable(
            title="Baseline",
            columns=("Column", "Baseline value"),
            rows=tuple((c, self.explained.baseline.get(c)) for c in self.columns),
        )

    # ------------------------------------------------------------------ charts

    def charts(self) -> list[BarChart]:
        """Global importance, then importance per group of each single sensitive column."""
        per_run = np.array([importance(r.values[self.sample_pos]) for r in self.explained.runs])
        roles = self.roles()
        order = np.argsort(-self.importance, kind="stable")[:_LOCAL_CHARTS_COLUMNS]
        highlighted = tuple(c for c in self.columns if c in roles)
        charts = [
            BarChart(
                title="Global importance: mean |attribution| per column",
                labels=tuple(self.columns[i] for i in order),
                values=tuple(float(self.importance[i]) for i in order),
                low=tuple(float(per_run[:, i].min()) for i in order),
                high=tuple(float(per_run[:, i].max()) for i in order),
                highlighted=highlighted,
                highlight_label="sensitive column or proxy",
                value_label="mean |attribution|",
                caption="Whiskers span the runs (seeds and methods).",
            )
        ]
        for grouping in self.groupings:
            if len(grouping.columns) != 1:
                continue
            groups = zip(grouping.labels, self._groups(grouping), strict=True)
            for label, (members, weights) in groups:
                if len(members) < self.settings.min_group_rows:
                    continue
                if len(charts) > _MAX_GROUP_CHARTS:
                    break
                group_order = np.argsort(-weights, kind="stable")[:_LOCAL_CHARTS_COLUMNS]
                charts.append(
                    BarChart(
                        title=f"Importance for {label} ({len(members)} rows)",
                        labels=tuple(self.columns[i] for i in group_order),
                        values=tuple(float(weights[i]) for i in group_order),
                        highlighted=highlighted,
                        highlight_label="sensitive column or proxy",
                        value_label="mean |attribution|",
                    )
                )
        return charts

    def output(self) -> AuditorOutput:
        """The auditor's output."""
        tables = [
            self.cost_table(),
            self.importance_table(),
            self.stability_table(),
            *self.group_tables(),
            self.proxy_table(),
            self.adverse_table(),
            self.local_table(),
            self.baseline_table(),
        ]
        return AuditorOutput(
            auditor=AUDITOR,
            metrics=tuple(self.metrics()),
            method=_method_text(self.settings, self.explained),
            tables=tuple(tables),
            charts=tuple(self.charts()),
            limitations=LIMITATIONS,
            warnings=tuple(self.explained.warnings),
            config=self.settings.model_dump(mode="json"),
        )


def _method_text(settings: ExplanationsConfig, explained: Explained | None) -> str:
    lines = [
        "Attributions are computed with Captum and reported per column of the data as the "
        "model receives it: categorical columns encoded inside a pipeline are perturbed as "
        "whole columns (feature masks over the original columns), so one-hot inputs add up "
        "to their column. PyTorch models are explained with Integrated Gradients on their "
        "declared encoding, compared with feature ablation; every other model with Captum's "
        "perturbation methods (feature ablation, Shapley value sampling, Kernel SHAP) through "
        "a forward function that calls the model adapter on rows built from the perturbed "
        "inputs.",
        "Global importance is the mean absolute attribution over a uniform random sample of "
        f"{settings.n_rows} rows; per-group importance adds random rows to groups with fewer "
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
