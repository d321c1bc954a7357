#!/usr/bin/env python3
"""Turns bench/run's samples into a Markdown table and a PNG plot of each tool's time as a ratio to bare.

Usage: report.py SAMPLES.tsv NOTES.tsv OUTDIR ROUNDS THREADS TRACE [NAME [WHERE [--after-start] [--startup FILE]]]
NAME names the outputs (default "latest": OUTDIR/latest.md, .png); WHERE describes the machine (default: this one);
--after-start also shows each ratio with the tool's added start-up taken off; --startup FILE (run, ms, step lines
from CORDON_TRACE_STARTUP=1) adds where the view engine's start-up goes.
A ratio is taken within one round (tool / bare of the same round), so slow phases of a noisy machine hit both;
the table shows the median ratio and its spread over the rounds.
"""
import csv
import os
import platform
import shutil
import statistics
import subprocess
import sys
from collections import defaultdict

samples_path, notes_path, outdir, rounds, threads, trace = sys.argv[1:7]
name = sys.argv[7] if len(sys.argv) > 7 else "latest"
where = sys.argv[8] if len(sys.argv) > 8 else f"{platform.machine()}, kernel {platform.release()}, {os.cpu_count()} cores"
TITLES = {
    "start": "start-up (`/bin/true`)",
    "start1": "start-up, LSM programs not loaded yet (a first run)",
    "open1": "open+close, 1 thread",
    "openN": f"open+close, {threads} threads",
    "make": "C build, make -j2",
    "npm": "npm ci, warm cache, 334 packages",
    "git": "git status + git log --stat (8k files)",
    "grep": "grep -r over /usr/include",
}
TOOL_TITLES = {
    "bare": "bare",
    "view": "cordon, view engine (rules allow all)",
    "viewp": "cordon, view engine (project rules)",
    "cordon": "cordon, seccomp engine (rules allow all)",
    "cordon1": "cordon, 1 notification thread",
    "learn": "cordon --learn",
    "strace": "strace -f --seccomp-bpf",
    "bwrap": "bubblewrap",
    "firejail": "firejail",
    "seccomp": "cordon, seccomp engine (rules allow all)",
    "lsm": "cordon, LSM engine (rules allow all)",
}

values = defaultdict(dict)  # (workload, tool) -> {round: value}
units = {}
workloads, tools = [], []
with open(samples_path) as f:
    for row in csv.DictReader(f, delimiter="\t"):
        w, t = row["workload"], row["tool"]
        try:
            v = float(row["value"])
        except ValueError:
            continue  # a run that printed nothing (it failed): left out, the count below shows it
        values[(w, t)][row["round"]] = v
        units[w] = row["unit"]
        if w not in workloads:
            workloads.append(w)
        if t not in tools:
            tools.append(t)
tools.sort(key=lambda t: list(TOOL_TITLES).index(t) if t in TOOL_TITLES else 99)
notes = {}
if os.path.exists(notes_path):
    with open(notes_path) as f:
        for line in f:
            if "\t" in line:
                t, why = line.rstrip("\n").split("\t", 1)
                notes[t] = why


def fmt(v, unit):
    if unit == "ms" and v >= 1000:
        return f"{v / 1000:.2f} s"
    return f"{v:.1f} {unit}" if v >= 10 else f"{v:.2f} {unit}"


def ratios(w, t):
    bare, mine = values[(w, "bare")], values[(w, t)]
    return sorted(mine[r] / bare[r] for r in mine if r in bare and bare[r] > 0)


def ratios_after_start(w, t):
    """The ratio once the tool's own start-up (its start-up time minus bare's, same round) is taken off."""
    bare, mine = values[(w, "bare")], values[(w, t)]
    sb, st = values.get(("start", "bare"), {}), values.get(("start", t), {})
    return sorted((mine[r] - (st[r] - sb[r])) / bare[r] for r in mine
                  if r in bare and bare[r] > 0 and r in st and r in sb)


median_ratio = {}
# Where a tool's start-up is a large part of a workload (the LSM engine under emulation), also show the rest.
show_after_start = "--after-start" in sys.argv
lines = ["| workload | " + " | ".join(TOOL_TITLES.get(t, t) for t in tools) + " |",
         "|---" * (len(tools) + 1) + "|"]
