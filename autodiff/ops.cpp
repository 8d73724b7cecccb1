#include "autodiff/ops.hpp"

#include <algorithm>
#include <cmath>

#include "autodiff/errors.hpp"

namespace pgcpp::ad {

using Eigen::Index;

namespace {

Var zeros_like(const Var& x) { return Var(pooled(Matrix::Zero(x.rows(), x.cols()))); }

struct Shape {
  Index rows, cols;
};

Shape broadcast_shape(const char* op, const Matrix& a, const Matrix& b) {
  auto dim = [&](Index x, Index y) {
    if (x == y || y == 1) return x;
    if (x == 1) return y;
    fail(op, "shapes " + shape_of(a) + " and " + shape_of(b) + " cannot be broadcast together");
  };
  return {dim(a.rows(), b.rows()), dim(a.cols(), b.cols())};
}

// m materialized at shape s, in a pooled matrix (the caller gives it back).
Matrix expand(const Matrix& m, Shape s) { return pooled(m.replicate(s.rows / m.rows(), s.cols / m.cols())); }

// f applied elementwise to a and b broadcast to a common shape. The common cases (equal
// shapes, a scalar on either side) avoid materializing the broadcast operand.
template <class F>
Matrix elementwise(const char* op, const Matrix& a, const Matrix& b, F f) {
  const Shape s = broadcast_shape(op, a, b);
  const bool a_full = a.rows() == s.rows && a.cols() == s.cols;
  const bool b_full = b.rows() == s.rows && b.cols() == s.cols;
  if (a_full && b_full) return pooled(f(a.array(), b.array()));
  if (a_full && b.size() == 1) return pooled(f(a.array(), b(0, 0)));
  if (b_full && a.size() == 1) return pooled(f(a(0, 0), b.array()));
  Matrix ea = expand(a, s), eb = expand(b, s);
  Matrix y = pooled(f(ea.array(), eb.array()));
  give_matrix(std::move(ea));
  give_matrix(std::move(eb));
  return y;
}

// Gradient of a broadcast operand: summed back to the operand's shape.
Var reduce_like(const Var& g, const Var& operand) { return sum_to(g, operand.rows(), operand.cols()); }

using Array = Eigen::Array<Scalar, Eigen::Dynamic, Eigen::Dynamic>;

// 1 where the boolean array expression c holds, 0 elsewhere. Written as a select between
// constants because Eigen vectorizes that (cast<Scalar>() of a boolean expression and
// per-element lambdas run scalar code: measured 2-9x slower at 256x256).
template <class Condition>
auto indicator(const Condition& c) {
  return c.select(Array::Ones(c.rows(), c.cols()), Array::Zero(c.rows(), c.cols()));
}

// g * slope(x), elementwise, for a slope that is piecewise constant in x: the backward rule of
// relu, abs and clamp. `slope` maps x's values (an array expression) to an array expression,
// so the product is one vectorized pass over g and x; materializing the slope as a matrix
// first would cost a matrix-sized allocation and an extra pass.
// The result is linear in g, so its own backward rule is the same product with the incoming
// gradient; its derivative in x is 0 almost everywhere, so x is held in the payload (for its
// values) and not recorded as an input, exactly as if slope(x) were a constant matrix.
// Slope is a lambda without captures, slope(x, lo, hi), with clamp's bounds lo and hi (kept in
// the payload too; relu and abs ignore them).
template <class Slope>
Var times_slope(const Var& g, const Var& x, Scalar lo = 0, Scalar hi = 0) {
  Matrix y = pooled(g.value().array() * Slope{}(x.value().array(), lo, hi));
  Var out = make_op("times_slope", std::move(y), {g}, [](const Node& n, const Var&, const Var& gg, Var* d) {
    d[0] = times_slope<Slope>(gg, n.payload.held, n.payload.s[0], n.payload.s[1]);
  });
  if (Node* n = out.node(); n->backward) {
    n->payload.s[0] = lo;
    n->payload.s[1] = hi;
    n->payload.held = x;
  }
  return out;
}

void check_index(const char* op, const Var& x, const std::vector<int>& index, Index cols) {
  if (static_cast<Index>(index.size()) != x.rows())
    fail(op, "got " + std::to_string(index.size()) + " indices for " + x.shape() + " rows");
  for (int i : index)
    if (i < 0 || i >= cols) fail(op, "index " + std::to_string(i) + " out of range for " + std::to_string(cols) + " columns");
}

}  // namespace

// ============================ Elementwise arithmetic ============================

// d(a+b) = g, g (each summed back to its operand's shape)
Var add(const Var& a, const Var& b) {
  Matrix y = elementwise("add", a.value(), b.value(), [](const auto& x, const auto& z) { return x + z; });
  return make_op("add", std::move(y), {a, b}, [](const Node& n, const Var&, const Var& g, Var* d) {
    const auto& in = n.parents;
    if (in[0].requires_grad()) d[0] = reduce_like(g, in[0]);
    if (in[1].requires_grad()) d[1] = reduce_like(g, in[1]);
  });
}

// d(a-b) = g, -g
Var sub(const Var& a, const Var& b) {
  Matrix y = elementwise("sub", a.value(), b.value(), [](const auto& x, const auto& z) { return x - z; });
  return make_op("sub", std::move(y), {a, b}, [](const Node& n, const Var&, const Var& g, Var* d) {
    const auto& in = n.parents;
    if (in[0].requires_grad()) d[0] = reduce_like(g, in[0]);
    if (in[1].requires_grad()) d[1] = reduce_like(-g, in[1]);
  });
}

// d(a*b) = g b, g a
Var mul(const Var& a, const Var& b) {
  Matrix y = elementwise("mul", a.value(), b.value(), [](const auto& x, const auto& z) { return x * z; });
  return make_op("mul", std::move(y), {a, b}, [](const Node& n, const Var&, const Var& g, Var* d) {
    const auto& in = n.parents;
    if (in[0].requires_grad()) d[0] = reduce_like(g * in[1], in[0]);
    if (in[1].requires_grad()) d[1] = reduce_like(g * in[0], in[1]);
  });
}

// d(a/b) = g / b, -g a / b^2 = -g y / b
Var div(const Var& a, const Var& b) {
  Matrix y = elementwise("div", a.value(), b.value(), [](const auto& x, const auto& z) { return x / z; });
  return make_op("div", std::move(y), {a, b}, [](const Node& n, const Var& out, const Var& g, Var* d) {
    const auto& in = n.parents;
    if (in[0].requires_grad()) d[0] = reduce_like(g / in[1], in[0]);
    if (in[1].requires_grad()) d[1] = reduce_like(-(g * out) / in[1], in[1]);
  });
}

// d(-x) = -g
Var neg(const Var& x) {
  return make_op("neg", pooled(-x.value()), {x}, [](const Node&, const Var&, const Var& g, Var* d) { d[0] = neg(g); });
}

Var operator+(const Var& a, const Var& b) { return add(a, b); }
Var operator-(const Var& a, const Var& b) { return sub(a, b); }
Var operator*(const Var& a, const Var& b) { return mul(a, b); }
Var operator/(const Var& a, const Var& b) { return div(a, b); }
Var operator-(const Var& x) { return neg(x); }
Var operator+(const Var& a, Scalar b) { return add(a, Var::scalar(b)); }
Var operator+(Scalar a, const Var& b) { return add(Var::scalar(a), b); }
Var operator-(const Var& a, Scalar b) { return sub(a, Var::scalar(b)); }
Var operator-(Scalar a, const Var& b) { return sub(Var::scalar(a), b); }
Var operator*(const Var& a, Scalar b) { return mul(a, Var::scalar(b)); }
Var operator*(Scalar a, const Var& b) { return mul(Var::scalar(a), b); }
Var operator/(const Var& a, Scalar b) { return mul(a, Var::scalar(Scalar(1) / b)); }
Var operator/(Scalar a, const Var& b) { return div(Var::scalar(a), b); }

// ================================ Linear algebra ================================

// y = op(a) op(b).  For y = a b:  da = g b^T,  db = a^T g; the transposed cases follow by
// transposing those rules, and every gradient is again one matmul (no transpose copies).
Var matmul(const Var& a, const Var& b, bool ta, bool tb) {
  const Index m = ta ? a.cols() : a.rows(), k1 = ta ? a.rows() : a.cols();
  const Index k2 = tb ? b.cols() : b.rows(), n = tb ? b.rows() : b.cols();
  if (k1 != k2)
    fail("matmul", "inner dimensions differ: " + a.shape() + (ta ? "^T" : "") + " times " + b.shape() + (tb ? "^T" : ""));
  Matrix y = take_matrix(m, n);
  if (!ta) set_product(y, a.value(), b.value(), tb);  // A B, A B^T: the layers' kernel
  else if (!tb) set_product_tn(y, a.value(), b.value());
  else y.noalias() = a.value().transpose() * b.value().transpose();
  Var out = make_op("matmul", std::move(y), {a, b}, [](const Node& node, const Var&, const Var& g, Var* d) {
    const Var &A = node.parents[0], &B = node.parents[1];
    const bool ta = node.payload.n[0] != 0, tb = node.payload.n[1] != 0;
    Var& da = d[0];
    Var& db = d[1];
    if (A.requires_grad()) {
      if (!ta) da = tb ? matmul(g, B) : matmul(g, B, false, true);  // g B  or  g B^T
      else da = tb ? matmul(B, g, true, true) : matmul(B, g, false, true);  // B^T g^T  or  B g^T
    }
    if (B.requires_grad()) {
      if (!tb) db = ta ? matmul(A, g) : matmul(A, g, true, false);  // A g  or  A^T g
      else db = ta ? matmul(g, A, true, true) : matmul(g, A, true, false);  // g^T A^T  or  g^T A
    }
  });
  if (Node* node = out.node(); node->backward) {
    node->payload.n[0] = ta;
    node->payload.n[1] = tb;
  }
  return out;
}

// d(x^T) = g^T
Var transpose(const Var& x) {
  return make_op("transpose", pooled(x.value().transpose()), {x},
                 [](const Node&, const Var&, const Var& g, Var* d) { d[0] = transpose(g); });
}

// y = x W + 1 b:  dx = g W^T,  dW = x^T g,  db = sum of g's rows
Var affine(const Var& x, const Var& W, const Var& b) {
  if (x.cols() != W.rows())
    fail("affine", "input " + x.shape() + " does not match weight " + W.shape());
  if (b.rows() != 1 || b.cols() != W.cols())
    fail("affine", "bias " + b.shape() + " must be 1x" + std::to_string(W.cols()) + " for weight " + W.shape());
  Matrix y = take_matrix(x.rows(), W.cols());
  set_affine(y, x.value(), W.value(), b.value());
  return make_op("affine", std::move(y), {x, W, b}, [](const Node& n, const Var&, const Var& g, Var* d) {
    const auto& in = n.parents;
    if (in[0].requires_grad()) d[0] = matmul(g, in[1], false, true);
    if (in[1].requires_grad()) d[1] = matmul(in[0], g, true, false);
    if (in[2].requires_grad()) d[2] = sum(g, 0);
  });
}

// ==================================== Shape ====================================

// y = x repeated to rows x cols;  dx = g summed back
Var broadcast_to(const Var& x, Index rows, Index cols) {
  if ((x.rows() != rows && x.rows() != 1) || (x.cols() != cols && x.cols() != 1))
    fail("broadcast_to", "cannot broadcast " + x.shape() + " to " + std::to_string(rows) + "x" + std::to_string(cols));
  if (x.rows() == rows && x.cols() == cols) return x;
  return make_op("broadcast_to", pooled(x.value().replicate(rows / x.rows(), cols / x.cols())), {x},
                 [](const Node& n, const Var&, const Var& g, Var* d) { d[0] = reduce_like(g, n.parents[0]); });
}

// y = x summed down to rows x cols (each 1 or x's own);  dx = g broadcast back
Var sum_to(const Var& x, Index rows, Index cols) {
  if ((rows != x.rows() && rows != 1) || (cols != x.cols() && cols != 1))
    fail("sum_to", "cannot sum " + x.shape() + " down to " + std::to_string(rows) + "x" + std::to_string(cols));
  if (x.rows() == rows && x.cols() == cols) return x;
  Matrix y = take_matrix(rows, cols);
  if (rows == 1 && cols == 1) y(0, 0) = x.value().sum();
  else if (rows == 1) y = x.value().colwise().sum();
  else y = x.value().rowwise().sum();
  return make_op("sum_to", std::move(y), {x}, [](const Node& n, const Var&, const Var& g, Var* d) {
    d[0] = broadcast_to(g, n.parents[0].rows(), n.parents[0].cols());
  });
}

// y = [x_1 x_2 ...];  dx_i = the columns of g that x_i filled
Var concat_cols(const std::vector<Var>& parts) {
  if (parts.empty()) fail("concat_cols", "needs at least one part");
  Index cols = 0;
  for (const Var& p : parts) {
    if (p.rows() != parts[0].rows())
      fail("concat_cols", "row counts differ: " + parts[0].shape() + " and " + p.shape());
    cols += p.cols();
  }
  Matrix y = take_matrix(parts[0].rows(), cols);
  Index at = 0;
  for (const Var& p : parts) {
    y.middleCols(at, p.cols()) = p.value();
    at += p.cols();
  }
  return make_op("concat_cols", std::move(y), parts, [](const Node& n, const Var&, const Var& g, Var* d) {
    Index start = 0;
    for (std::size_t i = 0; i < n.parents.size(); ++i) {
      const Var& p = n.parents[i];
      if (p.requires_grad()) d[i] = slice_cols(g, start, p.cols());
      start += p.cols();
    }
  });
}

// y = x[:, start:start+count];  dx = g padded with zeros
Var slice_cols(const Var& x, Index start, Index count) {
  if (start < 0 || count < 0 || start + count > x.cols())
    fail("slice_cols", "columns [" + std::to_string(start) + ", " + std::to_string(start + count) + ") out of range for " + x.shape());
  Var out = make_op("slice_cols", pooled(x.value().middleCols(start, count)), {x}, [](const Node& n, const Var&, const Var& g, Var* d) {
    d[0] = pad_cols(g, n.payload.n[0], n.payload.n[1]);
  });
  if (Node* n = out.node(); n->backward) {
    n->payload.n[0] = start;
    n->payload.n[1] = x.cols();
  }
  return out;
}

// y = [0 x 0] with x starting at column start;  dx = the slice of g where x sits
Var pad_cols(const Var& x, Index start, Index total_cols) {
  if (start < 0 || start + x.cols() > total_cols)
    fail("pad_cols", "cannot place " + x.shape() + " at column " + std::to_string(start) + " of " + std::to_string(total_cols));
  Matrix y = pooled(Matrix::Zero(x.rows(), total_cols));
  y.middleCols(start, x.cols()) = x.value();
  Var out = make_op("pad_cols", std::move(y), {x}, [](const Node& n, const Var&, const Var& g, Var* d) {
    d[0] = slice_cols(g, n.payload.n[0], n.payload.n[1]);
  });
  if (Node* n = out.node(); n->backward) {
    n->payload.n[0] = start;
    n->payload.n[1] = x.cols();
  }
  return out;
}

Var stop_gradient(const Var& x) { return Var(pooled(x.value())); }

// ================================== Reductions =================================

Var sum(const Var& x) { return sum_to(x, 1, 1); }
Var sum(const Var& x, int axis) {
  if (axis != 0 && axis != 1) fail("sum", "axis must be 0 or 1, got " + std::to_string(axis));
  return axis == 0 ? sum_to(x, 1, x.cols()) : sum_to(x, x.rows(), 1);
}
Var mean(const Var& x) {
  if (x.size() == 0) fail("mean", "of an empty " + x.shape() + " matrix");
  return sum(x) * (Scalar(1) / static_cast<Scalar>(x.size()));
}
Var mean(const Var& x, int axis) {
  const Index n = axis == 0 ? x.rows() : x.cols();
  if (n == 0) fail("mean", "over an empty axis of " + x.shape());
  return sum(x, axis) * (Scalar(1) / static_cast<Scalar>(n));
}
Var dot(const Var& a, const Var& b) {
  if (a.rows() != b.rows() || a.cols() != b.cols()) fail("dot", "shapes differ: " + a.shape() + " and " + b.shape());
  return sum(a * b);
}

// ============================= Elementwise functions ===========================

// d e^x = g e^x
Var exp(const Var& x) {
  return make_op("exp", pooled(x.value().array().exp()), {x}, [](const Node&, const Var& out, const Var& g, Var* d) { d[0] = g * out; });
}

// d log x = g / x
Var log(const Var& x) {
  return make_op("log", pooled(x.value().array().log()), {x},
                 [](const Node& n, const Var&, const Var& g, Var* d) { d[0] = g / n.parents[0]; });
}

namespace {

// g (1 - y^2), tanh's backward rule, as one op: one pass and one matrix where square, 1 - . and
// g * . would make three. Its own rule (for second derivatives): d/dg = gg (1 - y^2),
// d/dy = -2 gg g y.
Var tanh_backward(const Var& g, const Var& y) {
  Matrix v = pooled(g.value().array() * (1 - y.value().array().square()));
  return make_op("tanh_backward", std::move(v), {g, y}, [](const Node& n, const Var&, const Var& gg, Var* d) {
    const auto& in = n.parents;
    if (in[0].requires_grad()) d[0] = tanh_backward(gg, in[1]);
    if (in[1].requires_grad()) d[1] = -2.0 * (gg * in[0] * in[1]);
  });
}

}  // namespace

// d tanh x = g (1 - y^2)
Var tanh(const Var& x) {
  Matrix y = take_matrix(x.rows(), x.cols());
  tanh_kernel(x.value().data(), y.data(), x.size());
  return make_op("tanh", std::move(y), {x}, [](const Node&, const Var& out, const Var& g, Var* d) { d[0] = tanh_backward(g, out); });
}

// d sigmoid x = g y (1 - y)
Var sigmoid(const Var& x) {
  Matrix y = pooled((1.0 + (-x.value().array()).exp()).inverse());
  return make_op("sigmoid", std::move(y), {x},
                 [](const Node&, const Var& out, const Var& g, Var* d) { d[0] = g * out * (1.0 - out); });
}

// softplus x = max(x, 0) + log1p(e^{-|x|}) (no overflow for large |x|);  d = g sigmoid(x)
Var softplus(const Var& x) {
  const auto a = x.value().array();
  Matrix y = pooled(a.max(Scalar(0)) + (-a.abs()).exp().log1p());
  return make_op("softplus", std::move(y), {x},
                 [](const Node& n, const Var&, const Var& g, Var* d) { d[0] = g * sigmoid(n.parents[0]); });
}

// d relu x = g [x > 0]
Var relu(const Var& x) {
  return make_op("relu", pooled(x.value().cwiseMax(Scalar(0))), {x}, [](const Node& n, const Var&, const Var& g, Var* d) {
    d[0] = times_slope<decltype([](const auto& a, Scalar, Scalar) { return indicator(a > Scalar(0)); })>(g, n.parents[0]);
  });
}

// d x^2 = 2 g x
Var square(const Var& x) {
  return make_op("square", pooled(x.value().array().square()), {x},
                 [](const Node& n, const Var&, const Var& g, Var* d) { d[0] = 2.0 * (g * n.parents[0]); });
}

// d sqrt x = g / (2 y)
Var sqrt(const Var& x) {
  return make_op("sqrt", pooled(x.value().array().sqrt()), {x},
                 [](const Node&, const Var& out, const Var& g, Var* d) { d[0] = (0.5 * g) / out; });
}

// d x^p = g p x^(p-1)
Var pow(const Var& x, Scalar p) {
  Var out = make_op("pow", pooled(x.value().array().pow(p)), {x}, [](const Node& n, const Var&, const Var& g, Var* d) {
    const Scalar p = n.payload.s[0];
    d[0] = (p * g) * pow(n.parents[0], p - 1);
  });
  if (Node* n = out.node(); n->backward) n->payload.s[0] = p;
  return out;
}

// d |x| = g sign(x)
Var abs(const Var& x) {
  return make_op("abs", pooled(x.value().cwiseAbs()), {x}, [](const Node& n, const Var&, const Var& g, Var* d) {
    d[0] = times_slope<decltype([](const auto& a, Scalar, Scalar) { return indicator(a > Scalar(0)) - indicator(a < Scalar(0)); })>(
        g, n.parents[0]);
  });
}

Var minimum(const Var& a, const Var& b) {
  const Shape s = broadcast_shape("minimum", a.value(), b.value());
  const Var A = broadcast_to(a, s.rows, s.cols), B = broadcast_to(b, s.rows, s.cols);
  Matrix mask = pooled((A.value().array() <= B.value().array()).cast<Scalar>());
  Var y = where(mask, A, B);
  give_matrix(std::move(mask));  // where() keeps its own copy
  return y;
}

Var maximum(const Var& a, const Var& b) {
  const Shape s = broadcast_shape("maximum", a.value(), b.value());
  const Var A = broadcast_to(a, s.rows, s.cols), B = broadcast_to(b, s.rows, s.cols);
  Matrix mask = pooled((A.value().array() >= B.value().array()).cast<Scalar>());
  Var y = where(mask, A, B);
  give_matrix(std::move(mask));  // where() keeps its own copy
  return y;
}

// d clamp(x) = g [lo <= x <= hi]
Var clamp(const Var& x, Scalar lo, Scalar hi) {
  if (!(lo <= hi)) fail("clamp", "lower bound " + std::to_string(lo) + " exceeds upper bound " + std::to_string(hi));
  Var out = make_op("clamp", pooled(x.value().cwiseMax(lo).cwiseMin(hi)), {x}, [](const Node& n, const Var&, const Var& g, Var* d) {
    d[0] = times_slope<decltype([](const auto& a, Scalar lo, Scalar hi) { return indicator(a >= lo && a <= hi); })>(
        g, n.parents[0], n.payload.s[0], n.payload.s[1]);
  });
  if (Node* n = out.node(); n->backward) {
    n->payload.s[0] = lo;
    n->payload.s[1] = hi;
  }
  return out;
}

// y = mask ? a : b;  da = mask ? g : 0,  db = mask ? 0 : g
Var where(const Matrix& mask, const Var& a, const Var& b) {
  if (a.rows() != b.rows() || a.cols() != b.cols() || mask.rows() != a.rows() || mask.cols() != a.cols())
    fail("where", "mask " + shape_of(mask) + ", a " + a.shape() + " and b " + b.shape() + " must have one shape");
  Matrix y = pooled((mask.array() != 0).select(a.value().array(), b.value().array()));
  Var out = make_op("where", std::move(y), {a, b}, [](const Node& n, const Var&, const Var& g, Var* d) {
    const Var z = zeros_like(g);
    const Matrix& m = n.payload.mask;
    if (n.parents[0].requires_grad()) d[0] = where(m, g, z);
    if (n.parents[1].requires_grad()) d[1] = where(m, z, g);
  });
  if (Node* n = out.node(); n->backward) n->payload.mask = pooled(mask);
  return out;
}

// =============================== Per-row ops ===================================

// log_softmax x = x - logsumexp(x) per row;  dx = g - softmax(x) * rowsum(g)
Var log_softmax(const Var& x) {
  if (x.cols() == 0) fail("log_softmax", "of a matrix with no columns " + x.shape());
  const auto a = x.value().array();
  Matrix m = pooled(a.rowwise().maxCoeff());
  const auto shifted = a.colwise() - m.col(0).array();
  Matrix lse = pooled(shifted.exp().rowwise().sum().log());
  Matrix y = pooled(shifted.colwise() - lse.col(0).array());
  give_matrix(std::move(m));
  give_matrix(std::move(lse));
  return make_op("log_softmax", std::move(y), {x}, [](const Node&, const Var& out, const Var& g, Var* d) {
    d[0] = g - exp(out) * sum(g, 1);
  });
}

// softmax x = exp(log_softmax x);  dx = y * (g - rowsum(g * y))
Var softmax(const Var& x) {
  Matrix y;
  {
    NoGrad constant_only;  // only the value is needed here; the rule below is softmax's own
    y = pooled(exp(log_softmax(x)).value());
  }
  return make_op("softmax", std::move(y), {x}, [](const Node&, const Var& out, const Var& g, Var* d) {
    d[0] = out * (g - sum(g * out, 1));
  });
}

// logsumexp per row (m x 1), shifted by the row max;  dx = g * softmax(x) = g * exp(x - y)
Var logsumexp(const Var& x) {
  if (x.cols() == 0) fail("logsumexp", "of a matrix with no columns " + x.shape());
  const auto a = x.value().array();
  Matrix m = pooled(a.rowwise().maxCoeff());
  Matrix y = pooled(m.array() + (a.colwise() - m.col(0).array()).exp().rowwise().sum().log());
  give_matrix(std::move(m));
  return make_op("logsumexp", std::move(y), {x}, [](const Node& n, const Var& out, const Var& g, Var* d) {
    d[0] = g * exp(n.parents[0] - out);
  });
}

// y_i = x(i, index_i);  dx = g scattered back to those entries
Var pick(const Var& x, const std::vector<int>& index) {
  check_index("pick", x, index, x.cols());
  Matrix y = take_matrix(x.rows(), 1);
  for (Index i = 0; i < x.rows(); ++i) y(i, 0) = x.value()(i, index[i]);
  Var out = make_op("pick", std::move(y), {x}, [](const Node& n, const Var&, const Var& g, Var* d) {
    d[0] = scatter(g, n.payload.index, n.parents[0].cols());
  });
  if (Node* n = out.node(); n->backward) n->payload.index.assign(index.begin(), index.end());
  return out;
}

// Y(i, index_i) = x_i, zeros elsewhere;  dx = pick(g, index)
Var scatter(const Var& x, const std::vector<int>& index, Index cols) {
  if (x.cols() != 1) fail("scatter", "expects an mx1 column, got " + x.shape());
  check_index("scatter", x, index, cols);
  Matrix y = pooled(Matrix::Zero(x.rows(), cols));
  for (Index i = 0; i < x.rows(); ++i) y(i, index[i]) = x.value()(i, 0);
  Var out = make_op("scatter", std::move(y), {x}, [](const Node& n, const Var&, const Var& g, Var* d) { d[0] = pick(g, n.payload.index); });
  if (Node* n = out.node(); n->backward) n->payload.index.assign(index.begin(), index.end());
  return out;
}

}  // namespace pgcpp::ad
