"""The masking auditor: finds raw PII, checks the policy's masking rules, measures k and l.

It reads only the data (``needs_model = False``), so a policy of masking requirements
can be audited without a model.  Its evidence never holds a raw value: examples are
masked (``j***@e***.com``) and cells are located by row position only.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, ClassVar

import pandas as pd
from pydantic import BaseModel

from audit.auditors._settings import settings_as
from audit.auditors.masking.config import MaskingConfig
from audit.auditors.masking.entities import Entity
from audit.auditors.masking.evidence import (
    pii_table,
    probe_table,
    risk_table,
    rule_evidence,
    rule_target,
    rules_table,
)
from audit.auditors.masking.measure import measure
from audit.auditors.masking.ner import NerEngine, load_ner
from audit.auditors.masking.patterns import Recognizer, recognizers_for
from audit.auditors.masking.probes import ProbeRun, run_probes
from audit.auditors.masking.risk import Risk
from audit.auditors.masking.tally import MaskingTally, tally_table
from audit.auditors.masking.verify import RuleCheck
from audit.core.context import no_progress
from audit.core.measurements import (
    AuditorOutput,
    EvidenceTable,
    GroupStatus,
    GroupValue,
    MetricResult,
)
from audit.core.protocols import MetricRange

if TYPE_CHECKING:
    from audit.core.context import AuditContext, ColumnRoles, ProgressFactory
    from audit.core.protocols import ModelAdapter

__all__ = ["MaskingAuditor"]

AUDITOR = "masking"

METRICS: Mapping[str, str] = {
    "unmasked_pii_cells": "Cells holding raw PII (e-mail, phone, SSN, card, IBAN, IP address, "
    "date of birth, postal code, person name or a custom pattern), outside what a 'keep' "
    "rule allows; per entity.",
    "free_text_pii_cells": "Cells of free-text columns holding raw PII; per entity.",
    "masking_rule_violations": "Cells breaking the policy's masking rules; per rule.",
    "rule_violations": "Cells breaking one masking rule, measured once per rule: name the "
    "rule's id with group_by (group_by: [email-hmac]) to judge that rule alone.",
    "unsalted_hash_cells": "Cells holding a plain, unkeyed hash of a value found in the data "
    "or of a ZIP code, year or date.",
    "pii_columns": "Columns in which most non-empty cells hold one kind of PII.",
    "k_anonymity": "Size of the smallest equivalence class over the quasi-identifiers.",
    "l_diversity": "Fewest distinct known sensitive values in an equivalence class (a "
    "missing or blank value is not counted).",
    "rows_at_risk_share": "Share of rows in classes below the k target or the l target.",
    "classes_below_k": "Equivalence classes smaller than the k target.",
    "output_pii_findings": "PII found in a text model's answers to the policy's probe "
    "prompts (chat endpoint, MLflow or OIP v2): (answer, entity) pairs; per entity.",
}

METRIC_RANGES: Mapping[str, MetricRange] = {
    **{name: (0.0, None) for name in METRICS},  # counts, and k and l
    "rows_at_risk_share": (0.0, 1.0),
}
"""The values each metric can take."""

ERR_NO_ROWS = "the data has no rows"
ERR_NO_RULES = "the policy's 'auditors.masking' block declares no rules"
ERR_NO_SENSITIVE = "the policy's 'auditors.masking' block names no sensitive_attribute"
ERR_NO_PROBES = "the policy's 'auditors.masking' block declares no probes"

LIMIT_NAMES_PATTERNS = (
    "Person names are found without an NER model: in columns named for names, and in free "
    "text after a title (Mr, Dr, ...) or a phrase such as 'my name is'. Names elsewhere in "
    "free text are missed."
)
LIMIT_NAMES_NER = (
    "Person names found by the spaCy pipeline are as good as that pipeline: its recall and "
    "precision were not measured on this data. It ran on free-text and name columns only."
)
LIMITATIONS = (
    "Postal codes are found only with context (a US state or the word zip/postcode before a "
    "ZIP code, a ZIP+4, a UK postcode) or in columns named for them; dates of birth only "
    "after words such as 'born' or 'DOB', or in columns named for them.",
    "Phone numbers need 10 to 15 digits; local numbers of 7 digits are not found.",
    "A keyed hash cannot be told from a plain hash by its look: a plain hash is caught only "
    "when its input is a value found elsewhere in the data, a ZIP code, a year or a date.",
    "Detection is by pattern; precision and recall were measured on a synthetic Faker "
    "table, not on this data.",
    "Output leakage is checked only on the policy's probe prompts, each sent once at "
    "temperature 0; a model may still leak on other prompts or when sampled.",
)


def _scalar(metric: str, value: float | None, reason: str | None = None) -> MetricResult:
    return MetricResult(
        metric=metric,
        auditor=AUDITOR,
        grouping=(),
        value=value,
        description=METRICS[metric],
        reason=reason if value is None else None,
    )


def _per_entity(metric: str, counts: Counter[str], cells: Counter[str]) -> MetricResult:
    groups = tuple(
        GroupValue(group=f"entity={e}", count=cells[e], value=float(n))
        for e, n in sorted(counts.items())
    )
    return MetricResult(
        metric=metric,
        auditor=AUDITOR,
        grouping=(),
        value=float(sum(counts.values())),
        groups=groups,
        description=METRICS[metric],
    )


def _rules_metric(checks: Sequence[RuleCheck]) -> MetricResult:
    if not checks:
        return _scalar("masking_rule_violations", None, ERR_NO_RULES)
    groups = tuple(
        GroupValue(
            group=f"rule={c.rule.id}",
            count=c.cells,
            value=None if c.unverifiable else float(c.violations),
            status=GroupStatus.UNDEFINED if c.unverifiable else GroupStatus.OK,
            note=c.unverifiable,
        )
        for c in checks
    )
    total = sum(c.violations for c in checks)
    return MetricResult(
        metric="masking_rule_violations",
        auditor=AUDITOR,
        grouping=(),
        value=float(total),
        groups=groups,
        description=METRICS["masking_rule_violations"],
    )


def _per_rule_metrics(checks: Sequence[RuleCheck]) -> list[MetricResult]:
    """``rule_violations`` once per rule, grouped by the rule's id (see :data:`METRICS`)."""
    if not checks:
        return [_scalar("rule_violations", None, ERR_NO_RULES)]
    return [
        MetricResult(
            metric="rule_violations",
            auditor=AUDITOR,
            grouping=(c.rule.id,),
            value=None if c.unverifiable else float(c.violations),
            description=f"Cells breaking masking rule '{c.rule.id}' ({rule_target(c)}): "
            f"{rule_evidence(c)}.",
            reason=c.unverifiable,
        )
        for c in checks
    ]


