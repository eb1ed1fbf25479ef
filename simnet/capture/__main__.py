import sys

from simnet.capture.command import main

sys.exit(main())
