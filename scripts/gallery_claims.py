"""The chapter's claims in numbers, claims 1-6 of issue 21 (Sections 3.3-3.4.8.1): the jobs and cards
that scripts/gallery_cards.py appends to its own (claims 7-11: scripts/gallery_claims_offpolicy.py).

A claim card is an ordinary Card whose id starts with "claim-" (the page's anchor: a reader links
figures/index.html#claim-...); scripts/gallery.py draws these in their own section, "The chapter's
claims, in numbers", after the figure cards. Each quotes the book verbatim, shows the experiment's
figures, and checks a criterion written down BEFORE the run (Check.criterion): a claim we cannot
reproduce shows ✗ with what we measured. `also` on a card lists the other jobs whose runs the
check reads, so their commands are shown too.

Budgets: the default gallery runs each claim small (2-3 seeds, short budgets; said on each card);
--full uses 5 seeds and the book's settings (Job.full_args).
"""
from __future__ import annotations

import csv
import statistics
from pathlib import Path

from gallery_cards import Card, Check, Job


# ---------------------------------------------------------------------------------------------
# Reading runs: a job's folder holds seed<k>/metrics.csv (a multi-seed run) or metrics.csv.

def seed_rows(folder: Path) -> list[tuple[int, list[dict]]]:
    """(seed, metrics.csv rows) of each seed of the run in `folder`."""
    dirs = sorted((p for p in folder.glob("seed*") if p.name[4:].isdigit()), key=lambda p: int(p.name[4:]))
    out = []
    for d in dirs or [folder]:
        with open(d / "metrics.csv", newline="") as f:
            out.append((int(d.name[4:]) if d.name[4:].isdigit() else 0, list(csv.DictReader(f))))
    return out


def updates(rows: list[dict], key: str) -> list[dict]:
    """One row per update: metrics.csv repeats an update's logged quantities on each of its episodes'
    rows; consecutive rows with the same `key` cell (and a non-empty one) are one update."""
    out, prev = [], None
    for r in rows:
        if r.get(key, "") == "":
            continue
        if r[key] != prev:
            out.append(r)
            prev = r[key]
    return out


def steps_to(rows: list[dict], threshold: float, window: int) -> float:
    """Env steps at which the mean return of the last `window` episodes first reaches threshold
    (inf if never)."""
    ret = [float(r["return"]) for r in rows]
    for i in range(window - 1, len(ret)):
        if sum(ret[i - window + 1:i + 1]) / window >= threshold:
            return float(rows[i]["env_steps"])
    return float("inf")


def fmt_steps(x: float) -> str:
    return "not reached" if x == float("inf") else f"{x:,.0f}"


# ---------------------------------------------------------------------------------------------
# Claim 1 (Section 3.3): actor-critic methods are often more sample-efficient than Monte Carlo
# baselines. Decided before the run: each of TD(0) actor-critic, GAE and PPO needs fewer env steps
# (median over seeds) than REINFORCE with a learned baseline to a 20-episode average return >= 475;
# a seed that never gets there counts as infinite.

CLAIM1_RUNS = [("REINFORCE + learned baseline (3.2.4)", "reinforce_baseline"), ("TD(0) actor–critic (3.3.2)", "actor_critic"),
               ("GAE (3.3.3)", "gae"), ("PPO-Clip (3.4.7)", "ppo")]


def _claim1(run):
    med = {}
    parts = []
    for label, job in CLAIM1_RUNS:
        s = [(k, steps_to(rows, 475, 20)) for k, rows in seed_rows(run.dir.parent / job)]
        med[job] = statistics.median(x for _, x in s)
        parts.append(f"{label}: " + ", ".join(f"seed {k} {fmt_steps(x)}" for k, x in s) + f" (median {fmt_steps(med[job])})")
    base = med["reinforce_baseline"]
    ok = all(med[j] < base for _, j in CLAIM1_RUNS[1:])
    return ok, "env steps to a 20-episode average ≥ 475 — " + "; ".join(parts)


# ---------------------------------------------------------------------------------------------
# Claims 2 and 3: tools/estimator_study on a random MDP solved exactly (its printed table).
# Claim 2, decided before the run: with the inexact critic, the bias of the GAE gradient at
# lambda = 0 exceeds the bias at lambda = 1 by more than 4 SE (of lambda = 0's), lambda = 1 is
# unbiased (bias < 3 SE), and the per-trajectory variance tr Cov at lambda = 0 is below lambda = 1's.
# Claim 3, decided before the run: without clipping the bias is 0 (< 1e-12); over the sweep of c
# the bias grows as c falls and the variance falls as c falls (both monotone), every clipped
# variance below the unclipped one.

