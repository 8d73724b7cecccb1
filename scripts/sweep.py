#!/usr/bin/env python3
"""A grid over any RL demo's flags × seeds, here on the cores or on Slurm, and one figure comparing it.

  python3 scripts/sweep.py sac --alpha 0.05,0.2,1 --seeds 5
  python3 scripts/sweep.py ppo --clip 0.1,0.2 --lr 3e-4,1e-3 --seeds 3 --slurm --time 1:00:00
  python3 scripts/sweep.py sac --hidden 64,64/256,256 --seeds 2      # values holding a comma: '/' between them

Every other `--flag v1,v2,...` is a flag of the demo (build/bin/PROGRAM, checked against its --help)
and one axis of the grid; a flag with one value is passed to every point. Each point of the grid is
one run folder, OUT/<flag><value>[-<flag><value>...]/, holding seed<s>/ for s = N..N+K-1 and the
aggregate summary.json and curve.svg, exactly as `PROGRAM <flags> --seeds K --out that-folder`
would write them: every (point, seed) runs as its own process (`--seed s --out POINT/seed<s>`, one
core each), then `--seeds K --aggregate` writes the aggregate. Last, `compare` (build/bin) draws
OUT/comparison.svg: one curve per point, mean and min-max band over its seeds, the legend naming the
flags that differ. OUT defaults to runs/sweep-<program>-<flags>.

Locally the (point, seed) runs go --jobs at a time (default: all cores); with --slurm they are
submitted through scripts/slurm.py as in gallery.py --slurm: one array per point (its seeds), its
aggregate afterok, the comparison after all. Either way a (point, seed) whose outputs are up to date
(same executable and command) is not run again, so an interrupted sweep resumes (--force reruns all).

Exit status: 0 done (or submitted); 1 a run, the comparison or sbatch failed; 2 a usage error.
"""
from __future__ import annotations

import argparse
import itertools
import os
import re
import shlex
import subprocess
import sys
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

sys.dont_write_bytecode = True
sys.path.insert(0, str(Path(__file__).resolve().parent))
import slurm  # noqa: E402

ROOT = slurm.ROOT
RESERVED = {"--seed", "--seeds", "--out", "--load", "--aggregate", "--quiet", "--help"}


def shown(p: Path) -> str:
    try:
        return str(p.resolve().relative_to(ROOT))
    except ValueError:
        return str(p.resolve())


