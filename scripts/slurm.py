#!/usr/bin/env python3
"""Running pgcpp's programs on a Slurm cluster: the submission code shared by scripts/gallery.py
--slurm and scripts/sweep.py, and the small runner every submitted task executes.

A plan is a list of Tasks, each one `sbatch` submission: a shell body run from the repository root
(the shared filesystem), optionally an array (one index per seed), the CPUs and memory one array
task needs, and dependencies on earlier tasks of the plan (afterok: it reads their outputs;
afterany: it only has to run after them, e.g. the page that reports failures too). submit() turns
the plan into a bash script of `sbatch --parsable` calls, each script given on a here-document, the
job ids chained into --dependency; --dry-run prints that script instead of running it (so what it
prints is exactly what would be submitted, and can be saved and run by hand).

The runner, run from a task's body:

  python3 scripts/slurm.py run --dir DIR [--clean] [--stamp-command JSON] [--wall-from FILE] -- CMD...

runs CMD from the repository root with its stdout in DIR/stdout.txt and stderr in DIR/gallery.log,
then writes DIR/gallery_stamp.json (the command, the SHA-256 of its executable, wall seconds): the
stamp that tells the gallery and the sweeps that these outputs are up to date, as a local run's
does. --clean empties DIR first (what the local gallery does before a job). On failure (or SIGTERM
from scancel / the time limit) it writes DIR/gallery_failed.json (the command, the exit status, the
last line of stderr) instead, and exits non-zero so that afterok dependents never start.
"""
from __future__ import annotations

import argparse
import datetime
import hashlib
import json
import os
import re
import shlex
import shutil
import signal
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Optional

ROOT = Path(__file__).resolve().parent.parent
STAMP = "gallery_stamp.json"
FAILED = "gallery_failed.json"