def _gae_rows(text):
    import re
    return [tuple(float(x) for x in m) for m in
            re.findall(r"lambda (\S+)\s+bias (\S+)\s+SE (\S+)\s+bias/SE\s+\S+\s+variance (\S+)", text)]


def _claim2(run):
    rows = {lam: (b, se, v) for lam, b, se, v in _gae_rows(run.stdout)}
    if 0.0 not in rows or 1.0 not in rows:
        return False, "λ = 0 and λ = 1 not both in the table (has the output changed?)"
    (b0, se0, v0), (b1, se1, v1) = rows[0.0], rows[1.0]
    ok = b0 > b1 + 4 * se0 and b1 < 3 * se1 and v0 < v1
    return ok, "; ".join(f"λ = {lam:g}: bias {b:.4f} (SE {se:.4f}), tr Cov {v:.3f}" for lam, (b, se, v) in rows.items())


def _claim3(run):
    import re
    rows = [(float(c), float(b), float(v)) for c, b, v in
            re.findall(r"c (\S+)\s+bias (\S+)\s+variance (\S+)", run.stdout)]
    if len(rows) < 3 or rows[-1][0] != float("inf"):
        return False, "table not found in the output (has it changed?)"
    clipped, (_, b_inf, v_inf) = rows[:-1], rows[-1]
    bias = [b for _, b, _ in clipped]
    var = [v for _, _, v in clipped]
    ok = b_inf < 1e-12 and all(x > y for x, y in zip(bias, bias[1:])) and \
        all(x < y for x, y in zip(var, var[1:])) and all(v < v_inf for v in var)
    return ok, "; ".join(f"c = {c:g}: bias {b:.4f}, tr Cov {v:.4f}" for c, b, v in rows)


# ---------------------------------------------------------------------------------------------
# Claim 4 (Section 3.4.6): the backtracking line search enforces the true KL constraint where the
# quadratic model overshoots. Setting: TRPO without damping (xi = 0), delta = 0.01. Decided before
# the run: on every seed, at least one full step beta^0 alpha p has KL > delta (the model
# overshoots) and the line search backtracks it, and every accepted update has KL <= delta.

def _claim4(run, delta=0.01):
    ok, parts = True, []
    for k, rows in seed_rows(run.dir):
        ups = updates(rows, "kl_full_step")
        full = [float(r["kl_full_step"]) for r in ups]
        bt = [int(float(r["backtracks"])) for r in ups]
        acc = [float(r["kl"]) for r, b in zip(ups, bt) if b <= 10]
        over = sum(1 for f in full if f > delta)
        over_bt = sum(1 for f, b in zip(full, bt) if f > delta and b > 0)
        ok = ok and over >= 1 and over_bt == over and all(a <= delta for a in acc)
        parts.append(f"seed {k}: {len(ups)} updates, full step KL > δ in {over} (largest {max(full):.3g} = "
                     f"{max(full) / delta:.0f} δ), backtracked {sum(1 for b in bt if b > 0)}, nothing accepted in "
                     f"{sum(1 for b in bt if b > 10)}, largest accepted KL {max(acc) if acc else float('nan'):.4f}")
    return ok, "; ".join(parts)


# ---------------------------------------------------------------------------------------------
# Claim 5 (Section 3.4.7). Decided before the run: on every seed of PPO-Clip and of PPO-KL, the
# median per-update KL is <= 0.02 (twice PPO-KL's target 0.01) and its 95th percentile <= 0.05;
# and the entropy bonus keeps the policy more random: the mean over seeds of the policy entropy
# at the last update before 20,000 env steps is higher with c_e = 0.01 than with c_e = 0.

def _quantile(xs, q):
    xs = sorted(xs)
    return xs[min(len(xs) - 1, int(q * len(xs)))]


def _entropy_at(rows, steps=20_000):
    ups = [r for r in updates(rows, "entropy") if float(r["env_steps"]) <= steps]
    return float(ups[-1]["entropy"]) if ups else float("nan")


