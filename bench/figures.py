"""Figures (matplotlib, PNG) of an online run: per-token time by algorithm with error bars, and where
the time of a request goes (waiting, first token, decoding)."""

from __future__ import annotations

import textwrap
from pathlib import Path

import matplotlib

from bpr.files import atomic

matplotlib.use("Agg")  # files only, no display needed
import matplotlib.pyplot as plt  # noqa: E402
import pandas as pd  # noqa: E402

PAD_IN = 0.15   # white margin around every figure: an artist at the image's edge would be a clipped one


def save(fig: plt.Figure, path: Path, tight: bool = True) -> Path:
    """Write the figure as PNG (atomically) and close it; ``tight=False`` keeps a layout already made. The
    image is cropped or grown to every artist (titles, figure legends) plus ``PAD_IN``, so none is cut."""
    if tight:
        fig.tight_layout()
    try:
        return atomic(path, lambda tmp: fig.savefig(tmp, dpi=120, format="png", bbox_inches="tight",
                                                    pad_inches=PAD_IN))
    finally:
        plt.close(fig)


def wrapped(title: str, width: int = 90) -> str:
    """``title`` broken into lines of at most ``width`` characters (a title wider than its figure would widen
    the image)."""
    return "\n".join(textwrap.fill(line, width, break_on_hyphens=False) for line in title.splitlines())


def title_width(fig: plt.Figure, fontsize: float = 12) -> int:
    """How many characters of a title at ``fontsize`` fit across the figure (about 0.6 em each)."""
    return max(20, int(fig.get_figwidth() * 72 / (0.6 * fontsize)))


def online(df: pd.DataFrame, trace: pd.DataFrame, out_dir: Path, title: str) -> None:
    """``df``: one line per algorithm (bench.online.summary); error bars only where runs > 1."""
    ok = df[df.per_token_s.notna()] if "per_token_s" in df else df.iloc[0:0]
    if ok.empty:
        return
    spread = ok.per_token_std_s if ok.per_token_std_s.notna().any() else None
    fig, ax = plt.subplots(figsize=(7, 3.5))
    ax.bar(ok.algorithm, ok.per_token_s, yerr=spread, capsize=4, color="tab:blue")
    ax.set_ylabel("mean per-token time [s]")
    ax.set_title(wrapped(title), fontsize=9)
    ax.tick_params(axis="x", rotation=20)
    save(fig, out_dir / "per_token_time.png")

    served = trace[trace.served]
    parts = served.assign(first_token=served.ttft - served.wait, decode=served.completion - served.start
                          - (served.ttft - served.wait)).groupby("algorithm", sort=False)[
        ["wait", "first_token", "decode"]].mean().reindex(ok.algorithm)
    fig, ax = plt.subplots(figsize=(7, 3.5))
    bottom = None
    for name, color in (("wait", "tab:red"), ("first_token", "tab:orange"), ("decode", "tab:green")):
        ax.bar(parts.index, parts[name], bottom=bottom, label=name.replace("_", " "), color=color)
        bottom = parts[name] if bottom is None else bottom + parts[name]
    ax.set_ylabel("mean time per request [s]")
    ax.set_ylim(top=1.3 * float(bottom.max()))  # room for the legend above the bars
    ax.set_title(wrapped(f"TTFT vs decode: {title}"), fontsize=9)
    ax.legend(ncol=3, loc="upper center")
    ax.tick_params(axis="x", rotation=20)
    save(fig, out_dir / "ttft_decode.png")