def _risk_metrics(risk: Risk | None, problem: str | None, rows: int) -> list[MetricResult]:
    if risk is None:
        return [
            _scalar(m, None, problem)
            for m in ("k_anonymity", "l_diversity", "rows_at_risk_share", "classes_below_k")
        ]
    return [
        _scalar("k_anonymity", float(risk.k)),
        _scalar(
            "l_diversity",
            None if risk.l is None else float(risk.l),
            ERR_NO_SENSITIVE,
        ),
        _scalar("rows_at_risk_share", risk.rows_at_risk / rows),
        _scalar("classes_below_k", float(risk.classes_below_k)),
    ]


def _probe_metric(run: ProbeRun | None) -> MetricResult:
    if run is None or run.error is not None:
        return _scalar("output_pii_findings", None, ERR_NO_PROBES if run is None else run.error)
    counts = Counter(leak.entity for leak in run.leaks)
    answers: Counter[str] = Counter({e: run.sent for e in counts})
    return _per_entity("output_pii_findings", counts, answers)


def _probe(
    settings: MaskingConfig,
    model: ModelAdapter | None,
    recognizers: Sequence[Recognizer],
    ner: NerEngine | None,
) -> tuple[MetricResult, list[EvidenceTable], list[str]]:
    """Probe the chat model when the policy asks: metric, evidence table, warnings."""
    if settings.probes is None:
        return _probe_metric(None), [], []
    run = run_probes(
        settings.probes, model, recognizers, max_chars=settings.max_cell_chars, ner=ner
    )
    if run.error is not None:
        return _probe_metric(run), [], [run.error]
    return _probe_metric(run), [probe_table(run, settings.probes.prompts)], []


def _offset(frame: pd.DataFrame) -> int:
    """Position of ``frame``'s first row in the table: its index's start, if a range."""
    index = frame.index
    return int(index.start) if isinstance(index, pd.RangeIndex) else 0


