"""The certified instance library (docs/library.md): frozen instances, their best known solutions and best
bounds, re-checked by the one checker and evaluator, as MIPLIB keeps its solutions.

    python bench/library.py freeze            # (re)write instances/library/instances/*.json from catalog.yaml
    python bench/library.py update SWEEP_DIR  # merge a sweep (experiment=library): keep only improvements
    python bench/library.py check             # every solution file passes the checker and costs what the table says
    python bench/library.py routes            # the routes that prove each optimum; what still needs a second
    python bench/library.py golden            # record every heuristic's cost on the library (regression tests)
    python bench/library.py gaps              # every heuristic's true gap (or gap to the bound), by tier
    python bench/library.py page [--out F]    # outputs/library.html: the table, gaps, every best known solution
    python bench/library.py certificate SOLUTION INSTANCE [--seconds S]
                                              # re-solve the certificate of a size_branch solution file

Exit 0 on success, 2 with one line per problem (naming the instance) when the table or a sweep is wrong;
nothing is merged then.
"""

from __future__ import annotations

import argparse
import copy
import fcntl
import hashlib
import json
import math
import shutil
import sys
from contextlib import contextmanager
from functools import lru_cache
from pathlib import Path
from typing import Any, Iterator

import numpy as np
import pandas as pd

from bench.collect import gather
from bench.instance_builder import LIBRARY_INSTANCES, make_instance
from bench.provenance import provenance
from bench.results import BEST_BOUND
from bench.rounding import markdown
from bpr import instance as instance_io
from bpr import solution as solution_io
from bpr.checker import check
from bpr.errors import BprInputError, unknown
from bpr.evaluator import evaluate
from bpr.files import atomic, read_yaml
from bpr.instance import Instance
from bpr.paths import DATA_DIR
from solvers.algorithms import size_branch
from solvers.algorithms.design_load import r_max
from solvers.framework import registry
from solvers.framework.context import Context, for_run

LIBRARY = DATA_DIR / "library"
CATALOG = LIBRARY / "catalog.yaml"
TABLE = LIBRARY / "library.csv"
GOLDEN = LIBRARY / "golden.csv"
OPTIMAL_GAP = 1e-4          # relative gap at which an instance counts as solved (the solver's rel_gap)
COST_RTOL = 1e-9            # a recorded cost and its re-evaluation agree to this
COLUMNS = ["name", "n_servers", "n_clients", "L", "R", "model", "instance_sha256", "best_known_s", "best_bound_s",
           "gap", "status", "solution", "algorithm", "solver", "time_limit", "rel_gap", "bound_from", "routes",
           "commit"]
NUMBERS = ["n_servers", "n_clients", "L", "R", "best_known_s", "best_bound_s", "gap", "time_limit", "rel_gap"]
# optimal: two independent routes (``routes``) each prove a bound within OPTIMAL_GAP of the best known;
# proved_once: one route does; open: none does
STATUSES = ("open", "proved_once", "optimal")
ROUTES_NEEDED = 2


def catalog() -> dict[str, dict[str, Any]]:
    """The catalog's entries by name (read once per version of the file: asked for every row of a table)."""
    stat = CATALOG.stat()
    return copy.deepcopy(_catalog(str(CATALOG), stat.st_mtime_ns, stat.st_size))


@lru_cache(maxsize=4)
def _catalog(path: str, mtime_ns: int, size: int) -> dict[str, dict[str, Any]]:
    return read_yaml(Path(path).read_text())


def instance_path(name: str) -> Path:
    """The frozen file of a library instance; only catalog names are accepted (no paths)."""
    if name not in catalog():
        raise unknown("library instance", name, catalog())
    return LIBRARY_INSTANCES / f"{name}.json"


BINDING_SHARE = 0.8     # R: binding is round(0.8 R_max)


def generate(name: str, entry: dict[str, Any]) -> Instance:
    """The catalog entry's instance, named after the entry: R by §7.3 (``default``), or round(share R_max) of
    eq. 19 (``binding``: share 0.8; a number: that share), where memory binds."""
    inst = make_instance(entry["instance"], entry.get("seed", 0), entry.get("set", {}))
    rule = entry.get("R", "default")
    if rule != "default":
        share = BINDING_SHARE if rule == "binding" else float(rule)
        inst = inst.with_R(max(1, round(share * r_max(inst))))
    return inst.renamed(name)


