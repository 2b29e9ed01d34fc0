"""The stable kernel of maas-audit: protocols, findings, context, results and provenance.

Nothing in ``audit.core`` imports from ``audit.adapters``, ``audit.auditors``,
``audit.policy``, ``audit.reporting`` or ``audit.cli``, not even inside a function: the
``[tool.importlinter]`` contracts in ``pyproject.toml`` check it in CI.  Results reach
the report writers through :mod:`audit.core.renderers`.
"""
