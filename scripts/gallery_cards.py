"""The gallery's data: which demo runs make which figure, and one card per figure.

scripts/gallery.py runs the JOBS and draws the CARDS into figures/index.html. A later section
adds its figures here and nothing else: a Job (how its demo is run) and, on the book's cards of
its figures, `job=` and `check=`. A card whose job's executable is not in build/bin says "not
implemented yet — Section 3.x".

Job fields
  exe        executable in build/bin
  args       flags for the default gallery run (the demo's own defaults otherwise); --out is added
  seeds      K for a learning curve (--seeds K is added; --full uses 5), None for a one-off run
  full_args  flags added by --full (the book's budgets, where the default differs)
  quick_args flags added without --full only (a reduced scale that --full replaces)
  est        rough wall seconds of one seed / one run on one core, for the first ETA only (later
             runs use the time measured last)
  threshold, window   "solved": the mean return of the last `window` episodes reaches `threshold`
  after      jobs whose outputs this one reads ("{runs}" in args is the folder holding every job's
             outputs): it starts once they have finished, and reruns whenever one of them does
  mem_mb     memory one task of it needs on a cluster (gallery.py --slurm: --mem of one seed's task,
             or per thread of a one-off job that runs --seeds K threads), from the peak RSS measured
             at --full's settings (README, "On a cluster"), with room to spare
Card fields
  id, title, section (e.g. "3.2.3"), example ("Example 3.1" or "")
  book       PNG files in figures/book/ (the book's figure), [] for our own extra figures
  quote      the book's own sentence(s) about the figure, verbatim from the chapter text
  shows      what the book's figure shows, read off it (from the course's example settings)
  job, ours  the job and its files to show (relative to the job's folder; "{seed}" = its first seed)
  check      Check(criterion written on the card, function(run) -> (passed, measured text)), or None
  also       other jobs whose runs the check or figures read: the card shows their commands too

Claim cards: a Card whose id starts with "claim-" is one of the chapter's claims (issue 21), drawn in
the page's own section "The chapter's claims, in numbers" after the figure cards and counted apart.
They live in scripts/gallery_claims.py (claims 1-6) and scripts/gallery_claims_offpolicy.py (7-11),
each exporting JOBS and CARDS, appended to this file's at its end.
"""
from __future__ import annotations

import math
import re
import statistics
from dataclasses import dataclass, field
from typing import Callable, Optional


@dataclass
class Job:
    id: str
    exe: str
    args: list[str] = field(default_factory=list)
    seeds: Optional[int] = None
    full_args: list[str] = field(default_factory=list)
    quick_args: list[str] = field(default_factory=list)
    est: float = 10.0
    threshold: Optional[float] = None
    window: int = 100
    after: list[str] = field(default_factory=list)
    mem_mb: int = 200


@dataclass
class Check:
    criterion: str
    fn: Callable  # (Run) -> (bool, str)


@dataclass
class Card:
    id: str
    title: str
    section: str
    example: str = ""
    book: list[str] = field(default_factory=list)
    quote: str = ""
    shows: str = ""
    job: Optional[str] = None
    ours: list[str] = field(default_factory=list)
    check: Optional[Check] = None
    note: str = ""
    also: list[str] = field(default_factory=list)  # other jobs whose runs the check reads (their commands shown)


# ---------------------------------------------------------------------------------------------
# Criteria. A run (scripts/gallery.py: Run) has .seeds (each with .seed, .summary (summary.json),
# .returns (metrics.csv), .solved_at(threshold, window) -> (episode, env_steps) or None,
# .last_mean(n)) and .stdout (what a non-RL demo printed).

# The factor allowed between our episodes-to-level and the book's N (fixed before reading our runs). The
# book's N is one run of the course's script, one seed, read off its figure; ours are 2-3 other seeds of
# another implementation (other random streams, float, bootstrapping through truncation). Episodes-to-solve
# of these methods spread over seeds by tens of percent (a run's dip or collapse, as in Figs. 3.3 and 3.7,
# moves it by hundreds of episodes), so a factor 2 keeps a seed's luck inside the bound while a broken or
# several-times slower loop (a wrong sign, a stale critic, a missing gamma) falls outside it.
BOOK_FACTOR = 2
# N, read off the book's PNGs (figures/book/, the axes calibrated from their tick marks): the CartPole figures
# and Fig. 3.14 end where the script's stop rule (100-episode average >= 475, or >= -250) ended the run, so N
# is their last episode; Figs. 3.17, 3.19, 3.21 and 3.23 draw each episode's return and no stop rule, so N is
# where the criterion's moving average of the returns traced from the line's vertices (to about ±10 in return)
# first reaches the level.


