#!/usr/bin/env python3
"""Proves that a refactor left every demo's outputs byte-identical.

Run every chapter demo at a small budget with a fixed seed, once with the executables built
before the refactor and once with those built after it, then compare the two output trees:

  python3 scripts/same_outputs.py run BEFORE_BIN_DIR /tmp/out_before [--jobs N]
  python3 scripts/same_outputs.py run AFTER_BIN_DIR  /tmp/out_after  [--jobs N]
  python3 scripts/same_outputs.py compare /tmp/out_before /tmp/out_after

`run BIN_DIR OUT_DIR` runs the cases of the CASES table below (an executable of BIN_DIR and its
small-budget flags), each into OUT_DIR/<case>/, up to --jobs at a time (default: the number of
cores). Every case gets seed 1 and, where the demo's --help lists them, `--out <case>` and
`--quiet`. The processes run in OUT_DIR, and every path they are given is relative to it, so
nothing they write depends on where OUT_DIR is. Next to a demo's own files, OUT_DIR/<case>/ gets
command.txt (the command line and its exit status) and stdout.txt. Each executable's --help goes
to OUT_DIR/help/<exe>.txt. OUT_DIR must not exist or be empty. A case that exits nonzero (or is
not built) is reported at the end and makes `run` exit 1. About 40 s on 2 cores.

`compare DIR_A DIR_B` prints one line per case, `same` or the first file (and line, or JSON
key) that differs, and exits 0 only when every file except help/*.txt matches:
  * a file present in one tree must be present in the other;
  * .json files are compared after parsing, without the keys IGNORED_JSON_KEYS lists (times,
    and paths this script chose) and any other key containing "seconds";
  * timing.csv (each episode's CPU time) by its episode column only;
  * every other file (metrics.csv, .svg, .txt, policy.safetensors, ...) byte for byte;
  * help/*.txt may differ (re-worded help text): their differences are printed as unified
    diffs and the executables whose help changed are listed, without failing.

Exit status: run: 0 every case succeeded, 1 a case failed; compare: 0 same, 1 a difference;
both: 2 on a usage error. Python 3 standard library only.
"""
from __future__ import annotations

import argparse
import difflib
import json
import math
import os
import shlex
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Optional


@dataclass
class Case:
    name: str  # the folder OUT_DIR/<name>/
    exe: str  # an executable in BIN_DIR
    args: list[str]  # small-budget flags; paths are relative to OUT_DIR
    est: float  # core-seconds, measured; the longest cases start first
    after: list[str] = field(default_factory=list)  # cases whose outputs this one reads