def _claim5(run):
    ok, parts = True, []
    for label, job in (("PPO-Clip", "ppo"), ("PPO-KL", "ppo_kl")):
        for k, rows in seed_rows(run.dir.parent / job):
            kl = [float(r["kl"]) for r in updates(rows, "kl")]
            med, q95 = statistics.median(kl), _quantile(kl, 0.95)
            ok = ok and med <= 0.02 and q95 <= 0.05
            parts.append(f"{label} seed {k}: KL median {med:.4f}, 95th pct {q95:.4f} over {len(kl)} updates")
    ent = {}
    for label, job in (("c_e = 0", "ppo"), ("c_e = 0.01", "ppo_ent")):
        e = [(k, _entropy_at(rows)) for k, rows in seed_rows(run.dir.parent / job)]
        ent[job] = statistics.mean(x for _, x in e)
        parts.append(f"entropy at 20k steps, {label}: " + ", ".join(f"seed {k} {x:.3f}" for k, x in e) +
                     f" (mean {ent[job]:.3f})")
    ok = ok and ent["ppo_ent"] > ent["ppo"]
    return ok, "; ".join(parts)


# ---------------------------------------------------------------------------------------------
# Claim 6 (Example 3.7, "play with the temperature"). Decided before the run: the policy entropy
# over the last 20% of updates (mean over seeds) falls with alpha: alpha = 1 > 0.2 > 0.05; and the
# learned alpha holds it near its target 0.5 log 2 = 0.347 (within 0.1).

# Labels without '=': compare splits LABEL=DIR at the first one.
SAC_ALPHAS = [("α 0.05", "sac_alpha_0_05"), ("α 0.2", "sac_alpha_0_2"), ("α 1", "sac_alpha_1"),
              ("learned α", "sac_alpha_learned")]


def _late_entropy(rows):
    ups = updates(rows, "entropy")
    tail = ups[int(0.8 * len(ups)):]
    return statistics.mean(float(r["entropy"]) for r in tail) if tail else float("nan")


def _claim6(run):
    mean, parts = {}, []
    for label, job in SAC_ALPHAS:
        s = [(k, _late_entropy(rows), statistics.mean(float(r["return"]) for r in rows[-20:]))
             for k, rows in seed_rows(run.dir.parent / job)]
        mean[job] = statistics.mean(e for _, e, _ in s)
        parts.append(f"{label}: " + ", ".join(f"seed {k} entropy {e:.3f}, return {r:.0f}" for k, e, r in s))
    ok = mean["sac_alpha_1"] > mean["sac_alpha_0_2"] > mean["sac_alpha_0_05"] and \
        abs(mean["sac_alpha_learned"] - 0.5 * 0.6931) <= 0.1
    return ok, "late entropy (last 20% of updates) and return (last 20 episodes) — " + "; ".join(parts)


# ---------------------------------------------------------------------------------------------
# Jobs. The compare jobs read the runs of other jobs ("{runs}/<job>"), so they list them in `after`.

SAC_QUICK = ["--steps", "15000"]  # ~30 s a seed; the book's 80,000 steps and 128-128 under --full
SAC_FULL = ["--steps", "80000", "--hidden", "128,128"]

