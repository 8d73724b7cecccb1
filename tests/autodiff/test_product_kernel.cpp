// The layers' product kernel (autodiff/product_kernel.cpp) against the exact product, for every
// tile shape and remainder it has, and matmul/affine through it to first and second order.
#include <doctest/doctest.h>

#include <cmath>
#include <limits>
#include <stdexcept>

#include "tests/autodiff/gradcheck.hpp"
#include "tests/needs_double.hpp"

using namespace pgcpp;
using namespace pgcpp::ad;

namespace {

// C0 + A op(B) in long double, and the rounding bound of any order of summation in Scalar:
// |fl(c0 + sum_k a_k b_k) - exact| <= gamma_{K+1} (|c0| + sum_k |a_k b_k|), gamma_n = n u / (1 - n u)
// (Higham, Accuracy and Stability of Numerical Algorithms: the inner-product bound), u = eps / 2.
struct Reference {
  Eigen::Matrix<long double, Eigen::Dynamic, Eigen::Dynamic> value, bound;
};

Reference exact(const Matrix& C0, const Matrix& A, const Matrix& B, bool transpose_b) {
  const Eigen::Index M = A.rows(), K = A.cols(), N = C0.cols();
  const long double u = std::numeric_limits<Scalar>::epsilon() / 2.0L, gamma = (K + 1) * u / (1 - (K + 1) * u);
  Reference r{C0.cast<long double>(), C0.cast<long double>().cwiseAbs()};
  for (Eigen::Index i = 0; i < M; ++i)
    for (Eigen::Index j = 0; j < N; ++j)
      for (Eigen::Index k = 0; k < K; ++k) {
        const long double p = static_cast<long double>(A(i, k)) * (transpose_b ? B(j, k) : B(k, j));
        r.value(i, j) += p;
        r.bound(i, j) += std::fabs(p);
      }
  r.bound *= gamma;
  return r;
}

// The largest |computed - exact| / bound over C (<= 1 when every coefficient is within its bound).
double worst(const Matrix& C, const Reference& r) {
  double w = 0;
  for (Eigen::Index i = 0; i < C.size(); ++i)
    w = std::max(w, static_cast<double>(std::fabs(C(i) - r.value(i)) / std::max(r.bound(i), 1e-300L)));
  return w;
}

}  // namespace

// Bugs this catches: a tile or remainder row/column skipped or done twice (rows 1..600 cross
// every tile height, each smaller packet, the rows left under the smallest, Eigen's few-row path
// and the 256 KiB row blocks; columns 1..9 every remainder block of NR = 4 or 8), op(B)'s strides
// swapped (B for B^T), set_product adding to C's old values, set_affine dropping b or taking
// b(j) for the wrong column, set_product_tn's transpose misplacing a block or its remainder. Each is an error of order 1, far above the rounding bound
// gamma_{K+1}, which no correct order of summation exceeds.
TEST_CASE("set_product, set_product_tn and set_affine equal the exact product within the rounding bound, every tile and remainder") {
  Rng rng(11);
  int cases = 0;
  for (int M : {1, 3, 4, 5, 7, 8, 9, 15, 16, 17, 31, 32, 33, 47, 48, 49, 64, 100, 256, 600})
    for (int N : {1, 2, 3, 4, 5, 6, 7, 8, 9, 17, 64})
      for (int K : {1, 3, 64, 300})
        for (bool transpose_b : {false, true}) {
          if (M * N * K > 4'000'000) continue;
          const Matrix A = test::random_matrix(M, K, rng);
          const Matrix B = transpose_b ? test::random_matrix(N, K, rng) : test::random_matrix(K, N, rng);
          const Matrix b = test::random_matrix(1, N, rng);
          Matrix set = Matrix::Constant(M, N, Scalar(7)), affine = set, tn = set;  // the 7s must be overwritten
          set_product(set, A, B, transpose_b);
          if (!transpose_b) {
            set_affine(affine, A, B, b);
            set_product_tn(tn, Matrix(A.transpose()), B);  // (A^T)^T B = A B
          }
          CAPTURE(M);
          CAPTURE(N);
          CAPTURE(K);
          CAPTURE(transpose_b);
          REQUIRE(worst(set, exact(Matrix::Zero(M, N), A, B, transpose_b)) <= 1.0);
          if (!transpose_b) {
            REQUIRE(worst(affine, exact(b.replicate(M, 1), A, B, false)) <= 1.0);
            REQUIRE(worst(tn, exact(Matrix::Zero(M, N), A, B, false)) <= 1.0);
          }
          ++cases;
        }
  CHECK(cases > 1500);
}

// Bug: a product of mismatched shapes reading past A's, B's or b's storage instead of refusing.
TEST_CASE("set_product, set_product_tn and set_affine refuse shapes that do not fit, in one line") {
  Matrix C;
  const Matrix A = Matrix::Ones(20, 4), B = Matrix::Ones(5, 3);
  CHECK_THROWS_WITH_AS(set_product(C, A, B), "pgcpp::ad::set_product: shapes 20x3 = 20x4 times 5x3 do not fit", std::invalid_argument);
  CHECK_THROWS_AS(set_product(C, A, Matrix::Ones(4, 3), true), std::invalid_argument);
  CHECK_THROWS_WITH_AS(set_product_tn(C, A, B), "pgcpp::ad::set_product_tn: shapes 4x3 = 20x4^T times 5x3 do not fit",
                       std::invalid_argument);
  CHECK_THROWS_WITH_AS(set_affine(C, A, Matrix::Ones(4, 3), Matrix::Ones(1, 2)),
                       "pgcpp::ad::set_affine: bias 1x2 must be 1x3 for weight 4x3", std::invalid_argument);
}

// The backward rules of matmul and affine go through the kernel once a batch has a packet of
// rows (the existing op tests use 3-5 rows, below it): a rule multiplying by W instead of W^T, or
// reading g with the wrong leading dimension, fails the finite differences here.
TEST_CASE("matmul and affine with a batch of rows through the kernel, to first and second order" *
          NEEDS_DOUBLE("checked against central finite differences to 1e-6")) {
  Rng rng(5);
  auto project = [](const Var& y) {
    Rng r(77);
    const Matrix W1 = test::random_matrix(y.rows(), y.cols(), r), W2 = test::random_matrix(y.rows(), y.cols(), r);
    return sum(y * Var(W1)) + sum(tanh(y) * Var(W2));
  };
  const Matrix x = test::random_matrix(37, 6, rng), W = test::random_matrix(6, 9, rng);
  const Matrix W_t = test::random_matrix(9, 6, rng), b = test::random_matrix(1, 9, rng);
  auto check = [&](const test::Function& op, const std::vector<Matrix>& values) {
    auto f = [&](const std::vector<Var>& v) { return project(op(v)); };
    test::gradcheck(f, values);
    test::gradgradcheck(f, values, rng);
  };
  check([](const std::vector<Var>& v) { return matmul(v[0], v[1]); }, {x, W});
  check([](const std::vector<Var>& v) { return matmul(v[0], v[1], false, true); }, {x, W_t});
  check([](const std::vector<Var>& v) { return matmul(v[0], v[1], true, false); }, {x, test::random_matrix(37, 9, rng)});
  check([](const std::vector<Var>& v) { return affine(v[0], v[1], v[2]); }, {x, W, b});
}
