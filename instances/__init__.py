"""Data package: model and GPU profiles, published numbers (read with bpr.paths.DATA_DIR)."""
