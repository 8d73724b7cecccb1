// Section 3.3.2-3.3.3's identities and theorems, numerically: the TD residual (3.31)/(3.35), the
// GAE recursion (3.37), its explicit sum (3.36), the lambda-return form (3.38)/(3.34) built from
// n-step returns (3.33), the critic targets (3.39), E[delta | s, a] = A^pi for an exact critic, and
// unbiasedness (3.41) of the GAE advantage for an exact critic; with an inexact critic, the bias
// of the part of A that the policy gradient sees grows with 1 - lambda.
//
// The code under test is chapter3/common/gae.hpp (td_residuals, gae_from_residuals, gae_episodes,
// gae_segment). Reference quantities are computed here independently, straight from the book's
// definitions (O(T^2) sums), or exactly on small random MDPs (envs/tabular_mdp.hpp) by linear
// algebra. GAE computes in double in every build, so the 1e-12 identities hold in the float build.
// Monte-Carlo checks: per coordinate against k standard errors, k by a Bonferroni bound over the d
// coordinates for a false-fail rate below 1e-4: d <= 14: k = 4.5; d <= 170: k = 5.
// The training loops of Sections 3.3.2 and 3.3.3 (train_actor_critic_td0, train_gae) run in
// lockstep with a reference written here from the pseudocodes, on an environment whose episodes end
// by termination and by truncation (tests/chapter3/cliff_env.hpp).
#include <doctest/doctest.h>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <numeric>
#include <vector>

#include "autodiff/autodiff.hpp"
#include "chapter3/3_3_2_actor_critic_td0.hpp"
#include "chapter3/3_3_3_gae.hpp"
#include "chapter3/common/gae.hpp"
#include "chapter3/common/rollout.hpp"
#include "envs/tabular_mdp.hpp"
#include "tests/chapter3/cliff_env.hpp"
#include "tests/mean_se.hpp"
#include "tests/needs_double.hpp"

using namespace pgcpp;
using test::MeanSe;
using Eigen::MatrixXd;
using Eigen::VectorXd;
using ad::Var;

namespace {

// One episode piece for the reference formulas: rewards r_0..r_{T-1}, values V(s_0)..V(s_T);
// `terminal`: s_T is terminal (its value counts as 0 whatever values(T) says).
struct Piece {
  std::vector<double> r;
  VectorXd V;  // T + 1
  bool terminal = false;
  int T() const { return static_cast<int>(r.size()); }
  double value(int t) const { return t == T() && terminal ? 0.0 : V(t); }
};

Piece random_piece(int T, bool terminal, Rng& rng) {
  Piece p;
  p.terminal = terminal;
  for (int t = 0; t < T; ++t) p.r.push_back(rng.uniform(-1.0, 2.0));
  p.V.resize(T + 1);
  for (int t = 0; t <= T; ++t) p.V(t) = rng.uniform(-5.0, 5.0);  // an arbitrary (inexact) critic
  return p;
}

// delta_t = r_t + gamma V(s_{t+1}) - V(s_t)                                                (3.35)
double ref_delta(const Piece& p, double gamma, int t) { return p.r[t] + gamma * p.value(t + 1) - p.value(t); }
// A_t = sum_{l=0}^{T-1-t} (gamma lambda)^l delta_{t+l}                                       (3.36)
double ref_explicit_sum(const Piece& p, double gamma, double lambda, int t) {
  double A = 0, w = 1;
  for (int l = 0; t + l < p.T(); ++l, w *= gamma * lambda) A += w * ref_delta(p, gamma, t + l);
  return A;
}
// g_t^(n) = sum_{k<n} gamma^k r_{t+k} + gamma^n V(s_{t+n}),  1 <= n <= T - t               (3.33)
double ref_n_step(const Piece& p, double gamma, int t, int n) {
  double g = 0, w = 1;
  for (int k = 0; k < n; ++k, w *= gamma) g += w * p.r[t + k];
  return g + w * p.value(t + n);
}
// g_t^(lambda) = (1 - lambda) sum_{n>=1} lambda^{n-1} g_t^(n)                                (3.34)
// where past the end of the piece every g^(n) equals g^(T-t) (no reward and no residual beyond
// s_T), so the tail sums to lambda^{T-t-1} g^(T-t). 0^0 = 1 (lambda = 0: g^(1)).
double ref_lambda_return(const Piece& p, double gamma, double lambda, int t) {
  const int N = p.T() - t;
  double g = 0, w = 1;
  for (int n = 1; n < N; ++n, w *= lambda) g += (1 - lambda) * w * ref_n_step(p, gamma, t, n);
  return g + w * ref_n_step(p, gamma, t, N);
}

// The piece as a Trajectory (rewards, flags) with its values in gae_episodes' layout.
Trajectory as_trajectory(const Piece& p, bool truncated) {
  Trajectory tau;
  tau.rewards = p.r;
  tau.terminated = p.terminal;
  tau.truncated = truncated;
  tau.obs = Matrix::Zero(p.T(), 1);
  tau.actions = Matrix::Zero(p.T(), 1);
  return tau;
}

}  // namespace

