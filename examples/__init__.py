"""Runnable examples of maas-audit (a package, so that ``examples.torch_model:model``
resolves to this folder from the repository root even when an installed distribution
ships a top-level ``examples`` package, as opacus does)."""