TEXT = ["name", "model", "instance_sha256", "status", "solution", "algorithm", "solver", "bound_from", "routes",
        "commit"]
NEWER_FIELDS = (("model", "context"), ("t_in_per_token",), ("servers", "tau_in_per_token"))


def same_instance(frozen: dict[str, Any], generated: dict[str, Any]) -> bool:
    """Whether the catalog still generates the frozen instance; fields the file format gained after the file
    was frozen (docs/formats.md §1: a model's context, the prompt-length slopes) count only where the file
    has them."""
    generated = json.loads(json.dumps(generated))
    for path in NEWER_FIELDS:
        if path[0] == "servers":
            for old, new in zip(frozen.get("servers", []), generated.get("servers", [])):
                if path[1] not in old:
                    new.pop(path[1], None)
        elif len(path) == 2 and path[1] not in frozen.get(path[0], {}):
            generated.get(path[0], {}).pop(path[1], None)
        elif len(path) == 1 and path[0] not in frozen:
            generated.pop(path[0], None)
    return frozen == generated


def load_table() -> pd.DataFrame:
    """library.csv; a file that is not one (unreadable, a column missing, a non-number where a number belongs)
    is bad input that names the file, the column and the row."""
    if not TABLE.exists():
        return pd.DataFrame(columns=COLUMNS)
    try:
        df = pd.read_csv(TABLE, keep_default_na=False, na_values=[""], dtype={c: object for c in TEXT})
    except (pd.errors.ParserError, pd.errors.EmptyDataError, UnicodeDecodeError, ValueError) as err:
        raise BprInputError(f"{TABLE}: not a library table ({str(err).strip().splitlines()[0]})") from None
    missing = [c for c in COLUMNS if c not in df]
    if missing:
        raise BprInputError(f"{TABLE}: column(s) {', '.join(missing)} missing (a library table has: "
                            f"{', '.join(COLUMNS)})")
    for col in NUMBERS:
        values = pd.to_numeric(df[col], errors="coerce")
        bad = df[col].notna() & values.isna()
        if bad.any():
            first = bad.idxmax()
            raise BprInputError(f"{TABLE}: {col} of row '{df.name[first]}' is '{df[col][first]}', not a number")
        df[col] = values
    return df


def save_table(df: pd.DataFrame) -> None:
    atomic(TABLE, lambda tmp: df[COLUMNS].sort_values("name").to_csv(tmp, index=False))


def freeze() -> list[str]:
    """Write every catalog instance and a table row for each new one; an existing file that would change
    is a problem (the library's instances are frozen), not overwritten."""
    problems, rows, hashes = [], [], {}
    table = load_table().set_index("name")
    for name, entry in catalog().items():
        inst = generate(name, entry)
        path = instance_path(name)
        if path.exists() and not same_instance(json.loads(path.read_text()), json.loads(json.dumps(inst.to_dict()))):
            problems.append(f"{name}: the catalog now generates another instance than the frozen {path.name}")
            continue
        if not path.exists():
            inst.save(path)
        if name not in table.index:
            rows.append({"name": name, "n_servers": inst.n_servers, "n_clients": len(inst.clients), "L": inst.L,
                         "R": inst.R, "model": inst.model.name, "instance_sha256": inst.fingerprint(),
                         "status": "open"})
        elif pd.isna(table.instance_sha256.get(name)):     # a row whose hash is blank (added by hand)
            hashes[name] = instance_io.load(path).fingerprint()
    if (rows or hashes) and not problems:
        table = load_table()
        table["instance_sha256"] = [hashes.get(n, h) for n, h in zip(table.name, table.instance_sha256)]
        save_table(pd.concat([table, pd.DataFrame(rows, columns=COLUMNS)], ignore_index=True))
    return problems


def recheck(name: str, sol_file: Path) -> tuple[float | None, str]:
    """(cost, problem) of a solution file on a library instance, by the one checker and evaluator."""
    if not sol_file.exists():
        return None, f"{name}: solution file {sol_file} is missing"
    try:
        inst, sol = instance_io.load(instance_path(name)), solution_io.load(sol_file)
    except BprInputError as err:
        return None, f"{name}: {err}"
    report = check(inst, sol)  # a solution for another instance is the checker's violation too
    if not report.feasible:
        return None, f"{name}: solution file {sol_file.name} is infeasible: {report.summary()}"
    return evaluate(inst, sol, report).per_token_s, ""