# The cases: every demo, and each of its environments and modes. Budgets are small (seconds of
# one core) but past the warm-up of every off-policy method, so that updates run. Seed 1,
# --out and --quiet are added by make_command().
CASES = [
    # Section 3.1 and 3.2.2: figure demos, their default budgets take under 2 s.
    Case("gd_sgd", "gd_sgd", [], 0.5),
    Case("pg_lemma", "pg_lemma", [], 1.3),
    # Section 3.2.3 REINFORCE: minibatch, naive, and evaluating the saved minibatch policy.
    Case("reinforce", "reinforce", ["--episodes", "300"], 0.3),
    Case("reinforce_naive", "reinforce", ["--batch", "1", "--episodes", "150"], 0.1),
    Case("reinforce_load", "reinforce", ["--load", "reinforce/policy.safetensors"], 0.1, after=["reinforce"]),
    # --seeds 2: the multi-seed aggregate (summary.json with per_seed, curve.svg with a band).
    Case("reinforce_baseline", "reinforce_baseline", ["--episodes", "300", "--seeds", "2"], 2.0),
    Case("actor_critic", "actor_critic", ["--episodes", "300"], 0.7),
    Case("gae", "gae", ["--episodes", "300"], 1.2),
    Case("gae_lambda_sweep", "gae", ["--lambdas", "0,0.5,1", "--episodes", "100", "--seeds", "2"], 1.5),
    Case("off_policy_ac", "off_policy_ac", ["--env-steps", "3000", "--warmup", "500"], 2.2),
    Case("off_policy_ac_pendulum", "off_policy_ac", ["--env", "pendulum", "--env-steps", "2000", "--warmup", "500"], 1.3),
    # Section 3.4: on-policy trust-region methods, CartPole and Pendulum.
    Case("npg", "npg", ["--env-steps", "16384"], 0.7),
    Case("npg_fixed", "npg", ["--step", "fixed", "--env-steps", "16384"], 0.6),
    Case("npg_pendulum", "npg", ["--env", "pendulum", "--env-steps", "16384"], 0.6),
    Case("trpo", "trpo", ["--env-steps", "16384"], 0.6),
    Case("trpo_pendulum", "trpo", ["--env", "pendulum", "--env-steps", "16384"], 0.6),
    Case("ppo", "ppo", ["--env-steps", "16384"], 0.5),
    Case("ppo_pendulum", "ppo", ["--env", "pendulum", "--env-steps", "16384"], 0.6),
    Case("ppo_kl", "ppo", ["--objective", "kl", "--env-steps", "16384"], 0.5),
    Case("ppo_clip_objective", "ppo_clip_objective", [], 0.1),
    # Sections 3.4.8-3.5: off-policy methods (20+ rounds of updates each), then their comparison.
    Case("sac_discrete", "sac_discrete", ["--steps", "2000", "--warmup", "500"], 2.7),
    Case("sac", "sac", ["--steps", "1500", "--warmup", "500"], 4.5),
    Case("ddpg", "ddpg", ["--steps", "1500", "--warmup", "500", "--seeds", "2"], 6.0),
    Case("mbpo", "mbpo", ["--steps", "1500", "--warmup", "500", "--model-steps", "20"], 8.0),
    Case("compare", "compare", ["--smooth", "5", "--reference", "-200", "SAC=sac", "DDPG=ddpg", "MBPO=mbpo"], 0.1,
         after=["sac", "ddpg", "mbpo"]),
    # Environments: every transition printed with 17 digits (stdout.txt). CartPole pushed right
    # until it terminates (at the 10th step: one more is an error); Pendulum started 3 steps
    # before its 200-step limit, so its last step truncates.
    Case("env_replay_cartpole", "env_replay",
         ["--env", "cartpole", "--state", "0.01,-0.02,0.03,0.04", "--actions", ",".join(["1"] * 10)], 0.1),
    Case("env_replay_pendulum", "env_replay",
         ["--env", "pendulum", "--state", "2.5,-1", "--elapsed", "197", "--actions", "0.5,-2,2"], 0.1),
]

SEED = "1"

# JSON keys left out of the comparison, wherever they occur (run.cpp's summaries):
IGNORED_JSON_KEYS = {
    "wall_seconds",  # summary.json, per seed and aggregate: wall-clock time of the run
    "cpu_seconds",  # summary.json, per seed: CPU time of the seed's thread
    "policy_file",  # eval_summary.json of --load: the path this script passed, echoed back
}
# Any other key naming a time: the rule that catches a "..._seconds" added later.
IGNORED_JSON_KEY_PART = "seconds"

# A run's list of the files it wrote (experiment/run.cpp: the next run into the folder deletes
# exactly those). Compared where both trees have it; a tree from before the list existed has
# none, which is not a difference of the outputs themselves.
OUTPUT_LIST = ".pgcpp_outputs"

# Executables of BIN_DIR that are not demos (tests, the benchmark): not expected in CASES.
NOT_DEMOS_PREFIXES = ("test_",)
NOT_DEMOS = {"bench", "run_outputs_example", "bad_invocations"}

CASE_TIMEOUT = 600  # seconds; a case this slow is hung (the longest takes ~8 s)


# ---------------------------------------------------------------------------------------------
# run


def help_flags(help_text: str) -> set[str]:
    """The flags an executable's --help lists (lines of the form '  --flag ...')."""
    flags = set()
    for line in help_text.splitlines():
        words = line.split()
        if line.startswith("  --") and words:
            flags.add(words[0])
    return flags


