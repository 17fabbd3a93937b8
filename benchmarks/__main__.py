"""``python -m benchmarks``: time the workloads (or ``--check`` them); ``--help`` lists the options."""

import sys

from .runner import main

sys.exit(main())
