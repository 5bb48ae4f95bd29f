"""Main job: ``python bench/run.py instance=bellcanada`` or ``bpr-bench instance=bellcanada`` (Hydra; see
README for overrides and sweeps).

A single run with bad input exits with code 2 and one line on stderr that names the problem; Hydra's own
config errors (unknown group option, misspelt key, wrong type) are bad input too. An algorithm that fails is
one error row (solvers/framework/registry.py): the job keeps the other rows and exits 1. In a sweep (``-m``) a failing
job writes its error to its ``result.json`` and the sweep goes on; the sweep then exits 1 naming the
failed jobs. A job's directory is named after its overrides; ``resume=true`` skips exactly the jobs that
already have a successful result from the same overrides (bench/collect.py). One sweep at a time per
directory (bench/sweep.py). Log lines go to each job's ``run.log``; the console gets the table.
"""

from __future__ import annotations

import io
import logging
import signal
import sys
import time
import traceback
from pathlib import Path
from typing import Any, TextIO

import hydra
from hydra.core.hydra_config import HydraConfig
from hydra.types import RunMode
from omegaconf import DictConfig, OmegaConf

from bench import console, provenance, sweep
from bench.collect import (
    STARTED,
    CollectCallback,
    error_payload,
    finished,
    identity,
    ok_payload,
    write_result,
)
from bench.config import job_dir, register, unknown_key
from bench.configs import CONF_DIR
from bench.instance_names import known_instances
from bench.job import config_instance, run_config
from bpr.errors import BprInputError, unknown
from bpr.files import check_writable
from bpr.status import failed

log = logging.getLogger("bench.run")
INTERRUPTED = "interrupted (Ctrl-C)"
_started = False

register()


@hydra.main(version_base="1.3", config_path=str(CONF_DIR), config_name="config")
def main(cfg: DictConfig) -> None:
    global _started
    _started = True
    hc = HydraConfig.get()
    out_dir = Path(hc.runtime.output_dir)
    sweeping = hc.mode == RunMode.MULTIRUN
    job = {"num": hc.job.num if sweeping else 0, "overrides": list(hc.overrides.task),
           "launch": sweep.current_launch(Path(hc.sweep.dir)) if sweeping else None}
    sweep_dir, what = Path(hc.sweep.dir), " ".join(identity(job["overrides"])) or "(no overrides)"
    if sweeping and out_dir.resolve() != (sweep_dir / job_dir(hc.job.override_dirname)).resolve():
        print(f"error: {SUBDIR_SET}", file=sys.stderr)     # before it writes anything anywhere
        sys.exit(2)
    started = time.perf_counter()
    done = finished(out_dir, job["overrides"]) if cfg.resume else None
    if done is not None and not same_instance(done, cfg):
        log.info("the result in %s was computed on another instance: the job runs again", out_dir)
        done = None
    if done is not None:
        if sweeping:  # part of this launch too: its result is gathered with the others
            write_result(out_dir, {**done, "job": {**done["job"], "launch": job["launch"]}})
            print(sweep.job_done(sweep_dir, job["num"], "skipped (resume)", 0, what))
        else:
            print(f"skipped (resume): {out_dir} already has this job's result")
        return
    if sweeping:  # until the result replaces it: a job killed from here on is an error row, not a lost one
        write_result(out_dir, error_payload(job, STARTED))
    else:
        provenance.write(out_dir)
    log.info("job %s: overrides %s", job["num"], " ".join(job["overrides"]) or "(none)")
    try:
        job_result = run_config(OmegaConf.to_container(cfg), out_dir,
                                figures_too=cfg.figures if cfg.figures is not None else not sweeping)
    except BprInputError as err:
        log.error("bad input: %s", err)
        write_result(out_dir, error_payload(job, str(err)))
        if not sweeping:
            print(f"error: {err}", file=sys.stderr)
            sys.exit(2)
        print(sweep.job_done(sweep_dir, job["num"], "failed", time.perf_counter() - started, f"{what}: {err}"))
        return
    except KeyboardInterrupt:  # Ctrl-C outside an algorithm (building the instance, simulating, writing)
        write_result(out_dir, error_payload(job, INTERRUPTED))
        print(f"error: {INTERRUPTED}; {out_dir} keeps the job's files (resume=true runs it again)", file=sys.stderr)
        sys.exit(130)
    except Exception as err:  # a crash in one job of a sweep is that job's row; alone it is a crash
        log.exception("job failed")
        write_result(out_dir, error_payload(job, "".join(traceback.format_exception_only(err)).strip()))
        if not sweeping:
            raise
        print(sweep.job_done(sweep_dir, job["num"], "failed", time.perf_counter() - started, f"{what}: {err}"))
        return
    job["instance_sha256"] = job_result.instance.fingerprint()   # its identity with the overrides (resume)
    write_result(out_dir, ok_payload(job, job_result.table))
    text = f"{console.header(job_result, cfg.seed)}\n{console.body(job_result)}"
    log.info("%s", text)
    broken = sorted(set(job_result.table.algorithm[job_result.table.status.map(failed)]))
    if cfg.verbose or cfg.verbose is None and not sweeping:
        print(text)
        print(console.written(out_dir))
    if sweeping:
        status = f"ok, {', '.join(broken)} failed" if broken else "ok"
        print(sweep.job_done(sweep_dir, job["num"], status, time.perf_counter() - started, what))
    if job_result.interrupted:   # the finished rows are written; Ctrl-C stops the job (and a sweep) here
        print(f"error: {INTERRUPTED}; the rows that finished are in {out_dir} (resume=true runs the job again)",
              file=sys.stderr)
        sys.exit(130)
    if broken and not sweeping:  # the other rows are written; the job still says it did not all work
        print(f"error: {', '.join(broken)} failed (see the message column and {out_dir / 'run.log'})",
              file=sys.stderr)
        sys.exit(1)