def check_table(df: pd.DataFrame | None = None) -> list[str]:
    """Every row re-derived from the frozen files and the catalog: one row per catalog entry, the frozen
    instance the one the row certifies (its content hash, its sizes), a known status that its gap implies,
    every recorded solution passing the checker at the cost the table says, and bounds below them."""
    df = load_table() if df is None else df
    names = catalog()
    problems = [f"{n}: in the catalog but not in the table (run: python bench/library.py freeze)"
                for n in names if n not in set(df.name)]
    problems += [f"{n}: {count} rows in the table" for n, count in df.name.value_counts().items() if count > 1]
    for row in df.itertuples(index=False):
        if row.name not in names:
            problems.append(f"{row.name}: not an instance of the catalog ({CATALOG.name})")
            continue
        if not instance_path(row.name).exists():
            problems.append(f"{row.name}: instance file is missing (run: python bench/library.py freeze)")
            continue
        problems += row_problems(row)
        if pd.notna(row.best_known_s):
            sol_file = LIBRARY / str(row.solution)
            if not sol_file.resolve().is_relative_to(LIBRARY.resolve()):  # a table never points outside
                problems.append(f"{row.name}: solution file {row.solution} lies outside {LIBRARY}")
                continue
            cost, problem = recheck(row.name, sol_file)
            if problem:
                problems.append(problem)
            elif not math.isclose(cost, row.best_known_s, rel_tol=COST_RTOL):
                problems.append(f"{row.name}: solution costs {cost!r} s/token, the table says {row.best_known_s!r}")
    return problems + check_bounds(df) + check_certificates(df)


def route_source(route: str) -> str:
    return route.partition("@")[0]


def certificate_path(name: str, route: str) -> Path:
    """Where the library keeps the solution file whose certificate proves ``route`` (certificates/)."""
    return LIBRARY / "certificates" / f"{name}-{route.replace('@', '-')}.json"


def check_certificates(df: pd.DataFrame) -> list[str]:
    """Every route that a certificate proves has its file, whose arithmetic holds and whose bound is the
    route's (re-solving it: ``python bench/library.py certificate FILE INSTANCE``)."""
    problems = []
    for row in df.itertuples(index=False):
        try:
            routes = parse_routes(row.routes)
        except BprInputError:        # row_problems names it
            continue
        for route, value in routes.items():
            if route_source(route) != size_branch.NAME:
                continue
            path = certificate_path(row.name, route)
            if not path.exists():
                problems.append(f"{row.name}: route {route} has no certificate file {path.relative_to(LIBRARY)}")
                continue
            sol = solution_io.load(path)
            cert = sol.info.get("certificate", {})
            problems += [f"{row.name}: certificate of {route}: {p}" for p in size_branch.arithmetic(
                instance_io.load(instance_path(row.name)), cert)]
            if cert.get("bound") is None or not math.isclose(cert["bound"], value, rel_tol=COST_RTOL):
                problems.append(f"{row.name}: route {route} bounds {value}, its certificate {cert.get('bound')}")
    return problems


def row_problems(row: Any) -> list[str]:
    """What the frozen instance and the row's own numbers contradict: another instance than the one certified
    (content hash, sizes), an unknown status, or a status or gap that its best known and bound do not give."""
    inst = instance_io.load(instance_path(row.name))
    out, sha = [], inst.fingerprint()
    if row.instance_sha256 != sha:
        out.append(f"{row.name}: the frozen instance is not the one the table certifies (content hash "
                   f"{sha[:12]}, the table has {str(row.instance_sha256)[:12]})")
    sizes = {"n_servers": inst.n_servers, "n_clients": len(inst.clients), "L": inst.L, "R": inst.R}
    out += [f"{row.name}: the table says {k} = {getattr(row, k)}, the frozen instance has {v}"
            for k, v in sizes.items() if getattr(row, k) != v]
    if row.status not in STATUSES:
        return out + [f"{row.name}: unknown status '{row.status}' (known: {', '.join(STATUSES)})"]
    try:
        routes = parse_routes(row.routes)
    except BprInputError as err:
        return out + [f"{row.name}: {err}"]
    out += [f"{row.name}: route {name} bounds {b}, above the best bound {row.best_bound_s}"
            for name, b in routes.items() if not b <= row.best_bound_s * (1 + COST_RTOL)]
    gap, status = _status(row.best_known_s, row.best_bound_s, routes)
    if row.status != status or (gap is not None and not math.isclose(gap, row.gap, rel_tol=1e-6, abs_tol=1e-12)):
        out.append(f"{row.name}: status {row.status} and gap {row.gap} contradict best known {row.best_known_s}, "
                   f"best bound {row.best_bound_s} and routes {row.routes} (gap {gap}: {status})")
    return out


