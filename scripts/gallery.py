#!/usr/bin/env python3
"""Rebuilds the chapter's figures and writes figures/index.html, one card per figure.

  python3 scripts/gallery.py            every implemented section's demo, default settings, 3 seeds per
                                        learning curve (mean and band; 2 for SAC and MBPO); about 9.5 minutes on 2 cores,
                                        the claims included
  python3 scripts/gallery.py --full     5 seeds and the book's budgets (much longer; same folders, so the
                                        default run afterwards reruns those jobs)
  python3 scripts/gallery.py --full --slurm [--partition P --time T --account A --sbatch-arg ARG]
                                        the same on a Slurm cluster (README, "On a cluster")

Runs the jobs of scripts/gallery_cards.py (the data: which demo makes which figure, the book's
statement about each figure and the numeric criterion its card checks) from the repository root,
in parallel up to the number of cores, with a progress line. Each job writes into
figures/runs/<job>/ and leaves a stamp there (its command and the SHA-256 of its executable): a
job whose stamp matches the current build and command is not run again, so an interrupted
gallery resumes where it stopped (--force runs everything). A card whose demo is not built (not
in <build>/bin) says "not implemented yet — Section 3.x". The page needs nothing from the
network: it links the SVGs in figures/runs/ and the book's PNGs in figures/book/. After the figure
cards comes "The chapter's claims, in numbers": the cards whose id starts with "claim-"
(scripts/gallery_claims.py, scripts/gallery_claims_offpolicy.py), each a sentence of the book, the
experiment that tests it and a criterion fixed before the run, counted apart in the summary line.

With --slurm nothing runs here: the jobs are submitted with sbatch (scripts/slurm.py), each seed of
a learning curve as one task of an array (`--seed s --out figures/runs/<job>/seed<s>`), then one
task per such job that aggregates its seeds (`--seeds K --aggregate`: the summary.json and
curve.svg that one local --seeds K run writes, and the job's stamp with that local command), jobs
that read other jobs' outputs after those (afterok), and last a task that writes the page
(--page-only, afterany: also when something failed). A (job, seed) whose outputs are up to date is
not resubmitted, so after a node failure the same command submits only what is missing.
--dry-run prints the submission script instead.

Exit status: 0 when every job that ran succeeded (a card marked ✗ is a result, not an error), 1
if a demo failed (its card shows the error; the page is still written), 2 on a usage error,
130 when interrupted.
"""
from __future__ import annotations

import argparse
import csv
import datetime
import html
import json
import math
import os
import shlex
import shutil
import signal
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Optional

sys.dont_write_bytecode = True  # no __pycache__ in scripts/
sys.path.insert(0, str(Path(__file__).resolve().parent))
import gallery_cards  # noqa: E402
import slurm  # noqa: E402
from gallery_cards import Card, Job  # noqa: E402

ROOT = Path(__file__).resolve().parent.parent
STAMP = "gallery_stamp.json"


# ---------------------------------------------------------------------------------------------
# Results of a job, read back from its folder

@dataclass
class SeedRun:
    seed: int
    dir: Path
    summary: dict
    returns: list[float]
    steps: list[int]
    rows: list[dict] = field(default_factory=list)  # metrics.csv, one dict per episode

    def solved_at(self, threshold: float, window: int) -> Optional[tuple[int, int]]:
        """First episode (from 1) at which the mean return of the last `window` episodes is >= threshold."""
        total = 0.0
        for i, r in enumerate(self.returns):
            total += r
            if i >= window:
                total -= self.returns[i - window]
            if i + 1 >= window and total / window >= threshold:
                return i + 1, self.steps[i]
        return None

    def last_mean(self, n: int) -> float:
        tail = self.returns[-n:]
        return sum(tail) / len(tail) if tail else math.nan


@dataclass
class Run:
    job: Job
    dir: Path
    stamp: dict
    seeds: list[SeedRun] = field(default_factory=list)
    stdout: str = ""
    stale: bool = False


def read_seed(dir: Path, seed: int) -> SeedRun:
    summary = json.loads((dir / "summary.json").read_text())
    returns, steps, rows = [], [], []
    with open(dir / "metrics.csv", newline="") as f:
        for row in csv.DictReader(f):
            returns.append(float(row["return"]))
            steps.append(int(float(row["env_steps"])))
            rows.append(row)
    return SeedRun(int(summary.get("seed", seed)), dir, summary, returns, steps, rows)


def load_run(job: Job, dir: Path, stamp: dict, current: dict) -> Run:
    run = Run(job, dir, stamp, stale=stamp.get("command") != current.get("command")
              or stamp.get("binary_sha256") != current.get("binary_sha256"))
    if (dir / "stdout.txt").exists():
        run.stdout = (dir / "stdout.txt").read_text(errors="replace")
    if job.seeds:
        seed_dirs = sorted((p for p in dir.glob("seed*") if p.name[4:].isdigit()), key=lambda p: int(p.name[4:]))
        for p in seed_dirs or [dir]:
            run.seeds.append(read_seed(p, int(p.name[4:]) if p.name[4:].isdigit() else 0))
    return run


# ---------------------------------------------------------------------------------------------
# Running the jobs

def shown_path(p: Path) -> str:
    """A path as the reader types it from the repository root."""
    try:
        return str(p.resolve().relative_to(ROOT))
    except ValueError:
        return str(p.resolve())


