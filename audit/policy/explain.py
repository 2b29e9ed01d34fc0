"""Policies in plain language: one sentence per requirement, and a commented starter policy.

>>> from audit.policy import load_policy
>>> line, *_ = explain_policy(load_policy("four-fifths").policy, sensitive=["sex", "race"])
>>> print(line)  # doctest: +NORMALIZE_WHITESPACE
BLOCKING — For every group of sex and race, the selection rate must be at least 80% of the
highest group's (29 CFR § 1607.4(D), Uniform Guidelines on Employee Selection Procedures
(1978): adverse impact and the "four-fifths rule"; citation checked 2026-12-05).

Where the cited text sets no threshold (``threshold_source: benchmark``) the sentence
says the figure is read against a benchmark; a threshold of the policy's own choice
(``threshold_source: policy``) is called that; a citation that could not be checked
(``citation_verified: false``) is called unverified.
"""

from __future__ import annotations

from collections.abc import Sequence

from audit.core.findings import Severity
from audit.core.wording import humanize
from audit.policy.schema import Comparison, GroupBy, Policy, Requirement

__all__ = ["explain_policy", "explain_requirement", "explain_statements", "starter_policy"]

_DASH = "\N{EM DASH}"


def _join(items: Sequence[str]) -> str:
    if len(items) <= 1:
        return "".join(items)
    return ", ".join(items[:-1]) + " and " + items[-1]


def _scope(group_by: GroupBy, sensitive: Sequence[str]) -> str:
    """Who a requirement compares, e.g. "sex, race and their combinations"."""
    if not isinstance(group_by, str):
        return " \N{MULTIPLICATION SIGN} ".join(group_by)
    columns = list(sensitive)
    if not columns:
        return {
            "each": "each sensitive column",
            "intersection": "the combination of the sensitive columns",
            "all": "each sensitive column and their combinations",
        }[group_by]
    if group_by == "intersection" and len(columns) == 1:
        return f"the combinations of the sensitive columns (none: the audit has one, {columns[0]})"
    if group_by == "intersection" or len(columns) == 1:
        return " \N{MULTIPLICATION SIGN} ".join(columns)
    if group_by == "each":
        return _join(columns)
    return ", ".join(columns) + " and their combinations"


def _number(value: float) -> str:
    return f"{value:g}"


def _rule(requirement: Requirement) -> str:
    metric = humanize(requirement.metric)
    t = requirement.threshold
    if requirement.compare is Comparison.ESTABLISHED:
        return f"the {metric} must be established, with its confidence interval"
    if requirement.compare is Comparison.RATIO_TO_MAX:
        subject, bound = f"the {metric}", f"at least {t:.0%} of the highest group's"
    elif requirement.compare is Comparison.MAX_DIFFERENCE:
        subject = f"the {metric} of the highest and of the lowest group"
        bound = f"within {_number(t)} of each other"
    elif requirement.compare is Comparison.SIGNIFICANCE:
        subject = f"the p-value of each group's lower {metric} than the highest group's"
        bound = f"at least {_number(requirement.alpha or t)} (not significant at that level)"
    else:
        side = "at most" if requirement.compare is Comparison.AT_MOST else "at least"
        subject, bound = f"the {metric}", f"{side} {_number(t)}"
    if requirement.threshold_source == "benchmark":
        return (
            f"{subject} is read against a benchmark, {bound}, and flagged outside it "
            "(the cited text sets no threshold)"
        )
    verb = "must differ by at most" if requirement.compare is Comparison.MAX_DIFFERENCE else ""
    rule = f"{subject} {verb} {_number(t)}" if verb else f"{subject} must be {bound}"
    if requirement.threshold_source == "policy":
        rule += ", a threshold of this policy's choice"
    return rule


def _citation(requirement: Requirement) -> str:
    citation = " ".join(requirement.citation.split())
    if requirement.citation_verified is False:
        return f"{citation}; citation unverified"
    if requirement.citation_verified and requirement.citation_checked:
        return f"{citation}; citation checked {requirement.citation_checked}"
    return citation


def explain_requirement(
    requirement: Requirement, *, sensitive: Sequence[str] = (), whole_population: bool = False
) -> str:
    """Say what ``requirement`` demands, in one sentence, with its severity and citation.

    Parameters
    ----------
    requirement : Requirement
        The requirement.
    sensitive : sequence of str
        The sensitive columns of an audit, to name the groups; without them the
        sentence speaks of "each sensitive column".
    whole_population : bool
        The metric is measured once for the whole data, not per group (the auditor's
        ``population_metrics``); the sentence then names no groups.

    Returns
    -------
    str
        ``"BLOCKING — For every group of sex and of race, ... (citation)."``
    """
    severity = "BLOCKING" if requirement.severity is Severity.BLOCKING else "ADVISORY"
    scope = _scope(requirement.group_by, sensitive)
    grouped = requirement.compare in (
        Comparison.RATIO_TO_MAX,
        Comparison.MAX_DIFFERENCE,
        Comparison.SIGNIFICANCE,
        Comparison.ESTABLISHED,
    )
    if whole_population:
        lead = "For the data as a whole"
    else:
        lead = f"For every group of {scope}" if grouped else f"For {scope}"
    return f"{severity} {_DASH} {lead}, {_rule(requirement)} ({_citation(requirement)})."