def sha256(path: Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


def read_stamp(dir: Path) -> dict:
    try:
        return json.loads((dir / STAMP).read_text())
    except (OSError, ValueError):
        return {}


def up_to_date(dir: Path, command: list[str], binary_sha: str) -> bool:
    """Outputs in dir were made, successfully, by this command and this executable."""
    s = read_stamp(dir)
    return bool(s.get("ok")) and s.get("command") == command and s.get("binary_sha256") == binary_sha


# ---------------------------------------------------------------------------------------------
# Submission

@dataclass
class Options:
    partition: str = ""
    time: str = ""
    account: str = ""
    extra: list[str] = field(default_factory=list)  # --sbatch-arg, each one sbatch argument


@dataclass
class Task:
    name: str                    # unique in the plan; the shell variable holding its job id
    body: str                    # bash, run from the repository root; $SLURM_ARRAY_TASK_ID in an array
    array: list[int] = field(default_factory=list)  # array indices (seeds); [] = a single task
    cpus: int = 1
    mem_mb: int = 500
    after_ok: list[str] = field(default_factory=list)   # names of earlier tasks
    after_any: list[str] = field(default_factory=list)
    log_dir: Path = ROOT / "slurm-logs"


class OneLineParser(argparse.ArgumentParser):
    """argparse whose usage errors are one line, "prog: message", exit 2 (the project's convention)."""

    def error(self, message):
        self.exit(2, f"{self.prog}: {message}\n")


def add_options(ap) -> None:
    """The Slurm options of gallery.py and sweep.py, declared once."""
    g = ap.add_argument_group("Slurm (with --slurm)")
    g.add_argument("--slurm", action="store_true", help="submit the runs to Slurm with sbatch instead of running them here")
    g.add_argument("--partition", default="", help="sbatch --partition")
    g.add_argument("--time", default="", help="sbatch --time, the limit of every task (e.g. 2:00:00)")
    g.add_argument("--account", default="", help="sbatch --account")
    g.add_argument("--sbatch-arg", action="append", default=[], metavar="ARG",
                   help="one more sbatch argument for every task, e.g. --sbatch-arg=--qos=long (repeatable)")
    g.add_argument("--dry-run", action="store_true", help="print the submission script (sbatch calls and job "
                                                         "scripts) instead of submitting")


def check_options(ap, args) -> Options:
    """One-line usage errors (argparse's ap.error: exit 2) for Slurm options that cannot work."""
    if not args.slurm:
        given = [f for f, v in (("--partition", args.partition), ("--time", args.time), ("--account", args.account),
                                ("--sbatch-arg", args.sbatch_arg), ("--dry-run", args.dry_run)) if v]
        if given:
            ap.error(f"{given[0]} applies to --slurm only")
    if args.time and not re.fullmatch(r"(\d+-)?\d+(:\d{1,2}){0,2}", args.time):
        ap.error(f"--time: {args.time!r} is not a Slurm time (minutes, MM:SS, HH:MM:SS, D-HH, D-HH:MM:SS)")
    for name, v in (("--partition", args.partition), ("--account", args.account)):
        if v and not re.fullmatch(r"[A-Za-z0-9_.,-]+", v):
            ap.error(f"{name}: {v!r} is not a Slurm name")
    for a in args.sbatch_arg:
        if not a.startswith("-") or "\n" in a:
            ap.error(f"--sbatch-arg: {a!r} is not an sbatch option (write --sbatch-arg=--qos=long)")
        if re.match(r"--?(array|dependency|d|a|output|o|error|e|chdir|D|parsable|wrap|job-name|J)(=|$)", a):
            ap.error(f"--sbatch-arg: {a.split('=')[0]} is set by the submission itself")
    return Options(args.partition, args.time, args.account, list(args.sbatch_arg))


def var(name: str) -> str:
    return "job_" + re.sub(r"[^A-Za-z0-9_]", "_", name)


def job_script(task: Task, opt: Options) -> str:
    """The batch script of one task: #SBATCH lines, then its body."""
    array_tag = "-%a" if task.array else ""
    lines = ["#!/bin/bash",
             f"#SBATCH --job-name=pgcpp-{task.name}",
             f"#SBATCH --chdir={ROOT}",
             f"#SBATCH --output={task.log_dir}/{task.name}{array_tag}-%j.out",
             "#SBATCH --ntasks=1",
             f"#SBATCH --cpus-per-task={task.cpus}",
             f"#SBATCH --mem={task.mem_mb}M"]
    if task.array:
        lines.append(f"#SBATCH --array={compress(task.array)}")
    if opt.partition:
        lines.append(f"#SBATCH --partition={opt.partition}")
    if opt.account:
        lines.append(f"#SBATCH --account={opt.account}")
    if opt.time:
        lines.append(f"#SBATCH --time={opt.time}")
    lines += [f"#SBATCH {a}" for a in opt.extra]
    return "\n".join(lines) + "\nset -eu\n" + task.body.rstrip("\n") + "\n"


def compress(ids: list[int]) -> str:
    """1,2,3,5 -> 1-3,5 (Slurm's array syntax)."""
    out, ids = [], sorted(set(ids))
    i = 0
    while i < len(ids):
        j = i
        while j + 1 < len(ids) and ids[j + 1] == ids[j] + 1:
            j += 1
        out.append(str(ids[i]) if i == j else f"{ids[i]}-{ids[j]}")
        i = j + 1
    return ",".join(out)


def submission_script(plan: list[Task], opt: Options) -> str:
    """A bash script that submits the plan in order, each task's dependencies as job ids."""
    names = set()
    parts = ["#!/bin/bash", "# pgcpp: the sbatch calls of one submission (scripts/slurm.py)", "set -eu"]
    for t in plan:
        for d in t.after_ok + t.after_any:
            if d not in names:
                raise ValueError(f"task {t.name} depends on {d}, which is not submitted before it")
        names.add(t.name)
        dep = []
        if t.after_ok:
            dep.append("afterok:" + ":".join("${%s}" % var(d) for d in t.after_ok))
        if t.after_any:
            dep.append("afterany:" + ":".join("${%s}" % var(d) for d in t.after_any))
        flags = " --parsable"
        if dep:
            # A task whose afterok input failed is cancelled (not left pending forever), so that the
            # afterany page still runs and reports it.
            flags += f" --dependency={','.join(dep)} --kill-on-invalid-dep=yes"
        parts.append(f"{var(t.name)}=$(sbatch{flags} <<'PGCPP_JOB_SCRIPT'\n{job_script(t, opt)}PGCPP_JOB_SCRIPT\n)")
        parts.append(f"{var(t.name)}=${{{var(t.name)}%%;*}}")
        parts.append(f'echo "submitted {t.name}: job ${{{var(t.name)}}}"')
    return "\n".join(parts) + "\n"


def submit(plan: list[Task], opt: Options, dry_run: bool, who: str) -> int:
    """Prints (dry run) or runs the submission script. Returns an exit status."""
    script = submission_script(plan, opt)
    if dry_run:
        sys.stdout.write(script)
        return 0
    if shutil.which("sbatch") is None:
        print(f"{who}: --slurm: no sbatch on this machine's PATH (Slurm's client commands are needed where you "
              "submit)", file=sys.stderr)
        return 1
    for t in plan:
        t.log_dir.mkdir(parents=True, exist_ok=True)
    r = subprocess.run(["bash", "-c", script], cwd=ROOT, capture_output=True, text=True)
    sys.stderr.write(r.stdout)
    if r.returncode != 0:
        last = (r.stderr.strip().splitlines() or ["(no message)"])[-1]
        print(f"{who}: sbatch failed: {last}", file=sys.stderr)
        return 1
    return 0


def runner(dir: str, command: list[str], clean: bool = True, stamp_command: Optional[list[str]] = None,
           wall_from: str = "") -> str:
    """The body line that runs `command` through the runner into `dir` (a path as the shell sees it:
    $SLURM_ARRAY_TASK_ID and ${s} are expanded by bash)."""
    def q(a: str) -> str:  # quoted, but a shell variable in it still expands
        return '"' + a.replace("\\", "\\\\").replace('"', '\\"').replace("`", "\\`") + '"' if "$" in a else shlex.quote(a)
    line = ["python3", "scripts/slurm.py", "run", "--dir", q(dir)]
    if clean:
        line.append("--clean")
    if stamp_command is not None:
        line += ["--stamp-command", shlex.quote(json.dumps(stamp_command))]
    if wall_from:
        line += ["--wall-from", q(wall_from)]
    return "exec " + " ".join(line + ["--"] + [q(a) for a in command])


# ---------------------------------------------------------------------------------------------
# The runner (inside a Slurm task)

def run_main(argv: list[str]) -> int:
    ap = argparse.ArgumentParser(prog="slurm.py run", description="run one pgcpp command inside a Slurm task")
    ap.add_argument("--dir", required=True)
    ap.add_argument("--clean", action="store_true")
    ap.add_argument("--stamp-command", default="")
    ap.add_argument("--wall-from", default="")
    ap.add_argument("command", nargs=argparse.REMAINDER)
    a = ap.parse_args(argv)
    command = a.command[1:] if a.command[:1] == ["--"] else a.command
    if not command:
        ap.error("no command after --")
    d = ROOT / a.dir
    if a.clean and d.exists():
        shutil.rmtree(d)
    d.mkdir(parents=True, exist_ok=True)
    for name in (STAMP, FAILED):
        (d / name).unlink(missing_ok=True)
    stamp_command = json.loads(a.stamp_command) if a.stamp_command else command
    binary = ROOT / command[0]
    started = time.time()
    start = time.monotonic()
    with open(d / "stdout.txt", "w") as out, open(d / "gallery.log", "w") as err:
        proc = subprocess.Popen(command, cwd=ROOT, stdout=out, stderr=err)

        def stop(signum, frame):  # scancel or the time limit: stop the program, say so
            proc.terminate()
        signal.signal(signal.SIGTERM, stop)
        status = proc.wait()
    wall = time.monotonic() - start
    where = os.environ.get("SLURM_JOB_ID", "")
    if os.environ.get("SLURM_ARRAY_JOB_ID"):
        where = f"{os.environ['SLURM_ARRAY_JOB_ID']}_{os.environ.get('SLURM_ARRAY_TASK_ID', '')}"
    now = datetime.datetime.now().isoformat(timespec="seconds")
    if status != 0:
        lines = (d / "gallery.log").read_text(errors="replace").strip().splitlines()
        why = lines[-1] if lines else ("stopped (scancel or the time limit)" if status < 0 else "(no message)")
        (d / FAILED).write_text(json.dumps({"command": stamp_command, "exit": status, "message": why,
                                            "slurm_job": where, "finished": now}, indent=2) + "\n")
        print(f"slurm.py: {shlex.join(command)}: exit {status}: {why}", file=sys.stderr)
        return status if status > 0 else 128 - status
    if a.wall_from:
        try:
            wall = float(json.loads((ROOT / a.wall_from).read_text())["wall_seconds"])
        except (OSError, ValueError, KeyError, TypeError):
            pass
    stamp = {"command": stamp_command, "binary_sha256": sha256(binary), "ok": True,
             "wall_seconds": round(wall, 2), "weight": 1, "finished": now, "slurm_job": where,
             "started_unix": round(started, 3), "finished_unix": round(time.time(), 3)}
    (d / STAMP).write_text(json.dumps(stamp, indent=2) + "\n")
    return 0


if __name__ == "__main__":
    sys.dont_write_bytecode = True
    if sys.argv[1:2] == ["run"]:
        sys.exit(run_main(sys.argv[2:]))
    print("usage: python3 scripts/slurm.py run --dir DIR [--clean] [--stamp-command JSON] [--wall-from FILE] "
          "-- CMD... (the runner of a Slurm task; see scripts/gallery.py --slurm and scripts/sweep.py)",
          file=sys.stderr)
    sys.exit(2)
