#include "autodiff/var.hpp"

#include <optional>
#include <sstream>
#include <atomic>
#include <utility>

#include "autodiff/errors.hpp"
#include "autodiff/ops.hpp"

namespace pgcpp::ad {

namespace {
thread_local bool t_grad_enabled = true;
}  // namespace

bool grad_enabled() { return t_grad_enabled; }
NoGrad::NoGrad() : previous_(t_grad_enabled) { t_grad_enabled = false; }
NoGrad::~NoGrad() { t_grad_enabled = previous_; }

Var::Var(Matrix value, bool requires_grad) : Var(make_node()) {
  node_->value = std::move(value);
  node_->requires_grad = requires_grad;
}

Var Var::scalar(Scalar x) {
  Matrix m = take_matrix(1, 1);
  m(0, 0) = x;
  return Var(std::move(m));
}

Scalar Var::item() const {
  if (size() != 1) fail("item", "expected a 1x1 value, got " + shape());
  return node_->value(0, 0);
}

std::string Var::shape() const {
  if (!node_) return "(undefined)";
  std::ostringstream s;
  s << rows() << "x" << cols();
  return s.str();
}

namespace {

template <class Inputs>
Var record(const char* op, Matrix value, const Inputs& inputs, BackwardFn backward) {
  Var out(std::move(value));
  Node* n = out.node();
  n->op = op;
  if (!t_grad_enabled) return out;
  bool any = false;
  for (const Var& v : inputs) any = any || v.requires_grad();
  if (!any) return out;
  n->requires_grad = true;
  n->parents.assign(inputs.begin(), inputs.end());
  n->backward = backward;
  return out;
}

}  // namespace

Var make_op(const char* op, Matrix value, std::initializer_list<Var> inputs, BackwardFn backward) {
  return record(op, std::move(value), inputs, backward);
}
Var make_op(const char* op, Matrix value, const std::vector<Var>& inputs, BackwardFn backward) {
  return record(op, std::move(value), inputs, backward);
}

namespace {

// Each backward pass marks the nodes it visits (and those whose gradient it was asked for) with
// a number of its own, so no set of visited nodes is needed. Global rather than per thread: a
// node made on one thread may be differentiated on another.
std::atomic<unsigned long> g_pass{0};

// Nodes of y's graph that require a gradient, each after all of its parents, appended to order.
// `stack` is scratch space (kept by the caller so that its capacity is reused); it points into
// the graph's parent lists, which do not change while y is alive.
void topological_order(const Var& y, unsigned long pass, std::vector<Var>& order,
                       std::vector<std::pair<const Var*, std::size_t>>& stack) {
  // Iterative depth-first search: deep graphs must not overflow the call stack.
  stack.emplace_back(&y, 0);
  y.node()->visited = pass;
  while (!stack.empty()) {
    auto& [v, next] = stack.back();
    const auto& parents = v->node()->parents;
    if (next < parents.size()) {
      const Var& p = parents[next++];
      if (p.requires_grad() && p.node()->visited != pass) {
        p.node()->visited = pass;
        stack.emplace_back(&p, 0);
      }
    } else {
      order.push_back(*v);
      stack.pop_back();
    }
  }
}

// One pass's scratch vectors, reused by the next pass of this thread (a pass that starts while
// another runs gets empty ones).
struct Scratch {
  std::vector<Var> order;
  std::vector<std::pair<const Var*, std::size_t>> stack;
  std::vector<Var> d;
};
thread_local Scratch t_scratch;

// The nodes of one backward pass in topological order. When the pass ends, even by an
// exception, every adjoint slot is emptied: an adjoint recorded with create_graph refers back
// to the graph, and a reference left in a slot would keep the graph alive forever.
class Pass {
 public:
  explicit Pass(const Var& y) : id_(++g_pass), s_(std::move(t_scratch)) { topological_order(y, id_, s_.order, s_.stack); }
  ~Pass() {
    for (Var& v : s_.order) v.node()->adjoint = Var();
    s_.order.clear();
    s_.d.clear();
    t_scratch = std::move(s_);
  }
  Pass(const Pass&) = delete;
  Pass& operator=(const Pass&) = delete;
  const std::vector<Var>& order() const { return s_.order; }
  unsigned long id() const { return id_; }
  std::vector<Var>& d() { return s_.d; }