@dataclass
class Task:
    job: Job
    command: list[str]
    dir: Path
    binary: Path
    weight: int
    est: float  # core-seconds
    label: str = ""  # the job and its figures, for the progress line
    proc: Optional[subprocess.Popen] = None
    started: float = 0.0
    log: Optional[object] = None


def command_for(job: Job, binary: Path, out: Path, full: bool) -> list[str]:
    exe = "./" + shown_path(binary) if not Path(shown_path(binary)).is_absolute() else shown_path(binary)
    runs = shown_path(out.parent)
    cmd = [exe] + [a.replace("{runs}", runs) for a in job.args + (job.full_args if full else job.quick_args)]
    if job.seeds:
        cmd += ["--seeds", str(5 if full else job.seeds)]
    return cmd + ["--out", shown_path(out)]


def fmt_time(s: float) -> str:
    s = max(0, int(round(s)))
    return f"{s // 60}:{s % 60:02d}"


class Progress:
    def __init__(self, total: int, cores: int):
        self.total, self.cores, self.done = total, cores, 0
        self.start = time.monotonic()
        self.tty = sys.stderr.isatty()
        self.last_plain = 0.0

    def eta(self, pending: list[Task], running: list[Task]) -> float:
        now = time.monotonic()
        work = sum(t.est for t in pending)
        work += sum(max(t.est - (now - t.started) * t.weight, 0.05 * t.est) for t in running)
        return work / self.cores

    def line(self, pending, running) -> str:
        now = time.monotonic()
        names = ", ".join(f"{t.label} {fmt_time(now - t.started)}" for t in running) or "—"
        return (f"gallery [{self.done}/{self.total} done] running: {names} | elapsed "
                f"{fmt_time(now - self.start)} | ETA ~{fmt_time(self.eta(pending, running))}")

    def show(self, pending, running, force=False):
        if self.tty:
            cols = shutil.get_terminal_size((120, 20)).columns
            sys.stderr.write("\r\033[K" + self.line(pending, running)[: cols - 1])
            sys.stderr.flush()
        elif force or time.monotonic() - self.last_plain > 30:
            self.last_plain = time.monotonic()
            print(self.line(pending, running), file=sys.stderr, flush=True)

    def event(self, text: str):
        if self.tty:
            sys.stderr.write("\r\033[K")
        print(text, file=sys.stderr, flush=True)


def run_tasks(tasks: list[Task], cores: int) -> list[str]:
    """Runs the tasks, longest first, keeping the sum of their weights <= cores. Returns errors."""
    pending = sorted(tasks, key=lambda t: -t.est)
    running: list[Task] = []
    errors: list[str] = []
    progress = Progress(len(tasks), cores)
    try:
        while pending or running:
            used = sum(t.weight for t in running)
            for t in list(pending):
                waiting = {u.job.id for u in pending + running}
                if any(a in waiting for a in t.job.after):
                    continue  # it reads the outputs of a job not finished yet
                if not running or used + t.weight <= cores:
                    if t.dir.exists():
                        shutil.rmtree(t.dir)
                    t.dir.mkdir(parents=True)
                    t.log = open(t.dir / "gallery.log", "w")
                    t.started = time.monotonic()
                    t.proc = subprocess.Popen(t.command, cwd=ROOT, stdout=subprocess.PIPE, stderr=t.log, text=True)
                    pending.remove(t)
                    running.append(t)
                    used += t.weight
                    progress.event(f"gallery: start {t.job.id}: {shlex.join(t.command)}")
            time.sleep(0.25)
            for t in list(running):
                if t.proc.poll() is None:
                    continue
                out = t.proc.stdout.read()
                t.log.close()
                wall = time.monotonic() - t.started
                (t.dir / "stdout.txt").write_text(out)
                running.remove(t)
                progress.done += 1
                if t.proc.returncode == 0:
                    stamp = {"command": t.command, "binary_sha256": slurm.sha256(t.binary), "ok": True,
                             "wall_seconds": round(wall, 2), "weight": t.weight,
                             "finished": datetime.datetime.now().isoformat(timespec="seconds")}
                    (t.dir / STAMP).write_text(json.dumps(stamp, indent=2) + "\n")
                    progress.event(f"gallery: [{progress.done}/{progress.total}] {t.label} done in {wall:.1f} s")
                else:
                    err = (t.dir / "gallery.log").read_text(errors="replace").strip().splitlines()
                    msg = f"{t.job.id}: exit {t.proc.returncode}: " + (err[-1] if err else "(no message)")
                    errors.append(msg)
                    progress.event(f"gallery: [{progress.done}/{progress.total}] FAILED {msg}")
            progress.show(pending, running)
    except KeyboardInterrupt:
        for t in running:
            t.proc.terminate()
        for t in running:
            t.proc.wait()
        progress.event("gallery: interrupted; finished jobs are kept, the next run resumes")
        raise
    if progress.tty:
        sys.stderr.write("\r\033[K")
    return errors


# ---------------------------------------------------------------------------------------------
# The page