def reaches_book_level(level: float, window: int, book_n: int, factor: float = BOOK_FACTOR) -> Check:
    """The book's figure reaches `level` (a `window`-episode average) at episode N: more than half of our
    seeds reach it within factor x N episodes. A seed whose run ended (its budget, or a stop rule at
    another level) before reaching it counts as not reached."""
    limit = int(factor * book_n)

    def fn(run):
        parts, n_ok = [], 0
        for s in run.seeds:
            at = s.solved_at(level, window)
            if at is None:
                parts.append(f"seed {s.seed}: not reached in its {len(s.returns)} episodes")
                continue
            ok = at[0] <= limit
            n_ok += ok
            parts.append(f"seed {s.seed}: {at[0]} = {at[0] / book_n:.2f} N{'' if ok else ' (beyond)'}")
        return 2 * n_ok > len(run.seeds), (f"{n_ok}/{len(run.seeds)} seeds within {factor:g} N = {limit} episodes "
                                           f"(N = {book_n}, the book's): " + ", ".join(parts))
    return Check(f"more than half of the seeds reach a {window}-episode average return ≥ {level:g} within "
                 f"{factor:g} × N = {limit} episodes, N = {book_n} the episode at which the book's figure reaches "
                 "it (a seed whose run ends before counts as not reached)", fn)


def stays_collapsed(max_return: float, last: int) -> Check:
    def fn(run):
        means = [s.last_mean(last) for s in run.seeds]
        ok = all(m <= max_return for m in means)
        return ok, "mean return of the last %d episodes: %s" % (last, ", ".join(f"{m:.2f}" for m in means))
    return Check(f"every seed's mean return over its last {last} episodes is ≤ {max_return:g} (never learns)", fn)


def rollout_balances(min_return: float) -> Check:
    def fn(run):
        s = run.seeds[0]
        ev = s.summary.get("eval_return_mean", float("nan"))
        return ev >= min_return, f"seed {s.seed} (drawn): evaluation return {ev:.1f} over " \
                                 f"{s.summary.get('eval_episodes', '?')} episodes"
    return Check(f"the drawn policy (first seed) averages ≥ {min_return:g} over its evaluation episodes "
                 "(deterministic mode action, unseen start states)", fn)


def evaluations_reach(min_return: float, max_steps: Optional[int], every: bool) -> Check:
    """Every seed's (or more than half of the seeds') final policy evaluates >= min_return within
    max_steps env steps (None: within the demo's own budget)."""
    def fn(run):
        evs = [(s.seed, s.summary.get("eval_return_mean", float("nan")), s.summary.get("env_steps", 0))
               for s in run.seeds]
        n_ok = sum(1 for _, e, n in evs if e >= min_return and (max_steps is None or n <= max_steps))
        ok = n_ok == len(evs) if every else 2 * n_ok > len(evs)
        return ok, f"{n_ok}/{len(evs)}: " + ", ".join(f"seed {s}: {e:.1f} after {n} steps" for s, e, n in evs)
    within = f"within {max_steps} env steps" if max_steps is not None else "within the demo's budget"
    return Check(f"{'every seed' if every else 'more than half of the seeds'}: the final policy averages "
                 f"≥ {min_return:g} over its evaluation episodes (mode action) {within}", fn)


def batches(seed_run) -> list[list[dict]]:
    """metrics.csv's episodes grouped by update: a batch's episodes share its logged losses."""
    out: list[list[dict]] = []
    for row in seed_run.rows:
        if out and row["policy_loss"] == out[-1][0]["policy_loss"] and row["value_loss"] == out[-1][0]["value_loss"]:
            out[-1].append(row)
        else:
            out.append([row])
    return out


def baseline_fit(seed_run, limit: int = 500) -> tuple[float, int, float]:
    """(median explained variance of V over the batches before the first one with an episode at the
    time limit, how many such batches, median over all batches of tr Cov with V / tr Cov without)."""
    bs = batches(seed_run)
    before = []
    for b in bs:
        if any(int(float(r["length"])) >= limit for r in b):
            break
        before.append(float(b[0]["explained_variance"]))
    # Empty cells: a run with --no-gradient-variance.
    ratios = [float(b[0]["grad_var_learned_v"]) / float(b[0]["grad_var_no_baseline"]) for b in bs
              if b[0].get("grad_var_no_baseline") and float(b[0]["grad_var_no_baseline"]) > 0]
    return (statistics.median(before) if before else math.nan, len(before),
            statistics.median(ratios) if ratios else math.nan)


def baseline_is_fitted(min_ev: float) -> Check:
    def fn(run):
        fits = [(s.seed,) + baseline_fit(s) for s in run.seeds]
        ok = all(ev >= min_ev and r < 1 for _, ev, _, r in fits)
        return ok, "; ".join(f"seed {k}: median EV {ev:.2f} over {n} batches, variance ratio {r:.2f}"
                             for k, ev, n, r in fits)
    return Check(f"every seed: V's median explained variance ≥ {min_ev:g} over the batches before the first "
                 "episode at the time limit, and the learned baseline lowers the gradient variance (median "
                 "ratio tr Cov with V / without < 1)", fn)


def _numbers_after(text: str, pattern: str) -> list[float]:
    return [float(x) for x in re.findall(pattern, text)]


def ratios_at_most_one(label: str, patterns: list[str], tol: float = 5e-4) -> Check:
    """Every printed ratio iterate / bound matching one of `patterns` is <= 1 (+ tol: printed to 3 digits)."""
    def fn(run):
        ratios = [r for p in patterns for r in _numbers_after(run.stdout, p)]
        if not ratios:
            return False, "no ratio found in the demo's output (has its report changed?)"
        return max(ratios) <= 1 + tol, f"{len(ratios)} ratios, largest {max(ratios):.3f}"
    return Check(f"{label}: every printed worst ratio of iterate to bound is ≤ 1 (printed to 3 digits)", fn)


