// Section 3.2.4.4 — Minibatch REINFORCE with a learned value baseline.
// Equations (3.14), (3.25)-(3.30); Theorems 3.6 (baseline invariance), 3.7 (optimal baseline);
// Example 3.2.
//
// The book's pseudocode, step by step below:
//   1. Collect N on-policy trajectories.
//   2. Compute returns-to-go g_t.
//   3. Fit V_phi to g_t on this batch to convergence: gradient steps on
//        L_V(phi) = 1/N sum_i sum_t (g_t - V_phi(s_t))^2
//      until (L_V^(k-1) - L_V^(k)) / max(1, |L_V^(k-1)|) < epsilon for M consecutive checks, or K_max.
//   4. Advantages A_t = g_t - V_phi*(s_t), optionally standardized batch-wise.
//   5. One actor step along (3.30): theta <- theta + alpha_theta 1/N sum_i sum_t gamma^t grad log pi(a_t|s_t) A_t.
//   6. Repeat.
//
// Step 3, how the steps are taken. The book leaves the optimizer of the inner loop open; the
// course's example script takes full-batch Adam steps (at most K_max = 2000, a check every 10
// steps, M = 10 checks in a row with relative improvement <= 1e-6). On batches of 50 long
// episodes (25000 rows) that is far beyond a two-minute run, and any affordable number of
// full-batch steps (the previous default here, 10) leaves V far from fitted: its error per step
// stayed above the variance of g itself, a baseline worse than a constant. So the fit here takes
// epochs of shuffled minibatch Adam steps (--critic-minibatch rows each; the same number of
// gradient evaluations per epoch as one full-batch step, but ~R/B times as many updates), and
// keeps the book's stopping rule on the batch loss L_V itself, evaluated on the whole batch after
// every --check-every epochs, with K_max counting epochs. Defaults: minibatches of 256 rows, a
// check after every epoch, M = 2, epsilon = 1e-3, K_max = 24 epochs, which fits V to an
// explained variance of about 0.5-0.9 on the batches before the time limit is reached, within
// the two-minute budget. --critic-minibatch 0 --check-every 10 --patience 10 --epsilon 1e-6
// --k-max 2000 gives the script's full-batch fit; --k-max 10 with those flags the previous default.
//
// Truncation. CartPole-v1 ends episodes at 500 steps (`truncated`). REINFORCE treats that end
// like any other: g_t sums the rewards up to the cut and nothing beyond it, because the objective
// the returns estimate is the return of the task as defined, time limit included (the curves and
// the 475 criterion are those returns). The observation does not hold the time left, though, so
// once episodes reach the limit g_t depends on something V_phi(s_t) cannot see, and V's explained
// variance drops on those batches.
#include "chapter3/3_2_4_reinforce_baseline.hpp"

#include <algorithm>
#include <cmath>

#include "chapter3/common/minibatch.hpp"