CSS = """
body { font-family: system-ui, -apple-system, "Segoe UI", "DejaVu Sans", sans-serif; margin: 0; color: #1d1d1f;
       background: #f4f4f6; line-height: 1.45; }
header, main, footer { max-width: 1320px; margin: 0 auto; padding: 0 20px; }
header h1 { margin: 18px 0 4px; font-size: 26px; }
.meta { color: #555; font-size: 14px; margin: 2px 0; }
.tally span { display: inline-block; margin-right: 14px; font-weight: 600; }
table { border-collapse: collapse; font-size: 13.5px; }
th, td { border-bottom: 1px solid #ddd; padding: 3px 10px 3px 0; text-align: left; vertical-align: top; }
th { color: #444; font-weight: 600; }
td.num, th.num { text-align: right; padding-right: 14px; font-variant-numeric: tabular-nums; }
nav table { margin: 10px 0 18px; background: white; border: 1px solid #ddd; }
nav td, nav th { padding: 4px 12px; }
nav a { display: inline-block; margin: 1px 6px 1px 0; padding: 1px 7px; border-radius: 4px; text-decoration: none;
        border: 1px solid #ccd; color: #1a4d8f; font-size: 13px; }
nav a.ok { background: #e6f4ea; border-color: #9cd3ab; } nav a.fail { background: #fdecea; border-color: #f1a9a0; }
nav a.todo { color: #777; border-style: dashed; }
.card { background: white; border: 1px solid #d8d8dc; border-radius: 8px; margin: 18px 0; padding: 14px 18px; }
.card h2 { font-size: 19px; margin: 0 0 2px; }
.card .where { color: #666; font-size: 13.5px; margin-bottom: 8px; }
.card.todo { background: #fafafa; }
.card.todo h2 { color: #555; }
.card.todo figure { max-width: 560px; }
.figs { display: flex; flex-wrap: wrap; gap: 14px; align-items: flex-start; }
figure { margin: 0; flex: 1 1 420px; min-width: 300px; }
figure.wide { flex-basis: 100%; }
figure img { width: 100%; height: auto; border: 1px solid #e2e2e2; background: white; }
figure.book img { border-color: #c9c2a8; }
figcaption { font-size: 12.5px; color: #555; margin-top: 2px; }
blockquote { margin: 10px 0 6px; padding: 6px 12px; border-left: 4px solid #c9c2a8; background: #faf8f0;
             font-style: italic; }
.shows { font-size: 14px; margin: 4px 0; }
.verdict { margin: 8px 0; padding: 6px 10px; border-radius: 5px; font-size: 14.5px; }
.verdict.ok { background: #e6f4ea; border: 1px solid #9cd3ab; }
.verdict.fail { background: #fdecea; border: 1px solid #f1a9a0; }
.verdict.none { background: #f1f1f3; border: 1px solid #d5d5da; }
.mark { font-weight: 700; font-size: 17px; margin-right: 6px; }
.ok .mark, td.ok { color: #137333; } .fail .mark, td.fail { color: #b3261e; }
pre.cmd { background: #1f2430; color: #e8e8e8; padding: 7px 10px; border-radius: 5px; overflow-x: auto;
          font-size: 13px; margin: 8px 0; }
.todo-label { font-weight: 600; color: #7a5b00; background: #fff4cf; border: 1px solid #e7d48a; padding: 2px 8px;
              border-radius: 4px; display: inline-block; margin: 6px 0; }
.stale { color: #7a5b00; font-weight: 600; }
details { margin-top: 6px; font-size: 13.5px; } details pre { font-size: 12px; overflow-x: auto; }
.note { font-size: 13.5px; color: #444; }
footer { color: #555; font-size: 13px; padding-bottom: 30px; }
h1.part { font-size: 24px; margin: 34px 0 4px; padding-top: 10px; border-top: 3px solid #c9c2a8; }
.card.claim { border-left: 5px solid #c9c2a8; }
"""

e = html.escape


def num(x, fmt="{:.1f}") -> str:
    if x is None or (isinstance(x, float) and math.isnan(x)):
        return "—"
    return fmt.format(x)


def rel(path: Path, page_dir: Path) -> str:
    return os.path.relpath(path, page_dir).replace(os.sep, "/")


def section_of(card: Card) -> str:
    return "Section " + card.section + (", " + card.example if card.example else "")


def seed_table(run: Run) -> str:
    job = run.job
    head = ["seed"]
    if job.threshold is not None:
        head += [f"episodes to {job.window}-ep. avg ≥ {job.threshold:g}", "env steps then"]
    head += ["episodes run", "env steps run", "final return (last 20)", "evaluation return", "wall s"]
    rows = []
    for s in run.seeds:
        cells = [f"<td>{s.seed}</td>"]
        if job.threshold is not None:
            at = s.solved_at(job.threshold, job.window)
            cells += [f'<td class="num">{at[0] if at else "not reached"}</td>', f'<td class="num">{at[1] if at else "—"}</td>']
        sm = s.summary
        ev = sm.get("eval_return_mean")
        ev_text = f"{num(ev)} ± {num(sm.get('eval_return_std'))} ({sm.get('eval_episodes', '?')} ep.)"
        cells += [f'<td class="num">{sm.get("episodes", len(s.returns))}</td>',
                  f'<td class="num">{sm.get("env_steps", "—")}</td>',
                  f'<td class="num">{num(sm.get("final_return"), "{:.2f}")}</td>',
                  f'<td class="num">{ev_text}</td>', f'<td class="num">{num(sm.get("wall_seconds"))}</td>']
        rows.append("<tr>" + "".join(cells) + "</tr>")
    ths = "".join(f'<th{" class=num" if i else ""}>{e(h)}</th>' for i, h in enumerate(head))
    return f"<table><tr>{ths}</tr>{''.join(rows)}</table>"