// ---------------------------------------------------------------- identities, to rounding

// (3.37) = (3.36) = g^(lambda) - V(s_t) with g^(lambda) from n-step returns, (3.38)/(3.34); V_targ = g^(lambda) (3.39).
TEST_CASE("GAE (3.37): recursion = explicit sum (3.36) = lambda-return (3.34)/(3.38) - V, to 1e-12, targets (3.39)") {
  Rng rng(301);
  // A batch mixing a terminal, a truncated and a one-step episode: gae_episodes must not chain
  // them (a bug that chains across episodes fails every episode but the last).
  for (double gamma : {0.99, 0.9, 0.5}) {
    for (double lambda : {0.0, 0.3, 0.95, 1.0}) {
      CAPTURE(gamma);
      CAPTURE(lambda);
      const std::vector<Piece> pieces = {random_piece(17, true, rng), random_piece(23, false, rng),
                                         random_piece(1, false, rng), random_piece(9, true, rng)};
      std::vector<Trajectory> batch;
      VectorXd values(17 + 23 + 1 + 9), final_values(4);
      Eigen::Index at = 0;
      for (std::size_t i = 0; i < pieces.size(); ++i) {
        const Piece& p = pieces[i];
        batch.push_back(as_trajectory(p, !p.terminal));
        values.segment(at, p.T()) = p.V.head(p.T());
        // A terminal s_T: pass a nonzero value that must be ignored.
        final_values(static_cast<Eigen::Index>(i)) = p.V(p.T());
        at += p.T();
      }
      const GaeResult<VectorXd> out = gae_episodes(batch, values, final_values, gamma, lambda);
      at = 0;
      for (const Piece& p : pieces) {
        // Values up to 5, rewards up to 2, sums of up to 23 terms: rounding ~1e-14, well inside 1e-12.
        const double tol = 1e-12;
        for (int t = 0; t < p.T(); ++t, ++at) {
          CHECK(std::abs(out.delta(at) - ref_delta(p, gamma, t)) < tol);
          CHECK(std::abs(out.advantage(at) - ref_explicit_sum(p, gamma, lambda, t)) < tol);
          CHECK(std::abs(out.advantage(at) - (ref_lambda_return(p, gamma, lambda, t) - p.V(t))) < tol);
          CHECK(std::abs(out.target(at) - ref_lambda_return(p, gamma, lambda, t)) < tol);
        }
      }
    }
  }
}

// lambda = 0: A_t = delta_t (TD(0), Section 3.3.2); lambda = 1: A_t = g_t - V(s_t), the Monte-Carlo
// return-to-go (3.14) (plus gamma^{T-t} V(s_T) where the episode was truncated, not terminated).
TEST_CASE("GAE (3.37) limits: lambda = 0 gives delta_t (3.31), lambda = 1 gives the Monte-Carlo return minus V") {
  Rng rng(302);
  const double gamma = 0.97;
  for (const bool terminal : {true, false}) {
    CAPTURE(terminal);
    const Piece p = random_piece(40, terminal, rng);
    const std::vector<Trajectory> batch = {as_trajectory(p, !terminal)};
    const VectorXd values = p.V.head(p.T()), final_values = p.V.tail(1);
    const GaeResult<VectorXd> td = gae_episodes(batch, values, final_values, gamma, 0.0);
    const GaeResult<VectorXd> mc = gae_episodes(batch, values, final_values, gamma, 1.0);
    const std::vector<double> g = returns_to_go(p.r, gamma);  // (3.14), chapter3/common/rollout.hpp
    for (int t = 0; t < p.T(); ++t) {
      CHECK(std::abs(td.advantage(t) - td.delta(t)) < 1e-15);
      CHECK(std::abs(td.delta(t) - (p.r[t] + gamma * p.value(t + 1) - p.V(t))) < 1e-13);
      const double bootstrap = terminal ? 0.0 : std::pow(gamma, p.T() - t) * p.V(p.T());
      CHECK(std::abs(mc.advantage(t) - (g[t] + bootstrap - p.V(t))) < 1e-12);
    }
  }
}

