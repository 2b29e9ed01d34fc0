"""Group fairness of a model's decisions: per-group rates, disparities and their uncertainty.

>>> from audit.auditors.fairness import FairnessAuditor, FairnessConfig
>>> FairnessAuditor.name, FairnessConfig().min_group_size
('fairness', 30)
"""

from audit.auditors.fairness.auditor import FairnessAuditor
from audit.auditors.fairness.config import FairnessConfig

__all__ = ["FairnessAuditor", "FairnessConfig"]