class MaskingAuditor:
    """Checks data against a policy's masking rules, and measures re-identification risk.

    Examples
    --------
    >>> import pandas as pd
    >>> from audit.core.context import AuditContext
    >>> data = pd.DataFrame({"email": ["jane@example.com", "[REDACTED]"]})
    >>> config = MaskingConfig(rules=[{"id": "email-redacted", "columns": ["email"],
    ...                                "treatment": "redact"}])
    >>> output = MaskingAuditor().run(AuditContext(data=data), config)
    >>> output.find("masking_rule_violations")[0].value
    1.0
    """

    name: ClassVar[str] = AUDITOR
    Config: ClassVar[type[BaseModel]] = MaskingConfig
    needs_model: ClassVar[bool] = False
    # every metric is measured for the data as a whole, except rule_violations: once per
    # rule, the rule named by a requirement's group_by
    population_metrics: ClassVar[frozenset[str]] = frozenset(METRICS) - {"rule_violations"}
    metric_ranges: ClassVar[Mapping[str, MetricRange]] = METRIC_RANGES

    def metrics(self) -> Mapping[str, str]:
        """Name and one-line description of every metric this auditor measures."""
        return dict(METRICS)

    def run(self, context: AuditContext, config: BaseModel) -> AuditorOutput:
        """Scan ``context.data`` for PII, check the rules, measure k and l.

        Parameters
        ----------
        context:
            The data; the model is used only by probes with ``endpoint: model``.
        config:
            A :class:`MaskingConfig` (or a model with the same fields).

        Returns
        -------
        AuditorOutput
            Metrics, evidence tables with masked examples, method and limitations. Bad
            data never raises: unmeasurable metrics carry a reason.
        """
        settings = settings_as(config, MaskingConfig)
        data = context.data
        model = context.model if context.has_model else None
        if len(data) == 0 or len(data.columns) == 0:
            return self._measured(None, settings, model)
        recognizers = recognizers_for(settings.entities, settings.custom_patterns)
        ner, _ = _names(settings)
        bar = context.progress("masking: scanning columns", 1)
        try:
            tally = tally_table(data, settings, recognizers, ner)  # rows: positions
            bar.update(1)
        finally:
            bar.close()
        return self._measured(tally, settings, model)

    def tally(self, context: AuditContext, config: BaseModel) -> MaskingTally:
        """Count what ``context``'s rows (a chunk of the audited table) contribute.

        Row positions are taken from the chunk's index when it is a range (the engines
        number each chunk's rows from its place in the table), else from 0.  Tallies of
        the chunks merge (:meth:`MaskingTally.merge`) and :meth:`finish` turns the merged
        tally into the same output as :meth:`run` on the whole table, with the distinct
        values kept for the hash checks capped at ``max_hash_values``.
        """
        settings = settings_as(config, MaskingConfig)
        recognizers = recognizers_for(settings.entities, settings.custom_patterns)
        ner, _ = _names(settings)
        return tally_table(
            context.data,
            settings,
            recognizers,
            ner,
            offset=_offset(context.data),
            limit=settings.max_hash_values,
        )

    def finish(
        self,
        tally: MaskingTally,
        config: BaseModel,
        *,
        roles: ColumnRoles,
        seed: int,
        progress: ProgressFactory = no_progress,
    ) -> AuditorOutput:
        """Measure from the merged tally of every chunk (probes reach URLs only).

        Parameters
        ----------
        tally:
            From :meth:`tally` over one or more chunks, merged.
        config:
            A :class:`MaskingConfig` (or a model with the same fields).
        roles, seed, progress:
            Not used: the masking auditor reads only the data.
        """
        del roles, seed, progress
        settings = settings_as(config, MaskingConfig)
        return self._measured(tally if tally.rows else None, settings, None)

    def _measured(
        self, tally: MaskingTally | None, settings: MaskingConfig, model: ModelAdapter | None
    ) -> AuditorOutput:
        """The output from a table's tally (``None``: no rows), with the probes run."""
        recognizers = recognizers_for(settings.entities, settings.custom_patterns)
        ner, names = _names(settings)
        probed, probe_tables, probe_warnings = _probe(settings, model, recognizers, ner)
        if settings.ner_model is not None and ner is None:
            probe_warnings.insert(0, f"person names by patterns only: {names}")
        if tally is None:
            empty = [_scalar(m, None, ERR_NO_ROWS) for m in METRICS if m != probed.metric]
            return self._output(
                settings, [*empty, probed], probe_tables, [ERR_NO_ROWS, *probe_warnings], names
            )
        measured = measure(tally, settings)
        metrics = [
            _per_entity("unmasked_pii_cells", measured.unmasked, measured.unmasked),
            _per_entity("free_text_pii_cells", measured.free, measured.free),
            _rules_metric(measured.checks),
            *_per_rule_metrics(measured.checks),
            _scalar(
                "unsalted_hash_cells",
                None if measured.unsalted is None else float(measured.unsalted),
                measured.unsalted_problem,
            ),
            _scalar("pii_columns", float(measured.pii_columns)),
            *_risk_metrics(measured.risk, measured.risk_problem, measured.rows),
            probed,
        ]
        tables = [pii_table(measured.columns, settings.samples)]
        if measured.checks:
            tables.append(rules_table(measured.checks))
        if measured.risk is not None:
            tables.append(risk_table(measured.risk))
        tables += probe_tables
        return self._output(settings, metrics, tables, [*measured.warnings, *probe_warnings], names)

    def _output(
        self,
        settings: MaskingConfig,
        metrics: Sequence[MetricResult],
        tables: Sequence[EvidenceTable],
        warnings: Sequence[str],
        names: str,
    ) -> AuditorOutput:
        ner_ran = names.startswith(NER_USED)
        return AuditorOutput(
            auditor=AUDITOR,
            metrics=tuple(metrics),
            method=_method(settings, names),
            tables=tuple(tables),
            limitations=(LIMIT_NAMES_NER if ner_ran else LIMIT_NAMES_PATTERNS, *LIMITATIONS),
            warnings=tuple(warnings),
            config=settings.model_dump(mode="json"),
        )


