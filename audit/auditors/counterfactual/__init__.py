"""Counterfactual (paired) fairness: the same rows with only the group cue changed.

>>> from audit.auditors.counterfactual import CounterfactualAuditor, CounterfactualConfig
>>> CounterfactualAuditor.name, CounterfactualConfig().n_rows
('counterfactual', 200)
"""

from audit.auditors.counterfactual.auditor import CounterfactualAuditor
from audit.auditors.counterfactual.config import CounterfactualConfig

__all__ = ["CounterfactualAuditor", "CounterfactualConfig"]