def our_figures(card: Card, run: Run, page_dir: Path) -> str:
    first = f"seed{run.seeds[0].seed}" if run.seeds and run.seeds[0].dir != run.dir else "."
    parts = []
    for name in card.ours:
        p = (run.dir / name.replace("{seed}", first)).resolve()
        if not p.exists():
            parts.append(f"<figure><p class=stale>missing: {e(shown_path(p))}</p></figure>")
            continue
        if name.endswith("rollout.svg"):
            cap, cls = f"ours: filmstrip of evaluation episode 1 of the first seed ({first.replace('seed', 'seed ')})", "wide"
        elif name.endswith("rollout_anim.svg"):
            cap, cls = "ours: the same episode, animated", ""
        elif name == "curve.svg" and len(run.seeds) > 1:
            cap, cls = (f"ours: mean over {len(run.seeds)} seeds of each seed's 20-episode moving average, band "
                        "min–max over seeds, drawn up to where the shortest run stopped (a run stops when solved); "
                        "every episode of one seed: " + " ".join(
                            f'<a href="{rel(s.dir / "curve.svg", page_dir)}">seed {s.seed}</a>' for s in run.seeds)), ""
        else:
            shown_name = name.replace("{seed}", first).removeprefix("../")
            cap, cls = f"ours: {shown_name}", "wide" if not card.book and not is_claim(card) else ""
        cap = cap if "<a " in cap else e(cap)
        parts.append(f'<figure class="{cls}"><a href="{rel(p, page_dir)}"><img src="{rel(p, page_dir)}" '
                     f'alt="{e(card.title)}, ours"></a><figcaption>{cap}</figcaption></figure>')
    return "".join(parts)


def book_figures(card: Card, book_dir: Path, page_dir: Path) -> str:
    parts = []
    for name in card.book:
        p = book_dir / name
        label = name.removesuffix(".png").replace("fig", "Fig. ")
        parts.append(f'<figure class="book"><img src="{rel(p, page_dir)}" alt="the book\'s {e(label)}">'
                     f"<figcaption>the book's {e(label)} (CC0; from the course's example scripts)</figcaption></figure>")
    return "".join(parts)


def verdict(card: Card, run: Optional[Run]) -> tuple[str, str]:
    """(class, html): ok / fail / none."""
    if card.check is None:
        return "none", '<div class="verdict none"><span class="mark">—</span>no numeric claim to check: the book ' \
                       "states none for this figure</div>"
    try:
        passed, measured = card.check.fn(run)
    except Exception as ex:  # a broken criterion must show, not crash the page
        passed, measured = False, f"criterion could not be evaluated: {type(ex).__name__}: {ex}"
    cls = "ok" if passed else "fail"
    mark = "✓ reproduced" if passed else "✗ not reproduced"
    return cls, (f'<div class="verdict {cls}"><span class="mark">{mark}</span> criterion: {e(card.check.criterion)}'
                 f"<br>measured: {e(measured)}</div>")


def is_claim(card: Card) -> bool:
    """A claim card (issue 21): drawn in the page's claims section, counted apart."""
    return card.id.startswith("claim-")


def render_card(card: Card, job: Optional[Job], run: Optional[Run], state: str, book_dir: Path,
                page_dir: Path, error: str, shown_before: Optional[Card] = None,
                command: Optional[list[str]] = None, other_commands: Optional[dict] = None,
                also_after: bool = False) -> tuple[str, str]:
    """Returns (status for the contents table, the card's HTML). other_commands: job -> command of
    the jobs in card.also (a claim's check reads their runs; or, also_after, figures drawn from the
    card's own run), shown with the card's own."""
    kind = " — a claim of the chapter" if is_claim(card) else \
        " — our extra figure" if not card.book and not card.id.startswith("fig") else ""
    head = (f'<section class="card{" claim" if is_claim(card) else ""}{" todo" if state != "done" else ""}" '
            f'id="{e(card.id)}"><h2>{e(card.title)}</h2>'
            f'<div class="where">{e(section_of(card))}{kind}</div>')
    quote = f"<blockquote>“{e(card.quote)}”<br><small>— the book, Section {e(card.section)}</small></blockquote>" if card.quote else ""
    shows = f'<p class="shows"><b>What the book\'s figure shows:</b> {e(card.shows)}</p>' if card.shows else ""
    note = f'<p class="note">{e(card.note)}</p>' if card.note else ""
    if state == "todo":
        body = (f'<div class="todo-label">not implemented yet — Section {e(card.section)}</div>'
                f'<div class="figs">{book_figures(card, book_dir, page_dir)}</div>{quote}{shows}{note}')
        return "not implemented yet", head + body + "</section>"
    if state != "done":
        if error and command:
            log = shown_path(ROOT / command[command.index("--out") + 1] / "gallery.log") if "--out" in command else ""
            msg = f"run failed — {error}" + (f" (its messages: {log})" if log else "")
            cmd = command
        else:
            msg, cmd = error or "not run yet: run python3 scripts/gallery.py", run_command_hint(job)
        body = (f'<div class="verdict fail"><span class="mark">✗</span>{e(msg)}</div>'
                f'<pre class="cmd">{e(shlex.join(cmd))}</pre>'
                f'<div class="figs">{book_figures(card, book_dir, page_dir)}</div>{quote}{shows}')
        return "failed" if error else "not run", head + body + "</section>"
    vcls, vhtml = verdict(card, run)
    stale = ('<p class="stale">These outputs were made by another build or command than the current one; '
             "rerun python3 scripts/gallery.py.</p>") if run.stale else ""
    wall = run.stamp.get("wall_seconds")
    cmd = f'<pre class="cmd">{e(shlex.join(run.stamp["command"]))}</pre>'
    if card.also and other_commands and also_after:
        cmd += ('<p class="note">and the figures drawn from that run by:</p>' +
                "".join(f'<pre class="cmd">{e(shlex.join(other_commands[j]))}</pre>' for j in card.also
                        if j in other_commands))
    elif card.also and other_commands:
        cmd = ('<p class="note">The runs it reads, made by:</p>' +
               "".join(f'<pre class="cmd">{e(shlex.join(other_commands[j]))}</pre>' for j in card.also
                       if j in other_commands) + '<p class="note">and this figure by:</p>' + cmd)
    numbers = seed_table(run) if run.seeds else ""
    if shown_before is not None:
        numbers = (f'<p class="note">Same run as <a href="#{e(shown_before.id)}">{e(shown_before.title)}</a>: '
                   "its per-seed numbers are there.</p>")
    elif not run.seeds and run.stdout.strip():
        numbers = (f"<details><summary>what the demo printed (run took {num(wall)} s)</summary>"
                   f"<pre>{e(run.stdout.strip())}</pre></details>")
    elif wall is not None and run.seeds:
        numbers += f'<p class="note">whole job: {num(wall)} s wall, {len(run.seeds)} seeds in parallel threads</p>'
    body = (f'<div class="figs">{our_figures(card, run, page_dir)}{book_figures(card, book_dir, page_dir)}</div>'
            f"{quote}{shows}{vhtml}{note}{stale}{cmd}{numbers}")
    return {"ok": "✓", "fail": "✗", "none": "—"}[vcls], head + body + "</section>"


