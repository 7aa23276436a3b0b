"""Results of a run as JSON, a Markdown table (system x workload, with ratios) and a PNG chart."""

from __future__ import annotations

import datetime as dt
import json
import os
import platform
import re
import statistics
from pathlib import Path
from typing import Any, Iterable

from . import w8

SYSTEMS = ["pxfs", "s3fs", "obstore", "script", "pixeltable", "daft"]
LABELS = {
    "pxfs": "pxfs", "s3fs": "raw s3fs (W1)", "obstore": "raw obstore (W1)", "script": "hand-written script",
    "pixeltable": "Pixeltable 0.7.21", "daft": "Daft",
}


def machine() -> dict[str, Any]:
    cpu = platform.processor() or ""
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                if line.startswith("model name"):
                    cpu = line.split(":", 1)[1].strip()
                    break
    except OSError:
        pass
    mem = None
    try:
        mem = round(os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") / 2**30, 1)
    except (ValueError, OSError):
        pass
    return {"cpus": os.cpu_count(), "cpu": cpu, "memory_gib": mem, "platform": platform.platform(),
            "python": platform.python_version()}


def git_state(root: Path) -> dict[str, Any]:
    """The commit measured, and whether pxfs/ had uncommitted changes."""
    import subprocess

    def git(*args: str) -> str:
        try:
            return subprocess.run(["git", *args], cwd=root, capture_output=True, text=True, timeout=10).stdout.strip()
        except (OSError, subprocess.SubprocessError):
            return ""

    return {"commit": git("rev-parse", "--short", "HEAD"), "pxfs_dirty": bool(git("status", "--porcelain", "pxfs"))}


def versions() -> dict[str, str]:
    from importlib.metadata import PackageNotFoundError, version

    out = {}
    for name in ("pxfs", "s3fs", "obstore", "fsspec", "aiobotocore", "botocore", "duckdb", "pillow", "moto"):
        try:
            out[name] = version(name)
        except PackageNotFoundError:
            pass
    return out


# ---------------------------------------------------------------------------------------
# medians
# ---------------------------------------------------------------------------------------


def _med(values: Iterable[float | None]) -> float | None:
    vals = [v for v in values if v is not None]
    return statistics.median(vals) if vals else None


def pick(records: list[dict[str, Any]], system: str, workload: str, key: str, n: int | None = None) -> float | None:
    """Median of `key` over the repeats of (system, workload[, n])."""
    return _med(r.get(key) for r in records
                if r["system"] == system and r["workload"] == workload and (n is None or r["n"] == n))


def rss(r: dict[str, Any]) -> float:
    """Peak RSS of a workload: its process, or its process tree when it has children (sampled)."""
    return float(max(r["peak_rss_mb"], r.get("peak_tree_rss_mb", 0.0)))


def peak_rss(records: list[dict[str, Any]], system: str, workload: str, n: int) -> float | None:
    return _med(rss(r) for r in records if r["system"] == system and r["workload"] == workload and r["n"] == n)


def ceiling(records: list[dict[str, Any]], workload: str, n: int) -> float | None:
    """The W1 ceiling (``W1in`` / ``W1out``): the faster of raw s3fs and raw obstore."""
    rates = [v for v in (pick(records, s, workload, "rows_per_s", n) for s in ("s3fs", "obstore")) if v]
    return max(rates) if rates else None


def ns(results: dict[str, Any]) -> list[int]:
    return list(results["meta"]["n"])


def systems(results: dict[str, Any]) -> list[str]:
    present = {r["system"] for r in results["records"]}
    return [s for s in SYSTEMS if s in present]


def targets(results: dict[str, Any]) -> list[dict[str, Any]]:
    """Issue 6's targets, each with the measured figure and whether it is met."""
    rec = results["records"]
    out: list[dict[str, Any]] = []

    def add(name: str, value: float | None, ok: bool | None, shown: str) -> None:
        out.append({"target": name, "value": value, "met": ok, "figure": shown if value is not None else "not measured"})

    for n in ns(results):
        w3, w1 = pick(rec, "pxfs", "W3", "rows_per_s", n), ceiling(rec, "W1out", n)
        px = pick(rec, "pixeltable", "W3", "rows_per_s", n)
        r = w3 / px if w3 and px else None
        add(f"W3 >= 3x Pixeltable rows/s (N={n:,})", r, r >= 3 if r else None,
            f"{r:.1f}x ({w3:,.0f} vs {px:,.1f} rows/s)" if r else "")
        r = w3 / w1 if w3 and w1 else None
        add(f"W3 >= 0.8x W1 ceiling (N={n:,})", r, r >= 0.8 if r else None,
            f"{r:.2f}x ({w3:,.0f} vs {w1:,.0f} rows/s)" if r else "")
    for n in ns(results):
        w2, w1 = pick(rec, "pxfs", "W2", "rows_per_s", n), ceiling(rec, "W1in", n)
        r = w2 / w1 if w2 and w1 else None
        add(f"W2 >= 0.9x W1 ceiling (N={n:,})", r, r >= 0.9 if r else None,
            f"{r:.2f}x ({w2:,.0f} vs {w1:,.0f} rows/s)" if r else "")
    for n in ns(results):  # issue 12
        for w in ("W2", "W3"):
            mine, daft = pick(rec, "pxfs", w, "rows_per_s", n), pick(rec, "daft", w, "rows_per_s", n)
            r = mine / daft if mine and daft else None
            add(f"{w} >= 1.1x Daft rows/s (N={n:,})", r, r >= 1.1 if r else None,
                f"{r:.2f}x ({mine:,.0f} vs {daft:,.0f} rows/s)" if r else "")
            q = pick(rec, "pxfs", w, "requests_per_object", n)
            add(f"{w} exactly 1 request per stored object (N={n:,})", q, q == 1.0 if q is not None else None,
                f"{q:.4f}" if q is not None else "")
            m, d = peak_rss(rec, "pxfs", w, n), peak_rss(rec, "daft", w, n)
            add(f"{w} peak RSS <= Daft's (N={n:,})", m, m <= d if m and d else None,
                f"{m:.0f} vs {d:.0f} MB" if m and d else "")
    for n in ns(results):
        s = pick(rec, "pxfs", "W4", "seconds", n)
        add(f"W4 < 0.5 s (N={n:,})", s, s < 0.5 if s is not None else None, f"{s:.3f} s" if s is not None else "")
    f = pick(rec, "pxfs", "W5", "fileurl_rows_per_s")
    add("W5 .fileurl >= 200,000 rows/s", f, f >= 200_000 if f else None, f"{f:,.0f} rows/s" if f else "")
    u = pick(rec, "pxfs", "W5", "url_rows_per_s")
    add("W5 presigned .url >= 10,000 rows/s", u, u >= 10_000 if u else None, f"{u:,.0f} rows/s" if u else "")
    i = pick(rec, "pxfs", "W6", "import_seconds")
    add("W6 import pxfs < 0.3 s", i, i < 0.3 if i is not None else None, f"{i:.3f} s" if i is not None else "")
    big = max(ns(results))
    small = min(ns(results))
    for w in ("W2", "W3"):
        m = peak_rss(rec, "pxfs", w, big)
        add(f"W7 {w} peak RSS < 400 MB (N={big:,})", m, m < 400 if m else None, f"{m:.0f} MB" if m else "")
        if big != small:
            a = peak_rss(rec, "pxfs", w, small)
            g = (m / a - 1) if m and a else None
            add(f"W7 {w} peak RSS growth N={small:,} -> {big:,} < 20%", g, g < 0.2 if g is not None else None,
                f"{g:+.0%} ({a:.0f} -> {m:.0f} MB)" if g is not None else "")
    out += w8.targets(results)
    return out


# ---------------------------------------------------------------------------------------
# Markdown
# ---------------------------------------------------------------------------------------


def _rate(v: float | None) -> str:
    return "" if v is None else f"{v:,.0f}" if v >= 100 else f"{v:,.1f}"


def _x(a: float | None, b: float | None, what: str) -> str:
    return f" ({a / b:.2f}x {what})" if a and b else ""


def markdown(results: dict[str, Any]) -> str:
    rec = results["records"]
    meta = results["meta"]
    syss = systems(results)
    lines: list[str] = []
    for n in ns(results):
        lines += [
            f"**N = {n:,}** (median of {meta['repeat']}; rows/s unless marked; peak RSS of the workload's process tree)",
            "",
            "| system | W1 ceiling, inputs | W2 ingest | W1 ceiling, outputs | W3 compute + store | W4 limit(10) | W7 RSS W2 / W3 |",
            "|---|---:|---:|---:|---:|---:|---:|",
        ]
        w1in, w1out = ceiling(rec, "W1in", n), ceiling(rec, "W1out", n)
        px2, px3 = pick(rec, "pxfs", "W2", "rows_per_s", n), pick(rec, "pxfs", "W3", "rows_per_s", n)
        for s in syss:
            if s in ("s3fs", "obstore"):
                cells = [_rate(pick(rec, s, "W1in", "rows_per_s", n)), "", _rate(pick(rec, s, "W1out", "rows_per_s", n)),
                         "", "", ""]
            else:
                w2, w3 = pick(rec, s, "W2", "rows_per_s", n), pick(rec, s, "W3", "rows_per_s", n)
                if s == "pxfs":
                    c2 = _rate(w2) + _x(w2, w1in, "W1")
                    c3 = _rate(w3) + _x(w3, w1out, "W1")
                else:  # a baseline or a peer: pxfs's advantage over it
                    c2 = _rate(w2) + (f" (pxfs {px2 / w2:.1f}x)" if w2 and px2 else "")
                    c3 = _rate(w3) + (f" (pxfs {px3 / w3:.1f}x)" if w3 and px3 else "")
                w4 = pick(rec, s, "W4", "seconds", n)
                r2, r3 = peak_rss(rec, s, "W2", n), peak_rss(rec, s, "W3", n)
                mem = " / ".join("" if v is None else f"{v:.0f} MB" for v in (r2, r3)) if (r2 or r3) else ""
                cells = ["", c2, "", c3, "" if w4 is None else f"{w4:.3f} s", mem]
            if any(cells):
                lines.append(f"| {LABELS[s]} | " + " | ".join(cells) + " |")
        lines += ["", f"Client cost per stored object, N = {n:,} (medians; CPU of the client process tree "
                  "during the timed part; requests counted by the S3 server over the whole child)", "",
                  "| system | W1 in CPU ms | W1 in req | W2 CPU ms | W2 req | W1 out CPU ms | W1 out req | "
                  "W3 CPU ms | W3 req |", "|---|---:|---:|---:|---:|---:|---:|---:|---:|"]
        for s in syss:
            cost = []
            for w in ("W1in", "W2", "W1out", "W3"):
                c, q = pick(rec, s, w, "client_cpu_ms_per_object", n), pick(rec, s, w, "requests_per_object", n)
                cost += ["" if c is None else f"{c:.2f}", "" if q is None else f"{q:.3f}"]
            if any(cost):
                lines.append(f"| {LABELS[s]} | " + " | ".join(cost) + " |")
        lines.append("")
    w5rows = meta.get("w5_rows", 100_000)
    lines += [
        f"**URL query and start-up** (W5: {w5rows:,} rows referencing {meta.get('w5_distinct', '')} existing objects, "
        f"first query in a fresh process; a peer presigns the first {meta.get('w5_peer_url_rows', 10000):,} rows only; "
        "W6: median of fresh processes)",
        "",
        "| system | W5 .fileurl rows/s | W5 presigned .url rows/s | W6 import s | W6 import + open table s |",
        "|---|---:|---:|---:|---:|",
    ]
    pf, pu, pi = (pick(rec, "pxfs", "W5", "fileurl_rows_per_s"), pick(rec, "pxfs", "W5", "url_rows_per_s"),
                  pick(rec, "pxfs", "W6", "import_seconds"))
    for s in syss:
        f, u = pick(rec, s, "W5", "fileurl_rows_per_s"), pick(rec, s, "W5", "url_rows_per_s")
        i, o = pick(rec, s, "W6", "import_seconds"), pick(rec, s, "W6", "open_seconds")
        if f is None and i is None:
            continue
        if s != "pxfs":
            fc = _rate(f) + (f" (pxfs {pf / f:.1f}x)" if f and pf else "")
            uc = (_rate(u) + (f" (pxfs {pu / u:.1f}x)" if u and pu else "")) if u else "n/a"
            ic = "" if i is None else f"{i:.3f}" + (f" (pxfs {i / pi:.1f}x faster)" if pi else "")
        else:
            fc, uc, ic = _rate(f), _rate(u), "" if i is None else f"{i:.3f}"
        lines.append(f"| {LABELS[s]} | {fc} | {uc} | {ic} | {'' if o is None else f'{o:.3f}'} |")
    lines += w9_markdown(results)
    lines += w8.markdown(results)
    lines += ["", "**Targets (issues 6 and 12)**", "", "| target | measured | met |", "|---|---:|:---:|"]
    for t in targets(results):
        met = "n/a" if t["met"] is None else ("yes" if t["met"] else "**no**")
        lines.append(f"| {t['target']} | {t['figure']} | {met} |")
    if meta.get("peer_errors"):
        lines += ["", *[f"- {p} not run: {e.strip().splitlines()[-1]}" for p, e in meta["peer_errors"].items()]]
    if results.get("failures"):
        lines += ["", *[f"- {f['label']} failed: {f['error'].strip().splitlines()[-1][:200]}" for f in results["failures"]]]
    return "\n".join(lines)


W9_LABELS = {
    "insert": "`t.insert(...)` of rows referencing existing S3 objects", "count": "`count()`",
    "fileurl_collect": "`.fileurl`, `collect()`", "fileurl_stream": "`.fileurl`, `iter_batches()`",
    "url_collect": "`.fileurl` + presigned `.url`, `collect()`",
    "url_stream": "`.fileurl` + presigned `.url`, `iter_batches()`",
    "to_parquet": "`t.to_parquet(local file)`", "read_parquet": "DuckDB `read_parquet('pxfs://w9.parquet')`",
    "read_parquet_duckdb": "baseline: DuckDB `read_parquet` of the same file on local disk",
    "ls": "`pxfs ls -l w9/img`", "ls_s3fs": "baseline: one `s3fs.ls` of the objects' prefix",
    "verify": "`pxfs verify w9`", "catalog_size": "catalog size on disk", "limit10_owed": "`limit(10)` of an owed column",
}


def w9_markdown(results: dict[str, Any]) -> list[str]:
    """The W9 table (one row per operation), or nothing if W9 did not run."""
    rec = [r for r in results["records"] if r["workload"] == "W9"]
    if not rec:
        return []
    lines = ["", f"**W9: a table of {results['meta'].get('w9_rows', 0):,} rows** (one fresh process per operation; "
             "peak RSS of that process)", "", "| operation | rows | seconds | rows/s | peak RSS MB | notes |",
             "|---|---:|---:|---:|---:|---|"]
    for r in rec:
        notes = "; ".join(f"{k.replace('_mb', '')} {r[k]:,.1f} MB" for k in ("catalog_mb", "parquet_mb") if k in r)
        if "insert_from" in r:
            notes = f"from a {r['insert_from']}"
        rate = f"{r['rows'] / r['seconds']:,.0f}" if r.get("seconds") and r["op"] != "catalog_size" else ""
        lines.append(f"| {W9_LABELS.get(r['op'], r['op'])} | {r['rows']:,} | {r['seconds']:.3f} | {rate} | "
                     f"{rss(r):.0f} | {notes} |")
    return lines


# ---------------------------------------------------------------------------------------
# chart
# ---------------------------------------------------------------------------------------

_COLORS = {"pxfs": "#1f77b4", "s3fs": "#7f7f7f", "obstore": "#bcbd22", "script": "#2ca02c", "pixeltable": "#d62728", "daft": "#9467bd"}


def chart(results: dict[str, Any], path: Path) -> Path | None:
    """A PNG of rows/s per workload per system (log scale), plus W4/W6 seconds and W7 RSS."""
    try:
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:
        return None
    rec, syss = results["records"], systems(results)
    fig, axes = plt.subplots(2, 2, figsize=(13, 8.5))
    ax = axes[0][0]
    groups = [(f"{w} N={n:,}", w, n) for n in ns(results) for w in ("W1in", "W2", "W1out", "W3")]
    _bars(ax, groups, syss, lambda s, w, n: pick(rec, s, w, "rows_per_s", n))
    ax.set_title("W1-W3: rows/s (higher is better; W1 = raw s3fs and raw obstore)")
    ax = axes[0][1]
    _bars(ax, [("W5 .fileurl", "fileurl", 0), ("W5 presigned .url", "url", 0)], syss,
          lambda s, w, n: pick(rec, s, "W5", f"{w}_rows_per_s"))
    ax.set_title(f"W5: rows/s over {results['meta'].get('w5_rows', 100000):,} rows")
    ax = axes[1][0]
    sec = [(f"W4 N={n:,}", "W4", n) for n in ns(results)] + [("W6 import", "import", 0), ("W6 import+open", "open", 0)]
    _bars(ax, sec, syss, lambda s, w, n: pick(rec, s, "W4", "seconds", n) if w == "W4"
          else pick(rec, s, "W6", f"{w}_seconds"), log=False)
    ax.set_title("W4 and W6: seconds (lower is better)")
    ax = axes[1][1]
    mem = [(f"{w} N={n:,}", w, n) for w in ("W2", "W3") for n in ns(results)]
    _bars(ax, mem, syss, lambda s, w, n: peak_rss(rec, s, w, n), log=False)
    ax.set_title("W7: peak RSS of the process tree, MB")
    handles = [plt.Rectangle((0, 0), 1, 1, color=_COLORS[s]) for s in syss]
    fig.legend(handles, [LABELS[s] for s in syss], loc="lower center", ncol=len(syss), frameon=False)
    m = results["meta"]
    fig.suptitle(f"pxfs benchmarks: {m['endpoint']}, {m['machine']['cpus']} cores, {m['started']} "
                 f"(median of {m['repeat']})", fontsize=11)
    fig.tight_layout(rect=(0, 0.04, 1, 0.96))
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return path


def _bars(ax: Any, groups: list[tuple[str, str, int]], syss: list[str], value: Any, log: bool = True) -> None:
    width = 0.8 / max(1, len(syss))
    for j, s in enumerate(syss):
        xs, ys = [], []
        for i, (_, w, n) in enumerate(groups):
            v = value(s, w, n)
            if v:
                xs.append(i + (j - (len(syss) - 1) / 2) * width)
                ys.append(v)
        if xs:
            ax.bar(xs, ys, width, color=_COLORS[s])
            for x, y in zip(xs, ys):
                ax.annotate(_rate(y) if y >= 10 else f"{y:.2f}", (x, y), ha="center", va="bottom", fontsize=6, rotation=90)
    ax.set_xticks(range(len(groups)))
    ax.set_xticklabels([g[0] for g in groups], fontsize=8, rotation=20)
    if log:
        ax.set_yscale("log")
    ax.margins(y=0.25)


# ---------------------------------------------------------------------------------------
# files
# ---------------------------------------------------------------------------------------


def write_all(results: dict[str, Any], out: Path, chart_png: bool = True, *, chart: bool | None = None) -> list[Path]:
    """``<stamp>.json``, ``<stamp>.md`` and ``<stamp>.png`` in `out`; returns the paths."""
    if chart is not None:
        chart_png = chart
    out.mkdir(parents=True, exist_ok=True)
    stamp = dt.datetime.fromisoformat(results["meta"]["started"]).strftime("%Y%m%d-%H%M%S")
    paths = [out / f"{stamp}.json", out / f"{stamp}.md"]
    paths[0].write_text(json.dumps(results, indent=1))
    paths[1].write_text(markdown(results) + "\n")
    if chart_png:
        png = globals()["chart"](results, out / f"{stamp}.png")
        if png is not None:
            paths.append(png)
    return paths


BEGIN, END = "<!-- results:begin (written by python -m benchmarks --docs) -->", "<!-- results:end -->"


def write_docs(results: dict[str, Any], folder: Path, page: Path, chart: bool = True) -> None:
    """docs/benchmarks/results.json, chart.png, and the results section of docs/benchmarks.md."""
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "results.json").write_text(json.dumps(results, indent=1))
    png = globals()["chart"](results, folder / "chart.png") if chart else None
    m = results["meta"]
    mc = m["machine"]
    section = [
        BEGIN,
        f"Latest run: `{m['command']}`, {m['started']} ({m['duration_seconds'] / 60:.0f} min), against "
        f"{m['endpoint']}, on {mc['cpus']} cores ({mc['cpu']}), {mc['memory_gib']} GiB, {mc['platform']}, "
        f"Python {mc['python']}; {', '.join(f'{k} {v}' for k, v in m['versions'].items())}; "
        f"pxfs at commit {m.get('git', {}).get('commit', '?')}"
        f"{' with uncommitted changes' if m.get('git', {}).get('pxfs_dirty') else ''}."
        + (f" Peers: {'; '.join(f'{p}: ' + ' '.join(r) for p, r in m['peers'].items())}." if m["peers"] else "")
        + " Raw results: [benchmarks/results.json](benchmarks/results.json).",
        "",
        markdown(results),
        "",
    ]
    if png is not None:
        section += ["![rows/s per workload per system](benchmarks/chart.png)", ""]
    section.append(END)
    text = page.read_text() if page.exists() else f"# Benchmarks\n\n{BEGIN}\n{END}\n"
    pattern = re.compile(re.escape(BEGIN) + ".*?" + re.escape(END), re.S)
    if not pattern.search(text):
        text = text.rstrip("\n") + f"\n\n{BEGIN}\n{END}\n"
    page.write_text(pattern.sub(lambda _: "\n".join(section), text))
