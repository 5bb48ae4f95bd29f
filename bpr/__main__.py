import sys

from bpr.cli import main

sys.exit(main())