_hint_full = False


def run_command_hint(job: Optional[Job]) -> list[str]:
    return ["python3", "scripts/gallery.py"] + (["--full"] if _hint_full else [])


def git_describe() -> str:
    try:
        head = subprocess.run(["git", "rev-parse", "--short", "HEAD"], cwd=ROOT, capture_output=True, text=True,
                              timeout=10).stdout.strip()
        dirty = subprocess.run(["git", "status", "--porcelain", "--untracked-files=no"], cwd=ROOT,
                               capture_output=True, text=True, timeout=10).stdout.strip()
        return head + (" + local changes" if dirty else "") if head else "unknown"
    except (OSError, subprocess.SubprocessError):
        return "unknown"


def write_page(path: Path, cards: list[Card], jobs: dict, runs: dict, states: dict, errors: dict, book_dir: Path,
               info: dict, commands: dict):
    page_dir = path.parent
    html_cards, tally = [], {"✓": 0, "✗": 0, "—": 0, "not implemented yet": 0, "failed": 0, "not run": 0}
    claim_cards, claim_tally = [], dict.fromkeys(tally, 0)
    toc: dict[str, list[str]] = {}  # chapter section (3.1 ... 3.5) -> its cards' links
    claim_links: list[str] = []
    first_card_of_job: dict[str, Card] = {}
    for c in cards:
        state = states.get(c.id, "todo")
        status, text = render_card(c, jobs.get(c.job), runs.get(c.job), state, book_dir, page_dir,
                                   errors.get(c.job, ""), first_card_of_job.get(c.job) if state == "done" else None,
                                   commands.get(c.job), commands,
                                   also_after=bool(c.also) and all(c.job in jobs[j].after for j in c.also if j in jobs))
        if state == "done":
            first_card_of_job.setdefault(c.job, c)
        if is_claim(c):
            claim_tally[status] = claim_tally.get(status, 0) + 1
            cls = {"✓": "ok", "✗": "fail", "failed": "fail"}.get(status, "todo" if status == "not implemented yet" else "")
            mark = {"not implemented yet": "·", "failed": "✗", "not run": "?"}.get(status, status)
            short = c.title.split(" — ")[0]
            claim_links.append(f'<a class="{cls}" href="#{e(c.id)}" title="{e(c.title)}: {e(status)}">'
                               f'{e(short)} ({e(c.section)})&nbsp;{e(mark)}</a>')
            claim_cards.append(text)
            continue
        tally[status] = tally.get(status, 0) + 1
        cls = {"✓": "ok", "✗": "fail", "failed": "fail"}.get(status, "todo" if status == "not implemented yet" else "")
        mark = {"not implemented yet": "·", "failed": "✗", "not run": "?"}.get(status, status)
        short = c.title.split(" — ")[0] if c.title.startswith("Fig.") else c.title.split(" (")[0]
        toc.setdefault(".".join(c.section.split(".")[:2]), []).append(
            f'<a class="{cls}" href="#{e(c.id)}" title="{e(c.title)}: {e(status)}">{e(short)}&nbsp;{e(mark)}</a>')
        html_cards.append(text)
    toc_rows = "".join(f"<tr><th>{e(sec)}</th><td>{' '.join(links)}</td></tr>" for sec, links in toc.items())
    if claim_links:
        toc_rows += f"<tr><th><a href=\"#claims\">claims</a></th><td>{' '.join(claim_links)}</td></tr>"
    labels = {"✓": "✓ reproduced", "✗": "✗ not reproduced", "—": "— no claim to check",
              "not implemented yet": "not implemented yet", "failed": "run failed", "not run": "not run"}
    tally_html = "".join(f"<span>{tally[k]} {e(labels[k])}</span>" for k in labels if tally.get(k))
    n_fig = len(cards) - len(claim_cards)
    claim_short = {"✓": "✓", "✗": "✗", "—": "—", "not implemented yet": "not implemented yet",
                   "failed": "run failed", "not run": "not run"}
    claims_html = (f'<p class="meta tally">claims: {len(claim_cards)} — ' +
                   ", ".join(f"{claim_tally[k]} {e(claim_short[k])}" for k in claim_short if claim_tally.get(k)) +
                   "</p>") if claim_cards else ""
    claims_section = (
        '<section id="claims"><h1 class="part">The chapter\'s claims, in numbers</h1>'
        '<p class="meta">Each card quotes a sentence of the chapter, runs an experiment that tests it, and checks a '
        "numeric criterion written down before the run: ✓ when the numbers bear the sentence out, ✗ with what we "
        "measured when they do not. Link a claim as <code>index.html#claim-…</code>.</p>"
        + "".join(claim_cards) + "</section>") if claim_cards else ""
    page = f"""<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>pgcpp — Chapter 3 figures</title><style>{CSS}</style></head>
<body><header>
<h1>Chapter 3, Policy Gradient Methods — the figures, rebuilt</h1>
<p class="meta">Every card: our figure next to the book's, the book's own words about it, a numeric criterion with
✓ or ✗, the exact command that made our figure (run from the repository root) and the per-seed numbers of its
<code>summary.json</code> / <code>metrics.csv</code>.</p>
<p class="meta">{e(info["mode"])} · build <code>{e(info["build"])}</code> · commit {e(info["commit"])} ·
written {e(info["written"])} · this gallery run: {e(info["wall"])}</p>
<p class="meta tally">{n_fig} figure cards: {tally_html}</p>
{claims_html}
<nav><table><tr><th>section</th><th>cards (✓ reproduced, ✗ not, — no claim, · not implemented yet)</th></tr>
{toc_rows}</table></nav>
</header>
<main>{"".join(html_cards)}{claims_section}</main>
<footer><p>The book's figures (<code>figures/book/</code>) are from the book's source repository
(hankyang94/OptimalControlReinforcementLearning, <code>images/Policy-Gradients/</code>), made with the course's
public example scripts and released under CC0 1.0 Universal. Quotations are from the chapter's text. Our figures
are written by <code>plot/</code> and the demos in <code>demos/</code>; this page by
<code>scripts/gallery.py</code> from the cards in <code>scripts/gallery_cards.py</code>.</p></footer>
</body></html>
"""
    path.write_text(page)


