#!/usr/bin/env python3
"""compare's plotted curves against values computed here, independently, from hand-written runs.

    compare_means.py <compare executable>

Three synthetic runs of one algorithm (metrics.csv and summary.json written below, returns chosen
by hand): a multi-seed folder a/ (seeds 1 and 2, alpha 0.05; seed 2 stops two episodes early) and
two single-seed folders b1/, b3/ (seeds 1 and 3, alpha 1). compare must make two groups — a's two
seeds, and b1 and b3 pooled — legends "sac alpha=0.05" and "sac alpha=1", and in comparison.csv,
at every x of the grid, the mean, min and max over the group's seeds of each seed's trailing
moving average (m_i = mean of returns max(0, i-w+1)..i), where a seed's value at x is that of its
last episode ending at or before x (held after the seed stopped), none before every seed has
finished one. Checked on the env_steps grid (200 points up to the longest seed's end; some fall
exactly on an episode's end), the per-episode grid, and the CPU-seconds grid (timing.csv's column,
not proportional to env steps).

Bugs it catches: seeds grouped wrongly (b1 and b3 not pooled, a's seeds split or mixed with b's),
an off-by-one in the alignment (an episode ending exactly at x left out, or the next one taken),
a moving-average window one too long or short, a stopped seed dropped instead of held, CPU seconds
taken from the wrong file or row.
Tolerance: 1e-9 relative — the program sums the moving average as a running sum, this script
directly, and the inputs are multiples of 0.5, so any difference is rounding.
Exit status 0 when every value matches; 1 with the first mismatch printed.
"""
import csv
import json
import math
import subprocess
import sys
import tempfile
from pathlib import Path

WINDOW = 3

# (folder, seed, alpha, [(env_steps at the episode's end, return), ...])
SEEDS = [
    ("a/seed1", 1, 0.05, [(200, -1000), (400, -800.5), (600, -700), (800, -400), (1000, -300.5)]),
    ("a/seed2", 2, 0.05, [(150, -900), (450, -600), (600, -500.5)]),
    ("b1", 1, 1, [(200, -1200), (400, -1100), (700, -1000.5), (1000, -900)]),
    ("b3", 3, 1, [(250, -1300), (500, -1250), (750, -1000), (900, -950.5)]),
]


def cpu(env_steps: int) -> float:
    """A seed's CPU time at an episode's end (timing.csv): not proportional to env_steps, so that
    --x cpu_seconds drawn from metrics.csv's env_steps column (or from a shifted row) fails."""
    return env_steps * env_steps / 100000


def write_runs(root: Path) -> None:
    for folder, seed, alpha, rows in SEEDS:
        d = root / folder
        d.mkdir(parents=True)
        lines = ["env_steps,episode,return,length"]
        lines += [f"{s},{i + 1},{r},200" for i, (s, r) in enumerate(rows)]
        (d / "metrics.csv").write_text("\n".join(lines) + "\n")
        timing = ["episode,cpu_seconds"] + [f"{i + 1},{cpu(s)}" for i, (s, _) in enumerate(rows)]
        (d / "timing.csv").write_text("\n".join(timing) + "\n")
        summary = {"algorithm": "sac", "env": "Pendulum-v1", "seed": seed, "scalar": "double",
                   "hyperparameters": {"steps": 1000, "alpha": alpha, "hidden": "128,128"}}
        (d / "summary.json").write_text(json.dumps(summary, indent=2) + "\n")
    (root / "a" / "summary.json").write_text(json.dumps({"algorithm": "sac", "seeds": [1, 2], "failed_seeds": []}))


def moving_average(returns):
    return [sum(returns[max(0, i - WINDOW + 1):i + 1]) / (i + 1 - max(0, i - WINDOW + 1)) for i in range(len(returns))]


def expected(groups, axis):
    """{label: [(x, mean, min, max)]}, NaN where not every seed has a value."""
    out = {}
    for label, seeds in groups.items():
        if axis == "cpu_seconds":
            seeds = [[(cpu(s), r) for s, r in rows] for rows in seeds]
        smooth = [moving_average([r for _, r in rows]) for rows in seeds]
        if axis == "episodes":
            n = max(len(rows) for rows in seeds)
            xs = list(range(1, n + 1))
            at = [[m[min(i, len(m) - 1)] for i in range(n)] for m in smooth]
        else:
            end = max(rows[-1][0] for rows in seeds)
            xs = [end * p / 200 for p in range(1, 201)]
            at = []
            for rows, m in zip(seeds, smooth):
                ended = [i for i, (s, _) in enumerate(rows)]
                at.append([m[max(i for i in ended if rows[i][0] <= x)] if rows[0][0] <= x else math.nan for x in xs])
        points = []
        for j, x in enumerate(xs):
            v = [a[j] for a in at]
            if any(math.isnan(u) for u in v):
                points.append((x, math.nan, math.nan, math.nan))
            else:
                points.append((x, sum(v) / len(v), min(v), max(v)))
        out[label] = points
    return out


def read_csv(path: Path, axis: str):
    got, seeds_of = {}, {}
    with open(path, newline="") as f:
        for row in csv.DictReader(f):
            num = lambda k: float(row[k]) if row[k] != "" else math.nan
            got.setdefault(row["label"], []).append((num(axis), num("mean"), num("min"), num("max")))
            seeds_of[row["label"]] = row["seeds"]
    return got, seeds_of


def close(a: float, b: float) -> bool:
    if math.isnan(a) or math.isnan(b):
        return math.isnan(a) and math.isnan(b)
    return abs(a - b) <= 1e-9 * max(1.0, abs(a), abs(b))


def main() -> int:
    exe = sys.argv[1]
    groups = {"sac alpha=0.05": [SEEDS[0][3], SEEDS[1][3]], "sac alpha=1": [SEEDS[2][3], SEEDS[3][3]]}
    want_seeds = {"sac alpha=0.05": "1,2", "sac alpha=1": "1,3"}
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        write_runs(root)
        for axis in ("env_steps", "episodes", "cpu_seconds"):
            out = root / f"out_{axis}"
            p = subprocess.run([exe, "--x", axis, "--smooth", str(WINDOW), "--out", str(out),
                                str(root / "a"), str(root / "b1"), str(root / "b3")], capture_output=True, text=True)
            if p.returncode != 0:
                print(f"FAIL --x {axis}: exit status {p.returncode}: {p.stderr.strip()}")
                return 1
            got, seeds_of = read_csv(out / "comparison.csv", axis)
            want = expected(groups, axis)
            if sorted(got) != sorted(want) or seeds_of != want_seeds:
                print(f"FAIL --x {axis}: groups {seeds_of}, expected {want_seeds}")
                return 1
            for label in want:
                if len(got[label]) != len(want[label]):
                    print(f"FAIL --x {axis} {label}: {len(got[label])} points, expected {len(want[label])}")
                    return 1
                for g, w in zip(got[label], want[label]):
                    if not all(close(a, b) for a, b in zip(g, w)):
                        print(f"FAIL --x {axis} {label}: (x, mean, min, max) = {g}, expected {w}")
                        return 1
            manifest = (out / ".pgcpp_outputs").read_text().split("\n")
            if "comparison.svg" not in manifest or "comparison.csv" not in manifest:
                print(f"FAIL --x {axis}: .pgcpp_outputs lists {manifest[1:]}")
                return 1
            print(f"--x {axis}: {sum(len(v) for v in want.values())} points of 2 groups match")
    return 0


if __name__ == "__main__":
    sys.exit(main())
