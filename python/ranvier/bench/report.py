"""Results: one row per case, shown as a table on stdout and written as
bench.md, bench.json and bench.png (a bar chart of the speedups).

A speedup is the baseline's median time over ranvier's (above 1: ranvier is
faster). "-" marks a system that was not run: not installed, or with no
meaningful version of the op.
"""

from __future__ import annotations

import json
import os
import time

NOT_RUN = "-"


def evaluate(case, timings: dict, systems, floors: dict) -> dict:
    """The row of one case: times, rates, speedups over each baseline, targets met.

    ``floors`` maps a unit to the machine's figure for it (peak GFLOP/s, STREAM
    GB/s), or is empty where none is known.
    """
    ours = timings["ranvier"].median
    rates = {s: case.work / timings[s].median / 1e9 if s in timings else None for s in systems}
    speedup = {s: timings[s].median / ours if s in timings else None for s in systems if s != "ranvier"}
    floor = floors.get(case.unit)
    fraction = rates["ranvier"] / floor if floor else None
    targets = []
    for target in case.targets:
        value = fraction if target.baseline == "bandwidth" else speedup.get(target.baseline)
        targets.append(
            {
                "target": target.describe(),
                "baseline": target.baseline,
                "at_least": target.at_least,
                "value": value,
                "met": None if value is None else bool(value >= target.at_least),
            }
        )
    return {
        "family": case.family,
        "op": case.op,
        "shape": case.shape,
        "unit": case.unit,
        "work": case.work,
        "times": {s: timings[s].as_dict() if s in timings else None for s in systems},
        "rates": rates,
        "floor_fraction": fraction,
        "speedup": speedup,
        "targets": targets,
        "met": _met(targets),
    }


def _met(targets):
    """False when a target is missed, None when none was judged or one could not be, else True."""
    verdicts = [t["met"] for t in targets]
    if False in verdicts:
        return False
    if not verdicts or None in verdicts:
        return None
    return True


def format_seconds(s) -> str:
    if s is None:
        return NOT_RUN
    if s < 1e-3:
        return f"{s * 1e6:.1f} us"
    if s < 1:
        return f"{s * 1e3:.2f} ms"
    return f"{s:.2f} s"


def _number(x, fmt) -> str:
    return NOT_RUN if x is None else format(x, fmt)


def _verdict(row) -> str:
    if not row["targets"]:
        return NOT_RUN
    return {True: "yes", False: "NO", None: "?"}[row["met"]]


def columns(systems) -> list:
    baselines = [s for s in systems if s != "ranvier"]
    return (
        ["op", "shape"]
        + [f"{s} time" for s in systems]
        + ["ranvier rate", "unit", "% peak/BW"]
        + [f"vs {s}" for s in baselines]
        + ["target", "met"]
    )


def cells(row, systems) -> list:
    baselines = [s for s in systems if s != "ranvier"]
    times = [format_seconds(row["times"][s]["median_s"] if row["times"][s] else None) for s in systems]
    fraction = row["floor_fraction"]
    return (
        [row["op"], row["shape"]]
        + times
        + [_number(row["rates"]["ranvier"], ".1f"), row["unit"], NOT_RUN if fraction is None else f"{fraction:.0%}"]
        + [NOT_RUN if row["speedup"][s] is None else f"{row['speedup'][s]:.2f}x" for s in baselines]
        + [", ".join(t["target"] for t in row["targets"]) or NOT_RUN, _verdict(row)]
    )


def table(rows, systems) -> str:
    """A fixed-width text table."""
    return fixed_width(columns(systems), [cells(r, systems) for r in rows])


def fixed_width(head, body) -> str:
    """head and body (lists of cells) aligned: the first two columns left, the rest right."""
    widths = [max(len(line[i]) for line in [head] + body) for i in range(len(head))]

    def line(values):
        return "  ".join(v.ljust(w) if i < 2 else v.rjust(w) for i, (v, w) in enumerate(zip(values, widths)))

    return "\n".join([line(head), line(["-" * w for w in widths])] + [line(b) for b in body])