def explain_policy(policy: Policy, *, sensitive: Sequence[str] = ()) -> list[str]:
    """One sentence per requirement of ``policy`` (see :func:`explain_requirement`)."""
    return [explain_requirement(r, sensitive=sensitive) for r in policy.requirements]


def explain_statements(policy: Policy) -> list[str]:
    """One sentence per statement the policy asks for, with the option that gives it.

    >>> from audit.policy import load_policy
    >>> (line,) = explain_statements(load_policy("gdpr-masking").policy)
    >>> line.startswith("STATEMENT — hmac-key-kept-separately: Where the key")
    True
    """
    out = []
    for statement in policy.report.statements:
        how = (
            "the auditor's sign-off (--auditor-name, --sign-off-date)"
            if statement.sign_off
            else f"--statement {statement.id}=TEXT"
        )
        asks = " ".join(statement.asks.split())
        citation = " ".join(statement.citation.split())
        out.append(f"STATEMENT {_DASH} {statement.id}: {asks} ({citation}); given by {how}.")
    return out


_STARTER = """\
# yaml-language-server: $schema={schema}
#
# A maas-audit policy: the requirements an audit checks, each citing its source.
# Check it with `maas-audit policy validate {name}`, read it back in plain
# language with `maas-audit policy explain {name}`, and run it with
# `maas-audit run --policy {name} ...`.  The schema line above gives editors
# completion and checking (VS Code: the "YAML" extension by Red Hat).

name: my-policy
version: "1.0"                  # a string: keep the quotes
description: >-
  What this policy checks, and why. Shown at the top of every report.

# Build on a shipped pack (maas-audit policy packs lists them): its
# requirements are included, and one of yours with the same id replaces it.
# extends: four-fifths          # or a list: [four-fifths, nyc-ll144]

# Settings of the auditors the requirements use.
auditors:
  fairness:
    min_group_size: 30          # smaller groups are reported, never compared
    unknown_group: exclude      # missing sensitive values: counted, not compared
    # exclude_below_share: 0.02 # leave out groups under 2% of rows (NYC LL144)
    # bootstrap: 200            # resamples for confidence intervals; 0 = none

# Add report sections (the NYC LL144 summary of results), and ask for the
# statements your cited texts require that the data cannot show; the report
# lists each one as missing until `maas-audit run --statement ID=TEXT` gives it.
# report:
#   sections: [nyc-ll144-summary]
#   statements:
#     - id: notice-to-employees
#       asks: "How and when employees were told the tool is used"
#       citation: "775 ILCS 5/2-102(L)(2)"

requirements:
  - id: selection-rate-ratio    # lowercase letters, digits, - and _
    title: Selection rate of every group at least 80% of the highest
    citation: "29 CFR § 1607.4(D) (the four-fifths rule)"  # cite precisely
    description: >-
      Plain-language explanation shown next to the requirement in the report.
    auditor: fairness           # maas-audit auditors lists what is installed
    metric: selection_rate
    compare: ratio_to_max       # ratio_to_max | max_difference | at_most | at_least
    threshold: 0.8
    severity: blocking          # blocking fails the audit; advisory only reports
    group_by: all               # each | intersection | all | [sex, race]
    threshold_source: law       # law | benchmark (the text sets none) | policy (your choice)
    # citation_verified: true   # checked against the text it cites ...
    # citation_checked: "2026-12-05"  # ... on this date; false: reports say "unverified"

  # - id: error-rate-gap
  #   title: True positive rates within 10 points
  #   citation: "Internal model-risk standard MRS-4.2"
  #   auditor: fairness
  #   metric: true_positive_rate
  #   compare: max_difference
  #   threshold: 0.10
  #   severity: advisory
  #   group_by: each
"""


def starter_policy(*, schema: str, name: str = "policy.yaml") -> str:
    """Return a commented starter policy that validates as it is.

    Parameters
    ----------
    schema : str
        Path or URL of the policy JSON Schema, for the ``yaml-language-server`` line.
    name : str
        The file's name, used in the comments' example commands.

    Returns
    -------
    str
        The policy's YAML text.
    """
    return _STARTER.format(schema=schema, name=name)