# ---------------------------------------------------------------------------------------------
# --slurm: the same jobs as sbatch tasks (scripts/slurm.py)

def seed_command(job: Job, binary: Path, out: Path, full: bool, seed: str) -> list[str]:
    """One seed of a learning-curve job: command_for's command with --seed s instead of --seeds K,
    into out = figures/runs/<job>/seed<s> (what the K-seed run writes there, byte for byte)."""
    cmd = command_for(job, binary, out, full)
    i = cmd.index("--seeds")
    return cmd[:i] + ["--seed", seed] + cmd[i + 2:]


def job_cpus(job: Job, full: bool) -> int:
    """Threads of one task of a job: 1 per seed task; a one-off job runs its --seeds K in K threads."""
    args = job.args + (job.full_args if full else job.quick_args)
    return int(args[args.index("--seeds") + 1]) if "--seeds" in args else 1


def slurm_plan(jobs: dict, build: Path, runs_dir: Path, out: Path, args) -> tuple[list[slurm.Task], list[str], dict]:
    """The tasks to submit, the jobs up to date, and per job to (re)run the seeds kept (up to date)."""
    plan: list[slurm.Task] = []
    skipped: list[str] = []
    keep: dict[str, set[str]] = {}
    last: dict[str, str] = {}  # job id -> the task that finishes it
    log_dir = out / "slurm"
    for j in jobs.values():  # JOBS lists a job after its inputs
        binary = build / "bin" / j.exe
        if not binary.exists() or (args.only and j.id not in args.only):
            continue
        d = runs_dir / j.id
        cmd = command_for(j, binary, d, args.full)
        sha = slurm.sha256(binary)
        rerun_inputs = any(a in last for a in j.after)
        if slurm.up_to_date(d, cmd, sha) and not args.force and not rerun_inputs:
            skipped.append(j.id)
            continue
        after = [last[a] for a in j.after if a in last]
        k = (5 if args.full else j.seeds) if j.seeds else 1
        if k > 1:
            todo, keep[j.id] = [], set()
            for s in range(1, k + 1):
                sd = d / f"seed{s}"
                if not args.force and not rerun_inputs and \
                        slurm.up_to_date(sd, seed_command(j, binary, sd, args.full, str(s)), sha):
                    keep[j.id].add(sd.name)
                else:
                    todo.append(s)
            if todo:
                sd = shown_path(d) + "/seed$SLURM_ARRAY_TASK_ID"
                body = slurm.runner(sd, seed_command(j, binary, ROOT / sd, args.full, "$SLURM_ARRAY_TASK_ID"))
                plan.append(slurm.Task(f"{j.id}-seeds", body, todo, 1, j.mem_mb, after, log_dir=log_dir))
            body = slurm.runner(shown_path(d), cmd + ["--aggregate"], clean=False, stamp_command=cmd,
                                wall_from=shown_path(d / "summary.json"))
            plan.append(slurm.Task(j.id, body, [], 1, j.mem_mb, [f"{j.id}-seeds"] if todo else after,
                                   log_dir=log_dir))
        else:
            plan.append(slurm.Task(j.id, slurm.runner(shown_path(d), cmd), [], job_cpus(j, args.full),
                                   j.mem_mb * job_cpus(j, args.full), after, log_dir=log_dir))
        last[j.id] = j.id
    page = ["python3", "scripts/gallery.py", "--page-only", "--build", shown_path(build), "--out", shown_path(out)]
    page += (["--full"] if args.full else []) + (["--cards", args.cards] if args.cards else [])
    plan.append(slurm.Task("page", "exec " + shlex.join(page), [], 1, 1000, [], list(last.values()),
                           log_dir=log_dir))
    return plan, skipped, keep


