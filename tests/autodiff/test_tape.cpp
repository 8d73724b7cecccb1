// The tape's memory (autodiff/var.hpp, tape.cpp): released nodes and matrices are reused, so a
// steady-state training step allocates nothing; and reuse never touches a node still referenced.
#include <doctest/doctest.h>

#include <cmath>
#include <limits>
#include <vector>

#include "autodiff/autodiff.hpp"
#include "tests/alloc_counter.hpp"
#include "tests/autodiff/gradcheck.hpp"

using namespace pgcpp;
using namespace pgcpp::ad;
using test::random_matrix;

namespace {

// Rounding of a 16-term sum of tanh kernel values in either build; a reused buffer errs by O(1).
constexpr double kRoundoff = 64 * std::numeric_limits<Scalar>::epsilon();

// One step of bench row (a): 4-64-64-2 tanh policy, -mean(w log softmax(f(s))_a), Adam.
struct PolicyStep {
  Rng rng{5};
  Mlp net{{4, 64, 64, 2}, Activation::Tanh, rng};
  Adam adam{net.parameters(), StepSize::constant(Scalar(1e-3))};
  Var s{random_matrix(64, 4, rng)}, w{random_matrix(64, 1, rng)};
  std::vector<int> a = std::vector<int>(64, 1);
  void operator()() { adam.minimize(-mean(pick(log_softmax(net(s)), a) * w)); }
};

// One step of a PPO-like update on a ReLU network: clamp, minimum (where's mask), exp, square,
// broadcasting and gradient clipping, every op kind whose rule keeps a payload.
struct ClippedStep {
  Rng rng{6};
  Mlp net{{3, 32, 32, 2}, Activation::ReLU, rng};
  Adam adam{net.parameters(), StepSize::constant(Scalar(1e-3))};
  Var s{random_matrix(48, 3, rng)}, A{random_matrix(48, 1, rng)}, old{random_matrix(48, 1, rng)};
  void operator()() {
    const Var out = net(s);
    const Var ratio = exp(slice_cols(out, 0, 1) - old);
    const Var surrogate = minimum(ratio * A, clamp(ratio, Scalar(0.8), Scalar(1.2)) * A);
    adam.minimize(-mean(surrogate) + mean(square(slice_cols(out, 1, 1))), Scalar(0.5));
  }
};

// y = sum(tanh(x W)) and its gradient in W by hand: x^T (1 - tanh(x W)^2).
Matrix tanh_sum_grad(const Matrix& x, const Matrix& W) {
  const Matrix t = (x * W).array().tanh().matrix();
  return x.transpose() * (1 - t.array().square()).matrix();
}

}  // namespace

// Bug caught: an allocation per op left in the tape (a node, its parent list, its rule, a
// matrix that is not taken from the pool or not given back to it, a hash map in backward).
// Measured: 163 allocations per step of (a) before the pools, 0 after.
TEST_CASE("tape: a steady-state training step allocates nothing once warm" * doctest::skip(!PGCPP_COUNT_ALLOCATIONS)) {
  PolicyStep policy_step;
  ClippedStep clipped_step;
  for (int k = 0; k < 3; ++k) policy_step(), clipped_step();
  CHECK(allocations([&] {
          for (int k = 0; k < 10; ++k) policy_step();
        }) == 0);
  CHECK(allocations([&] {
          for (int k = 0; k < 10; ++k) clipped_step();
        }) == 0);
}

// Bug caught: a node recycled while still referenced (a reference not counted, a count dropped
// twice), or a pooled matrix handed out while a node still uses it: the kept graph's value or
// gradient would be overwritten by the graphs built after it. Checked against the gradient by hand.
TEST_CASE("tape: a graph kept alive while others are built and dropped keeps its values and gradients") {
  Rng rng(7);
  const Matrix x = random_matrix(16, 5, rng), W0 = random_matrix(5, 8, rng);
  Var W(W0, true);
  const Var h = tanh(matmul(Var(x), W));
  const Var kept = sum(h);
  const Scalar value = kept.item();
  const Matrix h_value = h.value();
  for (int k = 0; k < 20; ++k) {  // graphs of the same shapes, which reuse every released node and buffer
    Var V(random_matrix(5, 8, rng), true);
    backward(sum(tanh(matmul(Var(random_matrix(16, 5, rng)), V))));
  }
  CHECK(kept.item() == value);
  CHECK(h.value() == h_value);
  backward(kept);
  CHECK(test::normalized_error(W.grad(), tanh_sum_grad(x, W0)) <= kRoundoff);
}

// Bug caught: a recorded (create_graph) backward pass whose nodes do not come back to the pools:
// a reference cycle (a node whose payload holds its own output, an adjoint kept pointing back
// into its graph) leaks every Hessian-vector product's graph, a matrix not given back drains the
// pool; either way each product allocates anew.
TEST_CASE("tape: a warm Hessian-vector product allocates only the two vectors grad() returns" * doctest::skip(!PGCPP_COUNT_ALLOCATIONS)) {
  Rng rng(8);
  Mlp net({3, 16, 2}, Activation::Tanh, rng);
  const ParameterSet params = net.parameters();
  const Var s(random_matrix(32, 3, rng));
  std::vector<Var> v;
  for (const Var& p : params.list()) v.emplace_back(random_matrix(p.rows(), p.cols(), rng));
  auto hvp = [&] {
    const Grads g = grad(sum(log_softmax(net(s))), params.list(), /*create_graph=*/true);
    Var gv = dot(g[0], v[0]);
    for (std::size_t i = 1; i < g.size(); ++i) gv = gv + dot(g[i], v[i]);
    return grad(gv, params.list());
  };
  for (int k = 0; k < 3; ++k) hvp();
  // Two small vectors per call are the Grads that grad() returns (the caller's, not the tape's).
  CHECK(allocations([&] {
          for (int k = 0; k < 10; ++k) hvp();
        }) <= 2 * 10);
}

// Bug caught: the pass marks of one backward pass taken for another's (a visited mark not
// renewed per pass), so a second backward through the same graph skips nodes: gradients must
// add up exactly twice over the same graph, and equal the gradient by hand.
TEST_CASE("tape: two backward passes through one graph accumulate the gradient twice") {
  Rng rng(9);
  const Matrix x = random_matrix(6, 4, rng), W0 = random_matrix(4, 3, rng);
  Var W(W0, true);
  const Var y = sum(tanh(matmul(Var(x), W)));
  backward(y);
  backward(y);
  CHECK(test::normalized_error(W.grad(), 2 * tanh_sum_grad(x, W0)) <= kRoundoff);
}
