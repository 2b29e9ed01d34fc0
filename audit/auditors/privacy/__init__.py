"""What differential privacy would cost a model, and how much it leaks: Opacus DP-SGD.

>>> from audit.auditors.privacy import PrivacyAuditor, PrivacyConfig
>>> PrivacyAuditor.name, PrivacyConfig().target_epsilon
('privacy', 3.0)
"""

from audit.auditors.privacy.auditor import PrivacyAuditor
from audit.auditors.privacy.config import PrivacyConfig
from audit.auditors.privacy.dp_training import TrainingReport, TrainingSettings, train_module
from audit.auditors.privacy.encoding import TabularEncoding
from audit.auditors.privacy.membership_inference import (
    AttackResult,
    cross_fitted_advantage,
    example_losses,
    loss_threshold_attack,
    squared_errors,
)
from audit.auditors.privacy.persistence import (
    LabelledTorchAdapter,
    load_dp_model,
    read_metadata,
    read_state_dict,
    save_dp_model,
)

__all__ = [
    "AttackResult",
    "LabelledTorchAdapter",
    "PrivacyAuditor",
    "PrivacyConfig",
    "TabularEncoding",
    "TrainingReport",
    "TrainingSettings",
    "cross_fitted_advantage",
    "example_losses",
    "load_dp_model",
    "loss_threshold_attack",
    "read_metadata",
    "read_state_dict",
    "save_dp_model",
    "squared_errors",
    "train_module",
]