def _stationary_points(run):
    kinds = re.findall(r"stationary point .*\|grad f\| = ([0-9.e+-]+).*-> (\w+)", run.stdout)
    found = {k for _, k in kinds}
    ok = bool(kinds) and all(float(g) < 1e-8 for g, _ in kinds) and {"minimum", "maximum", "saddle"} <= found
    return ok, f"{len(kinds)} stationary points: " + ", ".join(k for _, k in kinds)


def _momentum_beats_gd(run):
    m = re.search(r"convex, not strongly convex: f\(theta_K\) - f\* = GD ([0-9.e+-]+), momentum ([0-9.e+-]+)",
                  run.stdout)
    if not m:
        return False, "line not found in the demo's output (has its report changed?)"
    gd, mom = float(m.group(1)), float(m.group(2))
    return mom < gd, f"f(θ_K) − f*: GD {gd:.2g}, momentum {mom:.2g}"


def _pg_lemma(run):
    rows = re.findall(r"^\s+(\(3\.\d+\) [^ ]+)\s+([0-9.]+)\s+[0-9.]+\s+[0-9.]+\s+([0-9.]+)\s*$", run.stdout, re.M)
    fd = _numbers_after(run.stdout, r"central differences of J\|\| = ([0-9.e+-]+)")
    if len(rows) != 4 or not fd:
        return False, "table not found in the demo's output (has its report changed?)"
    tr = [float(r[1]) for r in rows]
    z = [float(r[2]) for r in rows]
    ok = all(v < 4 for v in z) and tr[0] > tr[1] > tr[2] >= tr[3] and fd[0] < 1e-6
    return ok, ("tr Cov: " + ", ".join(f"{r[0]} {float(r[1]):.3g}" for r in rows) +
                f"; |mean − ∇J| / SE: {', '.join(f'{v:.2f}' for v in z)}; (3.20) vs differences {fd[0]:.1e}")


# ---------------------------------------------------------------------------------------------
# Jobs: one demo invocation each (a job may feed several cards).
#
# On a cluster (gallery.py --slurm) each seed is a task of 1 CPU and mem_mb = 200 MB (a one-off
# job with --seeds K: K CPUs, K x 200 MB). Peak RSS of one seed measured with /usr/bin/time -f %M
# (short budgets; the replay buffers' full 50k transitions measured separately, 13-15 MB):
# REINFORCE 6-69 MB, with a baseline 16-18 MB, actor-critic 14 MB, GAE 71 MB (1500 episodes),
# off-policy AC 7 MB, NPG/TRPO 23 MB, PPO 8-9 MB, SAC (width 256) 27 MB, discrete SAC 10 MB, DDPG
# (256) 20 MB, MBPO (256) 38 MB, gd_sgd 30 MB, pg_lemma 5 MB: 200 MB leaves room for the runner.

def against_episodes(window: int) -> str:
    """The note of a card that shows episodes_figure's second figure."""
    return (f"Second figure: the same runs against episodes, as the book plots them, smoothed as the criterion "
            f"reads them ({window}-episode average; over fewer episodes before the {window}th), the level dashed.")


def episodes_figure(job: str, name: str, window: int, level: float) -> Job:
    """A finished run's learning curve against episodes (tools/compare.cpp), as job + "_episodes"."""
    return Job(f"{job}_episodes", "compare",
               ["--x", "episodes", "--smooth", str(window), "--reference", f"{level:g}", "--title",
                f"{name} on Pendulum-v1 against episodes ({window}-episode average)", f"{name}={{runs}}/{job}"],
               est=1, after=[job])


