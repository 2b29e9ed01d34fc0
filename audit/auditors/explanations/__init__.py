"""What a model relies on: Captum attributions over the user's columns, for any model.

>>> from audit.auditors.explanations import ExplanationsAuditor, ExplanationsConfig
>>> ExplanationsAuditor.name, ExplanationsConfig().method
('explanations', 'auto')
"""

from audit.auditors.explanations.auditor import ExplanationsAuditor
from audit.auditors.explanations.columns import ColumnSpace, baseline_row
from audit.auditors.explanations.config import ExplanationsConfig
from audit.auditors.explanations.forward import CallCount, ModelForward
from audit.auditors.explanations.perturbation import explain_black_box

__all__ = [
    "CallCount",
    "ColumnSpace",
    "ExplanationsAuditor",
    "ExplanationsConfig",
    "ModelForward",
    "baseline_row",
    "explain_black_box",
]