NER_USED = "spaCy pipeline"
"""How :func:`~audit.auditors.masking.ner.load_ner` states that a pipeline was loaded."""
NER_OFF = "the policy turned NER off (ner: false)"
NER_UNWANTED = "person names are not among the entities to detect"


def _names(settings: MaskingConfig) -> tuple[NerEngine | None, str]:
    """The spaCy pipeline for person names, if one is wanted and installed, and a statement."""
    if not settings.ner:
        return None, NER_OFF
    if settings.entities is not None and Entity.PERSON not in settings.entities:
        return None, NER_UNWANTED
    return load_ner(settings.ner_model, max_values=settings.ner_max_values)


def _names_method(names: str) -> str:
    if names.startswith(NER_USED):
        return (
            f"Person names: the {names} (named-entity recognition) ran over the distinct "
            "values of free-text and name columns, in batches, and its PERSON entities count "
            "with the pattern matches (a title, 'my name is', a column named for names). "
        )
    if names == NER_UNWANTED:
        return ""
    return (
        "Person names: pattern fallback only (a title, 'my name is', a column named for "
        f"names), because {names}. "
    )


def _method(settings: MaskingConfig, names: str) -> str:
    qi = ", ".join(settings.quasi_identifiers) or "none named"
    return (
        "Every column is scanned with RE2 patterns over whole Arrow columns; candidates are "
        "validated (Luhn for cards, ISO 7064 mod-97 for IBANs, SSA ranges for SSNs, calendar "
        "dates, IP ranges) before they count. A column holds an entity when at least "
        f"{settings.column_share:.0%} of its non-empty cells match it. "
        + _names_method(names)
        + "Each masking rule is "
        "checked cell by cell against its treatment; digests are compared with plain MD5, "
        "SHA-1, SHA-256 and SHA-512 hashes of values found in the data and of every ZIP "
        "code, year and date. A 'mask' rule is obeyed when the letters and digits it "
        "keeps (of any script) are no more than it allows and lie only at the start and end "
        "it allows. k-anonymity and l-diversity are computed over the "
        f"quasi-identifiers ({qi}), with targets k >= {settings.k_target} and "
        f"l >= {settings.l_target}; a missing quasi-identifier is a value of its own, and l "
        "counts the distinct known sensitive values of a class (missing and blank values are "
        "not counted, so a class with none has l = 0)."
    )