// Over a VecEnv segment (T x N, episodes restarting mid-segment): each copy's column is its
// episodes laid end to end, and the segment end (neither terminal nor truncated) bootstraps from
// V(s_T) like a truncation. gae_segment equals the per-piece definitions.
TEST_CASE("GAE over a segment: terminal, truncated and neither, mid-segment and at its end, match (3.36)/(3.34)") {
  Rng rng(303);
  const double gamma = 0.95, lambda = 0.9;
  // Copy 0: terminal after 5 steps, truncated after 4, then 3 steps cut by the segment's end.
  // Copy 1: 12 steps of one episode, cut by the segment's end. Copy 2: truncated at the last step.
  struct Layout {
    std::vector<int> lengths;
    std::vector<bool> terminal, truncated;
  };
  const std::vector<Layout> layout = {{{5, 4, 3}, {true, false, false}, {false, true, false}},
                                      {{12}, {false}, {false}},
                                      {{6, 6}, {true, false}, {false, true}}};
  const int T = 12, N = 3;
  MatrixXd rewards(T, N), values(T, N), next_values(T, N);
  MaskMatrix terminated = MaskMatrix::Constant(T, N, false), ended = MaskMatrix::Constant(T, N, false);
  std::vector<std::vector<Piece>> pieces(N);
  for (int i = 0; i < N; ++i) {
    int t0 = 0;
    for (std::size_t k = 0; k < layout[static_cast<std::size_t>(i)].lengths.size(); ++k) {
      const Layout& L = layout[static_cast<std::size_t>(i)];
      const Piece p = random_piece(L.lengths[k], L.terminal[k], rng);
      for (int t = 0; t < p.T(); ++t) {
        rewards(t0 + t, i) = p.r[static_cast<std::size_t>(t)];
        values(t0 + t, i) = p.V(t);
        next_values(t0 + t, i) = p.V(t + 1);  // the true next state's value (final obs at the end)
      }
      terminated(t0 + p.T() - 1, i) = L.terminal[k];
      ended(t0 + p.T() - 1, i) = L.terminal[k] || L.truncated[k];
      pieces[static_cast<std::size_t>(i)].push_back(p);
      t0 += p.T();
    }
    REQUIRE(t0 == T);
  }
  GaeResult<MatrixXd> out;
  gae_segment(rewards, values, next_values, terminated, ended, gamma, lambda, out);
  for (int i = 0; i < N; ++i) {
    int t0 = 0;
    for (const Piece& p : pieces[static_cast<std::size_t>(i)]) {
      for (int t = 0; t < p.T(); ++t) {
        CHECK(std::abs(out.advantage(t0 + t, i) - ref_explicit_sum(p, gamma, lambda, t)) < 1e-12);
        CHECK(std::abs(out.target(t0 + t, i) - ref_lambda_return(p, gamma, lambda, t)) < 1e-12);
      }
      t0 += p.T();
    }
  }
  // The same output storage is reused (no reallocation) for a segment of the same shape.
  const double* before = out.advantage.data();
  gae_segment(rewards, values, next_values, terminated, ended, gamma, lambda, out);
  CHECK(out.advantage.data() == before);
}

TEST_CASE("GAE: mismatched sizes are rejected, not read out of bounds") {
  const std::vector<Trajectory> batch = {as_trajectory(Piece{{1.0, 2.0}, VectorXd::Zero(3), false}, true)};
  CHECK_THROWS_AS(gae_episodes(batch, VectorXd::Zero(3), VectorXd::Zero(1), 0.9, 0.9), std::invalid_argument);
  CHECK_THROWS_AS(gae_episodes(batch, VectorXd::Zero(2), VectorXd::Zero(2), 0.9, 0.9), std::invalid_argument);
  VectorXd delta(2);
  CHECK_THROWS_AS(td_residuals(VectorXd::Zero(2), VectorXd::Zero(2), VectorXd::Zero(3), MaskVector::Constant(2, false),
                               0.9, delta),
                  std::invalid_argument);
}

// ---------------------------------------------------------------- exact MDPs