for w in workloads:
    cells = []
    for t in tools:
        vs = list(values[(w, t)].values())
        if not vs:
            cells.append("failed")
            continue
        med = statistics.median(vs)
        if t == "bare":
            cells.append(fmt(med, units[w]))
            continue
        rs = ratios(w, t)
        median_ratio[(w, t)] = statistics.median(rs)
        cell = f"**{median_ratio[(w, t)]:.2f}x** ({rs[0]:.2f}-{rs[-1]:.2f})"
        if w in ("start", "start1"):
            cell += f", +{med - statistics.median(values[(w, 'bare')].values()):.0f} ms"
        elif units[w] == "ms" and show_after_start and (after := ratios_after_start(w, t)):
            cell += f"; {statistics.median(after):.2f}x without start-up"
        if len(vs) < int(rounds):
            cell += f", {int(rounds) - len(vs)} runs failed"
        cells.append(cell)
    lines.append(f"| {TITLES.get(w, w)} | " + " | ".join(cells) + " |")
lines.append("")
lines.append(f"Bare: median time (or microseconds per open). Others: median ratio to bare within a round, "
             f"(lowest-highest) over {rounds} interleaved rounds; start-up also shows the milliseconds added. "
             f"{where}.")
for t, why in sorted(notes.items()):
    lines.append(f"Not measured: {TOOL_TITLES.get(t, t)}: {why}.")
if trace:
    lines.append(f"strace traced: {trace.replace(',', ', ')}.")
if "--startup" in sys.argv and os.path.exists(startup_path := sys.argv[sys.argv.index("--startup") + 1]):
    steps, order = defaultdict(list), []
    with open(startup_path) as f:
        for row in csv.reader(f, delimiter="\t"):
            if len(row) == 3:
                steps[row[2]].append(float(row[1]))
                if row[2] not in order:
                    order.append(row[2])
    if steps:
        lines += ["", "Where the view engine's start-up goes (`CORDON_TRACE_STARTUP=1`, median of "
                  f"{max(len(v) for v in steps.values())} runs of `cordon run --engine view -- /bin/true`; "
                  "milliseconds since cordon's Main, and since the step before):", "",
                  "| step | since Main | since the step before |", "|---|---|---|"]
        before = 0.0
        for step in order:
            if step.startswith("("):
                continue
            at = statistics.median(steps[step])
            lines.append(f"| {step} | {at:.1f} ms | {at - before:.1f} ms |")
            before = at
        for step in order:
            if step.startswith("("):
                lines.append(f"| {step[1:-1]} | {statistics.median(steps[step]):.1f} ms | |")
table = "\n".join(lines) + "\n"
with open(os.path.join(outdir, name + ".md"), "w") as f:
    f.write(table)
print(table)

# The plot: one group of bars per workload, one bar per tool, log scale (ratios span 1x to 100x).
others = [t for t in tools if t != "bare"]
data = os.path.join(outdir, name + ".plot.dat")
with open(data, "w") as f:
    f.write("workload " + " ".join(f'"{TOOL_TITLES.get(t, t)}"' for t in others) + "\n")
    for w in workloads:
        label = TITLES.get(w, w).replace("`", "").replace('"', "")
        f.write(f'"{label}" ' + " ".join(f"{median_ratio.get((w, t), 'NaN')}" for t in others) + "\n")
if shutil.which("gnuplot") and others:
    script = f"""
set terminal png size 1200,600 font ",10"
set output "{os.path.join(outdir, name + '.png')}"
set title "Time as a ratio to the bare run (median of {rounds} interleaved rounds; lower is better)"
set style data histogram
set style histogram clustered gap 1
set style fill solid 0.8 border -1
set logscale y
set yrange [0.8:*]
set grid ytics
set ylabel "x bare (log scale)"
set xtics rotate by -20 scale 0
set key top left
plot for [i=2:{len(others) + 1}] "{data}" using i:xtic(1) title columnheader
"""
    subprocess.run(["gnuplot"], input=script, text=True, check=True)
    print(f"plot: {os.path.join(outdir, name + '.png')}")
else:
    print("no plot: gnuplot is not installed", file=sys.stderr)
