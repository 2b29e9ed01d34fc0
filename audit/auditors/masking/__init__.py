"""Data masking: PII detection, masking verification and re-identification risk.

>>> from audit.auditors.masking import MaskingAuditor, MaskingConfig
>>> MaskingAuditor.name, MaskingAuditor.needs_model, MaskingConfig().k_target
('masking', False, 5)
"""

from audit.auditors.masking.auditor import MaskingAuditor
from audit.auditors.masking.config import CustomPattern, MaskingConfig, MaskingRule
from audit.auditors.masking.entities import Entity

__all__ = ["CustomPattern", "Entity", "MaskingAuditor", "MaskingConfig", "MaskingRule"]