def parse(argv: list[str]):
    ap = slurm.OneLineParser(prog="sweep.py", description=__doc__.split("\n\n")[0],
                                 formatter_class=argparse.RawDescriptionHelpFormatter, epilog=__doc__.split("\n\n", 1)[1])
    ap.add_argument("program", help="an RL demo in BUILD/bin, e.g. sac")
    ap.add_argument("--seeds", type=int, default=3, help="K seeds per point (default: 3)")
    ap.add_argument("--seed", type=int, default=1, help="the first seed N (default: 1)")
    ap.add_argument("--out", default="", help="the sweep's folder (default: runs/sweep-<program>-<flags>)")
    ap.add_argument("--build", default="build", help="build directory holding bin/ (default: build)")
    ap.add_argument("--jobs", type=int, default=os.cpu_count() or 1, help="runs at a time here (default: all cores)")
    ap.add_argument("--force", action="store_true", help="rerun every (point, seed) even if up to date")
    ap.add_argument("--x", default="", choices=["", "env_steps", "episodes", "cpu_seconds"],
                    help="the comparison's x axis (default: compare's, env steps)")
    ap.add_argument("--mem", type=int, default=1000, help="--slurm: MB of memory per task (default: 1000)")
    slurm.add_options(ap)
    args, rest = ap.parse_known_args(argv)
    options = slurm.check_options(ap, args)
    if not 1 <= args.seeds <= 64:
        ap.error(f"--seeds must be in [1, 64], got {args.seeds}")
    if args.seed < 0:
        ap.error(f"--seed must be >= 0, got {args.seed}")
    if not 1 <= args.jobs <= 256:
        ap.error(f"--jobs must be in [1, 256], got {args.jobs}")
    if not 1 <= args.mem <= 10_000_000:
        ap.error(f"--mem must be in [1, 10000000] MB, got {args.mem}")
    if not re.fullmatch(r"[A-Za-z0-9_]+", args.program):
        ap.error(f"PROGRAM must be the name of an executable in {args.build}/bin, got {args.program!r}")
    build = Path(args.build) if Path(args.build).is_absolute() else ROOT / args.build
    exe = build / "bin" / args.program
    if not exe.is_file():
        ap.error(f"no {shown(exe)}: build it first (cmake --build --preset default)")
    help_text = subprocess.run([str(exe), "--help"], capture_output=True, text=True).stdout
    flags = set(re.findall(r"^  (--[a-z0-9-]+)", help_text, re.M))
    if "--seeds" not in flags or "--aggregate" not in flags:
        ap.error(f"{args.program} is not an RL demo (no --seeds/--aggregate in its --help): nothing to sweep")
    grid: list[tuple[str, list[str]]] = []
    i = 0
    while i < len(rest):
        tok = rest[i]
        if not tok.startswith("--"):
            ap.error(f"unexpected {tok!r}: the grid is given as --flag v1,v2,...")
        flag, _, value = tok.partition("=")
        if not _:
            if i + 1 >= len(rest):
                ap.error(f"{flag}: no values (write {flag} v1,v2,...)")
            value = rest[i + 1]
            i += 1
        i += 1
        if flag in RESERVED:
            ap.error(f"{flag} is set by the sweep itself, not a grid axis")
        if flag not in flags:
            ap.error(f"{flag} is not a flag of {args.program} (see {shown(exe)} --help)")
        if any(f == flag for f, _ in grid):
            ap.error(f"{flag} given twice")
        values = value.split("/") if "/" in value else value.split(",")
        if any(v == "" for v in values):
            ap.error(f"{flag}: an empty value in {value!r}")
        if len(set(values)) != len(values):
            ap.error(f"{flag}: a value twice in {value!r}")
        grid.append((flag, values))
    if not any(len(v) > 1 for _, v in grid):
        ap.error("no grid: give at least one flag with two or more values, e.g. --alpha 0.05,0.2,1")
    return args, options, exe, grid


def name_of(point: list[tuple[str, str]], grid) -> str:
    axes = {f for f, v in grid if len(v) > 1}
    return "-".join(re.sub(r"[^A-Za-z0-9._]", "_", f.lstrip("-") + v) for f, v in point if f in axes)