def clear_for_submission(runs_dir: Path, plan: list[slurm.Task], keep: dict) -> None:
    """What a local run's rmtree does before a job: a job about to run keeps nothing of an earlier
    run in its folder but its up-to-date seeds (so a page never shows an old seed or stamp)."""
    for t in plan:
        if t.name == "page" or t.name.endswith("-seeds"):
            continue
        d = runs_dir / t.name
        if not d.is_dir():
            continue
        for p in d.iterdir():
            if p.name in keep.get(t.name, set()):
                continue
            if p.is_dir() and not p.is_symlink():
                shutil.rmtree(p)
            else:
                p.unlink()


def failure_of(d: Path) -> str:
    """The message a Slurm task left (gallery_failed.json) in a job's folder or a seed's, or ""."""
    for f in [d / slurm.FAILED] + sorted(d.glob("seed*/" + slurm.FAILED)):
        try:
            info = json.loads(f.read_text())
        except (OSError, ValueError):
            continue
        where = f.parent.name + ": " if f.parent != d else ""
        return f"{d.name}: {where}exit {info.get('exit')}: {info.get('message', '')} " \
               f"(its messages: {shown_path(f.parent / 'gallery.log')})"
    return ""


def load_cards(path: str):
    """The jobs and cards: scripts/gallery_cards.py, or a file of the same form (--cards)."""
    if not path:
        return gallery_cards
    import importlib.util
    spec = importlib.util.spec_from_file_location("pgcpp_cards", ROOT / path)
    mod = importlib.util.module_from_spec(spec)
    sys.modules["pgcpp_cards"] = mod
    spec.loader.exec_module(mod)
    return mod