namespace {

MatrixXd random_policy(int S, int A, Rng& rng) {
  MatrixXd theta(S, A);
  for (Eigen::Index i = 0; i < theta.size(); ++i) theta(i) = 1.5 * rng.normal();
  return softmax_policy(theta);
}

// For every (s, a) pair in turn (coordinate s * A + a), `n` episodes from s_0 = s, a_0 = a, then
// pi, truncated after H steps; the critic `V` (size S) gives v_t and v'_t, the final state's value
// bootstraps (not terminal). Returns the GAE advantage A_0 of gae_from_residuals for each lambda.
std::vector<MeanSe> sampled_gae(const TabularMdp& mdp, const MatrixXd& pi, const VectorXd& V, int H, int n,
                                const std::vector<double>& lambdas, bool truncation_as_terminal, Rng& rng) {
  std::vector<MeanSe> stats(lambdas.size());
  VectorXd r(H), v(H), v_next(H), delta(H), A(H);
  MaskVector ended = MaskVector::Constant(H, false), term = MaskVector::Constant(H, false);
  ended(H - 1) = true;
  term(H - 1) = truncation_as_terminal;  // the bug: a time limit read as a terminal state
  std::vector<Eigen::ArrayXd> sample(lambdas.size(), Eigen::ArrayXd(mdp.S * mdp.A));
  for (int i = 0; i < n; ++i) {
    for (int s0 = 0; s0 < mdp.S; ++s0)
      for (int a0 = 0; a0 < mdp.A; ++a0) {
        int s = s0, a = a0;
        for (int t = 0; t < H; ++t) {
          const Transition tr = mdp.step(s, a, rng);
          r(t) = tr.reward;
          v(t) = V(s);
          v_next(t) = V(tr.next_state);
          s = tr.next_state;
          a = mdp.sample_action(pi, s, rng);
        }
        td_residuals(r, v, v_next, term, mdp.gamma, delta);
        for (std::size_t k = 0; k < lambdas.size(); ++k) {
          gae_from_residuals(delta, ended, mdp.gamma, lambdas[k], A);
          sample[k](s0 * mdp.A + a0) = A(0);
        }
      }
    for (std::size_t k = 0; k < lambdas.size(); ++k) stats[k].add(sample[k]);
  }
  return stats;
}

Eigen::ArrayXd flat_by_state(const MatrixXd& m) {  // coordinate s * A + a
  const MatrixXd t = m.transpose();
  return Eigen::Map<const Eigen::ArrayXd>(t.data(), t.size());
}

}  // namespace

// With V = V^pi: E[delta_t | s_t, a_t] = R(s, a) + gamma sum_s' P(s'|s, a) V^pi(s') - V^pi(s) = A^pi(s, a).
TEST_CASE("(3.31)/(3.35): with the exact critic, E[delta | s, a] = A^pi(s, a) exactly, enumerating next states") {
  for (std::uint64_t seed : {311, 312}) {
    const TabularMdp mdp = random_mdp({.states = 5, .actions = 3, .gamma = 0.9, .seed = seed});
    Rng rng(seed);
    const MatrixXd pi = random_policy(5, 3, rng);
    const VectorXd V = mdp.V(pi);
    const MatrixXd advantage = mdp.advantage(pi);
    for (int s = 0; s < 5; ++s)
      for (int a = 0; a < 3; ++a) {
        // One "step" per next state s', as td_residuals sees it, weighted by P(s'|s, a).
        const VectorXd r = VectorXd::Constant(5, mdp.R(s, a)), v = VectorXd::Constant(5, V(s));
        VectorXd delta(5);
        td_residuals(r, v, V, MaskVector::Constant(5, false), mdp.gamma, delta);
        const double expected = mdp.P.row(s * 3 + a).dot(delta);
        CHECK(std::abs(expected - advantage(s, a)) < 1e-12);
        // A terminal s' has value 0: the residual is then R - V(s), not A (unless V^pi = 0 there).
        td_residuals(r, v, V, MaskVector::Constant(5, true), mdp.gamma, delta);
        CHECK(std::abs(mdp.P.row(s * 3 + a).dot(delta) - (mdp.R(s, a) - V(s))) < 1e-12);
      }
    CHECK(advantage.cwiseAbs().maxCoeff() > 0.05);  // not vacuous
  }
}

// With V = V^pi: E[A^(lambda)_t | s_t, a_t] = A^pi(s_t, a_t) for every lambda (3.41); also when the
// episode is truncated after H steps and bootstraps from V^pi(s_H), since E[g^(n)] = Q^pi then too.
TEST_CASE("(3.41): with the exact critic, GAE is unbiased for lambda in {0, 0.5, 0.9, 1}, truncated episodes bootstrapping") {
  const TabularMdp mdp = random_mdp({.states = 4, .actions = 3, .gamma = 0.9, .seed = 321});
  Rng rng(321);
  const MatrixXd pi = random_policy(4, 3, rng);
  const VectorXd V = mdp.V(pi);
  const Eigen::ArrayXd exact = flat_by_state(mdp.advantage(pi));
  const std::vector<double> lambdas = {0.0, 0.5, 0.9, 1.0};
  const int H = 8, n = 3000;
  const std::vector<MeanSe> gae = sampled_gae(mdp, pi, V, H, n, lambdas, false, rng);
  // 12 coordinates per lambda, 48 in all: 5 SE keeps the false-fail rate below 1e-4.
  for (std::size_t k = 0; k < lambdas.size(); ++k) {
    CAPTURE(lambdas[k]);
    CHECK(gae[k].max_z(exact) < 5.0);
  }
  // Teeth: reading the time limit as termination drops gamma^{H-t} (gamma lambda)^... V^pi(s_H) and
  // is biased, rejected by the same test at the same sample size for lambda = 1.
  const std::vector<MeanSe> wrong = sampled_gae(mdp, pi, V, H, n, {1.0}, true, rng);
  CHECK(wrong[0].max_z(exact) > 10.0);
  // The SE is small against the advantages being estimated.
  CHECK(gae[3].se().maxCoeff() < 0.1 * exact.abs().maxCoeff());
}