def same_instance(done: dict[str, Any], cfg: DictConfig) -> bool:
    """Whether a finished result was computed on the instance this config builds now (its content hash; a
    result from before the hash was recorded counts, as it did then)."""
    recorded = done.get("job", {}).get("instance_sha256")
    if recorded is None:
        return True
    try:
        return recorded == config_instance(OmegaConf.to_container(cfg)).fingerprint()
    except BprInputError:   # the job itself will say what is wrong with its input
        return False


def check_instance_args(argv: list[str]) -> None:
    """Hydra's own message for an unknown ``instance=`` lists schema nodes too; name only real instances."""
    known = known_instances()
    for arg in argv:
        value = arg.split("=", 1)[1] if arg.startswith("instance=") else ""
        if value and "(" not in value:   # a sweep function (glob, choice, range): Hydra expands and checks it
            for name in value.split(","):
                if name not in known:
                    print(f"error: {unknown('instance', name, known)}", file=sys.stderr)
                    sys.exit(2)


def check_appended_keys(argv: list[str]) -> None:
    """``+key=value`` (Hydra's hint after a misspelt key) may only set a key the typed config has or an open
    one (``instance.*``, a dict such as ``calibration.delay_s``): a typo must not run silently with defaults."""
    for arg in argv:
        key = arg.partition("=")[0]
        if key.startswith("+") and not key.lstrip("+").startswith("hydra."):
            bad = unknown_key(key.lstrip("+"))
            if bad is not None:
                print(f"error: {key}: '{bad}' is not a setting of bench/run.py (see conf/config.yaml and "
                      "bench/config.py)", file=sys.stderr)
                sys.exit(2)


SUBDIR_SET = ("hydra.sweep.subdir is the harness's: each job's directory is named after its overrides "
              "(bench/config.py job_dir), one per job and inside the sweep; it cannot be set")


def check_sweep_subdir(argv: list[str]) -> None:
    """A ``hydra.sweep.subdir`` of the user's could map several jobs to one directory (their results
    overwrite each other) or lead out of the sweep; the harness derives it, so setting it is refused."""
    if any(arg.partition("=")[0].lstrip("+") == "hydra.sweep.subdir" for arg in argv):
        print(f"error: {SUBDIR_SET}", file=sys.stderr)
        sys.exit(2)


