#include "chapter3/common/policy.hpp"

#include <algorithm>
#include <cmath>
#include <limits>
#include <numbers>
#include <stdexcept>
#include <string>
#include <vector>

namespace pgcpp {

using namespace ad;

namespace {

const Scalar kLog2Pi = static_cast<Scalar>(std::log(2.0 * std::numbers::pi));

std::vector<int> action_indices(const Matrix& actions, Eigen::Index rows, Eigen::Index num_actions) {
  if (actions.rows() != rows || actions.cols() != 1)
    throw std::invalid_argument("categorical policy: expected " + std::to_string(rows) + "x1 actions, got " +
                                shape_of(actions));
  std::vector<int> index(static_cast<std::size_t>(rows));
  for (Eigen::Index i = 0; i < rows; ++i) {
    const Scalar a = actions(i, 0);
    if (!(a >= 0 && a < static_cast<Scalar>(num_actions)) || a != std::floor(a))
      throw std::invalid_argument("categorical policy: action " + std::to_string(a) + " is not an index in [0, " +
                                  std::to_string(num_actions) + ")");
    index[static_cast<std::size_t>(i)] = static_cast<int>(a);
  }
  return index;
}

void check_actions(const char* who, const Matrix& actions, Eigen::Index rows, int m) {
  if (actions.rows() != rows || actions.cols() != m)
    throw std::invalid_argument(std::string(who) + ": expected " + std::to_string(rows) + "x" + std::to_string(m) +
                                " actions, got " + shape_of(actions));
}

std::string position(Eigen::Index i, Eigen::Index j) {
  return "(" + std::to_string(i) + ", " + std::to_string(j) + ")";
}

// A NaN or infinite action is never one a policy produced (a missing action, an overflow):
// its log-density would be NaN or -inf and poison a whole batch's loss, so say so here.
void check_finite(const char* who, const Matrix& actions) {
  for (Eigen::Index j = 0; j < actions.cols(); ++j)
    for (Eigen::Index i = 0; i < actions.rows(); ++i)
      if (!std::isfinite(actions(i, j)))
        throw std::invalid_argument(std::string(who) + ": action " + position(i, j) + " is " +
                                    std::to_string(actions(i, j)) + ", not a finite number");
}

// log(1 - tanh^2 u) = 2 (log 2 - u - softplus(-2u)), exact and finite for any u.
Var log_one_minus_tanh_sq(const Var& u) {
  return 2.0 * ((static_cast<Scalar>(std::numbers::ln2) - u) - softplus(-2.0 * u));
}

// E[log(1 - tanh^2 u)], u ~ N(mu, sigma^2) elementwise (N x m), by the trapezoid rule in
// z = (u - mu) / sigma over |z| <= 8, with a step h fitted to each element's sigma.
//
// Why: g(z) = log(1 - tanh^2(mu + sigma z)) is analytic in the strip |Im z| < pi / (2 sigma) (log
// cosh is singular at u = +-i pi/2), where the trapezoid rule converges geometrically, with error
// about exp(-pi^2 / (sigma h)). No fixed rule serves every sigma: for large sigma the bend of
// log cosh u (|u| < ~1) is a feature 1/sigma narrow in z, and 20-point Gauss-Hermite was 0.16 nats
// off at sigma = e^2. h = min(1/2, pi^2 / (24 sigma)) keeps the error near exp(-24) (measured:
// < 1e-10 in the value, < 1e-8 in the gradient) for sigma up to pi^2 / (24 / 128) ~ 53, where h
// reaches its floor 1/128 (2049 nodes; 289 at sigma = e^2, the default log_std_max; 33 for sigma
// <= 0.82); beyond, the error grows as exp(-1263 / sigma). h <= 1/2 also resolves phi itself, and
// the tails |z| > 8 hold < 1e-13. The rule is a linear combination of g at mu + sigma z_k, so it is
// differentiable to any order like any other op (h is read from sigma's value and held constant,
// a choice of rule); it depends on the element's own sigma only, not on the rest of the batch.
Var expected_log_one_minus_tanh_sq(const Var& mu, const Var& sigma) {
  constexpr double min_step = 1.0 / 128, max_step = 0.5, z_max = 8.0;
  const double c = std::numbers::pi * std::numbers::pi / 24;
  const Eigen::Index rows = sigma.rows();
  std::vector<Var> columns;
  for (Eigen::Index j = 0; j < sigma.cols(); ++j) {
    Eigen::VectorXd h = Eigen::VectorXd::Constant(rows, max_step);
    for (Eigen::Index i = 0; i < rows; ++i) {
      const double s = static_cast<double>(sigma.value()(i, j));
      if (s > c / max_step) h(i) = std::max(min_step, c / s);  // false for NaN: keeps max_step
    }
    // One row per element, nodes k h_i for |k| <= half, as many as the smallest h needs; a row
    // with a larger h gives its nodes beyond |z| = 8 the weight 0, so it is its own rule.
    const double h_min = rows > 0 ? h.minCoeff() : max_step;
    const auto half = static_cast<Eigen::Index>(std::ceil(z_max / h_min));
    Matrix z(rows, 2 * half + 1), w(rows, 2 * half + 1);
    for (Eigen::Index k = -half; k <= half; ++k)
      for (Eigen::Index i = 0; i < rows; ++i) {
        const double zk = static_cast<double>(k) * h(i);
        const double phi = std::exp(-0.5 * zk * zk) / std::sqrt(2 * std::numbers::pi);
        z(i, k + half) = static_cast<Scalar>(zk);
        w(i, k + half) = std::abs(zk) <= z_max + 1e-9 ? static_cast<Scalar>(h(i) * phi) : Scalar(0);
      }
    const Var u = slice_cols(mu, j, 1) + slice_cols(sigma, j, 1) * Var(z);  // rows x nodes
    columns.push_back(sum(log_one_minus_tanh_sq(u) * Var(w), 1));
  }
  return concat_cols(columns);
}

}  // namespace

// ------------------------------------------------------------------ Policy

const Matrix& Policy::act(const Matrix& obs, Rng& rng, ActWorkspace& ws) const {
  dist_params(obs, ws);
  sample(ws.params, rng, ws.actions);
  return ws.actions;
}

void Policy::act(const Eigen::VectorXd& obs, Rng& rng, Eigen::VectorXd& action, ActWorkspace& ws) const {
  ws.obs.resize(1, obs.size());
  ws.obs.row(0) = obs.cast<Scalar>().transpose();
  act(ws.obs, rng, ws);
  action = ws.actions.row(0).transpose().cast<double>();
}

void Policy::act_mode(const Eigen::VectorXd& obs, Eigen::VectorXd& action, ActWorkspace& ws) const {
  ws.obs.resize(1, obs.size());
  ws.obs.row(0) = obs.cast<Scalar>().transpose();
  dist_params(ws.obs, ws);
  mode(ws.params, ws.actions);
  action = ws.actions.row(0).transpose().cast<double>();
}

Matrix Policy::params_of(const Matrix& obs) const {
  ActWorkspace ws;
  dist_params(obs, ws);
  return std::move(ws.params);
}

Matrix Policy::sample(const Matrix& params, Rng& rng) const {
  Matrix actions;
  sample(params, rng, actions);
  return actions;
}

Matrix Policy::mode(const Matrix& params) const {
  Matrix actions;
  mode(params, actions);
  return actions;
}

Eigen::VectorXd Policy::act(const Eigen::VectorXd& obs, Rng& rng) const {
  ActWorkspace ws;
  Eigen::VectorXd action;
  act(obs, rng, action, ws);
  return action;
}

Eigen::VectorXd Policy::act_mode(const Eigen::VectorXd& obs) const {
  ActWorkspace ws;
  Eigen::VectorXd action;
  act_mode(obs, action, ws);
  return action;
}

// ------------------------------------------------------------------ Categorical (3.16)

CategoricalPolicy::CategoricalPolicy(Mlp logits_net) : net_(std::move(logits_net)) {}

std::unique_ptr<CategoricalPolicy> CategoricalPolicy::make(int obs_dim, const std::vector<int>& hidden, int num_actions,
                                                           Activation act, Rng& rng) {
  std::vector<int> sizes{obs_dim};
  sizes.insert(sizes.end(), hidden.begin(), hidden.end());
  sizes.push_back(num_actions);
  return std::make_unique<CategoricalPolicy>(Mlp(sizes, act, rng));
}

// log pi(a|s) = f(s, a) - log sum_a' exp f(s, a')                                        (3.16)
Var CategoricalPolicy::log_prob(const Var& logits, const Matrix& actions) const {
  return pick(log_softmax(logits), action_indices(actions, logits.rows(), logits.cols()));
}

// H = -sum_a pi(a|s) log pi(a|s)
Var CategoricalPolicy::entropy(const Var& logits) const {
  const Var logp = log_softmax(logits);
  return -sum(exp(logp) * logp, 1);
}

// KL(old || new) = sum_a pi_old(a|s) (log pi_old(a|s) - log pi(a|s))
Var CategoricalPolicy::kl(const Matrix& old_logits, const Var& logits) const {
  const Var old_logp = log_softmax(Var(old_logits));
  return sum(exp(old_logp) * (old_logp - log_softmax(logits)), 1);
}

namespace {
// The weights exp(logit_j - max) of one row of logits, in double, read as Rng::categorical
// reads them (it iterates twice: the total, then the scan), without storing them.
struct SoftmaxWeights {
  const Matrix& logits;
  Eigen::Index row;
  Scalar top;
  struct Iterator {
    const SoftmaxWeights* w;
    Eigen::Index j;
    double operator*() const { return static_cast<double>(std::exp(w->logits(w->row, j) - w->top)); }
    Iterator& operator++() { ++j; return *this; }
    bool operator!=(const Iterator& other) const { return j != other.j; }
  };
  Iterator begin() const { return {this, 0}; }
  Iterator end() const { return {this, logits.cols()}; }
};
}  // namespace

void CategoricalPolicy::sample(const Matrix& logits, Rng& rng, Matrix& a) const {
  a.resize(logits.rows(), 1);
  for (Eigen::Index i = 0; i < logits.rows(); ++i)
    a(i, 0) = static_cast<Scalar>(rng.categorical(SoftmaxWeights{logits, i, logits.row(i).maxCoeff()}));
}

void CategoricalPolicy::mode(const Matrix& logits, Matrix& a) const {
  a.resize(logits.rows(), 1);
  for (Eigen::Index i = 0; i < logits.rows(); ++i) {
    Eigen::Index best;
    logits.row(i).maxCoeff(&best);
    a(i, 0) = static_cast<Scalar>(best);
  }
}

// ------------------------------------------------------------------ Gaussian (3.17)

GaussianPolicy::GaussianPolicy(Mlp net, int act_dim, LogStd kind, Scalar log_std_init, Scalar log_std_min,
                               Scalar log_std_max)
    : net_(std::move(net)), m_(act_dim), kind_(kind), log_std_min_(log_std_min), log_std_max_(log_std_max) {
  const int out = net_.sizes().back();
  const int expected = kind == LogStd::StateIndependent ? m_ : 2 * m_;
  if (out != expected)
    throw std::invalid_argument("Gaussian policy: network outputs " + std::to_string(out) + " columns, expected " +
                                std::to_string(expected) + " for action dimension " + std::to_string(m_));
  if (kind == LogStd::StateIndependent) log_std_param_ = Var(Matrix::Constant(1, m_, log_std_init), true);
}

Var GaussianPolicy::dist_params(const Var& obs) const {
  const Var out = net_(obs);
  if (kind_ == LogStd::StateIndependent) return concat_cols({out, broadcast_to(log_std_param_, out.rows(), m_)});
  return concat_cols({slice_cols(out, 0, m_), clamp(slice_cols(out, m_, m_), log_std_min_, log_std_max_)});
}

// The same [mu, log sigma] as above, by the plain forward pass.
void GaussianPolicy::dist_params(const Matrix& obs, ActWorkspace& ws) const {
  net_.forward(obs, ws.out, ws.net);
  ws.params.resize(obs.rows(), 2 * m_);
  if (kind_ == LogStd::StateIndependent) {
    ws.params.leftCols(m_) = ws.out;
    ws.params.rightCols(m_).rowwise() = log_std_param_.value().row(0);
  } else {
    ws.params.leftCols(m_) = ws.out.leftCols(m_);
    ws.params.rightCols(m_) = ws.out.rightCols(m_).cwiseMax(log_std_min_).cwiseMin(log_std_max_);
  }
}

// log N(a; mu, sigma) = -1/2 sum_j ((a_j - mu_j)/sigma_j)^2 - sum_j log sigma_j - m/2 log 2 pi
Var GaussianPolicy::log_prob(const Var& params, const Matrix& actions) const {
  check_actions("Gaussian policy", actions, params.rows(), m_);
  check_finite("Gaussian policy", actions);
  const Var z = (Var(actions) - mu(params)) / exp(log_std(params));
  return -0.5 * sum(square(z), 1) - sum(log_std(params), 1) - 0.5 * m_ * kLog2Pi;
}

// H = sum_j log sigma_j + m/2 (1 + log 2 pi)
Var GaussianPolicy::entropy(const Var& params) const {
  return sum(log_std(params), 1) + 0.5 * m_ * (1 + kLog2Pi);
}

// KL(N_old || N) = sum_j [log sigma_j - log sigma_old,j + (sigma_old,j^2 + (mu_old,j - mu_j)^2) / (2 sigma_j^2) - 1/2]
Var GaussianPolicy::kl(const Matrix& old_params, const Var& params) const {
  const Var old(old_params);
  const Var ls = log_std(params), old_ls = log_std(old);
  const Var num = exp(2.0 * old_ls) + square(mu(old) - mu(params));
  return sum(ls - old_ls + num / (2.0 * exp(2.0 * ls)) - 0.5, 1);
}

void GaussianPolicy::sample(const Matrix& params, Rng& rng, Matrix& a) const {
  a.resize(params.rows(), m_);
  for (Eigen::Index i = 0; i < params.rows(); ++i)
    for (int j = 0; j < m_; ++j) a(i, j) = params(i, j) + std::exp(params(i, m_ + j)) * static_cast<Scalar>(rng.normal());
}

void GaussianPolicy::mode(const Matrix& params, Matrix& a) const { a = params.leftCols(m_); }

ParameterSet GaussianPolicy::parameters() const {
  ParameterSet p = net_.parameters();
  if (kind_ == LogStd::StateIndependent) p.add(log_std_param_);
  return p;
}

std::string GaussianPolicy::describe() const {
  return std::string("gaussian ") + (kind_ == LogStd::StateIndependent ? "state-independent-log-std " : "state-dependent-log-std ") +
         net_.describe();
}

// ------------------------------------------------------------------ Squashed Gaussian

SquashedGaussianPolicy::SquashedGaussianPolicy(Mlp net, Eigen::VectorXd low, Eigen::VectorXd high, Scalar log_std_min,
                                               Scalar log_std_max)
    : GaussianPolicy(std::move(net), static_cast<int>(low.size()), LogStd::StateDependent, 0, log_std_min, log_std_max) {
  if (low.size() != high.size() || !((high - low).array() > 0).all())
    throw std::invalid_argument("squashed Gaussian policy: need low < high in every action dimension");
  scale_ = (0.5 * (high - low)).cast<Scalar>().transpose();
  shift_ = (0.5 * (high + low)).cast<Scalar>().transpose();
}

Var SquashedGaussianPolicy::squash_log_det(const Var& u) const {
  const Var log_scale(Matrix(scale_.array().log().matrix()));
  return sum(log_one_minus_tanh_sq(u) + log_scale, 1);
}

// log pi(a|s) = log N(u; mu, sigma) - sum_j log(scale_j (1 - tanh^2 u_j)),  u = atanh((a - shift)/scale)
Var SquashedGaussianPolicy::log_prob(const Var& params, const Matrix& actions) const {
  constexpr Scalar eps = std::numeric_limits<Scalar>::epsilon();
  check_actions("squashed Gaussian policy", actions, params.rows(), m_);
  check_finite("squashed Gaussian policy", actions);
  Matrix y = ((actions.rowwise() - shift_).array().rowwise() / scale_.array()).matrix();
  for (Eigen::Index j = 0; j < m_; ++j) {
    // shift + scale * (+-1) may round a few ulps past the edge; anything further is outside.
    const Scalar slack = 4 * eps * (std::abs(shift_(j)) + scale_(j)) / scale_(j);
    for (Eigen::Index i = 0; i < y.rows(); ++i)
      if (!(std::abs(y(i, j)) <= 1 + slack))
        throw std::invalid_argument("squashed Gaussian policy: action " + position(i, j) + " = " +
                                    std::to_string(actions(i, j)) + " is outside the action box [" +
                                    std::to_string(shift_(j) - scale_(j)) + ", " +
                                    std::to_string(shift_(j) + scale_(j)) + "]");
  }
  // On the edges atanh is infinite: read them as y = +-(1 - eps), as Stable-Baselines3 does.
  y = y.cwiseMax(-(1 - eps)).cwiseMin(1 - eps);
  const Matrix u = (0.5 * ((1 + y.array()) / (1 - y.array())).log()).matrix();
  return GaussianPolicy::log_prob(params, u) - squash_log_det(Var(u));
}

// H = H[N(mu, sigma)] + sum_j (log scale_j + E[log(1 - tanh^2 u_j)])
Var SquashedGaussianPolicy::entropy(const Var& params) const {
  const Var expected_log_det = expected_log_one_minus_tanh_sq(mu(params), exp(log_std(params)));
  const Var log_scale(Matrix(scale_.array().log().matrix()));
  return GaussianPolicy::entropy(params) + sum(expected_log_det + log_scale, 1);
}

void SquashedGaussianPolicy::sample(const Matrix& params, Rng& rng, Matrix& a) const {
  GaussianPolicy::sample(params, rng, a);  // u, then a = shift + scale tanh(u) in place
  a = ((a.array().tanh().rowwise() * scale_.array()).rowwise() + shift_.array()).matrix();
}

void SquashedGaussianPolicy::mode(const Matrix& params, Matrix& a) const {
  a = ((params.leftCols(m_).array().tanh().rowwise() * scale_.array()).rowwise() + shift_.array()).matrix();
}

std::string SquashedGaussianPolicy::describe() const { return "squashed-gaussian " + net_.describe(); }

SquashedGaussianPolicy::Sample SquashedGaussianPolicy::rsample(const Var& params, const Matrix& eps) const {
  check_actions("squashed Gaussian rsample (eps)", eps, params.rows(), m_);
  const Var ls = log_std(params);
  const Var u = mu(params) + exp(ls) * Var(eps);
  const Var action = tanh(u) * Var(Matrix(scale_)) + Var(Matrix(shift_));
  // log N(u; mu, sigma) with (u - mu)/sigma = eps exactly
  const Var log_normal = -0.5 * sum(Var(eps.array().square().matrix()), 1) - sum(ls, 1) - 0.5 * m_ * kLog2Pi;
  return {action, log_normal - squash_log_det(u)};
}

}  // namespace pgcpp
