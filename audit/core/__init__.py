"""The stable kernel of maas-audit: protocols, findings, context, results and provenance.

Nothing in ``audit.core`` imports from ``audit.adapters``, ``audit.auditors``,
``audit.policy``, ``audit.reporting`` or ``audit.cli``.
"""