def make_command(case: Case, flags: set[str]) -> list[str]:
    """The case's command line, executable by name (the BIN_DIR part is added when running, so
    that command.txt is the same for any BIN_DIR)."""
    cmd = [case.exe] + case.args
    if "--seed" in flags:
        cmd += ["--seed", SEED]
    if "--out" in flags:
        cmd += ["--out", case.name]
    if "--quiet" in flags:
        cmd.append("--quiet")
    return cmd


def seeds_of(case: Case) -> int:
    """Threads a case keeps busy: --seeds K trains K seeds in parallel."""
    if "--seeds" in case.args:
        return int(case.args[case.args.index("--seeds") + 1])
    return 1


def child_env() -> dict[str, str]:
    # The C locale: printf's number formatting must not depend on who runs the script.
    return dict(os.environ, LC_ALL="C")


def save_help(bin_dir: Path, out_dir: Path, exes: list[str]) -> list[str]:
    """Writes OUT_DIR/help/<exe>.txt for each executable; returns the errors."""
    errors = []
    (out_dir / "help").mkdir()
    for exe in exes:
        path = bin_dir / exe
        if not path.is_file():
            errors.append(f"{exe}: not found in {bin_dir}")
            continue
        p = subprocess.run([str(path), "--help"], cwd=out_dir, env=child_env(), capture_output=True, timeout=60)
        (out_dir / "help" / f"{exe}.txt").write_bytes(p.stdout)
        if p.returncode != 0:
            errors.append(f"{exe} --help: exit status {p.returncode}: {p.stderr.decode(errors='replace').strip()}")
    return errors


def unlisted_demos(bin_dir: Path) -> list[str]:
    """Executables of BIN_DIR that look like demos but have no case: a demo added later."""
    listed = {c.exe for c in CASES}
    found = []
    for p in sorted(bin_dir.iterdir()):
        if p.is_file() and os.access(p, os.X_OK) and p.name not in listed and p.name not in NOT_DEMOS \
                and not p.name.startswith(NOT_DEMOS_PREFIXES):
            found.append(p.name)
    return found


@dataclass
class Running:
    case: Case
    proc: subprocess.Popen
    started: float
    stdout: object  # the open stdout.txt
    stderr_path: Path


def start_case(case: Case, bin_dir: Path, out_dir: Path, flags: set[str]) -> Running:
    cmd = make_command(case, flags)
    case_dir = out_dir / case.name
    case_dir.mkdir(exist_ok=True)
    stdout = open(case_dir / "stdout.txt", "wb")
    # stderr holds the progress line and errors, not results: kept outside the compared tree.
    stderr_path = out_dir / ".stderr" / f"{case.name}.txt"
    with open(stderr_path, "wb") as stderr:
        proc = subprocess.Popen([str(bin_dir / case.exe)] + cmd[1:], cwd=out_dir, env=child_env(),
                                stdout=stdout, stderr=stderr, stdin=subprocess.DEVNULL)
    return Running(case, proc, time.monotonic(), stdout, stderr_path)


def finish_case(r: Running, out_dir: Path, flags: set[str], rc: int) -> None:
    r.stdout.close()
    # The command and its exit status, compared like any output: a changed default flag set
    # (e.g. a demo that stopped listing --quiet) or a failure shows up in compare.
    text = shlex.join(make_command(r.case, flags)) + f"\nexit status: {rc}\n"
    (out_dir / r.case.name / "command.txt").write_text(text)


def report_failure(case: Case, flags: set[str], why: str, stderr_path: Optional[Path]) -> None:
    print(f"\n*** FAILED: {case.name}: {why}\n    command: {shlex.join(make_command(case, flags))}",
          file=sys.stderr)
    if stderr_path and stderr_path.exists():
        tail = stderr_path.read_text(errors="replace").strip().splitlines()[-20:]
        for line in tail:
            print(f"    | {line}", file=sys.stderr)
    print(file=sys.stderr, flush=True)