JOBS = [
    Job("gae_bias_variance", "estimator_study", ["--study", "gae", "--trajectories", "20000"],
        full_args=["--trajectories", "200000"], est=3),
    Job("clip_bias_variance", "estimator_study", ["--study", "clip", "--clips", "0.5,1,1.5,2,3,5"], est=1),
    Job("claim1_compare", "compare",
        ["--smooth", "20", "--reference", "475", "--title", "Monte Carlo baseline against actor-critic methods, CartPole-v1",
         *[f"{label}={{runs}}/{job}" for label, job in CLAIM1_RUNS]], est=1,
        after=[job for _, job in CLAIM1_RUNS]),
    Job("trpo_nodamping", "trpo", ["--quiet", "--damping", "0"], seeds=3, est=6, threshold=475, window=20),
    Job("ppo_kl", "ppo", ["--quiet", "--objective", "kl"], seeds=3, est=3, threshold=475, window=20),
    Job("ppo_ent", "ppo", ["--quiet", "--ent-coef", "0.01"], seeds=3, est=3, threshold=475, window=20),
    Job("claim5_return", "compare", ["--title", "PPO-Clip and PPO-KL, CartPole-v1", "--reference", "475",
                                     "PPO-Clip (3.58)={runs}/ppo", "PPO-KL (3.56)={runs}/ppo_kl"],
        est=1, after=["ppo", "ppo_kl"]),
    Job("claim5_kl", "compare", ["--y", "kl", "--smooth", "1", "--reference", "0.01",
                                 "--title", "KL of each update, PPO-Clip and PPO-KL (target 0.01)",
                                 "PPO-Clip (3.58)={runs}/ppo", "PPO-KL (3.56)={runs}/ppo_kl"],
        est=1, after=["ppo", "ppo_kl"]),
    Job("claim5_entropy", "compare", ["--y", "entropy", "--smooth", "1",
                                      "--title", "Policy entropy with and without the entropy bonus, PPO-Clip",
                                      "c_e 0={runs}/ppo", "c_e 0.01={runs}/ppo_ent"],
        est=1, after=["ppo", "ppo_ent"]),
    Job("sac_alpha_0_05", "sac_discrete", ["--quiet", "--alpha", "0.05"], seeds=2, quick_args=SAC_QUICK,
        full_args=SAC_FULL, est=30),
    Job("sac_alpha_0_2", "sac_discrete", ["--quiet", "--alpha", "0.2"], seeds=2, quick_args=SAC_QUICK,
        full_args=SAC_FULL, est=30),
    Job("sac_alpha_1", "sac_discrete", ["--quiet", "--alpha", "1"], seeds=2, quick_args=SAC_QUICK,
        full_args=SAC_FULL, est=30),
    Job("sac_alpha_learned", "sac_discrete", ["--quiet", "--learn-alpha"], seeds=2, quick_args=SAC_QUICK,
        full_args=SAC_FULL, est=30),
    Job("claim6_return", "compare", ["--title", "Discrete SAC, CartPole-v1: the temperature α",
                                     *[f"{label}={{runs}}/{job}" for label, job in SAC_ALPHAS]],
        est=1, after=[job for _, job in SAC_ALPHAS]),
    Job("claim6_entropy", "compare", ["--y", "entropy", "--smooth", "1", "--reference", "0.3466",
                                      "--title", "Discrete SAC: policy entropy (log 2 = 0.693 is uniform; line: the target entropy of learned α)",
                                      *[f"{label}={{runs}}/{job}" for label, job in SAC_ALPHAS]],
        est=1, after=[job for _, job in SAC_ALPHAS]),
]

