#include "autodiff/nn.hpp"

#include <cmath>

#include "autodiff/errors.hpp"

namespace pgcpp::ad {

ParameterSet::ParameterSet(std::vector<Var> params) {
  for (const Var& p : params) add(p);
}

void ParameterSet::add(const Var& p) {
  if (!p.defined()) fail("ParameterSet::add", "undefined parameter");
  if (p.node()->backward) fail("ParameterSet::add", "parameters must be leaves, got the output of " + std::string(p.op()));
  params_.push_back(p);
}

void ParameterSet::add(const ParameterSet& other) {
  for (const Var& p : other.params_) add(p);
}

Eigen::Index ParameterSet::count() const {
  Eigen::Index d = 0;
  for (const Var& p : params_) d += p.size();
  return d;
}

Vector ParameterSet::flatten() const {
  Vector theta(count());
  Eigen::Index at = 0;
  for (const Var& p : params_) {
    theta.segment(at, p.size()) = p.value().reshaped();
    at += p.size();
  }
  return theta;
}

void ParameterSet::unflatten(const Vector& theta) {
  if (theta.size() != count())
    fail("ParameterSet::unflatten", "vector of " + std::to_string(theta.size()) + " for " + std::to_string(count()) + " parameters");
  Eigen::Index at = 0;
  for (Var& p : params_) {
    p.mutable_value().reshaped() = theta.segment(at, p.size());
    at += p.size();
  }
}

Vector ParameterSet::flat_grad() const {
  Vector g = Vector::Zero(count());
  Eigen::Index at = 0;
  for (const Var& p : params_) {
    if (p.grad().size() == p.size()) g.segment(at, p.size()) = p.grad().reshaped();
    at += p.size();
  }
  return g;
}

void ParameterSet::set_flat_grad(const Vector& g) {
  if (g.size() != count())
    fail("ParameterSet::set_flat_grad", "vector of " + std::to_string(g.size()) + " for " + std::to_string(count()) + " parameters");
  Eigen::Index at = 0;
  for (Var& p : params_) {
    p.grad().resize(p.rows(), p.cols());
    p.grad().reshaped() = g.segment(at, p.size());
    at += p.size();
  }
}

void ParameterSet::zero_grad() {
  for (Var& p : params_) p.grad().setZero(p.rows(), p.cols());
}

Scalar ParameterSet::grad_norm() const {
  Scalar sq = 0;
  for (const Var& p : params_)
    if (p.grad().size() == p.size()) sq += p.grad().squaredNorm();
  return std::sqrt(sq);
}

Scalar ParameterSet::clip_grad_norm(Scalar max_norm) {
  if (!(max_norm > 0)) fail("clip_grad_norm", "max_norm must be positive, got " + std::to_string(max_norm));
  const Scalar norm = grad_norm();
  // The same rule as torch.nn.utils.clip_grad_norm_: scale by max/(norm + 1e-6) when above.
  if (norm > max_norm) {
    const Scalar scale = max_norm / (norm + Scalar(1e-6));
    for (Var& p : params_) p.grad() *= scale;
  }
  return norm;
}

void ParameterSet::check_compatible(const char* op, const ParameterSet& other) const {
  if (other.params_.size() != params_.size())
    fail(op, "parameter sets differ in length: " + std::to_string(params_.size()) + " and " + std::to_string(other.params_.size()));
  for (std::size_t i = 0; i < params_.size(); ++i)
    if (params_[i].rows() != other.params_[i].rows() || params_[i].cols() != other.params_[i].cols())
      fail(op, "parameter " + std::to_string(i) + " is " + params_[i].shape() + " here and " + other.params_[i].shape() + " there");
}

void ParameterSet::copy_from(const ParameterSet& source) {
  check_compatible("copy_from", source);
  for (std::size_t i = 0; i < params_.size(); ++i) params_[i].mutable_value() = source.params_[i].value();
}

void ParameterSet::polyak_update(const ParameterSet& source, Scalar tau) {
  check_compatible("polyak_update", source);
  if (!(tau >= 0 && tau <= 1)) fail("polyak_update", "tau must be in [0, 1], got " + std::to_string(tau));
  for (std::size_t i = 0; i < params_.size(); ++i) {
    Matrix& target = params_[i].mutable_value();
    target = tau * source.params_[i].value() + (1 - tau) * target;
  }
}

Activation parse_activation(const std::string& name) {
  if (name == "tanh") return Activation::Tanh;
  if (name == "relu") return Activation::ReLU;
  if (name == "identity" || name == "linear") return Activation::Identity;
  throw std::invalid_argument("unknown activation '" + name + "' (expected tanh, relu or identity)");
}

std::string to_string(Activation a) {
  switch (a) {
    case Activation::Tanh: return "tanh";
    case Activation::ReLU: return "relu";
    case Activation::Identity: return "identity";
  }
  return "?";
}

Var activate(const Var& x, Activation a) {
  switch (a) {
    case Activation::Tanh: return tanh(x);
    case Activation::ReLU: return relu(x);
    case Activation::Identity: return x;
  }
  return x;
}

Linear::Linear(int in, int out, Rng& rng) {
  if (in <= 0 || out <= 0) fail("Linear", "sizes must be positive, got " + std::to_string(in) + " -> " + std::to_string(out));
  const double bound = 1.0 / std::sqrt(static_cast<double>(in));
  Matrix w(in, out), bias(1, out);
  for (int i = 0; i < in; ++i)
    for (int j = 0; j < out; ++j) w(i, j) = static_cast<Scalar>(rng.uniform(-bound, bound));
  for (int j = 0; j < out; ++j) bias(0, j) = static_cast<Scalar>(rng.uniform(-bound, bound));
  W = Var(std::move(w), true);
  b = Var(std::move(bias), true);
}

Mlp::Mlp(std::vector<int> sizes, Activation hidden, Rng& rng, Activation output)
    : sizes_(std::move(sizes)), hidden_(hidden), output_(output) {
  if (sizes_.size() < 2) fail("Mlp", "needs at least an input and an output size");
  for (std::size_t i = 0; i + 1 < sizes_.size(); ++i) layers_.emplace_back(sizes_[i], sizes_[i + 1], rng);
}

Var Mlp::operator()(const Var& x) const {
  if (x.cols() != sizes_.front())
    fail("Mlp", "input " + x.shape() + " has " + std::to_string(x.cols()) + " columns, the network expects " + std::to_string(sizes_.front()));
  Var h = x;
  for (std::size_t i = 0; i < layers_.size(); ++i) h = activate(layers_[i](h), i + 1 < layers_.size() ? hidden_ : output_);
  return h;
}

namespace {

// y = x W + 1 b, then the activation, in place: the forward code of affine() and of tanh()/relu()
// (ops.cpp), written into existing storage.
void affine_into(const Matrix& x, const Linear& layer, Activation a, Matrix& y) {
  set_affine(y, x, layer.W.value(), layer.b.value());
  switch (a) {
    case Activation::Tanh: tanh_kernel(y.data(), y.data(), y.size()); break;
    case Activation::ReLU: y = y.cwiseMax(Scalar(0)); break;
    case Activation::Identity: break;
  }
}

}  // namespace

void Mlp::forward(const Matrix& x, Matrix& out, Workspace& ws) const {
  if (x.cols() != sizes_.front())
    fail("Mlp", "input " + shape_of(x) + " has " + std::to_string(x.cols()) + " columns, the network expects " + std::to_string(sizes_.front()));
  ws.hidden.resize(layers_.size() - 1);
  const Matrix* h = &x;
  for (std::size_t i = 0; i + 1 < layers_.size(); ++i) {
    affine_into(*h, layers_[i], hidden_, ws.hidden[i]);
    h = &ws.hidden[i];
  }
  affine_into(*h, layers_.back(), output_, out);
}

ParameterSet Mlp::parameters() const {
  ParameterSet set;
  for (const Linear& l : layers_) {
    set.add(l.W);
    set.add(l.b);
  }
  return set;
}

Mlp Mlp::clone() const {
  Mlp copy = *this;
  for (Linear& l : copy.layers_) {
    l.W = Var(l.W.value(), true);
    l.b = Var(l.b.value(), true);
  }
  return copy;
}

std::string Mlp::describe() const {
  std::string s;
  for (std::size_t i = 0; i < sizes_.size(); ++i) {
    if (i > 0) s += '-';
    s += std::to_string(sizes_[i]);
  }
  return s + " " + to_string(hidden_);
}

}  // namespace pgcpp::ad
