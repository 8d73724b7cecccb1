#include "autodiff/var.hpp"

#include <optional>
#include <sstream>
#include <unordered_map>
#include <unordered_set>

#include "autodiff/errors.hpp"
#include "autodiff/ops.hpp"

namespace pgcpp::ad {

namespace {
thread_local bool t_grad_enabled = true;
}  // namespace

bool grad_enabled() { return t_grad_enabled; }
NoGrad::NoGrad() : previous_(t_grad_enabled) { t_grad_enabled = false; }
NoGrad::~NoGrad() { t_grad_enabled = previous_; }

Var::Var(Matrix value, bool requires_grad) : node_(std::make_shared<Node>()) {
  node_->value = std::move(value);
  node_->requires_grad = requires_grad;
}

Var Var::scalar(Scalar x) { return Var(Matrix::Constant(1, 1, x)); }

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

Var make_op(const char* op, Matrix value, std::vector<Var> inputs, BackwardFn backward) {
  Var out(std::move(value));
  out.node_->op = op;
  if (!t_grad_enabled) return out;
  bool any = false;
  for (const Var& v : inputs) any = any || v.requires_grad();
  if (!any) return out;
  out.node_->requires_grad = true;
  out.node_->parents = std::move(inputs);
  out.node_->backward = std::move(backward);
  return out;
}

namespace {

// Nodes of y's graph that require a gradient, each after all of its parents.
std::vector<Var> topological_order(const Var& y) {
  std::vector<Var> order;
  std::unordered_set<Node*> visited;
  // Iterative depth-first search: deep graphs must not overflow the call stack.
  std::vector<std::pair<Var, std::size_t>> stack;
  stack.emplace_back(y, 0);
  visited.insert(y.node());
  while (!stack.empty()) {
    auto& [v, next] = stack.back();
    const auto& parents = v.node()->parents;
    if (next < parents.size()) {
      const Var& p = parents[next++];
      if (p.requires_grad() && visited.insert(p.node()).second) stack.emplace_back(p, 0);
    } else {
      order.push_back(v);
      stack.pop_back();
    }
  }
  return order;
}

// Adjoint dy/dv of the nodes v of y's graph, propagated by the chain rule in reverse order.
// Returned: the adjoints of the leaves and of the nodes in `wanted`. Every other adjoint is
// released as soon as its node's backward rule has consumed it, so only the gradients still in
// flight are alive at any time (about one layer's worth in an MLP rather than the whole graph's),
// and the memory freed is reused for the next ones.
std::unordered_map<Node*, Var> adjoints(const Var& y, const std::vector<Var>& order,
                                        const std::unordered_set<Node*>& wanted = {}) {
  std::unordered_map<Node*, Var> adjoint;
  adjoint.emplace(y.node(), Var(Matrix::Ones(1, 1)));
  for (auto it = order.rbegin(); it != order.rend(); ++it) {
    const Var& v = *it;
    Node* n = v.node();
    auto found = adjoint.find(n);
    if (found == adjoint.end() || !n->backward) continue;
    const Var g = found->second;
    if (!wanted.contains(n)) adjoint.erase(found);
    Grads gs = n->backward(n->parents, v, g);
    for (std::size_t i = 0; i < n->parents.size() && i < gs.size(); ++i) {
      const Var& p = n->parents[i];
      if (!gs[i].defined() || !p.requires_grad()) continue;
      if (gs[i].rows() != p.rows() || gs[i].cols() != p.cols())
        fail(n->op, "backward rule returned a " + gs[i].shape() + " gradient for a " + p.shape() + " input");
      auto [slot, inserted] = adjoint.try_emplace(p.node(), gs[i]);
      if (!inserted) slot->second = slot->second + gs[i];
    }
  }
  return adjoint;
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
  const auto order = topological_order(y);
  std::unordered_set<Node*> wanted;
  for (const Var& x : xs)
    if (x.defined()) wanted.insert(x.node());
  const auto adjoint = adjoints(y, order, wanted);
  for (const Var& x : xs) {
    auto found = x.defined() ? adjoint.find(x.node()) : adjoint.end();
    if (found != adjoint.end()) result.push_back(found->second);
    else result.emplace_back(Matrix::Zero(x.rows(), x.cols()));
  }
  return result;
}

void backward(const Var& y) {
  require_scalar("backward", y);
  if (!y.requires_grad()) return;
  NoGrad recording_off;
  const auto order = topological_order(y);
  const auto adjoint = adjoints(y, order);
  for (const Var& v : order) {
    Node* n = v.node();
    if (n->backward) continue;  // only leaves keep a gradient
    auto found = adjoint.find(n);
    if (found == adjoint.end()) continue;
    if (n->grad.rows() != n->value.rows() || n->grad.cols() != n->value.cols()) n->grad = found->second.value();
    else n->grad += found->second.value();
  }
}

}  // namespace pgcpp::ad