// With an inexact critic V = V^pi + e, exactly (infinite horizon, M = gamma P_pi):
//   E[A^(lambda)_t | s, a] - A^pi(s, a) = gamma (1 - lambda) P(.|s, a) (I - lambda M)^{-1} e - e(s).
// The -e(s) part is a state-only baseline, invisible to the policy gradient (Theorem 3.6); the
// action-dependent part, the bias the gradient (3.40) sees, is proportional to 1 - lambda times
// (I - lambda M)^{-1} e, of norm at most (1 - lambda) / (1 - lambda gamma) gamma max|e|: it
// vanishes at lambda = 1 and grows as lambda decreases to 0 (TD(0)), as the section argues.
// Measured here (norm of the error of the tabular-softmax grad J it implies; the test prints it):
//   lambda:  1        0.95    0.9     0.5     0
//   bias:    2e-16    0.025   0.050   0.228   0.415      (||grad J|| = 0.94)
// The same code's Monte-Carlo means match the closed form within SE for lambda = 0, 0.5, 0.9.
TEST_CASE("GAE with an inexact critic: the policy-gradient bias is 0 at lambda = 1 and grows with 1 - lambda") {
  const double gamma = 0.8;
  const TabularMdp mdp = random_mdp({.states = 4, .actions = 3, .gamma = gamma, .seed = 331});
  Rng rng(331);
  const MatrixXd pi = random_policy(4, 3, rng);
  const VectorXd V = mdp.V(pi);
  VectorXd e(4);
  for (int s = 0; s < 4; ++s) e(s) = rng.uniform(-2.0, 2.0);
  const VectorXd V_wrong = V + e;
  const MatrixXd M = gamma * mdp.policy_transition(pi);
  const VectorXd d = mdp.visitation(pi);
  const auto expected_gae = [&](double lambda) {  // E[A^(lambda) | s, a], the closed form above
    const VectorXd w = (MatrixXd::Identity(4, 4) - lambda * M).lu().solve(e);
    MatrixXd out = mdp.advantage(pi);
    for (int s = 0; s < 4; ++s)
      for (int a = 0; a < 3; ++a) out(s, a) += gamma * (1 - lambda) * mdp.P.row(s * 3 + a).dot(w) - e(s);
    return out;
  };
  // The policy-gradient error of an advantage estimate with mean Ahat, tabular softmax:
  // 1/(1 - gamma) sum_s d(s) sum_a pi(a|s) grad log pi(a|s) (Ahat - A^pi)(s, a), grad log pi = e_s (e_a - pi(s, .)).
  const auto gradient_error = [&](const MatrixXd& Ahat) {
    const MatrixXd bias = Ahat - mdp.advantage(pi);
    MatrixXd g = MatrixXd::Zero(4, 3);
    for (int s = 0; s < 4; ++s) {
      const double centre = pi.row(s).dot(bias.row(s));
      for (int b = 0; b < 3; ++b) g(s, b) = d(s) * pi(s, b) * (bias(s, b) - centre) / (1 - gamma);
    }
    return g.norm();
  };
  // The closed form against the code: Monte-Carlo GAE with V_wrong, H = 60 steps (the truncation
  // changes the mean by at most gamma^60 2 max|e| ~ 5e-6, far below the SE ~ 1e-2).
  const std::vector<double> lambdas = {0.0, 0.5, 0.9};
  const std::vector<MeanSe> mc = sampled_gae(mdp, pi, V_wrong, 60, 2000, lambdas, false, rng);
  for (std::size_t k = 0; k < lambdas.size(); ++k) {
    CAPTURE(lambdas[k]);
    CHECK(mc[k].max_z(flat_by_state(expected_gae(lambdas[k]))) < 5.0);  // 36 coordinates
    CHECK(mc[k].max_z(flat_by_state(mdp.advantage(pi))) > 10.0);        // and it is biased
  }
  // The bias of the gradient as lambda goes from 1 down to 0.
  const std::vector<double> sweep = {1.0, 0.95, 0.9, 0.5, 0.0};
  std::vector<double> bias;
  for (double lambda : sweep) bias.push_back(gradient_error(expected_gae(lambda)));
  const double bound_scale = gamma * e.cwiseAbs().maxCoeff();
  MESSAGE("policy-gradient bias with V = V^pi + e, lambda 1, 0.95, 0.9, 0.5, 0: " << bias[0] << ", " << bias[1] << ", "
                                                                                 << bias[2] << ", " << bias[3] << ", "
                                                                                 << bias[4] << "; ||grad J|| "
                                                                                 << gradient_error(MatrixXd::Zero(4, 3)));
  CHECK(bias[0] < 1e-12);
  for (std::size_t k = 1; k < sweep.size(); ++k) {
    CHECK(bias[k] > bias[k - 1]);
    // |action-dependent bias| <= (1 - lambda)/(1 - lambda gamma) gamma max|e|, per (s, a).
    CHECK(bias[k] <= (1 - sweep[k]) / (1 - sweep[k] * gamma) * bound_scale * 2 / (1 - gamma) + 1e-12);
  }
  CHECK(bias[4] > 0.05 * gradient_error(MatrixXd::Zero(4, 3)));  // TD(0)'s bias is not negligible here
}

