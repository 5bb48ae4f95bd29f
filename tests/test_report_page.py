"""report.html (bench/report_html.py) of a small sweep: self-contained, every table and figure present, and,
in headless Chromium, rendered without a console message; ``bench/library.py page`` likewise."""

import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

pytestmark = pytest.mark.xdist_group("test_report_page")   # its tests share an expensive module fixture

ROOT = Path(__file__).resolve().parents[1]
CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
         "--disable-background-networking", "--disable-component-update", "--disable-sync",
         "--virtual-time-budget=8000"]


@pytest.fixture(scope="session")
def sweep(tmp_path_factory):
    out = tmp_path_factory.mktemp("page") / "sweep"
    run = subprocess.run([sys.executable, str(ROOT / "bench" / "run.py"), "-m", f"hydra.sweep.dir={out}",
                          "instance=abovenet,clustered", "workload.l_out=64,128", "algorithms=[cg_bprr,petals,lns]",
                          "algorithm.lns.iterations=1", "algorithm.lns.walkers=0"], capture_output=True, text=True,
                         cwd=out.parent)
    assert run.returncode == 0, run.stderr
    report = subprocess.run([sys.executable, str(ROOT / "bench" / "report.py"), str(out)], capture_output=True,
                            text=True)
    assert report.returncode == 0, report.stderr
    return out


def test_the_page_is_self_contained_and_holds_every_part(sweep):
    html = (sweep / "report.html").read_text()
    assert not re.search(r"<script[^>]+src=|<link[^>]+href=\"http", html)    # opens offline: nothing fetched
    for title in ("Results per cell", "Every row", "Figures", "Instances", "Provenance"):
        assert f">{title}</h2>" in html
    assert html.count("new ITable(") >= 3 and "Per-token time along l_out" in html
    assert "Performance profile of per-token time" in html and "blocks per server" in html
    assert "-0.0" not in re.sub(r"<script.*?</script>", "", html, flags=re.S)


def browser(page: Path, tmp_path: Path, *extra: str) -> subprocess.CompletedProcess:
    if CHROMIUM is None:
        pytest.skip("chromium not found (Debian package chromium; .ci/run installs it where it can)")
    return subprocess.run([CHROMIUM, *FLAGS, f"--user-data-dir={tmp_path / 'profile'}", "--enable-logging=stderr",
                           "--v=0", *extra, page.as_uri()], capture_output=True, text=True, timeout=120)


def test_chromium_renders_the_library_page_without_a_console_message(tmp_path):
    made = subprocess.run([sys.executable, str(ROOT / "bench" / "library.py"), "page", "--out",
                           str(tmp_path / "library.html")], capture_output=True, text=True)
    assert made.returncode == 0, made.stderr
    renders_without_a_console_message(tmp_path / "library.html", tmp_path)


def renders_without_a_console_message(page: Path, tmp_path: Path) -> str:
    """The page in Chromium: DataTables and plotly built it, and nothing was logged; its DOM."""
    dom = browser(page, tmp_path, "--dump-dom")
    assert dom.returncode == 0, dom.stderr[-2000:]
    # plotly.js says "Too many auto-margin redraws" when its margin fitting loop runs out of (virtual) time, as
    # on a loaded machine; it is its timing, not an error of the page
    console = [line for line in dom.stderr.splitlines() if ":CONSOLE" in line and "auto-margin redraws" not in line]
    assert console == []
    assert dom.stdout.count('class="dt-container') >= 2            # DataTables built the tables
    assert dom.stdout.count('class="plot-container') >= 1          # plotly drew the figures
    return dom.stdout


def test_a_convergence_curve_carries_its_levels_as_flat_lines_from_the_runs_start():
    import numpy as np
    import pandas as pd

    from bench.report_html import convergence_figure

    row = pd.Series({"algorithm": "lns", "instance": "x", "seed": 0, "status": "feasible"})
    progress = np.array([[0.5, 1.0, np.nan], [3.0, 0.9, np.nan]])
    fig = convergence_figure(row, progress, [(0.8, "best lower bound, this job", "--")])
    assert [t.name for t in fig.data] == ["incumbent", "best lower bound, this job (0.8)"]
    level = fig.data[1]
    # the run's clock starts at the runner's call: the levels and the axis start at 0, not at the first point
    assert list(level.x) == [0.0, 3.0] and list(level.y) == [0.8, 0.8] and level.line.dash == "dash"
    assert fig.layout.xaxis.rangemode == "tozero"


# markup that runs a script wherever it is written into a page unescaped: an element, a script end, an attribute
PAYLOADS = ['<img src=x onerror="console.error(\'xss-img\')">', '</script><script>console.error("xss-script")</script>',
            '"><svg onload=console.error("xss-svg")>']
EVIL = " ".join(PAYLOADS)


def nothing_ran(page: Path, tmp_path: Path) -> None:
    """In Chromium: nothing logged (a payload that ran would log), and no payload became an element (the DOM
    holds them as text only); the page itself still works."""
    dom = renders_without_a_console_message(page, tmp_path)
    assert '<img src="x"' not in dom and "<svg onload" not in dom.lower()


