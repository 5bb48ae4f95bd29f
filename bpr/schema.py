"""The names of the one results schema (docs/results.md), declared once: every column a row may carry besides
the ``p_<name>`` settings and an algorithm's own declared columns. bench/results.py writes rows in this order;
the registry (solvers/framework/registry.py) refuses an algorithm whose declared column or option would take
one of these names, so nothing an algorithm reports is ever dropped or overwritten."""

from __future__ import annotations

from bpr.record import SolverReport

IDENTITY = ("instance", "scenario", "seed", "algorithm", "kind", "run")
STATUS = ("status", "outcome", "termination", "has_solution", "check_status", "sim_status")
FACTS = ("mode", "R", "l_out", "arrival_rate", "n_requests", "n_servers", "fast_server_share")
LIBRARIES = ("highspy", "pyscipopt", "pyomo", "numpy", "networkx", "pandas", "hydra-core", "topohub")
PROVENANCE = ("git_commit", "git_dirty", "host", "cpu", "cpu_count", "python", "bpr_bench",
              *(lib.replace("-", "_") for lib in LIBRARIES))
TIMING = ("runtime_s", "time_limit_s", "overrun_s", "phases", "job_wall_s")
OFFLINE = ("per_token_s", "full_per_token_s", "blocks_per_gpu", "servers_used", "servers_routed", "violations",
           "message", "lower_bound_s", "gap_to_best_bound", "reduction_vs_petals")
ONLINE = ("per_token_s", "ttft_s", "decode_per_token_s", "p50_per_token_s", "p95_per_token_s", "p99_per_token_s",
          "wait_s", "response_s", "p50_response_s", "p95_response_s", "p99_response_s", "service_s", "served",
          "unserved", "peak_concurrent", "peak_memory_share", "route_ms_per_request", "simulate_s",
          "allocation_delay_s", "hold_from_arrival", "trace", "trace_requests", "trace_cut", "trace_dropped",
          "message", "reduction_vs_petals")
SWEEP = ("job", "overrides", "job_dir")
# columns that hold a fraction (a share, a gap, a reduction): a page or table for people shows them in percent
FRACTIONS = ("fast_server_share", "gap", "gap_to_best_bound", "reduction_vs_petals", "peak_memory_share")
REPORT = ("verdict", "family", "runtime_counted_s")      # what a report derives (bench/report.py)
# settings the harness writes as p_<name> besides an algorithm's options: an option of one of these names (or
# nested under one) would be dropped or would overwrite them
SETTINGS = ("seed", "solver", "instance", "workload", "model", "calibration", "runs", "retry_backoff", "arrival_seed")


def columns() -> frozenset[str]:
    """Every column name the schema itself uses."""
    return frozenset((*IDENTITY, *STATUS, *FACTS, *PROVENANCE, *TIMING, *OFFLINE, *ONLINE, *SolverReport.COLUMNS,
                      *SWEEP, *REPORT))


def clash(option_names: list[str], declared: list[str]) -> str | None:
    """Why an algorithm's options or declared columns cannot be written as they are (None when they can)."""
    for name in option_names:
        if name in SETTINGS or any(name.startswith(f"{s}_") for s in SETTINGS):
            return f"option '{name}' would be written as p_{name}, a setting the harness writes itself"
    taken = sorted(set(declared) & columns())
    if taken:
        return f"column '{taken[0]}' is a column of the results schema (docs/results.md)"
    return None
