#!/usr/bin/env python3
"""gallery.py --slurm and sweep.py --slurm without a cluster (ctest: slurm_submission, label unit):
what --dry-run would submit, and the one-line errors of bad arguments.

  python3 tests/cluster/test_submission.py --build build
"""
from __future__ import annotations

import json
import re
import subprocess
import sys
import tempfile
import unittest
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT / "scripts"))
sys.dont_write_bytecode = True
import gallery_cards  # noqa: E402

BUILD = "build"


def run(script: str, *args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, str(ROOT / "scripts" / script), *args], cwd=ROOT, capture_output=True,
                          text=True, timeout=60)


def submissions(script: str) -> dict:
    """job name -> (array, afterok names, afterany names, cpus) from a printed submission script."""
    out = {}
    for m in re.finditer(r"job_(\w+)=\$\(sbatch --parsable(?: --dependency=(\S+) --kill-on-invalid-dep=yes)? "
                         r"<<'PGCPP_JOB_SCRIPT'\n(.*?)PGCPP_JOB_SCRIPT", script, re.S):
        deps = {"afterok": [], "afterany": []}
        for d in (m.group(2) or "").split(","):
            if d:
                kind, _, ids = d.partition(":")
                deps[kind] = re.findall(r"\$\{job_(\w+)\}", ids)
        body = m.group(3)
        name = re.search(r"--job-name=pgcpp-(\S+)", body).group(1).replace("-", "_")  # as in the shell variables
        array = re.search(r"--array=(\S+)", body)
        cpus = int(re.search(r"--cpus-per-task=(\d+)", body).group(1))
        out[name] = (array.group(1) if array else None, deps["afterok"], deps["afterany"], cpus, body)
    return out


