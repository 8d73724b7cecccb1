// Modules: parameter sets, linear layers and MLPs.
//
// Initialization (seeded, documented because results depend on it): PyTorch's default for
// nn.Linear, W and b each uniform in [-1/sqrt(in), 1/sqrt(in)], drawn from a pgcpp::Rng, W row
// by row then b. The book's example scripts use PyTorch, so initial policies are alike in law.
#pragma once

#include <string>
#include <vector>

#include "autodiff/ops.hpp"
#include "core/random.hpp"

namespace pgcpp::ad {

// A list of parameters (leaf Vars that require gradients) in a fixed order, with the vector
// view theta in R^d that NPG and TRPO work with.
class ParameterSet {
 public:
  ParameterSet() = default;
  explicit ParameterSet(std::vector<Var> params);

  void add(const Var& p);
  void add(const ParameterSet& other);
  const std::vector<Var>& list() const { return params_; }
  std::size_t size() const { return params_.size(); }
  Var& operator[](std::size_t i) { return params_[i]; }
  Eigen::Index count() const;  // number of scalars d

  Vector flatten() const;               // theta
  void unflatten(const Vector& theta);  // theta -> parameters, in place
  Vector flat_grad() const;             // gradient as one vector (zeros where none yet)
  void set_flat_grad(const Vector& g);
  void zero_grad();
  Scalar grad_norm() const;
  // Scale all gradients so their global norm is at most max_norm; returns the norm before.
  Scalar clip_grad_norm(Scalar max_norm);

  void copy_from(const ParameterSet& source);                   // theta_bar <- theta
  void polyak_update(const ParameterSet& source, Scalar tau);  // theta_bar <- tau theta + (1-tau) theta_bar

 private:
  void check_compatible(const char* op, const ParameterSet& other) const;
  std::vector<Var> params_;
};

enum class Activation { Identity, Tanh, ReLU };
Activation parse_activation(const std::string& name);  // "tanh", "relu", "identity"
std::string to_string(Activation a);
Var activate(const Var& x, Activation a);

class Linear {
 public:
  Linear(int in, int out, Rng& rng);
  Var operator()(const Var& x) const { return affine(x, W, b); }
  Var W;  // in x out
  Var b;  // 1 x out
};

// The activations of Mlp::forward, kept between calls: after the first call with a given batch
// size, forward allocates nothing. One per caller (a rollout loop, an evaluation), not shared.
struct Workspace {
  std::vector<Matrix> hidden;  // one per hidden layer
};

// x -> Linear -> act -> ... -> Linear (-> output activation); sizes = {in, hidden..., out}.
class Mlp {
 public:
  Mlp(std::vector<int> sizes, Activation hidden, Rng& rng, Activation output = Activation::Identity);
  // Recorded forward pass: a node per op, for training.
  Var operator()(const Var& x) const;
  // Plain forward pass, for acting: out = the same value as (*this)(Var(x)).value(), bit for
  // bit (the same product kernel and the same tanh kernel, in the same order), with no graph and
  // no allocation once ws and out have the batch's shape.
  void forward(const Matrix& x, Matrix& out, Workspace& ws) const;
  ParameterSet parameters() const;
  const std::vector<int>& sizes() const { return sizes_; }
  Activation hidden_activation() const { return hidden_; }
  std::string describe() const;  // e.g. "4-128-128-2 tanh"
  // Copies share parameters (Vars are handles); clone() makes an independent deep copy, as a
  // target network needs.
  Mlp clone() const;

 private:
  std::vector<int> sizes_;
  Activation hidden_, output_;
  std::vector<Linear> layers_;
};

}  // namespace pgcpp::ad
