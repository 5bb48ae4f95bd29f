"""``report.html``: the results page of a run or sweep, one self-contained file that opens offline.

It shows what report.md shows (bench/report.py computes it; this module only lays it out) as sortable,
filterable tables (itables: DataTables, its script inlined) and interactive figures (plotly, its script
inlined; hover names instance, algorithm, seed and value), and adds a section per instance that drills down
to each algorithm's solution: the placement as a block map over servers, memory use per server against its
capacity (docs/model.md eq. 2), the routes and the convergence curve. The page is built from a jinja2
template (bench/templates/page.html.j2); ``bench/library.py page`` renders the library with the same parts.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path
from typing import Any

import jinja2
import numpy as np
import pandas as pd
import plotly.express as px
import plotly.graph_objects as go
from itables import to_html_datatable
from itables.javascript import generate_init_offline_itables_html
from markupsafe import Markup
from plotly.offline import get_plotlyjs

from bench.rounding import in_percent, is_percent, rounded
from bpr import instance as instance_io
from bpr import solution as solution_io
from bpr.checker import check
from bpr.files import write_text

TEMPLATES = Path(__file__).parent / "templates"
MAX_DRILL = 60          # solutions drawn in the per-instance sections (the tables hold every row)
MAX_PAGE_ROWS = 5000    # rows of the row table in the page (about 0.6 KB each); results.csv has every row


@dataclass
class Fold:
    """A folding block (``<details>``): its summary line is text, escaped by the template like every value
    that comes from data; ``css`` names its style class (also escaped)."""

    summary: str
    parts: list["Block"]
    css: str = ""


@dataclass
class Text:
    """A paragraph of text (escaped by the template)."""

    text: str


# Markup: HTML that plotly or itables made (they escape the data they embed); never built from data here
Block = Markup | Fold | Text


@dataclass
class Section:
    id: str
    title: str
    note: str = ""
    blocks: list[Block] = field(default_factory=list)


@cache
def _dt_bundle() -> Path:
    import itables

    return Path(itables.__file__).parent / "html" / "dt_bundle.js"


def for_people(table: pd.DataFrame) -> pd.DataFrame:
    """A summary table as shown: without the optional measures no row has (spread, response time, gap)."""
    optional = [c for c in ("per_token_sd", "response_s", "gap_to_best_bound") if c in table]
    return table.drop(columns=[c for c in optional if table[c].isna().all()])


def table(df: pd.DataFrame, digits: int = 4, page_length: int = 25) -> str:
    """A sortable table with a search box and a filter per column; fractions in percent (2 decimals), other
    numbers to ``digits`` significant digits as in report.md, whole numbers without a decimal point, missing
    values blank (bench/rounding.py)."""
    shown = in_percent(df)
    for col in shown:
        values = shown[col].dropna()
        if not pd.api.types.is_numeric_dtype(shown[col]) or pd.api.types.is_bool_dtype(shown[col]) or not len(values):
            continue
        finite = values[np.isfinite(values.astype(float))]
        whole = bool(len(finite)) and bool((finite == finite.round()).all())   # a rank, a server count: 9, not 9.0
        percent = is_percent(col)
        spec = ".2f" if percent else f".{digits}g"          # as report.md: 4e-05, not 0

        def cell(v: Any) -> Any:
            if pd.isna(v):
                return ""       # blank, not NaN or <NA>; the column still sorts as numbers
            if not np.isfinite(v):
                return str(v)
            if whole:
                return int(v)
            # a percentage as text with its 2 decimals (the table still sorts it as a number); others as numbers
            return rounded(float(v), spec) if percent else float(rounded(float(v), spec))
        values = [cell(v) for v in shown[col]]
        # a column of numbers only stays numeric: the table then prints it with one number of decimals
        numeric = not (whole or percent or len(finite) < len(shown[col]))
        shown[col] = pd.Series(values, index=shown.index, dtype=float) if numeric else values
    return Markup(to_html_datatable(shown, connected=False, column_filters="footer", maxBytes=0, showIndex=False,
                             pageLength=page_length, classes="display compact nowrap", allow_html=False,
                             layout={"topStart": "pageLength", "topEnd": "search", "bottomStart": "info",
                                     "bottomEnd": "paging"}))


def plot(fig: go.Figure) -> str:
    fig.update_layout(template="plotly_white", margin={"l": 60, "r": 20, "t": 60, "b": 50})
    return Markup(fig.to_html(full_html=False, include_plotlyjs=False, config={"displaylogo": False}))


def render(path: Path, title: str, intro: str, provenance: dict[str, Any], sections: list[Section]) -> Path:
    env = jinja2.Environment(loader=jinja2.FileSystemLoader(TEMPLATES), autoescape=True)
    html = env.get_template("page.html.j2").render(
        title=title, intro=intro, provenance=provenance, sections=sections,
        table_init=Markup(generate_init_offline_itables_html(_dt_bundle())),
        plotly_js=Markup(f'<script type="text/javascript">{get_plotlyjs()}</script>'))
    write_text(path, html)
    return path


def provenance_of(run_dir: Path, df: pd.DataFrame) -> dict[str, Any]:
    """The machine, versions and commit the numbers were measured with (provenance.json, else the rows)."""
    path = Path(run_dir) / "provenance.json"
    info = json.loads(path.read_text()) if path.exists() else {}
    for col in ("git_commit", "host", "cpu", "cpu_count", "python", "highspy", "pyomo"):
        if col not in info and col in df and df[col].notna().any():
            info[col] = ", ".join(sorted(map(str, df[col].dropna().unique())))
    return {k: (" ".join(map(str, v)) if isinstance(v, list) else v) for k, v in info.items()}


def rows_figure(df: pd.DataFrame, settings: list[str]) -> go.Figure | None:
    """Every feasible row as one point (nothing averaged), one panel per scenario, one column per value of
    the settings that vary within a scenario (``settings``) with the algorithms side by side in it."""
    ok = df[(df.kind.isin(["solution", "online"])) & (df.verdict == "feasible")]
    if ok.empty:
        return None
    hover = [c for c in ["instance", "algorithm", "seed", "run", "per_token_s", *settings] if c in ok]
    palette = colours(df)
    x, order = "algorithm", {"algorithm": sorted(palette)}
    if settings:    # never pool the values of a swept setting into one column
        ok = ok.sort_values(settings).assign(cell=lambda d: d[settings].astype(str).agg(
            lambda r: ", ".join(f"{c.removeprefix('p_')}={v}" for c, v in zip(settings, r)), axis=1))
        x, order = "cell", order | {"cell": list(dict.fromkeys(ok.cell))}
    fig = px.strip(ok, x=x, y="per_token_s", color="algorithm", facet_col="scenario",
                   color_discrete_map=palette, category_orders=order, facet_col_wrap=3, hover_data=hover,
                   stripmode="group" if settings else "overlay",
                   labels={"per_token_s": "average per-token time [s]", "cell": ""})
    fig.update_yaxes(matches=None, showticklabels=True)
    fig.update_layout(title="Per-token time of every feasible row (one point per instance, seed and run)",
                      height=max(400, 330 * int(np.ceil(ok.scenario.nunique() / 3))), showlegend=bool(settings))
    return fig


def colours(df: pd.DataFrame) -> dict[str, str]:
    """One colour per algorithm on the whole page (sorted names, plotly's qualitative palette)."""
    names = sorted(df.algorithm.dropna().astype(str).unique())
    palette = px.colors.qualitative.Plotly + px.colors.qualitative.Dark24
    return {name: palette[i % len(palette)] for i, name in enumerate(names)}


def sweep_figure(table: pd.DataFrame, axis: str, label: str, others: list[str]) -> go.Figure:
    """Mean per-token time along a swept setting, one line per algorithm and value of the other settings
    that vary, one panel per scenario (means over seeds and runs of one cell only); error bars: the spread
    over them, as in the PNG (bench/report.py)."""
    t = table[table.per_token_s.notna()].copy()
    t["line"] = t.algorithm + t[others].astype(str).agg(lambda r: "".join(f", {v}" for v in r), axis=1) \
        if others else t.algorithm
    palette = colours(table)
    fig = px.line(t.sort_values(axis), x=axis, y="per_token_s", color="line", facet_col="scenario",
                  error_y="per_token_sd" if t.per_token_sd.notna().any() else None,
                  color_discrete_map={line: palette[alg] for line, alg in zip(t.line, t.algorithm)} if not others
                  else None,
                  facet_col_wrap=3, markers=True, hover_data=["algorithm", axis, "per_token_s", "feasible"],
                  labels={axis: label, "per_token_s": "mean per-token time [s]", "line": "algorithm"})
    fig.update_yaxes(matches=None, showticklabels=True)
    fig.update_layout(title=f"Per-token time along {label} (mean over seeds and runs of one cell; error bars: "
                            "their spread)")
    return fig


def profile_figure(ratios: pd.DataFrame, what: str, palette: dict[str, str]) -> go.Figure:
    """Dolan-More: the share of instances on which each algorithm is within a ratio r of the best."""
    fig = go.Figure()
    finite = ratios.replace(np.inf, np.nan)
    top = float(np.nanmax(finite.to_numpy())) if finite.notna().any().any() else 1.0
    grid = np.unique(np.concatenate([[1.0], np.sort(finite.stack().to_numpy()), [max(top, 1.0) * 1.05]]))
    for alg in ratios:
        share = [(ratios[alg] <= r).mean() for r in grid]
        fig.add_trace(go.Scatter(x=grid, y=share, mode="lines", line_shape="hv", name=alg,
                                 line_color=palette.get(alg),
                                 hovertemplate=f"{alg}<br>r = %{{x:.3f}}<br>share = %{{y:.2f}}<extra></extra>"))
    fig.update_layout(title=f"Performance profile of {what} over {len(ratios)} problems (instance and settings)",
                      xaxis_title=f"ratio r to the best {what} on the instance (log scale)",
                      yaxis_title="share of problems within r", yaxis_range=[0, 1.02], xaxis_type="log")
    return fig


DASH = {"--": "dash", ":": "dot", "-.": "dashdot"}


def convergence_figure(row: pd.Series, progress: np.ndarray,
                       levels: list[tuple[float, str, str]] = ()) -> go.Figure:
    fig = go.Figure()
    hover = f"{row.algorithm} on {row.instance}, seed {row.seed}"
    for col, name in ((1, "incumbent"), (2, "dual bound")):
        if np.isfinite(progress[:, col]).any():
            fig.add_trace(go.Scatter(x=progress[:, 0], y=progress[:, col], mode="lines+markers", line_shape="hv",
                                     name=name, hovertemplate=f"{hover}<br>{name} %{{y:.6g}} s at %{{x:.1f}} s"
                                                              "<extra></extra>"))
    ends = [0.0, float(progress[-1, 0])]
    for value, label, style in levels:
        fig.add_trace(go.Scatter(x=ends, y=[value, value], mode="lines", name=f"{label} ({value:.4g})",
                                 line={"dash": DASH.get(style, "dash"), "color": "grey", "width": 1},
                                 hovertemplate=f"{label} %{{y:.6g}} s<extra></extra>"))
    fig.update_layout(title=f"{row.algorithm} on {row.instance} (seed {row.seed}): {row.status}", height=330,
                      xaxis_title="time since the run began [s]", yaxis_title="average per-token time [s]",
                      xaxis_rangemode="tozero")
    return fig


def solution_blocks(inst_path: Path, sol_path: Path, algorithm: str) -> list[Block]:
    """The drill-down of one solution: block map, memory per server, routes."""
    if not (inst_path.exists() and sol_path.exists()):
        return []
    inst, sol = instance_io.load(inst_path), solution_io.load(sol_path)
    if sol.instance != inst.name:    # a file another run left in the directory: never drawn as this row's
        return [Text(f"{algorithm}: {sol_path.name} is a solution of {sol.instance}, not of {inst.name}; not drawn")]
    if not sol.has_solution:
        return [Text(f"{algorithm}: no solution ({sol.message})")]
    report = check(inst, sol)
    ids = [s.id for s in inst.servers]
    hosted = np.zeros((inst.n_servers, inst.L))
    for j in range(inst.n_servers):
        a, m = int(report.placement.a[j]), int(report.placement.m[j])
        if m:
            hosted[j, a - 1:a - 1 + m] = 1
    block_map = go.Figure(go.Heatmap(z=hosted, x=list(range(1, inst.L + 1)), y=ids, showscale=False,
                                     colorscale=[[0, "#f4f4f4"], [1, "#2f6fb0"]],
                                     hovertemplate="server %{y}, block %{x}: %{z}<extra></extra>"))
    block_map.update_layout(title=f"{algorithm}: blocks per server", xaxis_title="block", yaxis_title="server",
                            height=max(250, 18 * inst.n_servers + 120))
    blocks_gb = inst.model.s_m * report.placement.m
    memory = go.Figure([go.Bar(x=ids, y=blocks_gb, name="blocks"),
                        go.Bar(x=ids, y=report.memory - blocks_gb, name="attention cache"),
                        go.Scatter(x=ids, y=[s.M for s in inst.servers], mode="markers", name="memory M",
                                   marker_symbol="line-ew-open", marker_size=18)])
    memory.update_layout(barmode="stack", title=f"{algorithm}: memory use per server (eq. 2)",
                         yaxis_title="GB", height=330)
    chains = pd.Series([" → ".join(r.servers) for r in sol.routes]).value_counts()
    routes = pd.DataFrame({"chain": chains.index, "requests": chains.to_numpy()})
    return [plot(block_map), plot(memory), table(routes, page_length=10)]


@dataclass
class Findings:
    """What bench/report.py found in a run or sweep directory (computed once for report.md and this page)."""

    df: pd.DataFrame                # every row
    table: pd.DataFrame             # per cell and algorithm (bench/report.py summary)
    winners: pd.DataFrame
    runtimes: pd.DataFrame
    overruns: pd.DataFrame          # runs past their time limit (bench/report.py overruns)
    gaps: pd.DataFrame              # on library instances
    integrals: pd.DataFrame
    errors: pd.DataFrame
    settings: list[str]             # the settings that vary within a scenario
    sweeps: list[tuple[str, str, list[str]]]   # (axis, its label, the other settings that vary)
    profiles: list[tuple[pd.DataFrame, str]]   # (ratios, what)
    progress: dict[int, np.ndarray]            # row index -> (time, incumbent, bound)
    intro: str = ""
    # row index -> (value, label, line style): the levels a convergence curve is read against
    levels: dict[int, list[tuple[float, str, str]]] = field(default_factory=dict)


OVERRUN_NOTE = ("Runs that ended more than max(1 s, 2 %) after their time limit (the runner's clock, "
                "docs/results.md \"Time\"), with their phases: the phase that ran over is the one to read.")
ROW_COLUMNS = ["instance", "algorithm", "per_token_s", "verdict", "status", "seed", "run", "kind",
               "gap_to_best_bound", "runtime_s", "message"]


def page(run_dir: Path, f: Findings) -> Path:
    """Write ``report.html`` into ``run_dir``."""
    df = f.df
    settings = sorted(c for c in df if c.startswith("p_"))
    # the settings that vary within a scenario right after the instance: two rows of one cell never look alike
    first = ["instance", *f.settings]
    rows = df[first + [c for c in ROW_COLUMNS if c in df and c not in first]
              + [c for c in settings if c not in first]].copy()
    if "message" in rows:   # the full message is in the row's files; a long one would hide the table
        rows["message"] = rows.message.fillna("").astype(str).map(lambda m: m if len(m) <= 90 else m[:87] + "...")
    shown = ("One row per instance, algorithm, seed and run, with every setting (p_*) it ran with; filter a "
             "column in its footer." if len(rows) <= MAX_PAGE_ROWS else
             f"The first {MAX_PAGE_ROWS:,} of {len(rows):,} rows (results.csv holds them all; the tables and "
             "figures above count every row), with every setting (p_*) they ran with.")
    sections = [Section("cells", "Results per cell", "Means over feasible rows only, the verdict counts "
                        "beside them; a cell is a scenario with one value of every setting that varies.",
                        [table(for_people(f.table))]),
                Section("winners", "Winner per cell (cheapest feasible)", blocks=[table(f.winners)]),
                Section("rows", "Every row" if len(rows) <= MAX_PAGE_ROWS else "Rows", shown,
                        [table(rows.head(MAX_PAGE_ROWS))])]
    figures = [fig for fig in [rows_figure(df, f.settings)] if fig is not None]
    figures += [sweep_figure(f.table, axis, label, others) for axis, label, others in f.sweeps]
    figures += [profile_figure(ratios, what, colours(df)) for ratios, what in f.profiles]
    sections.append(Section("figures", "Figures", "Nothing is averaged over a setting that varies: one panel "
                            "per scenario, one line or point per algorithm and setting.",
                            [plot(fig) for fig in figures]))
    sections.append(Section("runtimes", "Shifted geometric mean of runtimes", blocks=[table(f.runtimes)]))
    if len(f.overruns):
        sections.append(Section("overruns", "Runs past their time limit", OVERRUN_NOTE, [table(f.overruns)]))
    if len(f.gaps):
        sections.append(Section("library", "Certified library: gaps", "true_gap: against the certified optimum; "
                                "elsewhere the gap to the library's best bound bounds it.", [table(f.gaps)]))
    if len(f.integrals):
        sections.append(Section("integrals", "Primal integrals", "Berthold's primal integral (seconds) against "
                                "the best known solution.", [table(f.integrals)]))
    if len(f.errors):
        cols = [c for c in ("overrides", "instance", "algorithm", "message") if c in f.errors]
        sections.append(Section("errors", "Failed jobs and algorithms", blocks=[table(f.errors[cols])]))
    sections.append(instances_section(run_dir, f))    # empty (left out) where no solution file is drawn
    title = f"BPR-Bench report: {Path(run_dir).name}"
    sections = [s for s in sections if s.blocks]    # every section says something or is left out
    return render(Path(run_dir) / "report.html", title, f.intro, provenance_of(run_dir, df), sections)


def instances_section(run_dir: Path, f: Findings) -> Section:
    """Per instance (and seed), each algorithm's solution and convergence curve, in folding sections."""
    solutions = f.df[f.df.kind == "solution"] if "kind" in f.df else f.df.iloc[0:0]
    blocks, drawn = [], 0
    for (instance, seed), group in solutions.groupby(["instance", "seed"], sort=True):
        if drawn >= MAX_DRILL:     # the rest is in the tables; not one more row is looked at
            break
        inner = []
        for index, row in group.iterrows():
            if drawn >= MAX_DRILL:
                break
            job_dir = Path(row["job_dir"]) if isinstance(row.get("job_dir"), str) else Path(run_dir)
            parts = solution_blocks(job_dir / "instance.json", job_dir / "solutions" / f"{row.algorithm}.json",
                                    row.algorithm)
            if index in f.progress:
                parts.append(plot(convergence_figure(row, f.progress[index], f.levels.get(index, []))))
            if parts:
                drawn += 1
                cost = "" if pd.isna(row.per_token_s) else f", {row.per_token_s:.4f} s per token"
                said = row.verdict if row.verdict == row.status else f"{row.verdict} ({row.status})"
                inner.append(Fold(f"{row.algorithm}: {said}{cost}", parts, f"status-{row.verdict}"))
        if inner:
            blocks.append(Fold(f"{instance} (seed {seed})", inner))
    note = (f"The solutions of the first {MAX_DRILL} rows are drawn; the tables above hold every row."
            if drawn >= MAX_DRILL else "Each algorithm's placement, memory use, routes and convergence.")
    return Section("instances", "Instances", note, blocks)