def override_value(arg: str) -> Any:
    """The value of a command-line override as Hydra parses it (quotes removed, escapes resolved)."""
    from hydra.core.override_parser.overrides_parser import OverridesParser

    try:
        return OverridesParser.create().parse_override(arg).value()
    except Exception:  # an override Hydra cannot parse: Hydra says so itself, in one line (one_line)
        return arg.partition("=")[2]


def check_output_dirs(argv: list[str]) -> None:
    """A run or sweep directory given on the command line must be a directory we can write (Hydra would
    fail with a traceback while making it)."""
    for arg in argv:
        key, _, value = arg.partition("=")
        if key.lstrip("+") in ("hydra.run.dir", "hydra.sweep.dir") and value:
            value = str(override_value(arg))      # as Hydra reads it: "run" in quotes is run
            try:
                check_writable(Path(value) / provenance.FILE)
            except BprInputError as err:
                print(f"error: {key}: {err}", file=sys.stderr)
                sys.exit(2)


class _HeldUntilStart:
    """stderr until the first job starts: what Hydra writes there before (a config error over several lines,
    its search path, a hint about HYDRA_FULL_ERROR) is held, to be said in one line; from the start on,
    everything passes through."""

    def __init__(self, stream: TextIO) -> None:
        self.stream, self.held = stream, io.StringIO()

    def write(self, text: str) -> int:
        return (self.stream if _started else self.held).write(text)

    def flush(self) -> None:
        self.stream.flush()

    def __getattr__(self, name: str) -> Any:
        return getattr(self.stream, name)


def one_line(text: str) -> str:
    """Hydra's config error as one line: its statements joined, the options a group offers listed (not the
    schema entries), and the search path, the object dumps and the stack-trace hint left out."""
    parts, options, skipping = [], [], False
    for line in text.splitlines():
        stripped = line.strip()
        if not stripped or stripped.startswith(("full_key:", "object_type=", "Set the environment variable")):
            continue
        if stripped.startswith("Config search path"):
            skipping = True
        elif stripped.startswith("Available options in"):
            skipping = False
            parts.append(stripped.rstrip(":").replace("Available options", "available"))
        elif line.startswith("\t") and not skipping and parts and parts[-1].startswith("available"):
            if not stripped.startswith("base_"):
                options.append(stripped)
        elif not skipping:
            parts.append(stripped)
    joined = "; ".join(f"{p}: {', '.join(options)}" if p.startswith("available") else p for p in parts)
    return f"error: {joined}" if joined else "error: bad configuration"


def stop_on_sigterm(signum: int, frame: Any) -> None:
    """SIGTERM: the joblib launcher's workers stop with the sweep (else they go on writing results that a
    resumed sweep would count as its own), then the sweep exits 128 + 15 as a terminated process does. Jobs
    that had not finished are error rows ("started but did not finish"); ``resume=true`` runs them again."""
    from joblib.externals.loky import reusable_executor

    executor = reusable_executor._executor      # the workers of the joblib launcher, if it started any
    if executor is not None:
        executor.shutdown(wait=False, kill_workers=True)
    raise SystemExit(128 + signum)


def cli() -> None:
    """The ``bpr-bench`` console command (the same as ``python bench/run.py``)."""
    signal.signal(signal.SIGTERM, stop_on_sigterm)
    check_instance_args(sys.argv[1:])
    check_appended_keys(sys.argv[1:])
    check_sweep_subdir(sys.argv[1:])
    check_output_dirs(sys.argv[1:])
    held = _HeldUntilStart(sys.stderr)
    sys.stderr = held
    try:
        main()
    except SystemExit as exc:
        # Hydra exits 1 on config errors before the job starts; those are bad input (exit 2), in one line
        sys.stderr = held.stream
        if exc.code == 1 and not _started:
            print(one_line(held.held.getvalue()), file=sys.stderr)
            sys.exit(2)
        sys.stderr.write(held.held.getvalue())
        sys.exit(exc.code)
    finally:
        sys.stderr = held.stream
    sys.stderr.write(held.held.getvalue())       # a run that never started a job (hydra --help, --cfg)
    if CollectCallback.failed:  # a sweep with failed jobs: scripts and job arrays must be able to tell
        sys.exit(1)


if __name__ == "__main__":
    cli()
