#!/usr/bin/env python3
"""The cluster test (ctest label `cluster`; not in the default test preset): a real single-node
Slurm cluster on this machine, the gallery and a sweep submitted to it.

  sudo python3 tests/cluster/cluster_test.py --build build        # or: ctest --preset cluster

Needs root and Debian's slurm-wlm (bash scripts/setup.sh --cluster installs it). It starts munged
(as the munge user, with a generated key) and slurmctld and slurmd (as root) from a slurm.conf in
a temporary folder (this host as controller and only node, its own ports, state, spool and logs
in that folder), submits a reduced gallery (tests/cluster/cards.py: two short jobs of 2 seeds,
the second after the first) and a 2×2 sweep, waits for them (with a time limit), checks the page,
the aggregated outputs, the order the dependency imposes, the comparison figure, that a (job,
seed) run through Slurm and the same job run here give byte-identical metrics.csv, and what a
resubmission after a lost seed submits. It stops the daemons it started (by their process ids),
checks with pgrep that they are gone, and removes the folder. When Slurm cannot start, the test
fails with the daemon's own message; it never passes without a cluster.
"""
from __future__ import annotations

import argparse
import json
import os
import pwd
import re
import shutil
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
START_LIMIT = 60     # seconds for the cluster to come up (about 3 s on a laptop-class machine)
JOBS_LIMIT = 600     # seconds for all submitted jobs to finish


class Failure(Exception):
    pass


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def tail(path: Path, n: int = 5) -> str:
    try:
        lines = [l for l in path.read_text(errors="replace").splitlines() if l.strip()]
    except OSError:
        return f"(no {path})"
    return " | ".join(lines[-n:]) or f"({path} is empty)"


