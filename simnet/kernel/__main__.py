"""``python -m simnet.kernel SCRIPT [--json]``."""

import sys

from simnet.kernel import main

sys.exit(main())
