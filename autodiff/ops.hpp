// Differentiable operations on Vars. Every op checks its arguments' shapes and throws a
// ShapeError naming the op and the shapes; its backward rule sits next to its forward code in
// ops.cpp, with the derivative written in a comment.
//
// Broadcasting (elementwise ops, where, min/max): two shapes are compatible when, in each
// dimension, they are equal or one of them is 1 (a 1x1 scalar, a 1xn row, an mx1 column);
// the gradient of a broadcast operand is summed back to its shape.
// Axis convention (numpy's): axis 0 reduces over rows (result 1xn), axis 1 over columns
// (result mx1). Per-row ops (softmax, log_softmax, logsumexp, pick) treat each row as one sample.
#pragma once

#include <vector>

#include "autodiff/var.hpp"

namespace pgcpp::ad {

// ---- Elementwise arithmetic (with broadcasting) ----
Var add(const Var& a, const Var& b);
Var sub(const Var& a, const Var& b);
Var mul(const Var& a, const Var& b);
Var div(const Var& a, const Var& b);
Var neg(const Var& x);

Var operator+(const Var& a, const Var& b);
Var operator-(const Var& a, const Var& b);
Var operator*(const Var& a, const Var& b);  // elementwise; matmul() is the matrix product
Var operator/(const Var& a, const Var& b);
Var operator-(const Var& x);
Var operator+(const Var& a, Scalar b);
Var operator+(Scalar a, const Var& b);
Var operator-(const Var& a, Scalar b);
Var operator-(Scalar a, const Var& b);
Var operator*(const Var& a, Scalar b);
Var operator*(Scalar a, const Var& b);
Var operator/(const Var& a, Scalar b);
Var operator/(Scalar a, const Var& b);

// ---- Linear algebra ----
// op(a) op(b) where op transposes when asked: a (m x k) times b (k x n).
Var matmul(const Var& a, const Var& b, bool transpose_a = false, bool transpose_b = false);
Var transpose(const Var& x);
// x W + b with the 1 x out row b added to every row: one linear layer, fused for speed.
Var affine(const Var& x, const Var& W, const Var& b);

// ---- Shape ----
Var broadcast_to(const Var& x, Eigen::Index rows, Eigen::Index cols);
Var sum_to(const Var& x, Eigen::Index rows, Eigen::Index cols);  // inverse of broadcast_to
Var concat_cols(const std::vector<Var>& parts);
Var slice_cols(const Var& x, Eigen::Index start, Eigen::Index count);
Var pad_cols(const Var& x, Eigen::Index start, Eigen::Index total_cols);  // zeros around x
Var stop_gradient(const Var& x);

// ---- Reductions ----
Var sum(const Var& x);            // 1x1
Var sum(const Var& x, int axis);  // axis 0: 1xn, axis 1: mx1
Var mean(const Var& x);
Var mean(const Var& x, int axis);
Var dot(const Var& a, const Var& b);  // sum(a * b)

// ---- Elementwise functions ----
Var exp(const Var& x);
Var log(const Var& x);
Var tanh(const Var& x);
Var sigmoid(const Var& x);
Var softplus(const Var& x);  // log(1 + e^x), computed without overflow
Var relu(const Var& x);      // subgradient 0 at x = 0
Var square(const Var& x);
Var sqrt(const Var& x);
Var pow(const Var& x, Scalar p);
Var abs(const Var& x);  // subgradient 0 at x = 0
// Elementwise min/max; on ties the gradient goes to the first argument.
Var minimum(const Var& a, const Var& b);
Var maximum(const Var& a, const Var& b);
// Clamp to [lo, hi]; the gradient passes where lo <= x <= hi (bounds included), else 0.
Var clamp(const Var& x, Scalar lo, Scalar hi);
// mask(i,j) != 0 ? a(i,j) : b(i,j); the mask is a constant (no gradient).
Var where(const Matrix& mask, const Var& a, const Var& b);

// ---- Per-row ops (one sample per row) ----
Var softmax(const Var& x);      // m x n
Var log_softmax(const Var& x);  // m x n
Var logsumexp(const Var& x);    // m x 1
// out(i) = x(i, index[i]): the log-probability of the action taken, from a row of log pi.
Var pick(const Var& x, const std::vector<int>& index);
// Inverse of pick: an m x cols matrix of zeros with x(i) at (i, index[i]).
Var scatter(const Var& x, const std::vector<int>& index, Eigen::Index cols);

// Fast elementwise tanh used by tanh(): vectorized, within a few ulps of std::tanh (see .cpp).
void tanh_kernel(const Scalar* in, Scalar* out, Eigen::Index n);

// The layers' matrix products (product_kernel.cpp), vectorized over the rows of the result
// without Eigen's packing copies; for fewer rows than the smallest packet holds (one state),
// Eigen's product. C = A op(B), op(B) = B or B^T:
void set_product(Matrix& C, const Matrix& A, const Matrix& B, bool transpose_b = false);
// C = A^T B (a layer's weight gradient x^T g), through a transposed copy of A.
void set_product_tn(Matrix& C, const Matrix& A, const Matrix& B);
// y = 1 b + x W, a layer's affine map (b: 1 x W.cols()), the sums started at b: no pass filling y.
void set_affine(Matrix& y, const Matrix& x, const Matrix& W, const Matrix& b);

}  // namespace pgcpp::ad
