"""``python -m simnet.conformance SCRIPT [--json]``."""

import sys

from simnet.conformance import main

sys.exit(main())