def _status(best: float | None, bound: float | None, routes: dict[str, float]) -> tuple[float | None, str]:
    """(gap, status): the gap between the best known and the best bound; ``optimal`` when at least
    ``ROUTES_NEEDED`` independent routes (``independent``) each prove a bound within ``OPTIMAL_GAP`` of the
    best known, ``proved_once`` when one does, else ``open`` (docs/library.md, "Two routes")."""
    if best is None or bound is None or pd.isna(best) or pd.isna(bound):
        return None, "open"
    gap = max(0.0, (best - bound) / best)
    count = independent(proofs(best, routes))
    return gap, "optimal" if count >= ROUTES_NEEDED else "proved_once" if count else "open"


def closes(best: float, bound: float) -> bool:
    """Whether a bound proves ``best`` optimal within OPTIMAL_GAP."""
    return (best - bound) / best <= OPTIMAL_GAP


def proofs(best: float, routes: dict[str, float]) -> list[str]:
    """The routes whose bounds prove ``best`` optimal, by name."""
    return sorted(r for r, b in routes.items() if closes(best, b))


# A bound of lower_bounds that relaxes an algorithm's model is that model's formulation: its LP relaxation
# and its branch and bound are one route on one solver.
FORMULATION = {"exact": "extended", "lower_bounds:extended_lp": "extended", "milp": "paper",
               "lower_bounds:paper_lp": "paper", "restricted_master": "decomposition",
               "lower_bounds:decomposition": "decomposition", "size_layout": "window_sizes",
               "lower_bounds:window_sizes": "window_sizes",
               # its positions are the extended formulation's: not independent of exact on the same solver
               "size_branch": "extended"}


def route_key(route: str) -> tuple[str, str]:
    """(formulation, solver) of a route ``source@solver``."""
    source, _, solver = route.partition("@")
    return FORMULATION.get(source, source), solver


def independent(routes: list[str]) -> int:
    """How many of ``routes`` are independent: distinct (formulation, solver) pairs. Two routes count twice
    only when they differ in formulation or in solver."""
    return len({route_key(r) for r in routes})


def parse_routes(text: Any) -> dict[str, float]:
    """``routes``: ``source@solver=bound;...`` (empty: none), each route named once and with its solver (two
    routes are independent by their formulation and solver: ``independent``)."""
    if not isinstance(text, str) or not text.strip():
        return {}
    out: dict[str, float] = {}
    for part in text.split(";"):
        name, _, value = (x.strip() for x in part.partition("="))
        try:
            number = float(value)
        except ValueError:
            raise BprInputError(f"routes: '{part}' is not route=bound") from None
        why = "a route without a name" if not name else "named twice" if name in out else \
            "a route without its solver (source@solver)" if "@" not in name else ""
        if why:
            raise BprInputError(f"routes: '{part}': {why}")
        out[name] = number
    return out


def routes_text(routes: dict[str, float]) -> str:
    return ";".join(f"{name}={float(value)!r}" for name, value in sorted(routes.items()))


def route_of(row: Any) -> str:
    """The route of a bound in a sweep's row: the algorithm (a bound row: its own name) and the run's
    solver."""
    solver = row.get("p_solver_name")
    return f"{row['algorithm']}@{solver if isinstance(solver, str) and solver else 'highs'}"


def update(sweep_dir: Path) -> tuple[list[str], list[str]]:
    """Merge a sweep: (changes, problems). Only what the library re-derives is taken: a job's rows only where
    the job ran the frozen instance itself (content hash), a solution only from a file inside the sweep that
    the checker and evaluator re-grade at the row's cost, a bound only from a registered algorithm that
    computes bounds (a bound algorithm or a solver's dual bound); and of those only better solutions and
    better bounds. With any problem nothing is written. One update at a time (a lock); each new solution
    file gets a name of its own and the table, written after it, is what points to it."""
    with table_lock():
        return _update(Path(sweep_dir))


