"""Where the Hydra configs live: ``conf/`` in a checkout, the package ``bench.conf`` in a wheel."""

from bpr.paths import package_dir

CONF_DIR = package_dir("bench.conf", "conf")