def run_cases(bin_dir: Path, out_dir: Path, jobs: int, flags_of: dict[str, set[str]]) -> list[str]:
    """Runs CASES, up to `jobs` threads busy at a time, longest first, each after the cases it
    reads. Returns the names of the cases that failed."""
    pending = sorted(CASES, key=lambda c: -c.est)
    running: list[Running] = []
    done_ok: set[str] = set()
    failed: list[str] = []
    total = len(CASES)
    while pending or running:
        # Cases that read the outputs of a failed case cannot run.
        for case in [c for c in pending if any(a in failed for a in c.after)]:
            pending.remove(case)
            failed.append(case.name)
            report_failure(case, flags_of.get(case.exe, set()), "not run: it reads the outputs of a failed case", None)
        busy = sum(min(seeds_of(r.case), jobs) for r in running)
        for case in list(pending):
            if not all(a in done_ok for a in case.after):
                continue
            if not (bin_dir / case.exe).is_file():
                pending.remove(case)
                failed.append(case.name)
                report_failure(case, set(), f"{case.exe} is not in {bin_dir}", None)
                continue
            weight = min(seeds_of(case), jobs)
            if running and busy + weight > jobs:
                continue
            pending.remove(case)
            try:
                running.append(start_case(case, bin_dir, out_dir, flags_of[case.exe]))
            except OSError as e:  # e.g. not executable
                failed.append(case.name)
                report_failure(case, flags_of[case.exe], f"cannot start: {e}", None)
                continue
            busy += weight
        time.sleep(0.05)
        for r in list(running):
            rc = r.proc.poll()
            elapsed = time.monotonic() - r.started
            if rc is None and elapsed > CASE_TIMEOUT:
                r.proc.kill()
                rc = r.proc.wait()
                why = f"killed after {CASE_TIMEOUT} s"
            elif rc is None:
                continue
            else:
                why = f"exit status {rc}"
            running.remove(r)
            finish_case(r, out_dir, flags_of[r.case.exe], rc)
            if rc == 0:
                done_ok.add(r.case.name)
                print(f"[{len(done_ok) + len(failed)}/{total}] {r.case.name}: ok, {elapsed:.1f} s",
                      file=sys.stderr, flush=True)
            else:
                failed.append(r.case.name)
                report_failure(r.case, flags_of[r.case.exe], why, r.stderr_path)
    return failed


def cmd_run(args: argparse.Namespace) -> int:
    bin_dir = Path(args.bin_dir).resolve()
    out_dir = Path(args.out_dir).resolve()
    if not bin_dir.is_dir():
        print(f"same_outputs: BIN_DIR '{args.bin_dir}' is not a folder", file=sys.stderr)
        return 2
    # Never mix two runs, never delete anything: a leftover file would fail the comparison.
    if out_dir.exists() and (not out_dir.is_dir() or any(out_dir.iterdir())):
        print(f"same_outputs: OUT_DIR '{args.out_dir}' exists and is not an empty folder; remove it first",
              file=sys.stderr)
        return 2
    t0 = time.monotonic()
    out_dir.mkdir(parents=True, exist_ok=True)
    (out_dir / ".stderr").mkdir()

    exes = sorted({c.exe for c in CASES})
    errors = save_help(bin_dir, out_dir, exes)
    flags_of = {exe: help_flags((out_dir / "help" / f"{exe}.txt").read_text(errors="replace"))
                for exe in exes if (out_dir / "help" / f"{exe}.txt").exists()}
    for e in errors:
        print(f"\n*** FAILED: {e}\n", file=sys.stderr)
    for exe in unlisted_demos(bin_dir):
        print(f"same_outputs: warning: {bin_dir / exe} has no case in CASES (a new demo? add it)", file=sys.stderr)

    failed = run_cases(bin_dir, out_dir, args.jobs, flags_of)
    wall = time.monotonic() - t0
    if failed or errors:
        print(f"\n*** same_outputs run: {len(failed)} of {len(CASES)} case(s) FAILED: {', '.join(failed)}"
              + (f"; {len(errors)} --help error(s)" if errors else "")
              + f" ({wall:.1f} s). Their stderr: {out_dir / '.stderr'}/", file=sys.stderr)
        return 1
    print(f"same_outputs run: {len(CASES)} cases into {out_dir} in {wall:.1f} s ({args.jobs} jobs)", file=sys.stderr)
    return 0


# ---------------------------------------------------------------------------------------------
# compare


