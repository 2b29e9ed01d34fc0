"""What one audit asks, once :func:`audit.run_audit` has checked it: the request every engine runs.

An :class:`AuditRequest` holds the policy with its bound auditors, the model and how to
load it, the columns' roles as the user named them, and what the report records about
the run (seed, command line, statements, start time).  Each engine
(:mod:`audit.engine.pandas`, :mod:`audit.engine.chunked`, :mod:`audit.engine.dask`)
turns a request and the data into an :class:`~audit.core.result.AuditResult`.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from audit.core.context import ProgressFactory, Task, no_progress
from audit.core.details import AuditDetails
from audit.core.provenance import Provenance, utc_now
from audit.errors import DataError
from audit.policy import LoadedPolicy
from audit.policy.bind import BoundAuditor

__all__ = ["ERR_NO_TARGET", "AuditRequest"]

ERR_NO_TARGET = "name the ground-truth column (--target) to audit a model"


@dataclass(frozen=True)
class AuditRequest:
    """One audit's question, checked; the fields are :func:`audit.run_audit`'s, as given.

    ``model`` is ``None`` only for a data-only audit (every auditor reads only the data),
    and then ``target`` and the other column roles are not used.  ``model_options`` and
    ``trust_pickle`` go to :func:`audit.adapters.load_model`.
    """

    policy: LoadedPolicy
    auditors: tuple[BoundAuditor, ...]
    model: Any
    model_options: Mapping[str, Any]
    trust_pickle: bool
    target: str | None
    sensitive: Sequence[str]
    features: Sequence[str] | None
    positive_label: Any
    threshold: float | None
    task: Task | None
    seed: int
    started: str
    """When the audit started (UTC, ISO 8601)."""
    concurrency: int | None = None
    """Batches in flight at once for a served model (``None``: its default)."""
    cache_dir: str | None = None
    """Folder of the prediction cache, or ``None`` for no cache."""
    progress: ProgressFactory = no_progress
    command: tuple[str, ...] = ()
    details: AuditDetails | None = None

    @property
    def target_column(self) -> str:
        """The ground-truth column of a model audit.

        Raises
        ------
        DataError
            When none was named.
        """
        if self.target is None:
            raise DataError(ERR_NO_TARGET)
        return self.target

    def provenance(self, *, data_sha256: str, model_sha256: str, data_source: str) -> Provenance:
        """The reproducibility record of this audit, finished now."""
        return Provenance(
            data_sha256=data_sha256,
            model_sha256=model_sha256,
            policy_sha256=self.policy.sha256,
            seed=self.seed,
            started_at=self.started,
            finished_at=utc_now(),
            command=self.command,
            data_source=data_source,
        )