def main() -> int:
    global _hint_full
    ap = slurm.OneLineParser(description=__doc__.split("\n\n")[0],
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--full", action="store_true", help="5 seeds per learning curve and the book's budgets")
    ap.add_argument("--build", default="build", help="build directory holding bin/ (default: build)")
    ap.add_argument("--out", default="figures", help="where index.html and runs/ go (default: figures)")
    ap.add_argument("--jobs", type=int, default=os.cpu_count() or 1, help="cores to use (default: all)")
    ap.add_argument("--force", action="store_true", help="rerun every job even if its outputs are up to date")
    ap.add_argument("--only", nargs="+", metavar="JOB", help="run only these jobs (the page shows all cards)")
    ap.add_argument("--page-only", action="store_true", help="run nothing; write the page from existing outputs")
    ap.add_argument("--list", action="store_true", help="list the jobs and whether each is built and up to date")
    ap.add_argument("--cards", default="", metavar="FILE",
                    help="jobs and cards from FILE, a file like scripts/gallery_cards.py (default: that one)")
    slurm.add_options(ap)
    args = ap.parse_args()
    _hint_full = args.full
    jobs_given = any(a == "--jobs" or a.startswith("--jobs=") for a in sys.argv[1:])
    if args.jobs < 1 or args.jobs > 256:
        ap.error(f"--jobs must be in [1, 256], got {args.jobs}")
    options = slurm.check_options(ap, args)
    if args.slurm:
        for flag, given in (("--page-only", args.page_only), ("--list", args.list), ("--jobs", jobs_given)):
            if given:
                ap.error(f"{flag} cannot be combined with --slurm (the cluster runs the jobs)")
    if args.cards and not (ROOT / args.cards).is_file():
        ap.error(f"--cards: no file {args.cards!r}")
    cards = load_cards(args.cards)
    build = (ROOT / args.build).resolve() if not Path(args.build).is_absolute() else Path(args.build)
    out = (ROOT / args.out).resolve() if not Path(args.out).is_absolute() else Path(args.out)
    jobs = {j.id: j for j in cards.JOBS}
    for c in cards.CARDS:
        if c.job is not None and c.job not in jobs:
            print(f"gallery: card {c.id} names unknown job {c.job!r} (scripts/gallery_cards.py)", file=sys.stderr)
            return 2
    if args.only:
        unknown = [j for j in args.only if j not in jobs]
        if unknown:
            ap.error(f"--only: unknown job {unknown[0]!r} (jobs: {', '.join(jobs)})")
    if not (build / "bin").is_dir():
        print(f"gallery: no {shown_path(build)}/bin: build first (cmake --preset default && "
              "cmake --build --preset default)", file=sys.stderr)
        return 1
    runs_dir = out / "runs"
    book_dir = ROOT / "figures" / "book"

    if args.slurm:
        plan, skipped, keep = slurm_plan(jobs, build, runs_dir, out, args)
        arrays = sum(len(t.array) for t in plan)
        missing = [j.id for j in jobs.values() if not (build / "bin" / j.exe).exists()]
        print(f"gallery: --slurm: {len(plan)} submissions ({arrays} array tasks); up to date, not resubmitted: "
              f"{', '.join(skipped) or 'none'}" + (f"; not built, not run: {', '.join(missing)}" if missing else ""),
              file=sys.stderr)
        if not args.dry_run:
            clear_for_submission(runs_dir, plan, keep)
        status = slurm.submit(plan, options, args.dry_run, "gallery")
        if status == 0 and not args.dry_run:
            print(f"gallery: the page will be {shown_path(out / 'index.html')} once the tasks have run "
                  f"(squeue --me; their logs: {shown_path(out / 'slurm')}/)", file=sys.stderr)
        return status

    cores = args.jobs
    tasks, current, skipped = [], {}, []
    for j in jobs.values():
        binary = build / "bin" / j.exe
        if not binary.exists():
            continue
        d = runs_dir / j.id
        cmd = command_for(j, binary, d, args.full)
        current[j.id] = {"command": cmd, "binary_sha256": slurm.sha256(binary)}
        stamp_path = d / STAMP
        stamp = json.loads(stamp_path.read_text()) if stamp_path.exists() else {}
        up_to_date = stamp.get("ok") and stamp.get("command") == cmd and \
            stamp.get("binary_sha256") == current[j.id]["binary_sha256"]
        k = (5 if args.full else j.seeds) if j.seeds else 1
        weight = min(k, cores)
        est = stamp["wall_seconds"] * stamp.get("weight", weight) if stamp.get("wall_seconds") and \
            stamp.get("command") == cmd else j.est * k
        if args.list:
            print(f"{j.id:24s} {'up to date' if up_to_date else 'to run':10s} {shlex.join(cmd)}")
            continue
        rerun_inputs = any(t.job.id in j.after for t in tasks)  # JOBS lists a job after its inputs
        if (up_to_date and not args.force and not rerun_inputs) or args.page_only or \
                (args.only and j.id not in args.only):
            skipped.append(j.id)
            continue
        figs = [c.title.split(" — ")[0] for c in cards.CARDS if c.job == j.id and c.title.startswith("Fig.")]
        label = j.id + (f" ({', '.join(figs)})" if figs else "")
        tasks.append(Task(j, cmd, d, binary, weight, est, label))
    if args.list:
        return 0

    def stop(signum, frame):  # SIGTERM (and SIGINT where inherited as ignored) ends the run like Ctrl-C
        raise KeyboardInterrupt
    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)
    start = time.monotonic()
    if skipped and not args.page_only:
        print(f"gallery: up to date, not rerun: {', '.join(skipped)}", file=sys.stderr)
    try:
        failures = run_tasks(tasks, cores) if tasks else []
    except KeyboardInterrupt:
        return 130
    errors = {f.split(":")[0]: f for f in failures}
    wall = time.monotonic() - start

    runs, states = {}, {}
    for jid in current:
        d = runs_dir / jid
        stamp_path = d / STAMP
        if stamp_path.exists() and jid not in errors:
            try:
                runs[jid] = load_run(jobs[jid], d, json.loads(stamp_path.read_text()), current[jid])
            except (OSError, ValueError, KeyError) as ex:
                errors[jid] = f"{jid}: cannot read its outputs in {shown_path(d)}: {ex}"
        elif jid not in errors and failure_of(d):  # a Slurm task's failure (local runs leave none)
            errors[jid] = failure_of(d)
    for c in cards.CARDS:
        if c.job is None or c.job not in current:
            states[c.id] = "todo"
        elif c.job in runs:
            states[c.id] = "done"
        else:
            states[c.id] = "missing"
    out.mkdir(parents=True, exist_ok=True)
    page = out / "index.html"
    k = 5 if args.full else 3
    figure_jobs = {c.job for c in cards.CARDS if not is_claim(c)}  # claim cards say their own seeds
    fewer = sorted({f"{j.seeds} for {j.exe}" for j in jobs.values()
                    if j.seeds and j.seeds < k and not args.full and j.id in figure_jobs})
    info = {"mode": f"{'--full: ' if args.full else ''}{k} seeds per learning curve"
                    + (f" ({', '.join(fewer)})" if fewer else "")
                    + (", the book's budgets" if args.full else ", the demos' default settings"),
            "build": shown_path(build), "commit": git_describe(),
            "written": datetime.datetime.now().strftime("%Y-%m-%d %H:%M"),
            "wall": f"{fmt_time(wall)} ({len(tasks)} jobs run, {len(skipped)} up to date)"}
    write_page(page, cards.CARDS, jobs, runs, states, errors, book_dir, info,
               {j: c["command"] for j, c in current.items()})
    print(f"gallery: {len(tasks)} jobs run in {wall:.1f} s ({cores} cores); wrote {shown_path(page)}",
          file=sys.stderr)
    for f in failures:
        print(f"gallery: failed: {f}", file=sys.stderr)
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