def tree_files(root: Path) -> set[str]:
    """Paths of the files under root, relative to it; .stderr/ holds logs, not outputs."""
    return {p.relative_to(root).as_posix() for p in root.rglob("*")
            if p.is_file() and not p.relative_to(root).as_posix().startswith(".stderr/")}


def ignored_key(key: str) -> bool:
    return key in IGNORED_JSON_KEYS or IGNORED_JSON_KEY_PART in key


def json_difference(a, b, where: str = "") -> Optional[str]:
    """The first difference between two parsed JSON values, without the ignored keys, or None.
    NaN equals NaN: the same run written twice must compare equal."""
    if isinstance(a, dict) and isinstance(b, dict):
        for key in sorted(set(a) | set(b)):
            if ignored_key(key):
                continue
            if key not in a or key not in b:
                return f"key {where}{key} only in {'B' if key not in a else 'A'}"
            d = json_difference(a[key], b[key], f"{where}{key}.")
            if d:
                return d
        return None
    if isinstance(a, list) and isinstance(b, list):
        if len(a) != len(b):
            return f"{where.rstrip('.') or 'top level'}: {len(a)} vs {len(b)} elements"
        for i, (x, y) in enumerate(zip(a, b)):
            d = json_difference(x, y, f"{where.rstrip('.')}[{i}].")
            if d:
                return d
        return None
    if isinstance(a, float) and isinstance(b, float) and math.isnan(a) and math.isnan(b):
        return None
    if type(a) is not type(b) or a != b:
        return f"{where.rstrip('.') or 'top level'}: {json.dumps(a)} vs {json.dumps(b)}"
    return None


def text_difference(a: bytes, b: bytes) -> str:
    """Where two different files first differ: a line for text, a byte offset otherwise."""
    try:
        la, lb = a.decode().splitlines(), b.decode().splitlines()
    except UnicodeDecodeError:
        i = next((k for k, (x, y) in enumerate(zip(a, b)) if x != y), min(len(a), len(b)))
        return f"byte {i} (sizes {len(a)} vs {len(b)} bytes)"
    for i, (x, y) in enumerate(zip(la, lb)):
        if x != y:
            return f"line {i + 1}: {x[:100]!r} vs {y[:100]!r}"
    if len(la) != len(lb):
        return f"{len(la)} vs {len(lb)} lines"
    return "line endings or final newline"


# JSON files whose values are all the same but whose bytes (without the ignored keys' lines)
# differ: keys written in another order. Reported, so that "byte-identical" is never claimed for them.
REORDERED_JSON: list[str] = []


def without_ignored_lines(text: bytes) -> list[bytes]:
    """The lines of a pretty-printed JSON file, without those of the ignored keys."""
    keys = tuple(f'"{k}"'.encode() for k in IGNORED_JSON_KEYS)
    return [ln for ln in text.splitlines() if not ln.strip().startswith(keys) and b'seconds"' not in ln]


def file_difference(pa: Path, pb: Path) -> Optional[str]:
    a, b = pa.read_bytes(), pb.read_bytes()
    if pa.suffix == ".json":
        try:
            ja, jb = json.loads(a), json.loads(b)
        except ValueError as e:
            return None if a == b else f"not valid JSON ({e})"
        d = json_difference(ja, jb)
        if d is None and without_ignored_lines(a) != without_ignored_lines(b):
            REORDERED_JSON.append(str(pb))  # the same keys and values, written in another order
        return d
    if pa.name == "timing.csv":  # CPU seconds per episode: only the episode column must agree
        ea = [ln.split(b",")[0] for ln in a.splitlines()]
        eb = [ln.split(b",")[0] for ln in b.splitlines()]
        return None if ea == eb else "episode column: " + text_difference(b"\n".join(ea), b"\n".join(eb))
    # Everything else byte for byte. The SVGs hold no wall-clock time or date (the times they
    # show, "t = 0.42 s", are simulated time steps * dt), so nothing in them is excluded.
    return None if a == b else text_difference(a, b)


def case_of(rel: str) -> str:
    """The case a file belongs to: its top folder (a lone file at the top: '(top)')."""
    return rel.split("/", 1)[0] if "/" in rel else "(top)"