def test_no_value_from_data_runs_in_the_browser_in_any_part_of_a_page(tmp_path):
    import pandas as pd
    import plotly.graph_objects as go

    from bench import report_html as html

    df = pd.DataFrame({"instance": [EVIL], "algorithm": [EVIL], "per_token_s": [0.5]})
    fig = go.Figure(go.Bar(x=[EVIL], y=[1.0], name=EVIL)).update_layout(title=EVIL)
    folded = html.Fold(EVIL, [html.Text(EVIL), html.table(df)], css=EVIL)
    blocks = [html.table(df), html.plot(fig), html.Text(EVIL), folded]
    page = html.render(tmp_path / "page.html", EVIL, EVIL, {EVIL: EVIL}, [html.Section("s", EVIL, EVIL, blocks)])
    nothing_ran(page, tmp_path)


def test_a_sweep_whose_names_and_messages_carry_markup_gives_a_page_where_none_runs(sweep, tmp_path):
    import pandas as pd

    hostile = tmp_path / "sweep"
    shutil.copytree(sweep, hostile)
    results = pd.read_parquet(hostile / "results.parquet")
    for col in ("instance", "scenario", "message", "overrides"):   # the algorithm names its solution file
        results[col] = results[col].astype(str) + EVIL
    results.to_parquet(hostile / "results.parquet")
    report = subprocess.run([sys.executable, str(ROOT / "bench" / "report.py"), str(hostile)], capture_output=True,
                            text=True)
    assert report.returncode == 0, report.stderr
    drawn = list(tmp_path.rglob("convergence_*.png"))     # named after the instance: "/" in it moves nothing
    assert drawn and all(p.parent == hostile / "figures" for p in drawn)
    nothing_ran(hostile / "report.html", tmp_path)      # also the test that the report page renders cleanly


# after DataTables has built the tables: per summary section, the right edge of its algorithm and per_token_s
# headers, written into the DOM where --dump-dom shows it
MEASURE = """<script>setTimeout(() => { const edges = {};
  for (const id of ["cells", "winners"]) {
    const heads = [...document.getElementById(id).nextElementSibling.parentElement.querySelectorAll("th")];
    const section = heads.filter(th => th.closest("div") && th.getBoundingClientRect().top >
                                 document.getElementById(id).getBoundingClientRect().top);
    edges[id] = Object.fromEntries(["algorithm", "per_token_s"].map(name =>
      [name, Math.max(...section.filter(th => th.textContent.trim() === name)
                                .map(th => th.getBoundingClientRect().right))]));
  }
  document.body.setAttribute("data-edges", JSON.stringify(edges)); }, 3000);</script>"""


def test_the_winner_and_its_per_token_time_are_on_the_first_screen_at_1280_px(sweep, tmp_path):
    import html as html_lib
    import json

    page = tmp_path / "measured.html"
    page.write_text((sweep / "report.html").read_text().replace("</body>", MEASURE + "</body>"))
    dom = browser(page, tmp_path, "--window-size=1280,900", "--dump-dom")
    found = re.search(r'data-edges="([^"]+)"', dom.stdout)
    assert found, dom.stderr[-2000:]
    edges = json.loads(html_lib.unescape(found.group(1)))
    assert set(edges) == {"cells", "winners"}
    for section, edge in edges.items():
        assert 0 < edge["algorithm"] < edge["per_token_s"] <= 1280, (section, edge)


def test_a_solution_file_of_another_instance_is_never_drawn_as_a_rows(tmp_path):
    """A directory re-used after a killed run may hold the killed run's solution files: the drill-down draws a
    file only when it names the row's instance."""
    from bench import report_html as html
    from bench.instance_builder import make_instance
    from solvers.framework import registry

    here, there = (make_instance(name, 0, {}) for name in ("abovenet", "clustered"))
    here.save(tmp_path / "instance.json")
    registry.call("cg_bprr", there).save(tmp_path / "cg_bprr.json")
    blocks = html.solution_blocks(tmp_path / "instance.json", tmp_path / "cg_bprr.json", "cg_bprr")
    assert len(blocks) == 1 and f"is a solution of {there.name}, not of {here.name}; not drawn" in blocks[0].text
    registry.call("cg_bprr", here).save(tmp_path / "cg_bprr.json")
    assert len(html.solution_blocks(tmp_path / "instance.json", tmp_path / "cg_bprr.json", "cg_bprr")) == 3


def test_a_page_of_many_rows_holds_the_first_of_them_and_says_so(sweep, tmp_path, monkeypatch):
    from bench import report, report_html

    copy = shutil.copytree(sweep, tmp_path / "sweep")
    monkeypatch.setattr(report_html, "MAX_PAGE_ROWS", 3)
    report.report(copy)
    html = (copy / "report.html").read_text()
    rows = len(report.load(copy))
    assert f"The first 3 of {rows} rows (results.csv holds them all" in html and ">Rows</h2>" in html
