import sys

from uept.cli import main

sys.exit(main())
