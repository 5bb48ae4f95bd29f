"""The named instances: the ``conf/instance`` entries (light: the CLI lists them in its help)."""

from __future__ import annotations

from bench.configs import CONF_DIR


def known_instances() -> list[str]:
    """Every ``conf/instance`` entry, nested groups by their path (``chains/gabriel-10-0.1``)."""
    root = CONF_DIR / "instance"
    return sorted(p.relative_to(root).with_suffix("").as_posix() for p in root.rglob("*.yaml"))
