// Finite-difference checks of gradients (gradcheck) and Hessian-vector products (gradgradcheck).
#pragma once

#include <doctest/doctest.h>

#include <functional>
#include <vector>

#include "autodiff/autodiff.hpp"

namespace pgcpp::test {

using ad::Var;
using Function = std::function<Var(const std::vector<Var>&)>;

// A random matrix with entries in [lo, hi].
inline Matrix random_matrix(Eigen::Index rows, Eigen::Index cols, Rng& rng, double lo = -1.0, double hi = 1.0) {
  Matrix m(rows, cols);
  for (Eigen::Index i = 0; i < m.size(); ++i) m(i) = static_cast<Scalar>(rng.uniform(lo, hi));
  return m;
}

inline std::vector<Var> leaves(const std::vector<Matrix>& values) {
  std::vector<Var> xs;
  for (const Matrix& v : values) xs.emplace_back(v, true);
  return xs;
}

inline Scalar evaluate(const Function& f, const std::vector<Matrix>& values) {
  ad::NoGrad off;
  std::vector<Var> xs;
  for (const Matrix& v : values) xs.emplace_back(v);
  return f(xs).item();
}

// Normalized error ||a - n||_inf / max(1, ||n||_inf): relative for gradients of size >= 1,
// absolute below (where relative error of a near-zero entry is meaningless).
inline double normalized_error(const Matrix& a, const Matrix& n) {
  const double scale = std::max<double>(1.0, n.cwiseAbs().maxCoeff());
  return (a - n).cwiseAbs().maxCoeff() / scale;
}

// Central differences of the scalar f with respect to input k: error O(h^2 f''') + O(eps/h).
inline Matrix numeric_gradient(const Function& f, std::vector<Matrix> values, std::size_t k, double h = 1e-6) {
  Matrix g(values[k].rows(), values[k].cols());
  for (Eigen::Index i = 0; i < values[k].size(); ++i) {
    const Scalar x = values[k](i);
    values[k](i) = x + h;
    const double up = evaluate(f, values);
    values[k](i) = x - h;
    const double down = evaluate(f, values);
    values[k](i) = x;
    g(i) = static_cast<Scalar>((up - down) / (2 * h));
  }
  return g;
}

// Checks reverse-mode gradients of f against central differences, for every input.
inline void gradcheck(const Function& f, const std::vector<Matrix>& values, double tolerance = 1e-6) {
  auto xs = leaves(values);
  const Var y = f(xs);
  REQUIRE(y.size() == 1);
  const auto gs = ad::grad(y, xs);
  for (std::size_t k = 0; k < values.size(); ++k) {
    const Matrix numeric = numeric_gradient(f, values, k);
    INFO("input " << k << " (" << values[k].rows() << "x" << values[k].cols() << ")");
    CHECK(normalized_error(gs[k].value(), numeric) <= tolerance);
  }
}

// Checks Hessian-vector products grad(dot(grad(f, x), v), x) against central differences of
// the gradient along v: (grad f(x + h v) - grad f(x - h v)) / 2h.
inline void gradgradcheck(const Function& f, const std::vector<Matrix>& values, Rng& rng, double tolerance = 1e-6) {
  auto xs = leaves(values);
  std::vector<Matrix> v;
  for (const Matrix& x : values) v.push_back(random_matrix(x.rows(), x.cols(), rng));
  const auto g = ad::grad(f(xs), xs, /*create_graph=*/true);
  Var gv = Var::scalar(0);
  for (std::size_t k = 0; k < xs.size(); ++k) gv = gv + ad::dot(g[k], Var(v[k]));
  const auto hv = ad::grad(gv, xs);

  const double h = 1e-5;
  auto shifted_gradient = [&](double sign) {
    std::vector<Matrix> moved = values;
    for (std::size_t k = 0; k < moved.size(); ++k) moved[k] += static_cast<Scalar>(sign * h) * v[k];
    auto ys = leaves(moved);
    return ad::grad(f(ys), ys);
  };
  const auto up = shifted_gradient(+1), down = shifted_gradient(-1);
  for (std::size_t k = 0; k < values.size(); ++k) {
    const Matrix numeric = (up[k].value() - down[k].value()) / static_cast<Scalar>(2 * h);
    INFO("Hessian-vector product, input " << k);
    CHECK(normalized_error(hv[k].value(), numeric) <= tolerance);
  }
}

}  // namespace pgcpp::test