// ---------------------------------------------------------------- the training loops, in lockstep

namespace {

// One episode as the reference collects it, straight from Env::step (not run_episode).
struct RefEpisode {
  std::vector<Eigen::VectorXd> s, a;
  std::vector<double> r;
  Eigen::VectorXd s_T;
  bool terminal = false, truncated = false;
  int T() const { return static_cast<int>(r.size()); }
};

// What a loop reports after each iteration, and its parameters then.
struct LoopRecord {
  std::vector<double> returns;
  double actor_loss, critic_loss;
  Vector theta, phi;
};

struct LoopSettings {
  int batch, episodes, critic_steps;
  double lr_actor, lr_critic, gamma, lambda_, clip;
  bool normalize;
};

// Sections 3.3.2 and 3.3.3's on-policy actor-critic, written here from the pseudocodes on copies of
// the networks: whole episodes (Example 3.3/3.4's step 1); per step
//   delta_t = r_t + gamma V(s_{t+1}) - V(s_t), V(s_T) = 0 at a terminal s_T and V_phi(s_T) where the
//   time limit cut the episode                                                       (3.31), (3.35)
//   A_t = sum_l (gamma lambda)^l delta_{t+l} within the episode, the explicit sum   (3.36)
//   y_t = A_t + V(s_t), the critic's target from the critic before its steps, held fixed   (3.39)
// (lambda = 0: A_t = delta_t and y_t = r_t + gamma V(s_{t+1}), the TD(0) target of (3.31));
// `critic_steps` Adam steps on c 1/|B| sum (V_phi(s_t) - y_t)^2 (c = 1/2 for TD(0)'s loss (3.31), 1 for
// GAE's step 5); then A_t recomputed with the updated critic (the course scripts' order, which the
// library follows: the actor sees the critic it just fitted), optionally standardized over the
// batch, and one Adam step ascending 1/|B| sum grad log pi(a_t|s_t) A_t (3.32), (3.40).
std::vector<LoopRecord> reference_loop(const LoopSettings& cfg, double critic_coeff, Env& env, const Policy& policy,
                                       const ad::Mlp& value, Rng& rng, int& terminal, int& truncated) {
  ad::Adam actor(policy.parameters(), ad::StepSize::constant(static_cast<Scalar>(cfg.lr_actor)));
  ad::Adam critic(value.parameters(), ad::StepSize::constant(static_cast<Scalar>(cfg.lr_critic)));
  std::vector<LoopRecord> records;
  for (int spent = 0; spent < cfg.episodes;) {
    const int n = std::min(cfg.batch, cfg.episodes - spent);
    spent += n;
    std::vector<RefEpisode> batch(static_cast<std::size_t>(n));
    for (RefEpisode& ep : batch) {
      Eigen::VectorXd s = env.reset(rng);
      while (true) {
        const Eigen::VectorXd a = policy.act(s, rng);
        const StepResult step = env.step(a);
        ep.s.push_back(s);
        ep.a.push_back(a);
        ep.r.push_back(step.reward);
        s = step.observation;
        if (step.terminated || step.truncated) {
          ep.terminal = step.terminated;
          ep.truncated = !step.terminated;
          break;
        }
      }
      ep.s_T = s;
      terminal += ep.terminal;
      truncated += ep.truncated;
    }
    int rows = 0;
    for (const RefEpisode& ep : batch) rows += ep.T();
    Matrix S(rows, env.obs_dim()), actions(rows, 1), S_T(n, env.obs_dim());
    int at = 0;
    for (int i = 0; i < n; ++i) {
      const RefEpisode& ep = batch[static_cast<std::size_t>(i)];
      for (int t = 0; t < ep.T(); ++t, ++at) {
        S.row(at) = ep.s[static_cast<std::size_t>(t)].cast<Scalar>().transpose();
        actions(at, 0) = static_cast<Scalar>(ep.a[static_cast<std::size_t>(t)](0));
      }
      S_T.row(i) = ep.s_T.cast<Scalar>().transpose();
    }
    // A_t (3.36) from delta (3.35) under the current critic, row order = episodes end to end.
    const auto advantages = [&](VectorXd& v) {
      ad::NoGrad off;
      v = value(Var(S)).value().col(0).cast<double>();
      const VectorXd v_T = value(Var(S_T)).value().col(0).cast<double>();
      VectorXd A(rows);
      int row = 0;
      for (int i = 0; i < n; ++i) {
        const RefEpisode& ep = batch[static_cast<std::size_t>(i)];
        std::vector<double> delta(static_cast<std::size_t>(ep.T()));
        for (int t = 0; t < ep.T(); ++t) {
          const double next = t + 1 < ep.T() ? v(row + t + 1) : ep.terminal ? 0.0 : v_T(i);
          delta[static_cast<std::size_t>(t)] = ep.r[static_cast<std::size_t>(t)] + cfg.gamma * next - v(row + t);
        }
        for (int t = 0; t < ep.T(); ++t) {
          double sum = 0, w = 1;
          for (int l = 0; t + l < ep.T(); ++l, w *= cfg.gamma * cfg.lambda_) sum += w * delta[static_cast<std::size_t>(t + l)];
          A(row + t) = sum;
        }
        row += ep.T();
      }
      return A;
    };
    LoopRecord rec;
    VectorXd v;
    const VectorXd A_old = advantages(v);
    const Var y(Matrix((A_old + v).cast<Scalar>()));
    for (int j = 0; j < cfg.critic_steps; ++j) {
      const Var loss = static_cast<Scalar>(critic_coeff) * ad::mean(ad::square(value(Var(S)) - y));
      critic.minimize(loss, static_cast<Scalar>(cfg.clip));
      rec.critic_loss = loss.item();
    }
    VectorXd A = advantages(v);
    if (cfg.normalize) {
      const double mean = A.mean(), sd = std::sqrt((A.array() - mean).square().mean());
      A = ((A.array() - mean) / (sd + 1e-8)).matrix();
    }
    const Var loss = -ad::mean(policy.log_prob(S, actions) * Var(Matrix(A.cast<Scalar>())));
    actor.minimize(loss, static_cast<Scalar>(cfg.clip));
    rec.actor_loss = loss.item();
    for (const RefEpisode& ep : batch) rec.returns.push_back(std::accumulate(ep.r.begin(), ep.r.end(), 0.0));
    rec.theta = policy.parameters().flatten();
    rec.phi = value.parameters().flatten();
    records.push_back(rec);
  }
  return records;
}

LoopSettings lockstep_settings(double lambda_, bool normalize) {
  // Small networks, visible steps (lr 2e-2), gamma and lambda away from 0 and 1, several critic
  // steps on fixed targets, a gradient-norm clip of 0.5, 8 updates of 5 episodes.
  return {.batch = 5, .episodes = 40, .critic_steps = 3, .lr_actor = 2e-2, .lr_critic = 2e-2, .gamma = 0.8,
          .lambda_ = lambda_, .clip = 0.5, .normalize = normalize};
}

bool near_rel(double got, double want, double tol) { return std::abs(got - want) < tol * (1 + std::abs(want)); }

// Both runs' records agree to `tol`, and the run had power: both kinds of episode end, both networks moved.
void check_same_loop(const std::vector<LoopRecord>& got, const std::vector<LoopRecord>& want, const Vector& theta0,
                     const Vector& phi0, int terminal, int truncated) {
  const double tol = 1e-10;
  REQUIRE(got.size() == want.size());
  double largest = 0;
  for (std::size_t k = 0; k < want.size(); ++k) {
    CAPTURE(k);
    largest = std::max({largest, static_cast<double>((got[k].theta - want[k].theta).cwiseAbs().maxCoeff()),
                        static_cast<double>((got[k].phi - want[k].phi).cwiseAbs().maxCoeff())});
    REQUIRE(got[k].returns.size() == want[k].returns.size());
    for (std::size_t e = 0; e < want[k].returns.size(); ++e) CHECK(near_rel(got[k].returns[e], want[k].returns[e], tol));
    CHECK(near_rel(got[k].critic_loss, want[k].critic_loss, tol));
    CHECK(near_rel(got[k].actor_loss, want[k].actor_loss, tol));
    CHECK((got[k].theta - want[k].theta).cwiseAbs().maxCoeff() < tol);
    CHECK((got[k].phi - want[k].phi).cwiseAbs().maxCoeff() < tol);
  }
  MESSAGE("episodes ending terminal " << terminal << ", truncated " << truncated << "; largest parameter difference "
                                       << largest);
  CHECK(terminal >= 5);
  CHECK(truncated >= 5);
  CHECK((want.back().theta - theta0).cwiseAbs().maxCoeff() > 0.05);
  CHECK((want.back().phi - phi0).cwiseAbs().maxCoeff() > 0.05);
}


// The loop under test (`train`: train_actor_critic_td0 or train_gae, with `cfg`) and
// reference_loop(set, c) run side by side from copies of the same networks (drawn from
// Rng(init_seed)) and the same Rng(seed) stream on CliffEnv; check_same_loop compares them.
template <class Config, class Train>
void check_against_reference(const LoopSettings& set, double c, Config& cfg, std::uint64_t init_seed,
                             std::uint64_t seed, Train train) {
  cfg.batch = set.batch;
  cfg.episodes = set.episodes;
  cfg.critic_steps = set.critic_steps;
  cfg.lr_actor = set.lr_actor;
  cfg.lr_critic = set.lr_critic;
  cfg.gamma = set.gamma;
  cfg.clip = set.clip;
  cfg.no_normalize = !set.normalize;
  cfg.solved = 0;
  Rng init(init_seed);
  const ad::Mlp pi_net({6, 8, 2}, ad::Activation::Tanh, init);
  CategoricalPolicy policy(pi_net);
  const CategoricalPolicy ref_policy(pi_net.clone());
  ad::Mlp value({6, 8, 1}, ad::Activation::Tanh, init);
  const ad::Mlp ref_value = value.clone();
  const Vector theta0 = policy.parameters().flatten(), phi0 = value.parameters().flatten();
  test::CliffEnv env, ref_env;
  Rng rng(seed), ref_rng(seed);
  int terminal = 0, truncated = 0;
  const std::vector<LoopRecord> want = reference_loop(set, c, ref_env, ref_policy, ref_value, ref_rng, terminal, truncated);
  std::vector<LoopRecord> got;
  train(cfg, env, policy, value, rng, [&](long, const std::vector<Trajectory>& batch, const auto& stats) {
    LoopRecord rec{{}, stats.actor_loss, stats.critic_loss, policy.parameters().flatten(), value.parameters().flatten()};
    for (const Trajectory& tau : batch) rec.returns.push_back(tau.total_reward());
    got.push_back(rec);
  });
  check_same_loop(got, want, theta0, phi0, terminal, truncated);
}

}  // namespace

