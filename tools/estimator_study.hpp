// Bias and variance of two policy-gradient estimators against the exact gradient, on a small
// random MDP solved exactly (envs/tabular_mdp.hpp) with a tabular softmax policy (3.16); the
// gallery's claims 2 and 3 (tools/estimator_study.cpp draws them). All in double.
//
// GAE (Section 3.3.3): per trajectory, g = sum_t gamma^t grad log pi(a_t|s_t) A^(lambda)_t with
// A^(lambda) from (3.35), (3.37) computed from an inexact critic V_hat = V^pi + eps. With lambda = 1,
// A_t = g_t - V_hat(s_t): (3.25) with a state baseline, unbiased (Theorem 3.6) whatever eps; with
// lambda < 1 the critic's error enters through V_hat(s_{t+l}), l >= 1, which depend on a_t: a bias.
//
// Clipped importance ratio (Section 3.3.4, (3.43) and step 7 of its pseudocode): one sample
// s ~ d_mu, a ~ mu(.|s), g = min(rho, c) grad log pi(a|s) A^pi(s, a), rho = pi(a|s)/mu(a|s), with the
// exact advantage (a "correct critic"). Its mean and covariance are finite sums over (s, a), so
// bias and variance are exact here: E[g] = sum_s d_mu(s) sum_a mu(a|s) min(rho, c) score A, and
// without clipping (c = inf) E[g] = sum_s d_mu(s) sum_a pi(a|s) score A, the estimator's target.
#pragma once

#include <cmath>
#include <limits>
#include <vector>

#include "chapter3/3_2_2_pg_lemma.hpp"
#include "chapter3/common/gae.hpp"

namespace pgcpp::estimator_study {

using pg_lemma::MatrixD;
using pg_lemma::VectorD;

struct BiasVariance {
  double bias = 0;     // ||E[g] - grad||
  double tr_cov = 0;   // tr Cov(g) of one sample (one trajectory, or one (s, a))
  double bias_se = 0;  // Monte Carlo: the standard error of ||mean - grad|| ~ sqrt(tr Cov / N); 0 when exact
  MatrixD mean;        // E[g] (exact) or the sample mean
};

// One trajectory of T steps under pi and the state after it (to bootstrap the last residual).
struct Path {
  std::vector<int> states;  // T + 1
  std::vector<int> actions;
  std::vector<double> rewards;
};

inline Path sample_path(const TabularMdp& mdp, const MatrixD& pi, int T, Rng& rng) {
  Path p;
  int s = mdp.sample_initial(rng);
  for (int t = 0; t < T; ++t) {
    const int a = mdp.sample_action(pi, s, rng);
    const Transition tr = mdp.step(s, a, rng);
    p.states.push_back(s);
    p.actions.push_back(a);
    p.rewards.push_back(tr.reward);
    s = tr.next_state;
  }
  p.states.push_back(s);
  return p;
}

// sum_t gamma^t grad log pi(a_t|s_t) A^(lambda)_t, A^(lambda) by the library's (3.35) and (3.37).
inline MatrixD gae_gradient(const Path& p, const MatrixD& pi, const VectorD& V_hat, double gamma, double lambda_) {
  const int T = static_cast<int>(p.rewards.size());
  Eigen::VectorXd r(T), v(T), v_next(T), delta(T), advantage(T);
  for (int t = 0; t < T; ++t) {
    r(t) = p.rewards[t];
    v(t) = V_hat(p.states[t]);
    v_next(t) = V_hat(p.states[t + 1]);
  }
  const MaskVector never = MaskVector::Constant(T, false);  // cut at T, never terminated: bootstrap V_hat(s_T)
  td_residuals(r, v, v_next, never, gamma, delta);                       // (3.35)
  gae_from_residuals(delta, never, gamma, lambda_, advantage);          // (3.37)
  MatrixD g = MatrixD::Zero(pi.rows(), pi.cols());
  double discount = 1;
  for (int t = 0; t < T; ++t, discount *= gamma) g += discount * advantage(t) * pg_lemma::score(pi, p.states[t], p.actions[t]);
  return g;
}

// For each lambda: bias and variance of gae_gradient over the same `paths` against grad_J.
inline std::vector<BiasVariance> gae_study(const std::vector<Path>& paths, const MatrixD& pi, const VectorD& V_hat,
                                           double gamma, const std::vector<double>& lambdas, const MatrixD& grad_J) {
  std::vector<BiasVariance> out;
  const double n = static_cast<double>(paths.size());
  for (double lambda_ : lambdas) {
    MatrixD sum = MatrixD::Zero(pi.rows(), pi.cols());
    double sum_sq = 0;
    for (const Path& p : paths) {
      const MatrixD g = gae_gradient(p, pi, V_hat, gamma, lambda_);
      sum += g;
      sum_sq += g.squaredNorm();
    }
    const MatrixD mean = sum / n;
    BiasVariance b;
    b.bias = (mean - grad_J).norm();
    b.tr_cov = (sum_sq / n - mean.squaredNorm()) * n / (n - 1);
    b.bias_se = std::sqrt(b.tr_cov / n);
    b.mean = mean;
    out.push_back(b);
  }
  return out;
}

// The clipped estimator's exact bias and variance (c = infinity: no clipping), and its target
// g* = E_{s~d_mu, a~pi}[grad log pi(a|s) A^pi(s, a)] in `target`.
inline BiasVariance clipped_ratio_exact(const TabularMdp& mdp, const MatrixD& pi, const MatrixD& mu, double c,
                                        MatrixD* target = nullptr) {
  const VectorD d_mu = mdp.visitation(mu);
  const MatrixD A = mdp.advantage(pi);
  MatrixD mean = MatrixD::Zero(pi.rows(), pi.cols()), goal = mean;
  double second = 0;
  for (int s = 0; s < mdp.S; ++s)
    for (int a = 0; a < mdp.A; ++a) {
      const double rho = pi(s, a) / mu(s, a);
      const double rho_bar = std::min(rho, c);  // step 6: rho_bar = min{rho, c}
      const MatrixD g = rho_bar * A(s, a) * pg_lemma::score(pi, s, a);
      mean += d_mu(s) * mu(s, a) * g;
      second += d_mu(s) * mu(s, a) * g.squaredNorm();
      goal += d_mu(s) * pi(s, a) * A(s, a) * pg_lemma::score(pi, s, a);
    }
  if (target) *target = goal;
  return {(mean - goal).norm(), second - mean.squaredNorm(), 0, mean};
}

}  // namespace pgcpp::estimator_study