def markdown(rows, systems, environment: dict, settings: dict, notes) -> str:
    legend = (
        "Times are medians per call. `vs X` is X's time over ranvier's (above 1: ranvier is faster). "
        "`% peak/BW` is ranvier's rate over the host's fp32 FMA peak (GFLOP/s rows) or STREAM triad "
        "bandwidth (GB/s rows), both measured at the start of the run. "
        "`-`: not run (not installed, or no meaningful version)."
    )
    body = [cells(r, systems) for r in rows]
    return markdown_page("ranvier benchmark", columns(systems), body, legend, environment, settings, notes)


def markdown_table(head, body, text_columns: int) -> list:
    """The lines of a Markdown table: the first ``text_columns`` columns left-aligned, numbers right."""
    rule = "|" + "|".join("---" if i < text_columns else "---:" for i in range(len(head))) + "|"
    return ["| " + " | ".join(head) + " |", rule] + ["| " + " | ".join(cells) + " |" for cells in body]


def markdown_page(title: str, head, body, legend: str, environment: dict, settings: dict, notes) -> str:
    """A results page: the run's settings, the table (head, body: lists of cells), its legend,
    the notes and the environment."""
    lines = [
        f"# {title}",
        "",
        f"Run {settings['date']}; " + ", ".join(f"{k} {v}" for k, v in settings.items() if k != "date") + ".",
        "",
        *markdown_table(head, body, text_columns=2),
        "",
        legend,
        "",
    ]
    lines += [f"- {n}" for n in notes]
    lines += ["", "## Environment", "", "| | |", "|---|---|"]
    lines += [f"| {k} | {v} |" for k, v in environment.items()]
    return "\n".join(lines) + "\n"


def plot(plt, rows, systems, path: str) -> None:
    """Horizontal bars: ranvier's speedup over each baseline per case (log scale), targets as ticks."""
    baselines = [s for s in systems if s != "ranvier"]
    height = len(baselines) + 1
    fig, ax = plt.subplots(figsize=(9, 1.0 + 0.35 * height * max(len(rows), 1)))
    for j, base in enumerate(baselines):
        ys = [i * height + j for i, r in enumerate(rows) if r["speedup"][base] is not None]
        xs = [r["speedup"][base] for r in rows if r["speedup"][base] is not None]
        ax.barh(ys, xs, height=0.9, label=f"vs {base}")
    for i, r in enumerate(rows):
        for t in r["targets"]:
            if t["baseline"] in baselines:
                y = i * height + baselines.index(t["baseline"])
                ax.plot([t["at_least"]] * 2, [y - 0.45, y + 0.45], color="black", linewidth=2)
    ax.axvline(1.0, color="grey", linestyle="--", linewidth=1)
    ax.set_xscale("log")
    ax.set_yticks([i * height + (len(baselines) - 1) / 2 for i in range(len(rows))])
    ax.set_yticklabels([f"{r['op']} {r['shape']}" for r in rows], fontsize=8)
    ax.invert_yaxis()
    ax.set_xlabel("speedup of ranvier (baseline time / ranvier time); black ticks: targets")
    ax.legend(loc="lower right")
    fig.tight_layout()
    fig.savefig(path, dpi=120)
    plt.close(fig)


def write(out_dir: str, rows, systems, environment: dict, settings: dict, notes, plt) -> list:
    """bench.md, bench.json and (with matplotlib) bench.png in out_dir; returns messages for the user."""
    os.makedirs(out_dir, exist_ok=True)
    written = []
    md = os.path.join(out_dir, "bench.md")
    with open(md, "w") as f:
        f.write(markdown(rows, systems, environment, settings, notes))
    written.append(md)
    js = os.path.join(out_dir, "bench.json")
    with open(js, "w") as f:
        json.dump(
            {"settings": settings, "environment": environment, "systems": list(systems), "rows": rows}, f, indent=1
        )
    written.append(js)
    messages = ["wrote " + ", ".join(written)]
    if plt is None:
        messages.append("matplotlib is not installed: skipped bench.png (pip install matplotlib)")
    elif rows:
        png = os.path.join(out_dir, "bench.png")
        plot(plt, rows, systems, png)
        messages[0] += f", {png}"
    return messages


def settings_record(**settings) -> dict:
    return {"date": time.strftime("%Y-%m-%d %H:%M:%S"), **settings}
