"""``python -m dladvisor``: the same as the ``dladvisor`` command."""

import sys

from dladvisor.cli import main

sys.exit(main())