CARDS = [
    Card("claim-3.3-sample-efficiency", "Claim 1 — actor–critic is often more sample-efficient than a Monte Carlo baseline",
         "3.3",
         quote="In contrast to pure Monte Carlo baselines, actor–critic bootstraps from its own predictions, enabling "
               "online, incremental, and often more sample-efficient learning.",
         job="claim1_compare", ours=["comparison.svg"], also=[job for _, job in CLAIM1_RUNS],
         check=Check("each of TD(0) actor–critic, GAE and PPO reaches a 20-episode average return ≥ 475 in fewer env "
                     "steps (median over seeds; never = ∞) than REINFORCE with a learned baseline", _claim1),
         note="The four runs of the figure cards above (3 seeds each, the demos' defaults; each run stops once "
              "solved), on one axis of env steps: mean of the seeds' 20-episode moving averages, band min–max."),
    Card("claim-3.3.3-gae-lambda", "Claim 2 — λ trades bias against variance (GAE)", "3.3.3",
         quote="Recall in policy evaluation (Section 2.1.1), we have introduced a spectrum of methods that sit in "
               "between Monte Carlo and TD(0): they are methods that leverage the n-step bootstrap return that "
               "balance bias and variance.",
         job="gae_bias_variance", ours=["estimator_study.svg", "../gae_lambda/lambda_sweep.svg"],
         check=Check("with the inexact critic: bias at λ = 0 > bias at λ = 1 + 4 SE, λ = 1 unbiased (bias < 3 SE), and "
                     "variance tr Cov at λ = 0 < at λ = 1", _claim2),
         note="A random MDP (6 states, 3 actions, γ = 0.9) and a fixed softmax policy, solved exactly; the critic is "
              "V̂ = V^π + ε with ε's SD half V^π's over states. Per trajectory g = Σ γ^t ∇log π(a_t|s_t) Â_t with Â "
              "from (3.35), (3.37); bias ||mean g − ∇J|| over 20,000 trajectories (200,000 with --full) against the "
              "exact (3.20). λ = 1 is (3.25) with the baseline V̂, unbiased by Theorem 3.6; λ < 1 lets the critic's "
              "error at later states, which depend on a_t, in. Right: the learning curves of the λ sweep."),
    Card("claim-3.3.4-clipped-ratio", "Claim 3 — clipping the importance ratio adds bias but improves variance",
         "3.3.4",
         quote="Unbiased vs. biased: Without clipping and with a correct critic/advantage, (3.43) is unbiased; "
               "clipping ρ̄ adds bias but improves variance.",
         job="clip_bias_variance", ours=["estimator_study.svg"],
         check=Check("no clipping: bias 0 (< 1e-12); over c = 0.5, 1, 1.5, 2, 3, 5 the bias grows as c falls and the "
                     "variance falls as c falls (both strictly monotone), every clipped variance below the unclipped",
                     _claim3),
         note="One sample s ~ d_μ, a ~ μ(·|s), g = min(ρ, c) ∇log π(a|s) A^π(s, a) (step 7 of the off-policy "
              "actor–critic, with the exact advantage: a correct critic), on a random MDP (6 states, 3 actions) with "
              "a behavior μ far from π (largest ρ ≈ 85). Its mean and covariance are finite sums over (s, a), so "
              "both are exact here, no sampling (the unit test checks the sums against sampling)."),
    Card("claim-3.4.6-line-search", "Claim 4 — TRPO's line search enforces the true KL constraint", "3.4.6",
         quote="we perform a backtracking line search to enforce the true (nonlinear) KL constraint and surrogate "
               "improvement.",
         job="trpo_nodamping", ours=["{seed}/kl.svg", "curve.svg"],
         check=Check("TRPO without damping (ξ = 0, δ = 0.01), every seed: at least one full step β⁰αp has KL > δ "
                     "(the quadratic model (3.52) overshoots) and each such step is backtracked, and every accepted "
                     "update has KL ≤ δ", _claim4),
         note="With the default damping ξ = 0.1 (card “TRPO on CartPole-v1” above) the model overestimates the KL "
              "and the first step passes every time; without damping, F is used as it is and the full step's KL "
              "(kl.svg, first panel: before the line search) often exceeds δ. 3 seeds, the demo's budget."),
    Card("claim-3.4.7-ppo-kl-clip", "Claim 5 — PPO-KL and PPO-Clip keep each update small; the entropy bonus explores",
         "3.4.7",
         quote="PPO–KL (penalty version). … After each epoch, measure the empirical KL on the batch; increase λ if KL "
               "is too high (tighten the region), decrease λ if it is too low. … Both versions are typically "
               "combined with a value-function loss and an entropy bonus to encourage exploration",
         job="claim5_kl", ours=["comparison.svg", "../claim5_return/comparison.svg", "../claim5_entropy/comparison.svg"],
         also=["ppo", "ppo_kl", "ppo_ent"],
         check=Check("every seed of PPO-Clip and of PPO-KL: the per-update KL has median ≤ 0.02 (twice PPO-KL's target "
                     "0.01) and 95th percentile ≤ 0.05; and the mean over seeds of the policy entropy at the last "
                     "update before 20,000 env steps is higher with c_e = 0.01 than with c_e = 0", _claim5),
         note="3 seeds each, the demo's defaults (each run stops once solved). The book quote's “…” leave out the "
              "equations; the KL plotted is the one PPO logs per update (after all its epochs, on its batch)."),
    Card("claim-3.4.8.1-temperature", "Claim 6 — play with the temperature α (discrete SAC)", "3.4.8.1", "Example 3.7",
         quote="You can find the code here. Play with the temperature parameter.",
         job="claim6_entropy", ours=["comparison.svg", "../claim6_return/comparison.svg"],
         also=[job for _, job in SAC_ALPHAS],
         check=Check("the policy entropy over the last 20% of updates (mean over seeds) falls with α: α = 1 > α = 0.2 > "
                     "α = 0.05; and with α learned (target entropy 0.5 log 2 = 0.347) it ends within 0.1 of the target",
                     _claim6),
         note="Reduced by default: 2 seeds and 15,000 env steps per α (the book: 80,000 steps, hidden 128-128; "
              "--full runs those with 5 seeds)."),
]
