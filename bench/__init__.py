"""The benchmark harness: Hydra entry point (``bench/run.py``), its config schema and result rows."""