class Cluster:
    def __init__(self, tmp: Path):
        self.tmp = tmp
        self.procs: dict[str, subprocess.Popen] = {}
        self.env = dict(os.environ, SLURM_CONF=str(tmp / "slurm.conf"))

    def start(self):
        for tool in ("munged", "slurmctld", "slurmd", "sbatch", "squeue", "sinfo"):
            if shutil.which(tool) is None and not Path("/usr/sbin", tool).exists():
                raise Failure(f"{tool} not found: install Debian's slurm-wlm (bash scripts/setup.sh --cluster)")
        if os.geteuid() != 0:
            raise Failure("the cluster test runs slurmctld and slurmd as root: run it as root")
        munge = pwd.getpwnam("munge")
        m = self.tmp / "munge"
        m.mkdir()
        os.chmod(m, 0o711)  # munged: the socket's folder must be searchable by all
        (m / "munge.key").write_bytes(os.urandom(1024))
        os.chmod(m / "munge.key", 0o400)
        for p in (m, m / "munge.key"):
            os.chown(p, munge.pw_uid, munge.pw_gid)
        self.socket = m / "munge.socket.2"

        def as_munge():
            os.setgid(munge.pw_gid)
            os.setgroups([])
            os.setuid(munge.pw_uid)
        self.procs["munged"] = subprocess.Popen(
            ["munged", "--foreground", f"--socket={self.socket}", f"--key-file={m / 'munge.key'}",
             f"--pid-file={m / 'munged.pid'}", f"--log-file={m / 'munged.log'}", f"--seed-file={m / 'munged.seed'}"],
            stdout=subprocess.DEVNULL, stderr=open(self.tmp / "munged.stderr", "w"), preexec_fn=as_munge)
        self.wait_for(lambda: self.socket.exists(), "munged", m / "munged.log", self.tmp / "munged.stderr")

        host = socket.gethostname().split(".")[0]
        cpus = os.cpu_count() or 1
        mem_mb = int(re.search(r"MemTotal:\s+(\d+)", Path("/proc/meminfo").read_text()).group(1)) // 1024 - 512
        for d in ("state", "spool"):
            (self.tmp / d).mkdir()
        t = self.tmp
        (t / "slurm.conf").write_text(f"""# pgcpp cluster test: one node, this host; everything in {t}
ClusterName=pgcpptest
SlurmctldHost={host}(127.0.0.1)
SlurmUser=root
SlurmdUser=root
SlurmctldPort={free_port()}
SlurmdPort={free_port()}
AuthType=auth/munge
CredType=cred/munge
AuthInfo=socket={self.socket}
StateSaveLocation={t}/state
SlurmdSpoolDir={t}/spool
SlurmctldPidFile={t}/slurmctld.pid
SlurmdPidFile={t}/slurmd.pid
SlurmctldLogFile={t}/slurmctld.log
SlurmdLogFile={t}/slurmd.log
ProctrackType=proctrack/linuxproc
TaskPlugin=task/none
SelectType=select/cons_tres
SelectTypeParameters=CR_CPU_Memory
SchedulerType=sched/backfill
MpiDefault=none
SwitchType=switch/none
JobAcctGatherType=jobacct_gather/none
AccountingStorageType=accounting_storage/none
JobCompType=jobcomp/none
ReturnToService=2
SlurmdTimeout=60
NodeName={host} NodeAddr=127.0.0.1 CPUs={cpus} RealMemory={mem_mb} State=UNKNOWN
PartitionName=test Nodes={host} Default=YES MaxTime=INFINITE State=UP
""")
        t0 = time.monotonic()
        for daemon in ("slurmctld", "slurmd"):
            extra = ["-i"] if daemon == "slurmctld" else []
            self.procs[daemon] = subprocess.Popen([daemon, "-D", "-f", str(t / "slurm.conf")] + extra,
                                                  stdout=subprocess.DEVNULL, stderr=open(t / f"{daemon}.stderr", "w"),
                                                  env=self.env)
        self.wait_for(lambda: "idle" in self.run(["sinfo", "-h", "-o", "%T"], check=False),
                      "slurmctld/slurmd", t / "slurmctld.log", t / "slurmd.log", t / "slurmctld.stderr",
                      t / "slurmd.stderr")
        print(f"cluster: up in {time.monotonic() - t0:.1f} s ({host}, {cpus} CPUs, {mem_mb} MB)", flush=True)

    def wait_for(self, ready, what: str, *logs: Path):
        end = time.monotonic() + START_LIMIT
        while time.monotonic() < end:
            for name, p in self.procs.items():
                if p.poll() is not None:
                    raise Failure(f"{name} exited with status {p.returncode}: " +
                                  " || ".join(tail(l) for l in logs))
            if ready():
                return
            time.sleep(0.3)
        raise Failure(f"{what} did not come up within {START_LIMIT} s: " + " || ".join(tail(l) for l in logs))

    def run(self, cmd: list[str], check: bool = True) -> str:
        r = subprocess.run(cmd, capture_output=True, text=True, env=self.env, cwd=ROOT, timeout=120)
        if check and r.returncode != 0:
            raise Failure(f"{' '.join(cmd)}: exit {r.returncode}: {r.stderr.strip()[-400:]}")
        return r.stdout

    def wait_jobs(self, limit: float):
        end = time.monotonic() + limit
        while time.monotonic() < end:
            queue = self.run(["squeue", "-h", "-o", "%i %j %T %r"])
            if not queue.strip():
                return
            time.sleep(1)
        raise Failure(f"jobs still queued after {limit:.0f} s:\n{queue}")

    def stop(self) -> list[str]:
        """Stops what start() started, by process id (slurmd first, munged last); returns problems."""
        problems = []
        for name in ("slurmd", "slurmctld", "munged"):
            p = self.procs.get(name)
            if p is None or p.poll() is not None:
                continue
            p.terminate()
            try:
                p.wait(timeout=30)
            except subprocess.TimeoutExpired:
                p.kill()
                p.wait()
                problems.append(f"{name} (pid {p.pid}) needed SIGKILL")
        end = time.monotonic() + 10  # a finished job's slurmstepd can outlive slurmd by a moment
        while time.monotonic() < end and subprocess.run(["pgrep", "-x", "slurmstepd"], capture_output=True).stdout:
            time.sleep(0.2)
        for name, p in self.procs.items():
            left = subprocess.run(["pgrep", "-x", name], capture_output=True, text=True).stdout.split()
            if str(p.pid) in left:
                problems.append(f"{name} (pid {p.pid}) is still running")
        return problems


def check(cond: bool, what: str):
    if not cond:
        raise Failure(what)
    print(f"  ok: {what}", flush=True)


def read(p: Path) -> str:
    return p.read_text()


def without_wall(text: str) -> str:
    return "".join(l for l in text.splitlines(True) if '"wall_seconds"' not in l)