 private:
  unsigned long id_;
  Scratch s_;
};

// Add the gradients d[i] of n's inputs to their adjoint slots, in input order (the order of the
// sums fixes the last bits of every gradient).
void accumulate(const Node& n, std::vector<Var>& d) {
  for (std::size_t i = 0; i < n.parents.size(); ++i) {
    const Var& p = n.parents[i];
    if (!d[i].defined() || !p.requires_grad()) continue;
    if (d[i].rows() != p.rows() || d[i].cols() != p.cols())
      fail(n.op, "backward rule returned a " + d[i].shape() + " gradient for a " + p.shape() + " input");
    Var& slot = p.node()->adjoint;
    if (!slot.defined()) slot = std::move(d[i]);
    else slot = slot + d[i];
  }
}

// Adjoint dy/dv of the nodes v of y's graph, propagated by the chain rule in reverse order and
// left in v's adjoint slot for the leaves and the nodes this pass marked wanted. Every other
// adjoint is released as soon as its node's backward rule has consumed it, so only the
// gradients still in flight are alive at any time (about one layer's worth in an MLP rather
// than the whole graph's), and the memory freed is reused for the next ones.
void adjoints(const Var& y, Pass& pass) {
  y.node()->adjoint = Var::scalar(1);
  std::vector<Var>& d = pass.d();
  const auto& order = pass.order();
  for (auto it = order.rbegin(); it != order.rend(); ++it) {
    Node* n = it->node();
    if (!n->adjoint.defined() || !n->backward) continue;
    const Var g = n->wanted == pass.id() ? n->adjoint : std::move(n->adjoint);
    d.assign(n->parents.size(), Var());
    n->backward(*n, *it, g, d.data());
    accumulate(*n, d);
  }
}

void require_scalar(const char* who, const Var& y) {
  if (!y.defined()) fail(who, "output is undefined");
  if (y.size() != 1) fail(who, "output must be 1x1 (a scalar loss), got " + y.shape());
}

}  // namespace

Grads grad(const Var& y, const std::vector<Var>& xs, bool create_graph) {
  require_scalar("grad", y);
  Grads result;
  result.reserve(xs.size());
  if (!y.requires_grad()) {
    for (const Var& x : xs) result.emplace_back(Matrix::Zero(x.rows(), x.cols()));
    return result;
  }
  std::optional<NoGrad> recording_off;
  if (!create_graph) recording_off.emplace();
  Pass pass(y);
  for (const Var& x : xs)
    if (x.defined()) x.node()->wanted = pass.id();
  adjoints(y, pass);
  for (const Var& x : xs) {
    // Only the nodes of this pass hold an adjoint: every other slot was emptied by its pass.
    if (x.defined() && x.node()->visited == pass.id() && x.node()->adjoint.defined()) result.push_back(x.node()->adjoint);
    else result.emplace_back(Matrix::Zero(x.rows(), x.cols()));
  }
  return result;
}

void backward(const Var& y) {
  require_scalar("backward", y);
  if (!y.requires_grad()) return;
  NoGrad recording_off;
  Pass pass(y);
  adjoints(y, pass);
  for (const Var& v : pass.order()) {
    Node* n = v.node();
    if (n->backward || !n->adjoint.defined()) continue;  // only leaves keep a gradient
    const Matrix& g = n->adjoint.value();
    if (n->grad.rows() != n->value.rows() || n->grad.cols() != n->value.cols()) n->grad = g;
    else n->grad += g;
  }
}

}  // namespace pgcpp::ad