def compare_help(dir_a: Path, dir_b: Path, names: list[str]) -> list[str]:
    """Prints the unified diff of each help/*.txt that differs; returns their executables."""
    changed = []
    for rel in names:
        a = (dir_a / rel).read_text(errors="replace").splitlines(keepends=True)
        b = (dir_b / rel).read_text(errors="replace").splitlines(keepends=True)
        if a != b:
            changed.append(Path(rel).stem)
            sys.stdout.writelines(difflib.unified_diff(a, b, f"A/{rel}", f"B/{rel}"))
            print()
    return changed


def cmd_compare(args: argparse.Namespace) -> int:
    dir_a, dir_b = Path(args.dir_a), Path(args.dir_b)
    for d in (dir_a, dir_b):
        if not d.is_dir():
            print(f"same_outputs: '{d}' is not a folder", file=sys.stderr)
            return 2
    files_a, files_b = tree_files(dir_a), tree_files(dir_b)

    # Per case, the first problem found and how many files differ.
    problems: dict[str, list[str]] = {}
    help_files = []
    for rel in sorted(files_a | files_b):
        case = case_of(rel)
        problems.setdefault(case, [])
        if Path(rel).name == OUTPUT_LIST and (rel not in files_b or rel not in files_a):
            continue
        if rel not in files_b or rel not in files_a:
            problems[case].append(f"{rel} only in {'A' if rel in files_a else 'B'}")
        elif case == "help":
            if rel.endswith(".txt"):
                help_files.append(rel)
            elif (dir_a / rel).read_bytes() != (dir_b / rel).read_bytes():
                problems[case].append(f"{rel} differs")
        else:
            d = file_difference(dir_a / rel, dir_b / rel)
            if d:
                problems[case].append(f"{rel}: {d}")

    changed_help = compare_help(dir_a, dir_b, help_files)
    width = max(len(c) for c in problems) if problems else 0
    for case in sorted(problems, key=lambda c: (c == "help", c)):
        found = problems[case]
        if case == "help":
            status = f"{len(help_files)} files; --help changed for: {', '.join(changed_help)}" if changed_help \
                else f"same ({len(help_files)} files)"
            if found:
                status = f"DIFFERS: {found[0]}"
        elif not found:
            status = "same"
        else:
            status = f"DIFFERS: {found[0]}" + (f" (and {len(found) - 1} more file(s))" if len(found) > 1 else "")
        print(f"{case:<{width}}  {status}")

    bad = [c for c, f in problems.items() if f]
    if bad:
        print(f"\n{len(bad)} case(s) differ: {', '.join(sorted(bad))}")
        return 1
    if REORDERED_JSON:
        cases = sorted({case_of(str(Path(r).relative_to(dir_b))) for r in REORDERED_JSON})
        print(f"\nsame values, keys in another order (not byte-identical) in {len(REORDERED_JSON)} JSON file(s) "
              f"of: {', '.join(cases)}")
    else:
        print("\nevery JSON file byte-identical apart from the ignored keys")
    print(f"\nevery output is the same ({len(files_a)} files"
          + (f"; help text changed for {', '.join(changed_help)}" if changed_help else "") + ")")
    return 0


# ---------------------------------------------------------------------------------------------


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = parser.add_subparsers(dest="command", required=True)
    run = sub.add_parser("run", help="run every case of the table into OUT_DIR")
    run.add_argument("bin_dir", metavar="BIN_DIR", help="folder of the built executables (build/bin)")
    run.add_argument("out_dir", metavar="OUT_DIR", help="output folder (must not exist, or be empty)")
    cores = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else (os.cpu_count() or 1)
    run.add_argument("--jobs", type=int, default=cores, help=f"threads busy at a time (default: {cores}, the cores)")
    run.set_defaults(func=cmd_run)
    compare = sub.add_parser("compare", help="compare two OUT_DIRs of `run`")
    compare.add_argument("dir_a", metavar="DIR_A")
    compare.add_argument("dir_b", metavar="DIR_B")
    compare.set_defaults(func=cmd_compare)
    args = parser.parse_args()
    if getattr(args, "jobs", 1) < 1:
        parser.error("--jobs must be at least 1")
    return args.func(args)


if __name__ == "__main__":
    sys.exit(main())
