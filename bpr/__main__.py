"""``python -m bpr``: the same as the ``bpr`` console command. The command line lives in the application
layer (bench/cli.py) because ``solve`` runs any registered algorithm; this entry point is imported by
nothing, so the domain package itself depends on no layer above it."""

import sys

from bench.cli import main

sys.exit(main())