def main(argv: list[str]) -> int:
    args, options, exe, grid = parse(argv)
    out = Path(args.out) if args.out else ROOT / "runs" / ("sweep-" + args.program + "-" +
                                                           "-".join(f.lstrip("-") for f, v in grid if len(v) > 1))
    out = out if out.is_absolute() else ROOT / out
    exe_s = "./" + shown(exe) if not Path(shown(exe)).is_absolute() else shown(exe)
    sha = slurm.sha256(exe)
    k, first = args.seeds, args.seed
    seeds = list(range(first, first + k))

    # Per point: its folder, the seed commands to run, the aggregate command.
    points = []
    for combo in itertools.product(*[[(f, v) for v in vs] for f, vs in grid]):
        d = out / name_of(list(combo), grid)
        flags = [a for f, v in combo for a in (f, v)] + ["--quiet"]
        seed_cmd = lambda s, d=d, flags=flags: [exe_s] + flags + ["--seed", str(s), "--out", shown(d / f"seed{s}") if k > 1 else shown(d)]
        agg_cmd = [exe_s] + flags + ["--seed", str(first), "--seeds", str(k), "--out", shown(d), "--aggregate"]
        todo = [s for s in seeds if args.force or not slurm.up_to_date(d / f"seed{s}" if k > 1 else d, seed_cmd(s), sha)]
        aggregate = k > 1 and (bool(todo) or not slurm.up_to_date(d, agg_cmd, sha))
        points.append((d, seed_cmd, agg_cmd, todo, aggregate))
    compare = ROOT / (args.build if not Path(args.build).is_absolute() else args.build) / "bin" / "compare"
    cmp_cmd = ["./" + shown(compare) if not Path(shown(compare)).is_absolute() else shown(compare),
               "--out", shown(out)] + (["--x", args.x] if args.x else []) + [shown(p[0]) for p in points]
    runs = sum(len(p[3]) for p in points)
    print(f"sweep: {len(points)} points × {k} seeds into {shown(out)}: {runs} runs to do "
          f"({len(points) * k - runs} up to date)", file=sys.stderr)

    if args.slurm:
        log_dir, plan = out / "slurm", []
        for i, (d, seed_cmd, agg_cmd, todo, aggregate) in enumerate(points):
            if todo:
                sdir = shown(d) + ("/seed$SLURM_ARRAY_TASK_ID" if k > 1 else "")
                cmd = seed_cmd("$SLURM_ARRAY_TASK_ID")
                cmd[-1] = sdir
                plan.append(slurm.Task(f"p{i}-seeds", slurm.runner(sdir, cmd), todo, 1, args.mem, log_dir=log_dir))
            if aggregate:
                plan.append(slurm.Task(f"p{i}", slurm.runner(shown(d), agg_cmd, clean=False), [], 1, args.mem,
                                       [f"p{i}-seeds"] if todo else [], log_dir=log_dir))
        last = [t.name for t in plan if not t.name.endswith("-seeds") or k == 1]
        plan.append(slurm.Task("compare", "exec " + shlex.join(cmp_cmd), [], 1, args.mem, last, log_dir=log_dir))
        status = slurm.submit(plan, options, args.dry_run, "sweep")
        if status == 0 and not args.dry_run:
            print(f"sweep: the figure will be {shown(out / 'comparison.svg')} (squeue --me; logs: "
                  f"{shown(log_dir)}/)", file=sys.stderr)
        return status

    # Here: every (point, seed) through the same runner as on Slurm, --jobs at a time.
    def run(d: Path, cmd: list[str], clean: bool) -> tuple[int, str]:
        line = [sys.executable, str(ROOT / "scripts" / "slurm.py"), "run", "--dir", shown(d)] + \
               (["--clean"] if clean else []) + ["--"] + cmd
        r = subprocess.run(line, cwd=ROOT, capture_output=True, text=True)
        return r.returncode, (r.stderr.strip().splitlines() or [""])[-1]

    start, failures = time.monotonic(), []
    work = [(d, seed_cmd(s)) for d, seed_cmd, _, todo, _ in points for s in todo]
    with ThreadPoolExecutor(max_workers=args.jobs) as pool:
        futures = [(d, c, pool.submit(run, d / f"seed{c[c.index('--seed') + 1]}" if k > 1 else d, c, True))
                   for d, c in work]
        for n, (d, c, f) in enumerate(futures, 1):
            status, msg = f.result()
            print(f"sweep: [{n}/{len(futures)}] {shlex.join(c)}" + (f": FAILED: {msg}" if status else ""),
                  file=sys.stderr)
            if status:
                failures.append(msg)
    for d, _, agg_cmd, todo, aggregate in points:
        if aggregate:
            status, msg = run(d, agg_cmd, False)
            if status:
                failures.append(msg)
    if not compare.is_file():
        print(f"sweep: no {shown(compare)}: build it (cmake --build --preset default) to draw the comparison",
              file=sys.stderr)
        return 1
    r = subprocess.run(cmp_cmd, cwd=ROOT, capture_output=True, text=True)
    if r.returncode:
        failures.append((r.stderr.strip().splitlines() or ["compare failed"])[-1])
    print(f"sweep: {runs} runs in {time.monotonic() - start:.1f} s; " +
          (f"figure {shown(out / 'comparison.svg')}" if not r.returncode else "no figure"), file=sys.stderr)
    for f in failures:
        print(f"sweep: failed: {f}", file=sys.stderr)
    return 1 if failures else 0


if __name__ == "__main__":
    try:
        sys.exit(main(sys.argv[1:]))
    except KeyboardInterrupt:
        sys.exit(130)
