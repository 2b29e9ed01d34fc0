"""``python -m audit``: the same as the ``maas-audit`` command."""

import sys

from audit.cli.main import main

sys.exit(main())
