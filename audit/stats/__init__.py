"""Statistics shared by the auditors: intervals, tests and resampling.

Each function wraps a well-kept library (scipy.stats, statsmodels) and returns plain
numbers; the tests check them against independent values (closed forms, another
library's route to the same number, published worked examples).

- :mod:`.proportions`: Wilson and Clopper–Pearson intervals of a rate.
- :mod:`.two_groups`: a group against a reference group (impact ratio and its
  interval, two-proportion Z test, Fisher's exact test with mid-P, shortfall).
- :mod:`.stratified`: the same within strata (Cochran–Mantel–Haenszel, common odds
  ratio, Breslow–Day).
- :mod:`.adverse_impact`: every group against one reference, with the p-value a
  requirement asks for.
- :mod:`.multiple`: Holm's adjustment for several comparisons.
- :mod:`.paired`: paired decisions (McNemar, Cochran's Q), for counterfactual tests.
- :mod:`.bootstrap`: stratified bootstrap resampling and percentile intervals.
"""

from audit.stats.adverse_impact import (
    TEST_NAMES,
    Adjustment,
    ReferenceTests,
    SignificanceTest,
    against_reference,
)
from audit.stats.bootstrap import (
    MAX_UNDEFINED_SHARE,
    percentile_interval,
    resample_counts,
    resample_regression_errors,
)
from audit.stats.multiple import holm_adjust
from audit.stats.proportions import INTERVAL_METHODS, IntervalMethod, proportion_interval
from audit.stats.stratified import StratifiedComparison, mantel_haenszel
from audit.stats.two_groups import GroupComparison, compare_with_reference

__all__ = [
    "TEST_NAMES",
    "Adjustment",
    "ReferenceTests",
    "SignificanceTest",
    "against_reference",
    "INTERVAL_METHODS",
    "MAX_UNDEFINED_SHARE",
    "GroupComparison",
    "IntervalMethod",
    "StratifiedComparison",
    "compare_with_reference",
    "holm_adjust",
    "mantel_haenszel",
    "percentile_interval",
    "proportion_interval",
    "resample_counts",
    "resample_regression_errors",
]
