// The node and variable types of pgcpp's reverse-mode autodiff.
//
// A Var is a counted handle to a Node: a matrix value, the Vars it was computed from (its
// parents) and a backward rule. Backward rules are written with the same Var operations as
// forward code, so asking for a gradient "with graph" (create_graph) records the backward pass
// itself and second derivatives (Hessian-vector products) come from the same rules.
// Without create_graph the backward pass runs with recording off: the same rules compute plain
// matrices and nothing is kept.
//
// Memory: a node is owned by the Vars that refer to it, its children included; a graph lives
// as long as its output Var. A small training step builds and drops a graph of ~50 nodes a
// thousand times a second, and allocating each node, its parent list, its rule and its matrices
// from the heap cost as much as the small network's arithmetic (bench row (a)). So nothing is
// given back to the heap: a released node goes to a free list of this thread (tape.cpp), its
// matrices to a pool of buffers kept by size, and the next step's ops take them from there. The
// reference count is intrusive and not atomic: a graph is used by one thread at a time (each
// seed trains on its own thread with its own networks); a node may be released on another
// thread than the one that made it, and then joins that thread's free list.
#pragma once

#include <initializer_list>
#include <string>
#include <vector>

#include "core/scalar.hpp"

namespace pgcpp::ad {

class Var;
struct Node;
using Grads = std::vector<Var>;
// Backward rule of an op: given the op's node n (its inputs n.parents and the constants it kept),
// its output `out` and the gradient g of the final scalar with respect to the output, set d[i]
// to the gradient with respect to input i (left undefined for an input that gets none). Inputs
// that do not require a gradient may be skipped. A plain function (a lambda without captures):
// a rule that needs a constant of the forward pass (a transpose flag, indices, a mask) finds it
// in the node's payload, so recording an op allocates nothing.
using BackwardFn = void (*)(const Node& n, const Var& out, const Var& g, Var* d);

class Var {
 public:
  Var() = default;
  explicit Var(Matrix value, bool requires_grad = false);
  static Var scalar(Scalar x);  // a 1x1 constant
  Var(const Var& other) noexcept : node_(other.node_) { retain(); }
  Var(Var&& other) noexcept : node_(other.node_) { other.node_ = nullptr; }
  Var& operator=(const Var& other) noexcept;
  Var& operator=(Var&& other) noexcept;
  ~Var() { drop(); }

  bool defined() const { return node_ != nullptr; }
  const Matrix& value() const;
  // In-place access for optimizers and parameter loading; never use on an interior node.
  Matrix& mutable_value();
  Matrix& grad();
  const Matrix& grad() const;
  Eigen::Index rows() const { return value().rows(); }
  Eigen::Index cols() const { return value().cols(); }
  Eigen::Index size() const { return value().size(); }
  bool requires_grad() const;
  const char* op() const;
  Scalar item() const;  // value of a 1x1 Var
  std::string shape() const;

  Node* node() const { return node_; }

 private:
  explicit Var(Node* fresh) : node_(fresh) {}  // takes the one reference of a fresh node
  void retain() const;
  void drop();
  friend Var make_node();
  Node* node_ = nullptr;
};

// Constants an op's backward rule needs from its forward pass (what a closure would capture).
struct Payload {
  Scalar s[2] = {0, 0};         // pow's p, clamp's bounds
  Eigen::Index n[2] = {0, 0};   // slice/pad offsets, matmul's transpose flags
  Matrix mask;                  // where's mask
  std::vector<int> index;       // pick's and scatter's indices
  Var held;                     // a Var the rule reads but does not differentiate (times_slope's x)
};

struct Node {
  Matrix value;
  Matrix grad;  // filled by backward() on leaves that require a gradient
  std::vector<Var> parents;
  BackwardFn backward = nullptr;
  const char* op = "leaf";
  bool requires_grad = false;
  Payload payload;
  // Bookkeeping of tape.cpp and backward(): the reference count, the last backward pass that
  // visited the node and the one that asked for its gradient (so no hash set is needed), and the
  // node's adjoint during a backward pass.
  int refs = 0;
  unsigned long visited = 0, wanted = 0;
  Var adjoint;
};

inline const Matrix& Var::value() const { return node_->value; }
inline Matrix& Var::mutable_value() { return node_->value; }
inline Matrix& Var::grad() { return node_->grad; }
inline const Matrix& Var::grad() const { return node_->grad; }
inline bool Var::requires_grad() const { return node_ && node_->requires_grad; }
inline const char* Var::op() const { return node_->op; }
inline void Var::retain() const {
  if (node_) ++node_->refs;
}

// A leaf node with one reference and empty contents, from this thread's free list (tape.cpp).
Var make_node();
// A matrix of the given shape (contents unspecified) from this thread's pool of released
// buffers, or new when none of that size is free. Ops compute their values into these.
Matrix take_matrix(Eigen::Index rows, Eigen::Index cols);
// Give a matrix's buffer back to the pool (a temporary of an op; node matrices go back by themselves).
void give_matrix(Matrix&& m);
// e evaluated into a pooled matrix (e must be a coefficient-wise expression, not a product:
// a product assigned without noalias() would go through a temporary).
template <class E>
Matrix pooled(const Eigen::DenseBase<E>& e) {
  Matrix y = take_matrix(e.rows(), e.cols());
  y = e.derived();
  return y;
}

// Create the result of an op. Records inputs and backward rule only when recording is on and
// some input requires a gradient; otherwise the result is a constant. The rule's payload is
// set on the result by the op (out.node()->payload) when out.node()->backward is set.
Var make_op(const char* op, Matrix value, std::initializer_list<Var> inputs, BackwardFn backward);
Var make_op(const char* op, Matrix value, const std::vector<Var>& inputs, BackwardFn backward);

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