namespace pgcpp {

using namespace ad;
using Eigen::Index;

namespace {

// L_V(phi) = 1/N sum_i sum_t (g_t - V_phi(s_t))^2 over the whole batch, without recording.
double batch_loss(const Mlp& value, const Matrix& obs, const Vector& g, Scalar n_trajectories) {
  NoGrad off;
  return static_cast<double>((g - value(Var(obs)).value().col(0)).squaredNorm() / n_trajectories);
}

}  // namespace

CriticFit fit_value(const BaselineConfig& cfg, Mlp& value, Optimizer& optimizer, const Matrix& obs, const Vector& g,
                    Scalar n_trajectories, Rng& rng) {
  CriticFit fit;
  // The stopping rule: (L^(k-1) - L^(k)) / max(1, |L^(k-1)|) < eps for M consecutive checks; the
  // first check has no predecessor. True when the fit should stop.
  double previous = 0;
  int checks = 0, quiet_checks = 0;
  auto converged = [&](double loss) {
    bool stop = false;
    if (checks++ > 0) {
      const double relative = (previous - loss) / std::max(1.0, std::abs(previous));
      quiet_checks = relative < cfg.epsilon ? quiet_checks + 1 : 0;
      stop = quiet_checks >= cfg.patience;
    }
    previous = loss;
    return stop;
  };
  const Index rows = obs.rows();
  const Var target{Matrix(g)};

  if (cfg.critic_minibatch == 0 || cfg.critic_minibatch >= rows) {
    // Full-batch steps, each checked on the loss computed for it (L_V before that step).
    const Var s(obs);
    for (int k = 1; k <= cfg.k_max; ++k) {
      const Var loss = sum(square(target - value(s))) / n_trajectories;  // L_V(phi)
      optimizer.minimize(loss, static_cast<Scalar>(cfg.clip));
      fit.loss = loss.item();
      fit.steps = fit.epochs = k;
      if (k % cfg.check_every == 0 && converged(fit.loss)) break;
    }
    return fit;
  }

  // Epochs of shuffled minibatches. A step descends the minibatch's unbiased estimate of L_V,
  //   R/(B N) sum_{rows in the minibatch} (g_t - V_phi(s_t))^2,   R = rows of the batch,
  // so the gradient has the scale of the full-batch step's (what Adam's epsilon and the clip see).
  const int B = cfg.critic_minibatch;
  std::vector<int> index;
  Matrix s, target_rows;
  const Matrix g_column(g);
  for (int epoch = 1; epoch <= cfg.k_max; ++epoch) {
    shuffle_indices(index, static_cast<int>(rows), rng);
    for (int from = 0; from < rows; from += B) {
      const int count = std::min<int>(B, static_cast<int>(rows) - from);
      gather_rows(obs, index, from, count, s);
      gather_rows(g_column, index, from, count, target_rows);
      const Scalar scale = static_cast<Scalar>(rows) / (static_cast<Scalar>(count) * n_trajectories);
      const Var loss = sum(square(Var(target_rows) - value(Var(s)))) * scale;
      optimizer.minimize(loss, static_cast<Scalar>(cfg.clip));
      ++fit.steps;
    }
    fit.epochs = epoch;
    if (epoch % cfg.check_every != 0) continue;
    fit.loss = batch_loss(value, obs, g, n_trajectories);
    if (converged(fit.loss)) break;
  }
  return fit;
}

double explained_variance(const Vector& g, const Vector& v) {
  if (g.size() == 0) return 0;
  const double n = static_cast<double>(g.size());
  const Eigen::ArrayXd gd = g.cast<double>().array(), rd = (g - v).cast<double>().array();
  const double var_g = (gd - gd.mean()).square().sum() / n, var_r = (rd - rd.mean()).square().sum() / n;
  return var_g > 0 ? 1.0 - var_r / var_g : 0.0;
}

GradientVariance gradient_variance(const Policy& policy, const std::vector<Trajectory>& batch, const Vector& discount,
                                   const Vector& g, const Vector& advantage, const Vector& standardized,
                                   double advantage_std) {
  const ParameterSet theta = policy.parameters();
  const Index n = static_cast<Index>(batch.size());
  GradientVariance out;
  if (n < 2) return out;
  const Vector* weights[3] = {&g, &advantage, &standardized};
  Eigen::VectorXd sum[3];
  double sum_sq[3] = {0, 0, 0};
  for (auto& v : sum) v = Eigen::VectorXd::Zero(theta.count());
  Index row = 0;
  for (const Trajectory& tau : batch) {
    const Index T = tau.length();
    for (int e = 0; e < 3; ++e) {
      // xi_i(w) = grad_theta sum_t gamma^t w_t log pi(a_t|s_t), one backward pass per estimator.
      const Matrix w = discount.segment(row, T).cwiseProduct(weights[e]->segment(row, T));
      const Var xi_loss = ad::sum(policy.log_prob(tau.obs, tau.actions) * Var(w));
      const Grads grads = ad::grad(xi_loss, theta.list());
      Eigen::VectorXd xi(theta.count());
      Index at = 0;
      for (const Var& gr : grads) {
        xi.segment(at, gr.size()) = gr.value().reshaped().cast<double>();
        at += gr.size();
      }
      sum[e] += xi;
      sum_sq[e] += xi.squaredNorm();
    }
    row += T;
  }
  // tr Cov = (sum ||xi_i||^2 - N ||mean||^2) / (N - 1)
  double tr[3];
  for (int e = 0; e < 3; ++e)
    tr[e] = (sum_sq[e] - sum[e].squaredNorm() / static_cast<double>(n)) / static_cast<double>(n - 1);
  out.no_baseline = tr[0];
  out.learned_value = tr[1];
  out.standardized = tr[2] * advantage_std * advantage_std;
  return out;
}

// The book's pseudocode loop, kept whole (longer than 60 lines) so that it reads step by step like the book.
void train_reinforce_baseline(const BaselineConfig& cfg, Env& env, Policy& policy, Mlp& value, Rng& rng,
                              const BaselineCallback& on_batch) {
  Adam actor(policy.parameters(), StepSize::constant(static_cast<Scalar>(cfg.lr_actor)));
  Adam critic(value.parameters(), StepSize::constant(static_cast<Scalar>(cfg.lr_critic)));
  // The minibatches' shuffles get a stream of their own; with full-batch steps none is drawn, so
  // the trajectories are exactly those of the script's full-batch fit.
  Rng critic_rng = cfg.critic_minibatch > 0 ? rng.split() : Rng(0);
  SolvedRule solved(cfg.solved);
  EpisodeBudget budget(cfg.episodes);
  for (long k = 0; budget.left(); ++k) {
    // 1. Collect N on-policy trajectories.
    const std::vector<Trajectory> batch = budget.collect(env, policy, cfg.batch, rng);
    const Matrix obs = stack_obs(batch);
    const Scalar N = static_cast<Scalar>(batch.size());

    // 2. Returns-to-go g_t (3.14), and the discount gamma^t of each step.
    Vector g(obs.rows()), discount(obs.rows());
    Eigen::Index row = 0;
    for (const Trajectory& tau : batch) {
      const std::vector<double> rtg = returns_to_go(tau.rewards, cfg.gamma);
      for (int t = 0; t < tau.length(); ++t, ++row) {
        g(row) = static_cast<Scalar>(rtg[t]);
        discount(row) = static_cast<Scalar>(std::pow(cfg.gamma(), t));
      }
    }

    // 3. Fit V_phi to g on this batch to convergence (critic inner loop).
    BaselineStats stats;
    const CriticFit fit = fit_value(cfg, value, critic, obs, g, N, critic_rng);
    stats.critic_steps = fit.steps;
    stats.critic_epochs = fit.epochs;

    // 4. Advantages with the converged baseline: A_t = g_t - V_phi*(s_t)                    (3.30)
    Vector v;
    {
      NoGrad off;
      v = value(Var(obs)).value().col(0);
    }
    const Vector raw_advantage = g - v;
    stats.critic_loss = static_cast<double>(raw_advantage.squaredNorm() / N);  // L_V(phi*)
    stats.explained_variance = explained_variance(g, v);
    const Vector standardized = standardize(raw_advantage);  // (A - mu_A) / (sigma_A + delta)
    const Vector& advantage = cfg.no_standardize ? raw_advantage : standardized;

    // (A diagnostic, not a step: how much each choice of weights spreads the gradient estimate;
    // a spread needs at least two trajectories.)
    if (!cfg.no_gradient_variance && batch.size() >= 2) {
      const double mu = static_cast<double>(raw_advantage.mean());
      const double sigma = std::sqrt((raw_advantage.cast<double>().array() - mu).square().mean());
      stats.variance = gradient_variance(policy, batch, discount, g, raw_advantage, standardized, sigma);
    }

    // 5. A single actor step along the minibatch estimator with advantages                  (3.30)
    //    1/N sum_i sum_t gamma^t grad log pi(a_t|s_t) A_t, as the gradient of its surrogate
    //    -1/N sum_i sum_t gamma^t log pi(a_t|s_t) A_t (minimized).
    const Var log_pi = policy.log_prob(obs, stack_actions(batch));
    const Var loss = -sum(log_pi * Var(Matrix(discount.cwiseProduct(advantage)))) / N;
    actor.minimize(loss, static_cast<Scalar>(cfg.clip));
    stats.actor_loss = loss.item();

    // 6. Repeat (until the budget, or solved: the last 100 episodes average cfg.solved).
    if (on_batch) on_batch(k, batch, stats);
    if (solved.record(batch)) break;
  }
}

}  // namespace pgcpp
