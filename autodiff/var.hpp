// The node and variable types of pgcpp's reverse-mode autodiff.
//
// A Var is a shared handle to a Node: a matrix value, the Vars it was computed from (its
// parents) and a backward rule. Backward rules are written with the same Var operations as
// forward code, so asking for a gradient "with graph" (create_graph) records the backward pass
// itself and second derivatives (Hessian-vector products) come from the same rules.
// Without create_graph the backward pass runs with recording off: the same rules compute plain
// matrices and nothing is kept.
//
// Memory: a node is owned by the Vars that refer to it, its children included; a graph lives
// as long as its output Var and is freed when that goes out of scope.
#pragma once

#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "core/scalar.hpp"

namespace pgcpp::ad {

class Var;
using Grads = std::vector<Var>;
// Backward rule of an op: given the op's inputs, its output and the gradient g of the final
// scalar with respect to the output, return one gradient per input (an undefined Var for an
// input that gets none). Inputs that do not require a gradient may be skipped.
using BackwardFn = std::function<Grads(const std::vector<Var>& in, const Var& out, const Var& g)>;

struct Node {
  Matrix value;
  Matrix grad;  // filled by backward() on leaves that require a gradient
  std::vector<Var> parents;
  BackwardFn backward;
  const char* op = "leaf";
  bool requires_grad = false;
};

class Var {
 public:
  Var() = default;
  explicit Var(Matrix value, bool requires_grad = false);
  static Var scalar(Scalar x);  // a 1x1 constant

  bool defined() const { return node_ != nullptr; }
  const Matrix& value() const { return node_->value; }
  // In-place access for optimizers and parameter loading; never use on an interior node.
  Matrix& mutable_value() { return node_->value; }
  Matrix& grad() { return node_->grad; }
  const Matrix& grad() const { return node_->grad; }
  Eigen::Index rows() const { return node_->value.rows(); }
  Eigen::Index cols() const { return node_->value.cols(); }
  Eigen::Index size() const { return node_->value.size(); }
  bool requires_grad() const { return node_ && node_->requires_grad; }
  const char* op() const { return node_->op; }
  Scalar item() const;  // value of a 1x1 Var
  std::string shape() const;

  Node* node() const { return node_.get(); }
  friend Var make_op(const char* op, Matrix value, std::vector<Var> inputs, BackwardFn backward);

 private:
  std::shared_ptr<Node> node_;
};

// Create the result of an op. Records inputs and backward rule only when recording is on and
// some input requires a gradient; otherwise the result is a constant.
Var make_op(const char* op, Matrix value, std::vector<Var> inputs, BackwardFn backward);

// Recording switch (per thread). Off inside `NoGrad` scopes and inside backward passes that
// were not asked to create a graph.
bool grad_enabled();
class NoGrad {
 public:
  NoGrad();
  ~NoGrad();
  NoGrad(const NoGrad&) = delete;
  NoGrad& operator=(const NoGrad&) = delete;

 private:
  bool previous_;
};

// Gradients of the scalar (1x1) y with respect to xs. With create_graph the results are
// differentiable Vars (for Hessian-vector products); an x that y does not depend on gets zeros.
Grads grad(const Var& y, const std::vector<Var>& xs, bool create_graph = false);
// Accumulate d y / d leaf into leaf.grad() for every leaf of y's graph that requires a gradient.
void backward(const Var& y);

}  // namespace pgcpp::ad
