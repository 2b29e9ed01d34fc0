"""The ``maas-audit`` command line: a thin layer over the library."""