// Section 3.3.2's loop, train_actor_critic_td0, against the reference above (lambda = 0, c = 1/2)
// on CliffEnv (tests/chapter3/cliff_env.hpp), with and without step 4's normalization.
// Catches: the actor's sign (3.32) flipped; gamma dropped from delta (3.31); a truncated episode
// not bootstrapping from V_phi(s_T), or a terminal one bootstrapping (termination and truncation
// mixed up, in run_episode, gae_episodes or episode_values); the actor's delta from the critic
// before its steps (stale) or the critic's targets recomputed at every step (not held fixed); the
// critic loss on the wrong network or sign; a step skipped; --no-normalize ignored.
// Tolerance: both sides do the same double operations from the same parameters and Rng stream, so
// they differ by rounding only (measured: < 1e-15), far below 1e-10 after 8 updates, while any of
// these bugs moves some parameter by ~alpha = 2e-2 within the first update.
TEST_CASE("TD(0) actor-critic (3.31), (3.32): train_actor_critic_td0 follows steps 1-5 in lockstep" *
          NEEDS_DOUBLE("lockstep to 1e-10 over 8 updates")) {
  for (const bool normalize : {true, false}) {
    CAPTURE(normalize);
    ActorCriticConfig cfg;
    check_against_reference(lockstep_settings(0.0, normalize), 0.5, cfg, 51, 52,
                            [](auto&&... args) { train_actor_critic_td0(args...); });
  }
}

// Section 3.3.3's loop, train_gae, against the same reference with lambda = 0.7 and c = 1.
// Catches: the critic fit (3.39) skipped, detached or fitted to A instead of A + v; lambda or gamma
// dropped from (3.37); the actor's advantages from the critic before its fit, or its sign flipped
// (3.40); termination and truncation mixed up in the episode path; --no-normalize ignored.
// Tolerance as for TD(0) (measured: < 1e-15).
TEST_CASE("GAE actor-critic (3.35)-(3.40): train_gae follows steps 1-6 in lockstep" *
          NEEDS_DOUBLE("lockstep to 1e-10 over 8 updates")) {
  for (const bool normalize : {true, false}) {
    CAPTURE(normalize);
    const LoopSettings set = lockstep_settings(0.7, normalize);
    GaeConfig cfg;
    cfg.lambda_ = set.lambda_;
    check_against_reference(set, 1.0, cfg, 61, 62,
                            [](auto&&... args) { train_gae(args...); });
  }
}