class GalleryDryRun(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.tmp = tempfile.TemporaryDirectory(prefix="pgcpp_slurm_test_")
        t = Path(cls.tmp.name)
        (t / "bin").mkdir()
        for j in gallery_cards.JOBS:  # stand-ins for the executables: dry runs only hash them
            (t / "bin" / j.exe).write_text(f"not {j.exe}\n")
        cls.build, cls.out = t, t / "figures"

    @classmethod
    def tearDownClass(cls):
        cls.tmp.cleanup()

    def dry(self, *extra):
        r = run("gallery.py", "--slurm", "--dry-run", "--build", str(self.build), "--out", str(self.out), *extra)
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertEqual(subprocess.run(["bash", "-n"], input=r.stdout, text=True).returncode, 0, "not valid bash")
        return submissions(r.stdout)

    # Bug caught: a job of --full left out, its seeds not 5, a dependency dropped (a comparison drawn before
    # its inputs), or the page waiting on only some jobs.
    def test_full_covers_every_job_with_its_seeds_and_dependencies(self):
        subs = self.dry("--full")
        ids = [j.id for j in gallery_cards.JOBS]
        for j in gallery_cards.JOBS:
            self.assertIn(j.id, subs, f"{j.id} is not submitted")
            if j.seeds:
                array, after_ok, _, cpus, body = subs[j.id + "_seeds"]
                self.assertEqual(array, "1-5", j.id)
                self.assertEqual(cpus, 1, j.id)
                self.assertIn(f"--seed \"$SLURM_ARRAY_TASK_ID\" --out \"{self.out}/runs/{j.id}/seed$SLURM_ARRAY_TASK_ID\"", body)
                self.assertEqual(subs[j.id][1], [j.id + "_seeds"], f"{j.id}'s aggregate must wait for its seeds")
                self.assertIn("--seeds 5 --out " + str(self.out / "runs" / j.id) + " --aggregate", subs[j.id][4])
            self.assertEqual(sorted(subs[j.id][1] if not j.seeds else subs[j.id + "_seeds"][1]), sorted(j.after),
                             f"{j.id} must start after exactly its inputs")
            for a in j.after:
                self.assertLess(ids.index(a), ids.index(j.id))
        self.assertEqual(sorted(subs["page"][2]), sorted(ids), "the page waits for every job")  # ids have no '-' 
        self.assertIn("--page-only", subs["page"][4])
        self.assertIn("--full", subs["page"][4])
        self.assertEqual(subs["gae_lambda"][3], 5, "the lambda sweep runs its 5 seeds in 5 threads")
        self.assertEqual(len(subs), len(ids) + sum(1 for j in gallery_cards.JOBS if j.seeds) + 1)

    # Bug caught: a seed already done resubmitted (no resume), or one not done left out.
    def test_a_seed_up_to_date_is_not_resubmitted(self):
        import hashlib
        sha = hashlib.sha256((self.build / "bin" / "reinforce").read_bytes()).hexdigest()
        seed = self.out / "runs" / "reinforce_minibatch" / "seed2"
        seed.mkdir(parents=True)
        command = [str(self.build / "bin" / "reinforce"), "--quiet", "--seed", "2", "--out", str(seed)]
        (seed / "gallery_stamp.json").write_text(json.dumps({"command": command, "binary_sha256": sha, "ok": True}))
        try:
            subs = self.dry()
            self.assertEqual(subs["reinforce_minibatch_seeds"][0], "1,3")
            stale = dict(json.loads((seed / "gallery_stamp.json").read_text()), binary_sha256="0" * 64)
            (seed / "gallery_stamp.json").write_text(json.dumps(stale))
            self.assertEqual(self.dry()["reinforce_minibatch_seeds"][0], "1-3", "another executable: rerun")
            self.assertEqual(self.dry("--force")["reinforce_minibatch_seeds"][0], "1-3")
        finally:
            (seed / "gallery_stamp.json").unlink()

    def test_slurm_options_reach_every_job_script(self):
        r = run("gallery.py", "--slurm", "--dry-run", "--build", str(self.build), "--out", str(self.out),
                "--only", "ppo", "--partition", "cpu", "--time", "1:30:00", "--account", "lab",
                "--sbatch-arg=--qos=long")
        self.assertEqual(r.returncode, 0, r.stderr)
        subs = submissions(r.stdout)
        self.assertEqual(sorted(subs), ["page", "ppo", "ppo_seeds"])
        for name, (_, _, _, _, body) in subs.items():
            for line in ("#SBATCH --partition=cpu", "#SBATCH --time=1:30:00", "#SBATCH --account=lab",
                         "#SBATCH --qos=long"):
                self.assertIn(line, body, name)

    # Bug caught: a bad argument accepted (a submission that cannot run), or a traceback instead of one line.
    def test_bad_arguments_are_one_line_errors(self):
        b = ["--build", str(self.build), "--out", str(self.out)]
        cases = [(["--slurm", "--jobs", "2"], "--jobs"), (["--slurm", "--page-only"], "--page-only"),
                 (["--slurm", "--list"], "--list"), (["--dry-run"], "--dry-run"), (["--partition", "x"], "--partition"),
                 (["--slurm", "--time", "soon"], "--time"), (["--slurm", "--partition", "a b"], "--partition"),
                 (["--slurm", "--sbatch-arg=--array=1-3"], "--array"), (["--slurm", "--sbatch-arg=qos"], "--sbatch-arg"),
                 (["--slurm", "--cards", "no/such/cards.py"], "--cards"), (["--slurm", "--only", "nope"], "nope")]
        for args, word in cases:
            r = run("gallery.py", *(b + args))
            self.assertEqual(r.returncode, 2, args)
            self.assertEqual(len(r.stderr.strip().splitlines()), 1, f"{args}: {r.stderr}")
            self.assertIn(word, r.stderr, args)


class SweepDryRun(unittest.TestCase):
    # Bug caught: a point of the grid missing, seeds not one array per point, the figure drawn before
    # an aggregate, a comma-holding value split.
    def test_a_2x2_grid(self):
        with tempfile.TemporaryDirectory() as t:
            r = run("sweep.py", "reinforce", "--lr", "0.001,0.01", "--hidden", "16,16/32", "--episodes", "20",
                    "--seeds", "2", "--build", BUILD, "--out", t, "--slurm", "--dry-run")
            self.assertEqual(r.returncode, 0, r.stderr)
            subs = submissions(r.stdout)
            points = {name: s for name, s in subs.items() if re.fullmatch(r"p\d", name)}
            self.assertEqual(len(points), 4)
            bodies = " ".join(s[4] for s in subs.values())
            for folder in ("lr0.001-hidden16_16", "lr0.001-hidden32", "lr0.01-hidden16_16", "lr0.01-hidden32"):
                self.assertIn(f"{t}/{folder}/seed$SLURM_ARRAY_TASK_ID", bodies)
            self.assertIn("--hidden 16,16 --episodes 20", bodies)
            for name, s in points.items():
                self.assertEqual(subs[name + "_seeds"][0], "1-2")
                self.assertEqual(s[1], [name + "_seeds"])
            self.assertEqual(sorted(subs["compare"][1]), sorted(points))
            self.assertIn("bin/compare --out " + t, subs["compare"][4])

    def test_bad_arguments_are_one_line_errors(self):
        b = ["--build", BUILD, "--dry-run", "--slurm"]
        cases = [(["reinforce", "--lr", "0.1"], "no grid"), (["reinforce", "--bogus", "1,2"], "--bogus"),
                 (["reinforce", "--load", "a,b"], "--load"), (["reinforce", "--lr", "0.1,,0.2"], "empty"),
                 (["reinforce", "--lr", "0.1,0.1"], "twice"), (["reinforce", "--lr"], "--lr"),
                 (["reinforce", "--lr", "1,2", "--seeds", "0"], "--seeds"), (["no_such_demo", "--lr", "1,2"], "no_such_demo"),
                 (["../reinforce", "--lr", "1,2"], "PROGRAM"), (["reinforce", "stray"], "stray")]
        for args, word in cases:
            r = run("sweep.py", *(args + b))
            self.assertEqual(r.returncode, 2, args)
            self.assertEqual(len(r.stderr.strip().splitlines()), 1, f"{args}: {r.stderr}")
            self.assertIn(word, r.stderr, args)


if __name__ == "__main__":
    if "--build" in sys.argv:
        i = sys.argv.index("--build")
        BUILD = sys.argv[i + 1]
        del sys.argv[i:i + 2]
    unittest.main(verbosity=1)
