"""Main job: ``python bench/run.py instance=bellcanada`` (Hydra; see README for overrides).

Bad input exits with code 2 and one line on stderr that names the problem; Hydra's own config errors
(unknown group option, misspelt key, wrong type) are bad input too.
"""

from __future__ import annotations

import sys
from pathlib import Path

import hydra
from hydra.core.hydra_config import HydraConfig
from omegaconf import DictConfig, OmegaConf

from bench.job import run_config
from bench.schema import register
from bpr.errors import BprInputError

CONF_DIR = str(Path(__file__).resolve().parents[1] / "conf")
_started = False

register()


@hydra.main(version_base="1.3", config_path=CONF_DIR, config_name="config")
def main(cfg: DictConfig) -> None:
    global _started
    _started = True
    out_dir = Path(HydraConfig.get().runtime.output_dir)
    try:
        inst, _, text = run_config(OmegaConf.to_container(cfg), out_dir)
    except BprInputError as err:
        print(f"error: {err}", file=sys.stderr)
        sys.exit(2)
    w = inst.workload
    head = f"{inst.name}: {inst.n_servers} servers, R = {inst.R}, l_out = {w.l_out}, seed = {cfg.seed}"
    if cfg.mode == "online":
        head += f", {w.n_requests} requests at {w.arrival_rate}/s, {cfg.runs} run(s)"
    print(head)
    print(text)
    print(f"written to {out_dir}: results.csv, results.parquet, instance.json, "
          + ("trace.parquet, figures" if cfg.mode == "online" else "solutions/"))


def check_instance_args(argv: list[str]) -> None:
    """Hydra's own message for an unknown ``instance=`` lists schema nodes too; name only real instances."""
    known = sorted(p.stem for p in Path(CONF_DIR, "instance").glob("*.yaml"))
    for arg in argv:
        if arg.startswith("instance="):
            for name in arg.split("=", 1)[1].split(","):
                if name not in known:
                    print(f"error: unknown instance '{name}'; known: {', '.join(known)}", file=sys.stderr)
                    sys.exit(2)


if __name__ == "__main__":
    check_instance_args(sys.argv[1:])
    try:
        main()
    except SystemExit as exc:
        # Hydra exits 1 on config errors before the job starts; those are bad input (exit 2).
        sys.exit(2 if exc.code == 1 and not _started else exc.code)