@contextmanager
def table_lock() -> Iterator[None]:
    """The library's lock: two updates at once would each write the table they read."""
    LIBRARY.mkdir(parents=True, exist_ok=True)
    with open(LIBRARY / ".update.lock", "w") as fh:
        fcntl.flock(fh, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(fh, fcntl.LOCK_UN)


def _update(sweep_dir: Path) -> tuple[list[str], list[str]]:
    table = load_table()
    problems = check_table(table)
    if problems:
        return [], problems
    old = {LIBRARY / str(f) for f in table.solution.dropna()}   # the files the table points to now
    entries = {r["name"]: r for r in table.to_dict("records")}
    rows = gather(sweep_dir)
    if rows.empty:
        return [], [f"{sweep_dir}: no results"]
    changes, copies = [], []
    rows = rows[rows.instance.isin(list(entries))]
    for job_dir, job in rows.groupby("job_dir"):
        problem = job_problem(sweep_dir, Path(job_dir), job.instance.iloc[0], entries[job.instance.iloc[0]])
        if problem:
            problems.append(problem)
            rows = rows[rows.job_dir != job_dir]
    for name, group in rows.groupby("instance"):
        row = entries[name]
        for r in group[(group.kind == "solution") & (group.check_status == "feasible")].itertuples(index=False):
            sol_file = Path(r.job_dir) / "solutions" / f"{r.algorithm}.json"
            problem = algorithm_problem(name, r.algorithm) or outside(sweep_dir, sol_file, name, "solution file")
            cost = None
            if not problem:
                cost, problem = recheck(name, sol_file)
            if problem or not math.isclose(cost, r.per_token_s, rel_tol=COST_RTOL):
                problems.append(problem or f"{name}: {r.algorithm}'s row says {r.per_token_s}, its file costs {cost}")
                continue
            if pd.isna(row["best_known_s"]) or cost < row["best_known_s"] * (1 - COST_RTOL):
                target = f"solutions/{name}-{file_digest(sol_file)}.json"
                copies.append((sol_file, LIBRARY / target))
                row |= {"best_known_s": cost, "solution": target, "algorithm": r.algorithm,
                        "solver": getattr(r, "p_solver_name", None), "time_limit": getattr(r, "p_solver_time_limit",
                                                                                        None),
                        "rel_gap": getattr(r, "p_solver_rel_gap", None), "commit": provenance()["git_commit"][:12]}
                changes.append(f"{name}: best known {cost:.6f} s/token by {r.algorithm}")
        bounds, bound_problems = proved_bounds(name, group)
        problems += bound_problems
        if len(bounds) and (pd.isna(row["best_bound_s"]) or bounds.max() > row["best_bound_s"] * (1 + COST_RTOL)):
            source = group.loc[bounds.idxmax(), "algorithm"]
            row |= {"best_bound_s": float(bounds.max()), "bound_from": source}
            changes.append(f"{name}: best bound {bounds.max():.6f} s/token by {source}")
        routes = parse_routes(row["routes"])
        for index, value in bounds.items():
            route = route_of(group.loc[index])
            if value > routes.get(route, -math.inf) * (1 + COST_RTOL):
                routes[route] = float(value)
                changes.append(f"{name}: route {route} bounds {value:.6f} s/token")
                if route_source(route) == size_branch.NAME:      # its proof is a file: kept beside the table
                    src = Path(group.loc[index, "job_dir"]) / "solutions" / f"{size_branch.NAME}.json"
                    copies.append((src, certificate_path(name, route)))
        row["routes"] = routes_text(routes) or None
        row["gap"], row["status"] = _status(row["best_known_s"], row["best_bound_s"], routes)
    table = pd.DataFrame(list(entries.values()), columns=COLUMNS)
    problems += check_bounds(table)
    if problems:
        return [], problems
    for src, dst in copies:
        atomic(dst, lambda tmp, src=src: shutil.copyfile(src, tmp))
    save_table(table)
    for stale in old - {LIBRARY / str(f) for f in table.solution.dropna()}:   # replaced: no row points to it
        stale.unlink(missing_ok=True)
    return changes, []


def job_problem(sweep_dir: Path, job_dir: Path, name: str, entry: dict[str, Any]) -> str:
    """Why a job's rows cannot count for the library instance they name ('' when they can): a job outside
    the sweep, or one that ran another instance than the frozen one (same name, other content)."""
    if problem := outside(sweep_dir, job_dir, name, "job"):
        return problem
    try:
        ran = instance_io.load(job_dir / "instance.json")
    except BprInputError as err:
        return f"{name}: job {job_dir.name} has no instance file to compare ({err})"
    if ran.fingerprint() == entry["instance_sha256"]:
        return ""
    frozen = instance_io.load(instance_path(name))
    sizes = [f"{k} {a} vs {b}" for k, a, b in (("servers", ran.n_servers, frozen.n_servers), ("R", ran.R, frozen.R),
                                               ("L", ran.L, frozen.L)) if a != b]
    return (f"{name}: job {job_dir.name} ran another instance than the library's of that name "
            f"({', '.join(sizes) or 'same sizes, other content'}); its rows are not taken")


def registered(algorithm: str) -> registry.Algorithm | None:
    """The registered algorithm of a row (a bound's row names its family: lower_bounds:capacity), or None."""
    try:
        return registry.declared(str(algorithm).split(":")[0], "offline")
    except BprInputError:
        return None


def algorithm_problem(name: str, algorithm: str) -> str:
    """'' for a registered algorithm's row, else why it is not taken."""
    return "" if registered(algorithm) else f"{name}: a row of unknown algorithm '{algorithm}' is not taken"


def outside(sweep_dir: Path, path: Path, name: str, what: str) -> str:
    """'' for a path inside the sweep, else why ``what`` (a job, a solution file) at ``path`` is not taken."""
    if path.resolve().is_relative_to(sweep_dir.resolve()):
        return ""
    return f"{name}: {what} {path} lies outside the sweep {sweep_dir}"


def proved_bounds(name: str, group: pd.DataFrame) -> tuple[pd.Series, list[str]]:
    """The lower bounds of a job's rows that an algorithm of the suite proved: a bound row of a registered
    bound algorithm, or the dual bound of a registered algorithm that uses a solver; a bound on a row of any
    other algorithm (a heuristic computes none) is a problem, not a bound."""
    values, problems = [], []
    for index, r in group[group.algorithm != BEST_BOUND].iterrows():   # the harness's summary hides the source
        found = [float(r[c]) for c in ("lower_bound_s", "dual_bound_s") if c in r and pd.notna(r[c])]
        if not found:
            continue
        alg = registered(r.algorithm)
        why = algorithm_problem(name, r.algorithm) if alg is None else ""
        if alg is not None and alg.kind is not registry.Kind.BOUND and not alg.uses_solver:
            why = f"{name}: {r.algorithm} computes no bound, yet its row has one ({max(found)}); not taken"
        if why:
            problems.append(why)
        else:
            values.append((index, max(found)))
    return pd.Series(dict(values), dtype=float), problems


def file_digest(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()[:12]


def check_bounds(table: pd.DataFrame) -> list[str]:
    """A bound above the best known solution means one of them is wrong."""
    return [f"{r.name}: bound {r.best_bound_s} above the best known {r.best_known_s}"
            for r in table.itertuples(index=False) if pd.notna(r.best_bound_s) and pd.notna(r.best_known_s)
            and r.best_bound_s > r.best_known_s * (1 + OPTIMAL_GAP)]


HEURISTICS = ["cg_bprr", "petals", "petals-opt-number", "petals-opt-order", "gbp_cr_gca", "parallax"]
GOLDEN_MAX_SERVERS = 30
# lns at a fixed iteration count and patience, no time limit binding (docs/formulations.md §5: then
# deterministic), on the 0.8 R_max instances small enough for the test suite
GOLDEN_SEARCH = {"lns": {"iterations": 3, "sub_time_limit": 600.0, "patience": 8, "time_limit": 3600.0}}
GOLDEN_SEARCH_MAX_SERVERS = 9


def golden_runs(inst: Instance, entry: dict[str, Any]) -> list[tuple[str, dict[str, Any]]]:
    """(algorithm, options) recorded in golden.csv for one library instance."""
    runs = [(alg, {}) for alg in HEURISTICS]
    if entry.get("R") == "binding" and inst.n_servers <= GOLDEN_SEARCH_MAX_SERVERS:
        runs += list(GOLDEN_SEARCH.items())
    return runs


def golden_rows() -> pd.DataFrame:
    """Every heuristic's graded cost (and checker status) on every library instance with <= 30 servers, and
    the search at a fixed iteration count at 0.8 R_max on <= 9 servers; ``options`` as JSON."""
    from bench.options import make_options
    from bpr.grading import grade

    rows = []
    for name, entry in catalog().items():
        inst = instance_io.load(instance_path(name))
        if inst.n_servers > GOLDEN_MAX_SERVERS:
            continue
        for alg, values in golden_runs(inst, entry):
            opts = make_options(registry.get(alg, "offline"), values)
            g = grade(inst, registry.call(alg, inst, options=opts))
            rows.append({"name": name, "algorithm": alg, "options": json.dumps(values) if values else "",
                         "check_status": g.solution.status,
                         "per_token_s": None if g.evaluation is None else g.evaluation.per_token_s})
    return pd.DataFrame(rows)


def routes_report(table: pd.DataFrame) -> str:
    """Per instance with a closed gap: its status and the routes whose bounds prove it; then the instance list
    of those proved once, to give a sweep that confirms them (experiment=library_confirm)."""
    lines = []
    for row in table[table.status != "open"].sort_values("name").itertuples(index=False):
        proved = proofs(row.best_known_s, parse_routes(row.routes))
        lines.append(f"{row.name}: {row.status} ({', '.join(proved) or 'no route recorded'})")
    once = table[table.status == "proved_once"].name.sort_values()
    lines.append(f"{len(once)} proved once: instance.file=" + ",".join(f"library:{n}" for n in once))
    return "\n".join(lines)


def tier(entry: dict[str, Any]) -> str:
    """Where an instance sits: ``default`` R (memory rarely binds) or a share of R_max (memory binds)."""
    return "memory binds" if entry.get("R", "default") != "default" else "default R"


def heuristic_gaps(golden: pd.DataFrame, table: pd.DataFrame) -> pd.DataFrame:
    """Per tier, instance status (``optimal`` or ``proved_once``: a true gap; ``open``: a gap to the best
    bound, an upper bound on the true one) and heuristic: how many instances, how many it solves feasibly,
    and the mean and largest gap (c - ref) / c over its feasible solutions; gaps never mix feasible and
    infeasible rows."""
    entries = catalog()
    ref = table.set_index("name")
    rows = golden[golden.name.isin(ref.index)].copy()
    rows["tier"] = [tier(entries.get(n, {})) for n in rows.name]
    rows["status"] = ref.loc[rows.name, "status"].to_numpy()
    closed = rows.status != "open"       # proved once or twice: the best known is the optimum
    target = np.where(closed, ref.loc[rows.name, "best_known_s"], ref.loc[rows.name, "best_bound_s"])
    rows["feasible"] = rows.check_status == "feasible"
    rows["gap"] = np.where(rows.feasible, (rows.per_token_s - target) / rows.per_token_s, np.nan)
    return rows.groupby(["tier", "status", "algorithm"]).agg(
        instances=("name", "nunique"), feasible=("feasible", "sum"), with_gap=("gap", "count"),
        mean_gap=("gap", "mean"), max_gap=("gap", "max")).reset_index()


def page(out: Path) -> Path:
    """The library as one interactive page (bench/report_html.py): every instance with its best known
    solution, best bound, gap, status and where each came from; the heuristics' gaps by tier; a folding
    section per instance with its best known solution drawn."""
    import plotly.express as px

    from bench import report_html as html

    table = load_table()
    entries = catalog()
    shown = table.assign(tier=[tier(entries.get(n, {})) for n in table.name])
    first = ["name", "status", "gap", "best_known_s", "best_bound_s", "tier"]     # on the first screen
    shown = shown[first + [c for c in shown if c not in first]]
    gaps = heuristic_gaps(pd.read_csv(GOLDEN), table) if GOLDEN.exists() else pd.DataFrame()
    fig = px.bar(shown.sort_values("gap"), x="name", y="gap", color="status", hover_data=list(shown.columns),
                      labels={"gap": "gap (best known - best bound) / best known", "name": "instance"},
                      title="Gap of every library instance between its best known solution and its best bound")
    fig.update_yaxes(tickformat=".0%")
    sections = [html.Section("table", "Instances", "best_known_s: the best solution found (its file re-checked by "
                             "the checker and evaluator; `algorithm`, `solver`, `time_limit` and `commit` say how); "
                             "best_bound_s: the best lower bound (`bound_from`); routes: every route's best bound; "
                             "status optimal where two independent routes (another formulation or solver) prove the "
                             f"best known within {100 * OPTIMAL_GAP:g} %, proved_once where one does.",
                             [html.table(shown), html.plot(fig)])]
    if len(gaps):
        sections.append(html.Section("gaps", "Heuristics' gaps by tier", "Against the optimum where certified, "
                                     "else against the best bound (an upper bound on the true gap); golden.csv.",
                                     [html.table(gaps)]))
    blocks = []
    for row in table.itertuples():
        sol = LIBRARY / str(row.solution) if isinstance(row.solution, str) else None
        parts = html.solution_blocks(instance_path(row.name), sol, str(row.algorithm)) if sol else []
        if parts:
            blocks.append(html.Fold(f"{row.name}: {row.status}, best known {row.best_known_s:.6g} s "
                                    f"({row.algorithm})", parts))
    sections.append(html.Section("solutions", "Best known solutions", blocks=blocks))
    intro = (f"{len(table)} instances, {int((table.status == 'optimal').sum())} certified optimal by two "
             f"independent routes, {int((table.status == 'proved_once').sum())} proved optimal by one. Every number "
             "was computed or re-checked by the suite (docs/library.md).")
    return html.render(out, "BPR-Bench certified library", intro, provenance(), sections)


def recheck_certificate(solution: Path, instance: Path, seconds: float) -> list[str]:
    """The problems of a ``size_branch`` solution file's certificate, re-solved on ``instance``."""
    sol, inst = solution_io.load(solution), instance_io.load(instance)
    if sol.instance != inst.name:
        raise BprInputError(f"{solution} is a solution of '{sol.instance}', not of '{inst.name}'")
    if "certificate" not in sol.info:
        raise BprInputError(f"{solution} carries no certificate (only {size_branch.NAME} writes one)")
    ctx = for_run(Context(), size_branch.NAME, None)
    return [f"{sol.instance}: {p}" for p in size_branch.recheck(inst, sol.info["certificate"], ctx, seconds)]


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="python bench/library.py", description=__doc__.splitlines()[0])
    sub = p.add_subparsers(dest="command", required=True)
    sub.add_parser("freeze")
    sub.add_parser("check")
    sub.add_parser("golden")
    sub.add_parser("gaps")
    sub.add_parser("routes")
    sub.add_parser("update").add_argument("sweep_dir", type=Path)
    sub.add_parser("page").add_argument("--out", type=Path, default=Path("outputs") / "library.html")
    cert = sub.add_parser("certificate")
    cert.add_argument("solution", type=Path)
    cert.add_argument("instance", type=Path)
    cert.add_argument("--seconds", type=float, default=600.0, help="time limit of each re-solve")
    args = p.parse_args(argv)
    try:
        return _command(args)
    except BprInputError as err:      # a table or sweep that is not what it should be: one line, exit 2
        print(f"error: {err}", file=sys.stderr)
        return 2


def _command(args: argparse.Namespace) -> int:
    changes: list[str] = []
    if args.command == "freeze":
        problems = freeze()
    elif args.command == "check":
        problems = check_table()
    elif args.command == "golden":
        atomic(GOLDEN, lambda tmp: golden_rows().to_csv(tmp, index=False, float_format="%.17g"))
        problems = []
    elif args.command == "page":
        print(page(args.out))
        return 0
    elif args.command == "certificate":
        problems = recheck_certificate(args.solution, args.instance, args.seconds)
        changes = [] if problems else [f"certificate of {args.solution}: every part re-solved, its bound re-confirmed"]
    elif args.command == "routes":
        print(routes_report(load_table()))
        return 0
    elif args.command == "gaps":
        gaps = heuristic_gaps(pd.read_csv(GOLDEN), load_table())
        print(markdown(gaps) if len(gaps) else "no golden rows")
        return 0
    else:
        if not args.sweep_dir.is_dir():
            problems = [f"update: '{args.sweep_dir}' is not a sweep directory"]
        else:
            changes, problems = update(args.sweep_dir)
    for line in problems:
        print(f"error: {line}", file=sys.stderr)
    for line in changes:
        print(line)
    if not problems and args.command not in ("golden", "certificate"):     # they change no table
        print(f"{args.command}: {len(changes)} change(s); table {TABLE}")
    return 2 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