JOBS = [
    Job("gd_sgd", "gd_sgd", est=2),
    Job("pg_lemma", "pg_lemma", est=3),
    Job("reinforce_naive", "reinforce", ["--batch", "1", "--quiet"], seeds=3, est=1, threshold=475),
    Job("reinforce_minibatch", "reinforce", ["--quiet"], seeds=3, est=8, threshold=475),
    # The script's full-batch critic fit (up to 2000 steps) costs many minutes per seed; --full uses it.
    Job("reinforce_baseline", "reinforce_baseline", ["--quiet"], seeds=3,
        full_args=["--critic-minibatch", "0", "--check-every", "10", "--patience", "10", "--epsilon", "1e-6",
                   "--k-max", "2000"], est=90, threshold=475),
    # Section 3.3 (CartPole: episodes on the x axis; Pendulum: env steps)
    Job("actor_critic", "actor_critic", ["--quiet"], seeds=3, est=60, threshold=475),
    Job("gae", "gae", ["--quiet"], seeds=3, est=30, threshold=475),
    # The λ sweep at a reduced scale (3 λ, 2 seeds, 800 episodes); --full: 5 λ, 5 seeds, 1500 episodes.
    Job("gae_lambda", "gae", ["--quiet"], quick_args=["--lambdas", "0,0.95,1", "--episodes", "800", "--seeds", "2"],
        full_args=["--lambdas", "0,0.5,0.9,0.95,1", "--episodes", "1500", "--seeds", "5"], est=240),
    Job("off_policy_ac", "off_policy_ac", ["--quiet"], seeds=3, est=60, threshold=475),
    Job("off_policy_ac_pendulum", "off_policy_ac", ["--env", "pendulum", "--quiet"], seeds=3, est=90,
        threshold=-250),
    # Section 3.4.4-3.4.7 (no experiments in the book; x axis env steps; stop at a 20-episode 475 on CartPole)
    Job("npg", "npg", ["--quiet"], seeds=3, est=4, threshold=475, window=20),
    Job("trpo", "trpo", ["--quiet"], seeds=3, est=4, threshold=475, window=20),
    Job("ppo_clip_objective", "ppo_clip_objective", est=1),
    Job("ppo", "ppo", ["--quiet"], seeds=3, est=2, threshold=475, window=20),
    Job("ppo_pendulum", "ppo", ["--env", "pendulum", "--quiet"], seeds=3, est=15, threshold=-250, window=20),
    # Section 3.4.8-3.5 (env steps on the x axis; --full: the book's 50k/80k budgets, widths and 5 seeds). The
    # costliest (SAC and MBPO: 1.5-3 CPU-minutes a seed) run 2 seeds by default, to keep the chapter's gallery
    # near its 20-minute budget on 2 cores.
    # Discrete SAC has no stop rule (a budget in env steps); its "solved" is the 20-episode average of curve.svg,
    # the smoothing at which its Fig. 3.17 (raw returns, no average drawn) can be read: a 100-episode
    # average of the book's run never reaches 475 within its 350 episodes.
    # Widths: the book's where the chapter's 12-minute budget allows (discrete SAC 128, MBPO's 200 model
    # iterations); SAC and DDPG keep their demos' 128 (the book's 256 costs each ~3.5x: --full).
    Job("sac_discrete", "sac_discrete", ["--quiet", "--hidden", "128,128"], seeds=3, full_args=["--steps", "80000"],
        est=100, threshold=475, window=20),
    Job("sac", "sac", ["--quiet"], seeds=2, full_args=["--steps", "50000", "--hidden", "256,256"], est=100, threshold=-200, window=10),
    Job("ddpg", "ddpg", ["--quiet"], seeds=3, full_args=["--steps", "50000", "--hidden", "256,256"], est=60, threshold=-200, window=10),
    # MBPO at 10k env steps (the demo's default 6k is 30 episodes: too few for the 20-episode average of
    # curve.svg to reach the book's -250, which its Fig. 3.23 holds from episode ~35-45).
    Job("mbpo", "mbpo", ["--quiet", "--model-steps", "200"], seeds=2, quick_args=["--steps", "10000"],
        full_args=["--steps", "50000", "--hidden", "256,256"], est=390, threshold=-200, window=10),
    # The Pendulum learning curves against episodes, as the book draws them (each run's curve.svg has env steps
    # on its x axis; a Pendulum episode is exactly 200 steps), at the smoothing and level of each card's criterion.
    episodes_figure("off_policy_ac_pendulum", "Off-policy actor–critic", 100, -250),
    episodes_figure("sac", "SAC", 10, -200),
    episodes_figure("ddpg", "DDPG", 10, -200),
    episodes_figure("mbpo", "MBPO", 10, -200),
    # The three runs above on one figure (tools/compare.cpp): the old offpolicy_compare's 5-episode
    # smoothing, labels and -200 line.
    Job("offpolicy_compare", "compare",
        ["--smooth", "5", "--reference", "-200", "--title", "SAC, DDPG and MBPO on Pendulum-v1",
         "SAC (3.4.8.2)={runs}/sac", "DDPG (3.4.9)={runs}/ddpg", "MBPO (Section 3.5)={runs}/mbpo"], est=1,
        after=["sac", "ddpg", "mbpo"]),
]

# ---------------------------------------------------------------------------------------------
# Cards, in the book's order; our extra figures next to their section.

