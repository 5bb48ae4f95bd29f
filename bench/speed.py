"""README's speed table, generated from pytest-benchmark's JSON output (never copied by hand):

    pytest bench/benchmarks --benchmark-autosave                # saves .benchmarks/<machine>/NNNN_*.json
    python bench/speed.py [RESULT.json] [--readme]             # the newest saved run by default

prints a markdown table (median, min and max per benchmark) headed by the machine it was measured on;
``--readme`` replaces the table between README's ``<!-- speed:begin -->`` and ``<!-- speed:end -->``.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

from bpr.files import write_text

ROOT = Path(__file__).resolve().parents[1]
BEGIN, END = "<!-- speed:begin -->", "<!-- speed:end -->"


def newest(root: Path = ROOT / ".benchmarks") -> Path:
    runs = sorted(root.glob("*/*.json"), key=lambda p: p.name)
    if not runs:
        raise SystemExit("error: no saved benchmark run; run: pytest bench/benchmarks --benchmark-autosave")
    return runs[-1]


def _time(seconds: float) -> str:
    return f"{seconds * 1e3:.1f} ms" if seconds < 1 else f"{seconds:.2f} s"


def table(path: Path) -> str:
    data = json.loads(path.read_text())
    m = data["machine_info"]
    head = (f"Measured {data['datetime'][:10]} on {m.get('node', '?')}: {m.get('cpu', {}).get('brand_raw', '?')}, "
            f"{m.get('cpu', {}).get('count', '?')} cores, Python {m.get('python_version', '?')}, commit "
            f"{data.get('commit_info', {}).get('id', '?')[:12]} (`{path.name}`).")
    lines = [head, "", "| benchmark | median | min | max | rounds |", "|---|---|---|---|---|"]
    for b in sorted(data["benchmarks"], key=lambda b: b["fullname"]):
        s = b["stats"]
        times = " | ".join(_time(s[k]) for k in ("median", "min", "max"))
        lines.append(f"| `{b['name']}` | {times} | {s['rounds']} |")
    return "\n".join(lines)


def splice(body: str, text: str) -> str:
    """``body`` with ``text`` between the speed markers (ValueError without them)."""
    if BEGIN not in body or END not in body:
        raise ValueError(f"no {BEGIN} ... {END} markers")
    start, end = body.index(BEGIN) + len(BEGIN), body.index(END)
    return body[:start] + "\n" + text + "\n" + body[end:]


def main(argv: list[str]) -> int:
    readme = "--readme" in argv
    args = [a for a in argv if a != "--readme"]
    text = table(Path(args[0]) if args else newest())
    if readme:
        path = ROOT / "README.md"
        try:
            write_text(path, splice(path.read_text(), text))
        except ValueError as err:
            print(f"error: README.md: {err}", file=sys.stderr)
            return 2
    print(text)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
