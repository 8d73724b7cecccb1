#include "autodiff/optim.hpp"

#include <cmath>

#include "autodiff/errors.hpp"

namespace pgcpp::ad {

Scalar StepSize::at(long k) const {
  switch (schedule) {
    case Schedule::Constant: return alpha;
    case Schedule::InvSqrt: return alpha / std::sqrt(static_cast<Scalar>(k + 1));
    case Schedule::Inv: return alpha / static_cast<Scalar>(k + 1);
  }
  return alpha;
}

Optimizer::Optimizer(ParameterSet params, StepSize step_size) : params_(std::move(params)), step_size_(step_size) {
  if (!(step_size.alpha > 0) || !std::isfinite(step_size.alpha))
    fail("Optimizer", "step size must be positive and finite, got " + std::to_string(step_size.alpha));
}

Scalar Optimizer::minimize(const Var& loss, Scalar max_norm) {
  zero_grad();
  backward(loss);
  const Scalar norm = max_norm > 0 ? params_.clip_grad_norm(max_norm) : params_.grad_norm();
  step();
  return norm;
}

void Optimizer::step() {
  const Scalar alpha = step_size_.at(k_);
  ++k_;
  for (std::size_t i = 0; i < params_.size(); ++i) {
    Var& p = params_[i];
    if (p.grad().size() != p.size()) continue;
    update(i, p.mutable_value(), p.grad(), alpha);
  }
}

Matrix& Optimizer::slot(std::vector<Matrix>& state, std::size_t i) {
  if (state.size() < params_.size()) state.resize(params_.size());
  if (state[i].size() != params_[i].size()) state[i].setZero(params_[i].rows(), params_[i].cols());
  return state[i];
}

void Sgd::update(std::size_t, Matrix& theta, const Matrix& g, Scalar alpha) { theta -= alpha * g; }

Momentum::Momentum(ParameterSet params, StepSize step, Scalar beta) : Optimizer(std::move(params), step), beta_(beta) {}
void Momentum::update(std::size_t i, Matrix& theta, const Matrix& g, Scalar alpha) {
  Matrix& v = slot(v_, i);
  v = beta_ * v + g;
  theta -= alpha * v;
}

AdaGrad::AdaGrad(ParameterSet params, StepSize step, Scalar eps) : Optimizer(std::move(params), step), eps_(eps) {}
void AdaGrad::update(std::size_t i, Matrix& theta, const Matrix& g, Scalar alpha) {
  Matrix& G = slot(G_, i);
  G.array() += g.array().square();
  theta.array() -= alpha * g.array() / (G.array().sqrt() + eps_);
}

RmsProp::RmsProp(ParameterSet params, StepSize step, Scalar rho, Scalar eps)
    : Optimizer(std::move(params), step), rho_(rho), eps_(eps) {}
void RmsProp::update(std::size_t i, Matrix& theta, const Matrix& g, Scalar alpha) {
  Matrix& s = slot(s_, i);
  s.array() = rho_ * s.array() + (1 - rho_) * g.array().square();
  theta.array() -= alpha * g.array() / (s.array().sqrt() + eps_);
}

Adam::Adam(ParameterSet params, StepSize step, Scalar beta1, Scalar beta2, Scalar eps)
    : Optimizer(std::move(params), step), beta1_(beta1), beta2_(beta2), eps_(eps) {}
void Adam::update(std::size_t i, Matrix& theta, const Matrix& g, Scalar alpha) {
  Matrix& m = slot(m_, i);
  Matrix& v = slot(v_, i);
  m.array() = beta1_ * m.array() + (1 - beta1_) * g.array();
  v.array() = beta2_ * v.array() + (1 - beta2_) * g.array().square();
  // Bias corrections of the zero-initialized moments (k_ counts from 1 here).
  const Scalar c1 = 1 - std::pow(beta1_, static_cast<Scalar>(k_));
  const Scalar c2 = 1 - std::pow(beta2_, static_cast<Scalar>(k_));
  theta.array() -= (alpha / c1) * m.array() / ((v.array() / c2).sqrt() + eps_);
}

}  // namespace pgcpp::ad