CARDS = [
    # Section 3.1 (no figures in the book; the two TODO graphs and the theorems' bounds)
    Card("s3.1-gd", "GD against its bounds (Theorems 3.1, 3.2)", "3.1.2", ours=["gd_bounds.svg"], job="gd_sgd",
         quote="If 0 < α ≤ 2/L, then the GD iterates satisfy for all k ≥ 0: (3.4) … Then, GD with "
               "0 < α ≤ 2/(μ+L) enjoys a linear (geometric) rate: (3.7) … If α = 2/(μ+L), then (3.8)",
         check=ratios_at_most_one("Theorems 3.1 and 3.2", [r"gap / \(3\.4\) = ([0-9.]+)",
                                                             r"\|\|\^2 / \(3\.7\) = ([0-9.]+)",
                                                             r"\|\| / \(3\.8\) = ([0-9.]+)",
                                                             r"f\*\) / \(3\.8\) = ([0-9.]+)"]),
         note="α = 2/(μ+L) on a quadratic lies on the bound (3.8): a ratio of 1.000 is expected there."),
    Card("s3.1-sgd", "SGD against its bounds (Theorems 3.3, 3.4)", "3.1.3", ours=["sgd_bounds.svg"], job="gd_sgd",
         quote="With a constant stepsize, SGD converges O(1/k) up to a neighborhood set by the gradient noise.",
         check=ratios_at_most_one("Theorems 3.3 and 3.4 (expectations over 200 seeded runs, mean − 3 SE)",
                                  [r"/ \(3\.9\) = ([0-9.]+)", r"/ \(3\.10\) = ([0-9.]+)",
                                   r"/ \(3\.11\) = ([0-9.]+) \(f\)", r"\(f\), ([0-9.]+) \(distance\)"])),
    Card("s3.1-stationary", "Kinds of stationary points (the book's TODO graph)", "3.1.2.1",
         ours=["stationary_points.svg"], job="gd_sgd",
         quote="For non-convex functions—which are common in reinforcement learning—gradient methods may only "
               "find so-called first-order stationary points, i.e., points θ at which the gradient ∇θJ(θ) = 0. "
               "… TODO: graph different stationary points",
         check=Check("every drawn stationary point has |∇f| < 1e-8, and a minimum, a maximum and a saddle are "
                     "all present (classified by the Hessian's eigenvalues)", _stationary_points)),
    Card("s3.1-paths", "GD and SGD paths over a convex function (the book's TODO graph)", "3.1.3",
         ours=["gd_vs_sgd_paths.svg"], job="gd_sgd",
         quote="TODO: graph the different trajectories between minimizing a convex function using GD and SGD."),
    Card("s3.1-optimizers", "Momentum, AdaGrad, RMSProp and Adam", "3.1.4", ours=["optimizers.svg"], job="gd_sgd",
         quote="Momentum methods: incorporate past gradients to smooth updates and accelerate convergence. "
               "Adaptive learning rates (Adam, RMSProp, AdaGrad): adjust the learning rate per parameter based on "
               "historical gradient magnitudes.",
         check=Check("on the convex, not strongly convex function, momentum (α = 1/L, β = 0.9) ends closer to f* "
                     "than GD (α = 1/L) after the same number of steps", _momentum_beats_gd)),
    # Section 3.2
    Card("s3.2-pg-lemma", "Policy-gradient estimators and baselines on an exact MDP (Theorems 3.5–3.7)", "3.2.2",
         ours=["pg_lemma.svg"], job="pg_lemma",
         quote="By causality (future action does not affect past reward), the full return can be replaced by "
               "return-to-go … Among all state-only baselines b(s), which one minimizes the variance of the "
               "gradient estimator? … b*(s) ≈ V^π(s).",
         check=Check("all four estimators unbiased (|pooled mean − exact ∇J| < 4 SE), per-trajectory variance "
                     "tr Cov falls (3.18) > (3.19) > b = V ≥ b* (Theorem 3.7), and the exact (3.20) matches "
                     "central differences of J to 1e-6", _pg_lemma)),
    Card("fig3.02", "Fig. 3.2 — Learning curve (Naive REINFORCE)", "3.2.3", "Example 3.1", ["fig3.02.png"],
         quote="Fig. 3.2 shows the learning curve, which indicates that the REINFORCE algorithm was not able to "
               "learn a good policy after 2000 episodes.",
         shows="collapses to a return of ≈ 9.5 and stays there",
         job="reinforce_naive", ours=["curve.svg"], check=stays_collapsed(20, 500)),
    Card("fig3.03", "Fig. 3.3 — Learning curve (Minibatch REINFORCE)", "3.2.3", "Example 3.1", ["fig3.03.png"],
         quote="Fig. 3.3 shows the learning curve, which shows steady increase in the per-episode return that "
               "eventually gets close to the maximum per-episode return 500.",
         shows="solved after N ≈ 1260 episodes, with a dip on the way (N: where the curve ends: the script stops "
               "once the 100-episode average reaches 475; read off the figure's pixels)",
         job="reinforce_minibatch", ours=["curve.svg"], check=reaches_book_level(475, 100, 1260)),
    Card("fig3.04", "Fig. 3.4 — Policy rollout (Minibatch REINFORCE)", "3.2.3", "Example 3.1", ["fig3.04.png"],
         quote="Fig. 3.4 shows a rollout video of applying the policy training from minibatch REINFORCE. We can "
               "see the policy nicely balances the cart-pole system.",
         shows="the pole held upright for the whole episode",
         job="reinforce_minibatch", ours=["{seed}/rollout.svg", "{seed}/rollout_anim.svg"],
         check=rollout_balances(475)),
    Card("s3.2.4-variance", "Gradient variance with and without a baseline (our extra figure)", "3.2.4",
         quote="From the REINFORCE experiments above, we have seen firsthand that variance reduction is critical "
               "for stable policy-gradient learning.",
         job="reinforce_baseline", ours=["{seed}/baseline_variance.svg"], check=baseline_is_fitted(0.5),
         note="Per batch of Example 3.2's run, the variance across the batch's trajectories of the gradient "
              "estimate with three weightings, at the same θ and on the same trajectories. Once episodes reach "
              "CartPole's 500-step limit, g_t depends on the time left, which s_t does not hold, so V's explained "
              "variance falls on those batches; the check counts the batches before that."),
    Card("fig3.05", "Fig. 3.5 — Learning curve (Minibatch REINFORCE with a Learned Value Baseline)", "3.2.4.4",
         "Example 3.2", ["fig3.05.png"],
         quote="Fig. 3.5 shows the learning curve. The algorithm is able to steadily increase the per-episode "
               "returns.",
         shows="slow steady rise, solved after N ≈ 3100 episodes (N: where the curve ends, the script's stop at a "
               "100-episode average of 475; read off the figure's pixels)",
         job="reinforce_baseline", ours=["curve.svg"], check=reaches_book_level(475, 100, 3100),
         note="The demo's budget is 5000 episodes (the book's), less than 2 N: a seed not solved by then counts "
              "as not reached."),
    Card("fig3.06", "Fig. 3.6 — Policy rollout (REINFORCE with a Learned Value Baseline)", "3.2.4.4", "Example 3.2",
         ["fig3.06.png"], quote="Fig. 3.6 shows a rollout of the system trajectory under the learned policy.",
         shows="the pole held upright for the whole episode",
         job="reinforce_baseline", ours=["{seed}/rollout.svg", "{seed}/rollout_anim.svg"],
         check=rollout_balances(475)),
    # Section 3.3
    Card("fig3.07", "Fig. 3.7 — Learning curve (Actor–Critic with One-Step Bootstrap)", "3.3.2", "Example 3.3",
         ["fig3.07.png"], quote="Fig. 3.7 shows the learning curve.",
         shows="solved after N ≈ 2430 episodes, after a collapse near episode 1350–1500 and a recovery (N: where "
               "the curve ends, the script's stop at a 100-episode average of 475; read off the figure's pixels)",
         job="actor_critic", ours=["curve.svg"], check=reaches_book_level(475, 100, 2430),
         note="The demo's budget is 3000 episodes (the book's), less than 2 N: a seed not solved by then counts "
              "as not reached."),
    Card("fig3.08", "Fig. 3.8 — Policy rollout (Actor–Critic with One-Step Bootstrap)", "3.3.2", "Example 3.3",
         ["fig3.08.png"], quote="Fig. 3.8 shows an example rollout of the policy.",
         job="actor_critic", ours=["{seed}/rollout.svg", "{seed}/rollout_anim.svg"], check=rollout_balances(400)),
    Card("fig3.09", "Fig. 3.9 — Learning curve (Actor–Critic with GAE)", "3.3.3", "Example 3.4", ["fig3.09.png"],
         quote="Fig. 3.9 shows the learning curve using Actor-Critic with GAE and Fig. 3.10 shows a sample rollout "
               "of the trained policy.",
         shows="solved after N ≈ 1200 episodes, the fastest on-policy method (N: where the curve ends, the "
               "script's stop at a 100-episode average of 475; read off the figure's pixels)",
         job="gae", ours=["curve.svg"], check=reaches_book_level(475, 100, 1200)),
    Card("fig3.10", "Fig. 3.10 — Policy rollout (Actor–Critic with GAE)", "3.3.3", "Example 3.4", ["fig3.10.png"],
         quote="Fig. 3.9 shows the learning curve using Actor-Critic with GAE and Fig. 3.10 shows a sample rollout "
               "of the trained policy.",
         job="gae", ours=["{seed}/rollout.svg", "{seed}/rollout_anim.svg"], check=rollout_balances(475)),
    Card("s3.3.3-lambda", "The GAE λ sweep (our extra figure)", "3.3.3",
         quote="Recall in policy evaluation (Section 2.1.1), we have introduced a spectrum of methods that sit in "
               "between Monte Carlo and TD(0): they are methods that leverage the n-step bootstrap return that "
               "balance bias and variance.",
         job="gae_lambda", ours=["lambda_sweep.svg"],
         note="Reduced scale by default (λ = 0, 0.95, 1; 2 seeds; 800 episodes each, no early stop); --full runs λ = 0, 0.5, 0.9, 0.95, 1 with 5 seeds and 1500 episodes."),
    Card("fig3.11", "Fig. 3.11 — Learning curve (Off-Policy Actor–Critic, CartPole)", "3.3.4", "Example 3.5",
         ["fig3.11.png"],
         quote="Fig. 3.11 shows the learning curve of applying off-policy actor-critic to cart-pole balancing.",
         shows="flat until ≈ episode 205, then solved after N ≈ 540 episodes (N: where the curve ends, the "
               "script's stop at a 100-episode average of 475; read off the figure's pixels)",
         job="off_policy_ac", ours=["curve.svg"], check=reaches_book_level(475, 100, 540),
         note="The demo's budget ends at 2000 episodes or 90k env steps, whichever comes first (the book: episodes "
              "only): a slow seed's run can end before 2 N episodes, and counts as not reached."),
    Card("fig3.12", "Fig. 3.12 — Policy rollout (Off-Policy Actor–Critic, CartPole)", "3.3.4", "Example 3.5",
         ["fig3.12.png"], quote="Fig. 3.12 shows a sample rollout of the learned policy.",
         job="off_policy_ac", ours=["{seed}/rollout.svg", "{seed}/rollout_anim.svg"], check=rollout_balances(475)),
    Card("fig3.13", "Fig. 3.13 — Illustration of Inverted Pendulum in Gym", "3.3.4", "Example 3.6", ["fig3.13.png"],
         quote="Consider the Inverted Pendulum problem illustrated in Fig. 3.13. The state of the pendulum is "
               "s = (θ, θ̇), or equivalently, s = (x, y, θ̇) with x = cos(θ), y = sin(θ). The action space is "
               "continuous: τ ∈ A = [−2, 2].",
         job="off_policy_ac_pendulum", ours=["{seed}/rollout.svg"]),
    Card("fig3.14", "Fig. 3.14 — Learning curve (Off-Policy Actor–Critic, Pendulum)", "3.3.4", "Example 3.6",
         ["fig3.14.png"],
         quote="Fig. 3.14 shows the learning curve of applying off-policy actor-critic to the pendulum problem.",
         shows="100-episode average −250 after N ≈ 156 episodes (≈ 31k steps; N: where the curve ends, the "
               "script's stop at a 100-episode average of −250; read off the figure's pixels), recent mean ≈ −180",
         job="off_policy_ac_pendulum", ours=["curve.svg", "../off_policy_ac_pendulum_episodes/comparison.svg"],
         also=["off_policy_ac_pendulum_episodes"], check=reaches_book_level(-250, 100, 156),
         note=against_episodes(100) + " " +
              "The demo's budget is 300 episodes, a little less than 2 N: a seed not at −250 by then counts as not "
              "reached."),
    Card("fig3.15", "Fig. 3.15 — Policy rollout (Off-Policy Actor–Critic, Pendulum)", "3.3.4", "Example 3.6",
         ["fig3.15.png", "fig3.15-1.png", "fig3.15-2.png", "fig3.15-3.png"],
         quote="Fig. 3.15 shows a sample rollout of the learned policy.",
         job="off_policy_ac_pendulum", ours=["{seed}/rollout.svg", "{seed}/rollout_anim.svg"], check=rollout_balances(-250)),
    # Section 3.4
    Card("s3.4.4-npg", "Natural policy gradient on CartPole-v1 (our extra figure)", "3.4.4",
         quote="In practice, p_NPG is computed with conjugate gradient (CG) using Fisher–vector products; no "
               "matrices are formed.",
         job="npg", ours=["curve.svg", "{seed}/kl.svg"], check=evaluations_reach(475, 200_000, every=False),
         note="kl.svg: the KL that each update actually moved, measured exactly on its batch, against δ; the "
              "step sizes use the damped F + ξI, so the quadratic model overestimates the KL and it stays below δ."),
    Card("s3.4.6-trpo", "TRPO on CartPole-v1 (our extra figure)", "3.4.6",
         quote="we perform a backtracking line search to enforce the true (nonlinear) KL constraint and surrogate "
               "improvement.",
         job="trpo", ours=["curve.svg", "{seed}/kl.svg"], check=evaluations_reach(475, 200_000, every=False),
         note="kl.svg: the KL of every accepted update against δ, and the backtracks of every line search. With "
              "the default damping 0.1 the first step β⁰ passes every time, so TRPO takes NPG's steps here."),
    Card("fig3.16", "Fig. 3.16 — The clipped objective function in PPO", "3.4.7", book=[],
         quote="Let’s do a case analysis, as shown in Fig. 3.16.",
         job="ppo_clip_objective", ours=["fig_3_16.svg"],
         note="The book takes this figure from the PPO paper; it is not copied here. Ours is drawn from the "
              "clipped_surrogate that PPO trains with (chapter3/3_4_7_ppo.cpp), with its autodiff derivative in r "
              "below: A inside the clip range, 0 on the flat, profitable side."),
    Card("s3.4.7-ppo", "PPO-Clip on CartPole-v1 (our extra figure)", "3.4.7",
         quote="Proximal Policy Optimization (PPO) (Schulman et al. 2017) replaces the hard constraint with a "
               "penalized (regularized) objective and optimizes it with standard first-order SGD",
         job="ppo", ours=["curve.svg", "{seed}/rollout.svg", "{seed}/rollout_anim.svg"],
         check=evaluations_reach(475, 100_000, every=True)),
    Card("s3.4.7-ppo-pendulum", "PPO-Clip on Pendulum-v1 (our extra figure)", "3.4.7",
         quote="Both versions are typically combined with a value-function loss and an entropy bonus to encourage "
               "exploration",
         job="ppo_pendulum", ours=["curve.svg", "{seed}/rollout.svg", "{seed}/rollout_anim.svg"],
         check=evaluations_reach(-250, 300_000, every=False)),
    Card("fig3.17", "Fig. 3.17 — Learning curve (Soft Actor–Critic, CartPole)", "3.4.8.1", "Example 3.7",
         ["fig3.17.png"], quote="Fig. 3.17 shows the learning curve of SAC.",
         shows="reaches 500 near episode 165, dips, holds 500 from ≈ episode 293; its 20-episode average first "
               "reaches 475 at N ≈ 181 (computed from the per-episode returns read off the figure's pixels; a "
               "100-episode average never reaches 475 in its 350 episodes)",
         job="sac_discrete", ours=["curve.svg"], check=reaches_book_level(475, 20, 181),
         note="The default budget, 50k env steps (the book's 80k: --full), can end a run before 2 N episodes: a "
              "seed not at 475 by then counts as not reached."),
    Card("fig3.18", "Fig. 3.18 — Policy rollout (Soft Actor–Critic, CartPole)", "3.4.8.1", "Example 3.7",
         ["fig3.18.png"], quote="Fig. 3.18 shows a sample rollout of the learned policy.",
         job="sac_discrete", ours=["{seed}/rollout.svg", "{seed}/rollout_anim.svg"], check=rollout_balances(475)),
    Card("fig3.19", "Fig. 3.19 — Learning curve (Soft Actor–Critic, Pendulum)", "3.4.8.2", "Example 3.8",
         ["fig3.19.png"], quote="Fig. 3.19 plots the learning curve.",
         shows="returns between −120 and −250 from ≈ episode 75–80 (≈ 16k steps); its 10-episode average first "
               "reaches −200 at N ≈ 86 (computed from the per-episode returns read off the figure's pixels)",
         job="sac", ours=["curve.svg", "../sac_episodes/comparison.svg"], also=["sac_episodes"],
         check=reaches_book_level(-200, 10, 86),
         note=against_episodes(10) + " " +
              "The default budget, 20k env steps, is 100 episodes, less than 2 N (the book's 50k: --full): a seed "
              "not at −200 by then counts as not reached."),
    Card("fig3.20", "Fig. 3.20 — Policy rollout (Soft Actor–Critic, Pendulum)", "3.4.8.2", "Example 3.8",
         ["fig3.20-1.png", "fig3.20-2.png"], quote="Fig. 3.20 visualizes two sample rollouts of the policy.",
         job="sac", ours=["{seed}/rollout.svg", "{seed}/rollout_anim.svg"], check=rollout_balances(-200)),
    Card("fig3.21", "Fig. 3.21 — Learning curve (DDPG)", "3.4.9", "Example 3.9", ["fig3.21.png"],
         quote="Fig. 3.21 plots the learning curve of DDPG.",
         shows="returns between −120 and −250 from ≈ episode 30–35 (≈ 7k steps), noisier late; its 10-episode "
               "average first reaches −200 at N ≈ 41 and holds above it from ≈ 56 (computed from the per-episode "
               "returns read off the figure's pixels)",
         job="ddpg", ours=["curve.svg", "../ddpg_episodes/comparison.svg"], also=["ddpg_episodes"],
         check=reaches_book_level(-200, 10, 41),
         note=against_episodes(10)),
    Card("fig3.22", "Fig. 3.22 — Policy rollout (DDPG)", "3.4.9", "Example 3.9",
         ["fig3.22-1.png", "fig3.22-2.png", "fig3.22-3.png"],
         quote="Fig. 3.22 visualizes sample rollouts of the learned policy.",
         job="ddpg", ours=["{seed}/rollout.svg", "{seed}/rollout_anim.svg"], check=rollout_balances(-200)),
    # Section 3.5
    Card("fig3.23", "Fig. 3.23 — Learning curve (MBPO)", "3.5", "Example 3.10", ["fig3.23.png"],
         quote="Fig. 3.23 plots the learning curve.",
         shows="converges by ≈ episode 35–45 (≈ 8k steps), slightly faster than SAC; its 10-episode average "
               "first reaches −200 at N ≈ 46, then dips (episodes 55 and 62–64) (computed from the per-episode "
               "returns read off the figure's pixels)",
         job="mbpo", ours=["curve.svg", "../mbpo_episodes/comparison.svg"], also=["mbpo_episodes"],
         check=reaches_book_level(-200, 10, 46),
         note=against_episodes(10) + " " +
              "The default budget, 10k env steps, is 50 episodes, less than 2 N (the book's 50k: --full): a seed "
              "not at −200 by then counts as not reached."),
    Card("fig3.24", "Fig. 3.24 — Policy rollout (MBPO)", "3.5", "Example 3.10",
         ["fig3.24-1.png", "fig3.24-2.png", "fig3.24-3.png"],
         quote="Fig. 3.24 visualizes sample rollouts of the policy.",
         job="mbpo", ours=["{seed}/rollout.svg", "{seed}/rollout_anim.svg"], check=rollout_balances(-200)),
    Card("s3.5-comparison", "SAC, DDPG and MBPO on Pendulum-v1 (our extra figure)", "3.5",
         shows="the book's Fig. 3.19, 3.21 and 3.23 side by side: DDPG first (≈ 7k steps), then MBPO (≈ 8k), "
               "then SAC (≈ 16k)",
         job="offpolicy_compare", ours=["comparison.svg"]),
]


# ---------------------------------------------------------------------------------------------
# The chapter's claims (cards "claim-..."): their own files, appended here when present.

def _append_claims(module_name: str) -> None:
    import importlib
    try:
        mod = importlib.import_module(module_name)
    except ModuleNotFoundError as ex:
        if ex.name != module_name:
            raise
        return
    if not hasattr(mod, "JOBS"):  # imported first, it imports this file: it is still being read
        return
    JOBS.extend(mod.JOBS)
    CARDS.extend(mod.CARDS)


_append_claims("gallery_claims")
_append_claims("gallery_claims_offpolicy")
