"""Data package: the Hydra configs of bench/run.py and the named instances (bpr.paths.CONF_DIR)."""
