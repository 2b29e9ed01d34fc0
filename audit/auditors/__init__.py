"""Built-in auditors; each is registered through the ``maas_audit.auditors`` entry points."""
