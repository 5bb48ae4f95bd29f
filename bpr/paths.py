"""Where the project's data lives: ``instances/`` (profiles, published numbers) and ``conf/`` (Hydra configs,
named instances). Both ship as data packages, so an installed wheel finds them as a checkout does."""

from importlib.resources import files
from pathlib import Path

DATA_DIR = Path(str(files("instances")))
CONF_DIR = Path(str(files("conf")))
PROFILES_DIR = DATA_DIR / "profiles"
