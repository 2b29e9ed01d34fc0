"""Which types a ``.skops`` file may hold: exact names, never package prefixes.

A type name is trusted when skops trusts it by default (it is then absent from
:func:`skops.io.get_untrusted_types`), or when it is in :func:`trusted_skops_types`:
every scikit-learn estimator class that :func:`sklearn.utils.all_estimators` lists, and
the few helper types below that fitted estimators hold as plain data.

A prefix rule (``numpy.*``, ``builtins.*``) is not enough: ``numpy.testing`` holds
``runstring`` (``exec``), NumPy's ``load`` unpickles files, and
``sklearn.utils._testing`` runs Python scripts.  A ``FunctionTransformer`` chain that
builds a string from its input and passes it to one of them runs code at predict time.

Some scikit-learn types are refused although they are scikit-learn's own: they store
node and child indices that compiled code follows without bounds checks, so a crafted
file can crash the process or read memory it should not (skops refuses them by default
for this reason).  Decision trees are the exception: their structure is checked after
loading (:mod:`audit.adapters._skops_trees`).  A user who made the file can save the
model as a pickle instead and pass ``--trust-pickle``.
"""

from __future__ import annotations

from functools import cache

__all__ = ["INDEX_TYPES", "refusal_reason", "trusted_skops_types"]

_HELPER_TYPES: frozenset[str] = frozenset(
    {
        "numpy.dtype",
        "sklearn.utils._bunch.Bunch",
        "sklearn.calibration._CalibratedClassifier",
        "sklearn.calibration._SigmoidCalibration",
        "sklearn.neural_network._stochastic_optimizers.AdamOptimizer",
        "sklearn.neural_network._stochastic_optimizers.SGDOptimizer",
    }
)
"""Data-only helpers of fitted estimators: a dict subclass, calibrators, optimiser state."""

INDEX_TYPES: frozenset[str] = frozenset(
    {
        "sklearn.ensemble._hist_gradient_boosting.predictor.TreePredictor",
        "sklearn.neighbors._kd_tree.KDTree",
        "sklearn.neighbors._ball_tree.BallTree",
    }
)
"""scikit-learn types refused because compiled code follows their stored indices unchecked."""


@cache
def trusted_skops_types() -> frozenset[str]:
    """Exact type names trusted beyond skops' defaults (imports all of scikit-learn once)."""
    from sklearn.utils import all_estimators

    estimators = {
        f"{cls.__module__}.{cls.__qualname__}"
        for _, cls in all_estimators()
        if cls.__module__.startswith("sklearn.")
    }
    return frozenset(estimators | _HELPER_TYPES)


def refusal_reason(names: list[str]) -> str:
    """Why ``names`` (the refused types) are refused, in one sentence."""
    unchecked = [name for name in names if name in INDEX_TYPES]
    reason = (
        "only scikit-learn estimators, their NumPy and SciPy data and standard containers "
        "are loaded"
    )
    if unchecked:
        reason += (
            f"; {', '.join(unchecked)} store indices that scikit-learn follows without "
            "bounds checks, so a crafted file can crash the process"
        )
    return (
        reason
        + "; if you made this file yourself, save the model as a pickle and pass --trust-pickle"
    )