def test_gallery(c: Cluster, tmp: Path, build: str):
    out = tmp / "gallery"
    gallery = [sys.executable, "scripts/gallery.py", "--cards", "tests/cluster/cards.py", "--build", build]
    c.run(gallery + ["--slurm", "--out", str(out)])
    c.wait_jobs(JOBS_LIMIT)
    runs = out / "runs"
    page = out / "index.html"
    check(page.exists(), "the page task wrote index.html")
    html = read(page)
    check(html.count('class="verdict ok"') == 2 and 'class="verdict fail"' not in html,
          "both cards of the page are results with their check passed")
    for job in ("short_reinforce", "short_ppo"):
        agg = json.loads(read(runs / job / "summary.json"))
        check(agg["seeds"] == ["1", "2"] or agg["seeds"] == [1, 2], f"{job}: the aggregate summary.json lists seeds 1 and 2")
        check(agg["failed_seeds"] == [] and (runs / job / "curve.svg").exists(), f"{job}: no failed seed, curve.svg written")
        stamp = json.loads(read(runs / job / "gallery_stamp.json"))
        check("--seeds" in stamp["command"] and "--aggregate" not in stamp["command"],
              f"{job}: its stamp holds the local --seeds 2 command (so a local gallery sees it up to date)")
    # afterok: every seed of the second job started after the first job's aggregate finished.
    first_done = json.loads(read(runs / "short_reinforce" / "gallery_stamp.json"))["finished_unix"]
    starts = [json.loads(read(runs / "short_ppo" / f"seed{s}" / "gallery_stamp.json"))["started_unix"] for s in (1, 2)]
    check(min(starts) >= first_done, "the dependent job's seeds started after the first job had finished")

    # The same job here (one process, --seeds 2) gives the same files, byte for byte.
    local = tmp / "local"
    subprocess.run(gallery + ["--only", "short_reinforce", "--out", str(local)], cwd=ROOT, check=True,
                   capture_output=True)
    for s in (1, 2):
        check(read(local / "runs/short_reinforce" / f"seed{s}/metrics.csv") ==
              read(runs / "short_reinforce" / f"seed{s}/metrics.csv"),
              f"seed {s}: metrics.csv from Slurm and from a local run are byte-identical")
    check(read(local / "runs/short_reinforce/curve.svg") == read(runs / "short_reinforce/curve.svg") and
          without_wall(read(local / "runs/short_reinforce/summary.json")) ==
          without_wall(read(runs / "short_reinforce/summary.json")),
          "the aggregate curve.svg and summary.json (but wall_seconds) equal the local --seeds 2 run's")

    # Resuming: nothing is resubmitted; a lost seed is resubmitted alone, with its dependents.
    dry = c.run(gallery + ["--slurm", "--dry-run", "--out", str(out)])
    check("--array" not in dry and "afterany" not in dry, "a second submission submits no run, only the page")
    # What a node failure leaves: a seed's folder half written, its job's aggregate never run (the
    # submission had removed the job's stamp; the aggregate task was cancelled).
    shutil.rmtree(runs / "short_reinforce" / "seed2")
    (runs / "short_reinforce" / "gallery_stamp.json").unlink()
    dry = c.run(gallery + ["--slurm", "--dry-run", "--out", str(out)])
    arrays = re.findall(r"#SBATCH --job-name=pgcpp-(\S+)\n(?:#SBATCH .*\n)*?#SBATCH --array=(\S+)", dry)
    check(arrays == [("short_reinforce-seeds", "2"), ("short_ppo-seeds", "1-2")],
          f"after losing one seed: that seed and the dependent job are resubmitted ({arrays})")


def test_sweep(c: Cluster, tmp: Path, build: str):
    out = tmp / "sweep"
    c.run([sys.executable, "scripts/sweep.py", "reinforce", "--lr", "0.001,0.01", "--batch", "5,10", "--episodes", "20",
           "--solved", "0", "--seeds", "2", "--build", build, "--slurm", "--out", str(out)])
    c.wait_jobs(JOBS_LIMIT)
    points = sorted(p.name for p in out.iterdir() if p.is_dir() and p.name != "slurm")
    check(points == ["lr0.001-batch10", "lr0.001-batch5", "lr0.01-batch10", "lr0.01-batch5"],
          f"one run folder per point of the 2×2 grid ({points})")
    for p in points:
        agg = json.loads(read(out / p / "summary.json"))
        check(len(agg["per_seed"]) == 2 and agg["failed_seeds"] == [], f"{p}: aggregate of its 2 seeds")
    svg = out / "comparison.svg"
    check(svg.exists(), "compare drew comparison.svg")
    legend = set(re.findall(r"reinforce (?:lr=[0-9.]+ ?|batch=[0-9]+ ?)+", read(svg)))
    check(len(legend) == 4, f"the figure's legend names the 4 points ({sorted(legend)})")


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--build", default="build", help="build directory holding bin/ (default: build)")
    args = ap.parse_args()
    for exe in ("reinforce", "ppo", "compare"):
        if not (ROOT / args.build / "bin" / exe).exists() and not (Path(args.build) / "bin" / exe).exists():
            print(f"cluster test: FAILED: no {args.build}/bin/{exe}: build first", file=sys.stderr)
            return 1
    tmp = Path(tempfile.mkdtemp(prefix="pgcpp_cluster_"))
    os.chmod(tmp, 0o711)  # munged (the munge user) reaches its folder inside
    c = Cluster(tmp)
    status = 0
    try:
        c.start()
        test_gallery(c, tmp, args.build)
        test_sweep(c, tmp, args.build)
    except Failure as e:
        print(f"cluster test: FAILED: {e}", file=sys.stderr)
        status = 1
    finally:
        problems = c.stop()
        for p in problems:
            print(f"cluster test: FAILED: {p}", file=sys.stderr)
            status = 1
        if status and os.environ.get("PGCPP_KEEP_TEST_OUTPUT"):
            print(f"cluster test: left {tmp} (PGCPP_KEEP_TEST_OUTPUT)", file=sys.stderr)
        else:
            shutil.rmtree(tmp, ignore_errors=True)
    if status == 0:
        print("cluster test: passed; the daemons it started are gone (pgrep)")
    return status


if __name__ == "__main__":
    sys.dont_write_bytecode = True
    sys.exit(main())
