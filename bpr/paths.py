"""Where the project's data lives: ``instances/`` (profiles, published numbers, the library, traces). A wheel
ships it as the package ``bpr.data`` (no generic top-level name in a user's environment); a checkout reads
the directory itself."""

from importlib.resources import files
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def package_dir(package: str, checkout: str) -> Path:
    """The data package's directory when installed, else the checkout's ``checkout`` directory."""
    if (ROOT / "pyproject.toml").is_file() and (ROOT / checkout).is_dir():   # a checkout (or editable install)
        return ROOT / checkout
    return Path(str(files(package)))


DATA_DIR = package_dir("bpr.data", "instances")
PROFILES_DIR = DATA_DIR / "profiles"
