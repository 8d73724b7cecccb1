// Section 3.2.2 — The policy gradient lemma, on finite MDPs solved exactly: what the demo pg_lemma
// (3_2_2_pg_lemma.cpp) and the theorem tests (tests/chapter3/test_3_2_theorems.cpp) share.
//
// The policy is tabular softmax (3.16) with f_theta(s, a) = theta(s, a), theta in R^{S x A}, so
//   grad_theta log pi(a|s) = e_s (e_a - pi(.|s))^T   (an S x A matrix, non-zero in row s only),
// and every gradient here is an S x A matrix laid out like theta. Trajectories are cut at a
// horizon T with gamma^T negligible, so the finite-horizon estimators (3.18), (3.19), (3.25)
// estimate the infinite-horizon grad J of (3.20) up to a bias of order gamma^T.
//
// All of this computes in double, whatever pgcpp::Scalar is.
#pragma once

#include <Eigen/Dense>
#include <vector>

#include "core/random.hpp"
#include "envs/tabular_mdp.hpp"

namespace pgcpp::pg_lemma {

using MatrixD = Eigen::MatrixXd;
using VectorD = Eigen::VectorXd;

// tau = (s_0, a_0, r_0, ..., s_{T-1}, a_{T-1}, r_{T-1})                                     (3.12)
struct Episode {
  std::vector<int> states, actions;
  std::vector<double> rewards;
  int length() const { return static_cast<int>(rewards.size()); }
};

// The smallest T with gamma^T <= tail: the discounted weight that truncation drops.
int horizon_for(double gamma, double tail = 1e-8);

// s_0 ~ rho, a_t ~ pi(.|s_t), s_{t+1} ~ P(.|s_t, a_t), for T steps.
Episode sample_episode(const TabularMdp& mdp, const MatrixD& pi, int T, Rng& rng);

// grad_theta log pi(a|s) = e_s (e_a - pi(.|s))^T for the tabular softmax policy.
MatrixD score(const MatrixD& pi, int s, int a);
// ||grad_theta log pi(a|s)||^2 = 1 - 2 pi(a|s) + sum_b pi(b|s)^2.
double score_norm2(const MatrixD& pi, int s, int a);

// Per-trajectory estimators of grad J (one trajectory; average N of them for the minibatch form).
// They rest on the log-derivative trick, grad p_theta(tau) = p_theta(tau) grad log p_theta(tau)
// (3.22): with p_theta(tau) of (3.12), grad log p_theta(tau) = sum_t grad log pi(a_t|s_t), since
// rho and P do not depend on theta, so grad J = E[R(tau) sum_t grad log pi(a_t|s_t)].
//   (3.18)  sum_t grad log pi(a_t|s_t) R(tau)
MatrixD full_return_estimate(const Episode& tau, const MatrixD& pi, double gamma);
//   (3.19)  sum_t gamma^t grad log pi(a_t|s_t) g_t
//   (3.25)  sum_t gamma^t grad log pi(a_t|s_t) (g_t - b(s_t))        with a baseline b (size S)
MatrixD returns_to_go_estimate(const Episode& tau, const MatrixD& pi, double gamma);
MatrixD baseline_estimate(const Episode& tau, const MatrixD& pi, double gamma, const VectorD& b);
// The baseline term alone, sum_t gamma^t grad log pi(a_t|s_t) b(s_t): zero mean by Theorem 3.6,
// so (3.25) has the mean grad J of (3.26).
MatrixD baseline_term(const Episode& tau, const MatrixD& pi, double gamma, const VectorD& b);

// Exact value form, from exact d_theta (3.21) and Q^pi:
//   (3.20)  1/(1 - gamma) E_{s~d, a~pi}[grad log pi(a|s) Q(s, a)]
//   (3.27)  the same with Q(s, a) - b(s)
MatrixD value_form_gradient(const TabularMdp& mdp, const MatrixD& pi);
MatrixD value_form_gradient(const TabularMdp& mdp, const MatrixD& pi, const VectorD& b);

// Central differences of the exact J(theta) = E[R(tau)] = rho^T V^pi_theta (3.15): error
// O(h^2) + O(eps |J| / h).
MatrixD finite_difference_gradient(const TabularMdp& mdp, const MatrixD& theta, double h = 1e-5);

// b*(s) = E_a[||grad log pi(a|s)||^2 Q(s, a)] / E_a[||grad log pi(a|s)||^2]              (3.28)
VectorD optimal_baseline(const MatrixD& pi, const MatrixD& Q);

// ---- The estimators side by side (the demo pg_lemma) ----
// The four per-trajectory estimators of grad J, in this order: (3.18), (3.19), (3.25) with
// b = V^pi, (3.25) with b = b* of (3.28). All unbiased (up to gamma^T), so ||g_N - grad J|| falls
// like sqrt(tr Cov / N), and tr Cov, the per-trajectory variance, is what sets them apart.
inline constexpr int kEstimators = 4;
struct EstimatorComparison {
  std::vector<int> Ns;  // N = 1, 2, 4, ..., max_trajectories
  // error[e][k][rep] = ||g_N - grad J||, g_N the mean of estimator e over the first N = Ns[k]
  // trajectories of repetition rep: every N, and every estimator, on the same trajectories.
  std::vector<std::vector<std::vector<double>>> error;
  // Over all reps x max_trajectories trajectories: tr Cov of one trajectory's estimate, and
  // ||their mean - grad J|| (about sqrt(tr Cov / trajectories) for an unbiased estimator).
  std::vector<double> tr_cov, bias;
  double trajectories = 0;
};
// `reps` repetitions of max_trajectories trajectories of length T under pi, repetition r drawn
// from the r-th rng.split(); V = V^pi and b_star = b* (3.28) are the baselines, grad_J the exact
// gradient (3.20).
EstimatorComparison compare_estimators(const TabularMdp& mdp, const MatrixD& pi, const VectorD& V,
                                       const VectorD& b_star, const MatrixD& grad_J, int T, int reps,
                                       int max_trajectories, Rng& rng);

}  // namespace pgcpp::pg_lemma
