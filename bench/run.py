"""Main job: ``python bench/run.py instance=bellcanada`` or ``bpr-bench instance=bellcanada`` (Hydra; see
README for overrides and sweeps).

A single run with bad input exits with code 2 and one line on stderr that names the problem; Hydra's own
config errors (unknown group option, misspelt key, wrong type) are bad input too. In a sweep (``-m``) a
failing job writes its error to its ``result.json`` and the sweep goes on; ``resume=true`` skips jobs that
already have a successful result. Log lines go to each job's ``run.log``; the console gets the table.
"""

from __future__ import annotations

import logging
import sys
import traceback
from pathlib import Path

import hydra
from hydra.core.hydra_config import HydraConfig
from hydra.types import RunMode
from omegaconf import DictConfig, OmegaConf

from bench import provenance
from bench.collect import error_payload, finished, ok_payload, write_result
from bench.config import register
from bench.instance_builder import known_instances
from bench.job import run_config
from bpr.errors import BprInputError, unknown
from bpr.paths import CONF_DIR

log = logging.getLogger("bench.run")
_started = False

register()


@hydra.main(version_base="1.3", config_path=str(CONF_DIR), config_name="config")
def main(cfg: DictConfig) -> None:
    global _started
    _started = True
    hc = HydraConfig.get()
    out_dir = Path(hc.runtime.output_dir)
    sweeping = hc.mode == RunMode.MULTIRUN
    job = {"num": hc.job.num if sweeping else 0, "overrides": list(hc.overrides.task)}
    if cfg.resume and finished(out_dir):
        print(f"skipped (resume): {out_dir} already has a result")
        return
    if not sweeping:
        provenance.write(out_dir)
    log.info("job %s: overrides %s", job["num"], " ".join(job["overrides"]) or "(none)")
    try:
        inst, df, text = run_config(OmegaConf.to_container(cfg), out_dir)
    except BprInputError as err:
        log.error("bad input: %s", err)
        write_result(out_dir, error_payload(job, str(err)))
        print(f"error: {err}", file=sys.stderr)
        if not sweeping:
            sys.exit(2)
        return
    except Exception as err:  # a crash in one job of a sweep is that job's row; alone it is a crash
        log.exception("job failed")
        write_result(out_dir, error_payload(job, "".join(traceback.format_exception_only(err)).strip()))
        if not sweeping:
            raise
        print(f"job {job['num']} failed: {err}", file=sys.stderr)
        return
    write_result(out_dir, ok_payload(job, df))
    w = inst.workload
    head = f"{inst.name}: {inst.n_servers} servers, R = {inst.R}, l_out = {w.l_out}, seed = {cfg.seed}"
    if cfg.mode == "online":
        head += f", {w.n_requests} requests at {w.arrival_rate}/s, {cfg.runs} run(s)"
    print(head)
    print(text)
    log.info("%s\n%s", head, text)
    print(f"written to {out_dir}: result.json, results.csv, results.parquet, instance.json, provenance.json, run.log, "
          + ("trace.parquet, figures" if cfg.mode == "online" else "solutions/"))


def check_instance_args(argv: list[str]) -> None:
    """Hydra's own message for an unknown ``instance=`` lists schema nodes too; name only real instances."""
    known = known_instances()
    for arg in argv:
        if arg.startswith("instance="):
            for name in arg.split("=", 1)[1].split(","):
                if name not in known:
                    print(f"error: {unknown('instance', name, known)}", file=sys.stderr)
                    sys.exit(2)


def cli() -> None:
    """The ``bpr-bench`` console command (the same as ``python bench/run.py``)."""
    check_instance_args(sys.argv[1:])
    try:
        main()
    except SystemExit as exc:
        # Hydra exits 1 on config errors before the job starts; those are bad input (exit 2).
        sys.exit(2 if exc.code == 1 and not _started else exc.code)


if __name__ == "__main__":
    cli()
