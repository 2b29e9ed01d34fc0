"""Old home of the bootstrap helpers, kept so that existing imports keep working.

They now live in :mod:`audit.stats.bootstrap`, shared by every auditor; import them
from there.
"""

from audit.stats.bootstrap import (
    MAX_UNDEFINED_SHARE,
    percentile_interval,
    resample_counts,
    resample_regression_errors,
)

__all__ = [
    "MAX_UNDEFINED_SHARE",
    "percentile_interval",
    "resample_counts",
    "resample_regression_errors",
]
