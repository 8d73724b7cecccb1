#include "chapter3/3_2_2_pg_lemma.hpp"

#include <algorithm>
#include <cmath>
#include <stdexcept>

#include "chapter3/common/rollout.hpp"

namespace pgcpp::pg_lemma {

int horizon_for(double gamma, double tail) {
  if (!(gamma >= 0 && gamma < 1) || !(tail > 0 && tail < 1))
    throw std::invalid_argument("horizon_for: need gamma in [0, 1) and tail in (0, 1)");
  if (gamma == 0) return 1;
  return std::max(1, static_cast<int>(std::ceil(std::log(tail) / std::log(gamma))));
}

Episode sample_episode(const TabularMdp& mdp, const MatrixD& pi, int T, Rng& rng) {
  Episode tau;
  tau.states.reserve(static_cast<std::size_t>(T));
  tau.actions.reserve(static_cast<std::size_t>(T));
  tau.rewards.reserve(static_cast<std::size_t>(T));
  int s = mdp.sample_initial(rng);
  for (int t = 0; t < T; ++t) {
    const int a = mdp.sample_action(pi, s, rng);
    const Transition step = mdp.step(s, a, rng);
    tau.states.push_back(s);
    tau.actions.push_back(a);
    tau.rewards.push_back(step.reward);
    s = step.next_state;
  }
  return tau;
}

MatrixD score(const MatrixD& pi, int s, int a) {
  MatrixD u = MatrixD::Zero(pi.rows(), pi.cols());
  u.row(s) = -pi.row(s);
  u(s, a) += 1.0;
  return u;
}

double score_norm2(const MatrixD& pi, int s, int a) {
  return 1.0 - 2.0 * pi(s, a) + pi.row(s).squaredNorm();
}

namespace {

// G += w e_s (e_a - pi(.|s))^T, without forming the S x A score.
void add_score(MatrixD& G, const MatrixD& pi, int s, int a, double w) {
  G.row(s) -= w * pi.row(s);
  G(s, a) += w;
}

}  // namespace

MatrixD full_return_estimate(const Episode& tau, const MatrixD& pi, double gamma) {
  const double R = discounted_return(tau.rewards, gamma);  // R(tau)                            (3.13)
  MatrixD G = MatrixD::Zero(pi.rows(), pi.cols());
  // R(tau) grad log p_theta(tau), by (3.22), with grad log p_theta(tau) = sum_t grad log pi(a_t|s_t)
  for (int t = 0; t < tau.length(); ++t) add_score(G, pi, tau.states[t], tau.actions[t], R);  // (3.18)
  return G;
}

MatrixD baseline_estimate(const Episode& tau, const MatrixD& pi, double gamma, const VectorD& b) {
  if (b.size() != pi.rows()) throw std::invalid_argument("baseline_estimate: baseline must have one entry per state");
  const std::vector<double> g = returns_to_go(tau.rewards, gamma);  // g_t                        (3.14)
  MatrixD G = MatrixD::Zero(pi.rows(), pi.cols());
  double discount = 1.0;
  for (int t = 0; t < tau.length(); ++t, discount *= gamma) {
    const int s = tau.states[t];
    add_score(G, pi, s, tau.actions[t], discount * (g[t] - b(s)));  // gamma^t (g_t - b(s_t))   (3.25)
  }
  return G;
}

MatrixD returns_to_go_estimate(const Episode& tau, const MatrixD& pi, double gamma) {
  return baseline_estimate(tau, pi, gamma, VectorD::Zero(pi.rows()));  // b = 0: (3.19)
}

MatrixD baseline_term(const Episode& tau, const MatrixD& pi, double gamma, const VectorD& b) {
  MatrixD G = MatrixD::Zero(pi.rows(), pi.cols());
  double discount = 1.0;
  for (int t = 0; t < tau.length(); ++t, discount *= gamma)
    add_score(G, pi, tau.states[t], tau.actions[t], discount * b(tau.states[t]));
  return G;
}

MatrixD value_form_gradient(const TabularMdp& mdp, const MatrixD& pi, const VectorD& b) {
  const VectorD d = mdp.visitation(pi);  // d_theta                                              (3.21)
  const MatrixD Q = mdp.Q(pi);
  MatrixD G = MatrixD::Zero(mdp.S, mdp.A);
  for (int s = 0; s < mdp.S; ++s)
    for (int a = 0; a < mdp.A; ++a) add_score(G, pi, s, a, d(s) * pi(s, a) * (Q(s, a) - b(s)));
  return G / (1.0 - mdp.gamma);  // (3.20), (3.27)
}

MatrixD value_form_gradient(const TabularMdp& mdp, const MatrixD& pi) {
  return value_form_gradient(mdp, pi, VectorD::Zero(mdp.S));
}

MatrixD finite_difference_gradient(const TabularMdp& mdp, const MatrixD& theta, double h) {
  MatrixD G(theta.rows(), theta.cols());
  MatrixD t = theta;
  for (Eigen::Index i = 0; i < theta.size(); ++i) {
    t(i) = theta(i) + h;
    const double up = mdp.J(softmax_policy(t));
    t(i) = theta(i) - h;
    const double down = mdp.J(softmax_policy(t));
    t(i) = theta(i);
    G(i) = (up - down) / (2 * h);
  }
  return G;
}

VectorD optimal_baseline(const MatrixD& pi, const MatrixD& Q) {
  VectorD b(pi.rows());
  for (Eigen::Index s = 0; s < pi.rows(); ++s) {
    double num = 0, den = 0;
    for (Eigen::Index a = 0; a < pi.cols(); ++a) {
      const double w = pi(s, a) * score_norm2(pi, static_cast<int>(s), static_cast<int>(a));
      num += w * Q(s, a);
      den += w;
    }
    // den = 0 only for a deterministic pi(.|s): then g = 0 for every b; take V(s).
    b(s) = den > 0 ? num / den : pi.row(s).dot(Q.row(s));  // (3.28)
  }
  return b;
}

EstimatorComparison compare_estimators(const TabularMdp& mdp, const MatrixD& pi, const VectorD& V,
                                       const VectorD& b_star, const MatrixD& grad_J, int T, int reps,
                                       int max_trajectories, Rng& rng) {
  EstimatorComparison c;
  for (int n = 1; n < max_trajectories; n *= 2) c.Ns.push_back(n);
  c.Ns.push_back(max_trajectories);
  c.error.assign(kEstimators, std::vector<std::vector<double>>(c.Ns.size()));
  // Pooled first and second moments of the per-trajectory estimates, for tr Cov.
  std::vector<MatrixD> pooled_sum(kEstimators, MatrixD::Zero(mdp.S, mdp.A));
  std::vector<double> pooled_sq(kEstimators, 0.0);
  for (int rep = 0; rep < reps; ++rep) {
    Rng r = rng.split();
    std::vector<MatrixD> running(kEstimators, MatrixD::Zero(mdp.S, mdp.A));
    std::vector<double> running_sq(kEstimators, 0.0);
    std::size_t k = 0;
    for (int n = 1; n <= max_trajectories; ++n) {
      const Episode tau = sample_episode(mdp, pi, T, r);
      const MatrixD g[kEstimators] = {full_return_estimate(tau, pi, mdp.gamma),         // (3.18)
                                      returns_to_go_estimate(tau, pi, mdp.gamma),       // (3.19)
                                      baseline_estimate(tau, pi, mdp.gamma, V),         // (3.25), b = V
                                      baseline_estimate(tau, pi, mdp.gamma, b_star)};  // (3.25), b = b*
      for (int e = 0; e < kEstimators; ++e) {
        running[e] += g[e];
        running_sq[e] += g[e].squaredNorm();
      }
      if (n == c.Ns[k]) {
        for (int e = 0; e < kEstimators; ++e) c.error[e][k].push_back((running[e] / n - grad_J).norm());
        ++k;
      }
    }
    for (int e = 0; e < kEstimators; ++e) {
      pooled_sum[e] += running[e];
      pooled_sq[e] += running_sq[e];
    }
  }
  // tr Cov of one trajectory's estimate: (sum ||x||^2 - n ||mean||^2) / (n - 1), over all trajectories.
  c.trajectories = static_cast<double>(reps) * max_trajectories;
  const double n_all = c.trajectories;
  for (int e = 0; e < kEstimators; ++e) {
    c.tr_cov.push_back((pooled_sq[e] - pooled_sum[e].squaredNorm() / n_all) / (n_all - 1));
    c.bias.push_back((pooled_sum[e] / n_all - grad_J).norm());
  }
  return c;
}

}  // namespace pgcpp::pg_lemma
