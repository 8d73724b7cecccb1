// The matrix products of layers: C = A B or C = A B^T (or += into C), column-major, vectorized
// over C's rows, without copying A or B first.
//
// Eigen's general product packs (copies) both operands into blocks before multiplying; for the
// chapter's networks the operands are small (a minibatch of 64-256 rows, widths 64-256) and the
// copies cost as much as a quarter of the product. Here A's columns are already the vectors we
// need: a tile of C (MR packets of rows by NR columns) is held in registers while k runs,
//   C(i:i+MR w, j+c) += A(i:i+MR w, k) * op(B)(k, j+c),
// one packet load of A per packet of rows and one broadcast of op(B)(k, j+c) per column, each
// reused MR or NR times. Measured on the AVX-512 machine of README's benchmarks (float, GFLOP/s):
// 256x64 by 64x64: Eigen 81, this kernel 104; 256x256 by 256x256: Eigen 67, this kernel 107.
//
// Each coefficient of C is summed over k in order 0, 1, ..., K-1 (one multiply-add per k) starting
// from C's value, whatever tile or batch size it falls in, so results are deterministic; they
// differ from Eigen's product only in rounding.
#include "autodiff/ops.hpp"

#include <algorithm>

#include "autodiff/errors.hpp"

#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wignored-attributes"  // SIMD packet types carry alignment attributes

namespace pgcpp::ad {

namespace {

using Index = Eigen::Index;
using Packet = Eigen::internal::packet_traits<Scalar>::type;
constexpr int width = Eigen::internal::packet_traits<Scalar>::size;
// Tile: 2 packets of rows by NR columns: 2 NR accumulators + 2 loads + 1 broadcast must fit the
// registers (32 vector registers with AVX-512, 16 with SSE/AVX2/NEON).
constexpr int MR = 2;
constexpr int NR = EIGEN_ARCH_DEFAULT_NUMBER_OF_REGISTERS >= 32 ? 8 : 4;

// op(B)(k, j) sits at b[k * b_k + j * b_j]: (1, ldb) for B, (ldb, 1) for B^T.
struct Operands {
  const Scalar* a;
  Index lda;
  const Scalar* b;
  Index b_k, b_j;
  Scalar* c;
  Index ldc;
  Index K;
};

// Rows [i, i + R width) by columns [j, j + C) of C, in registers over all k.
template <int R, int C, bool Accumulate>
void tile(const Operands& o, Index i, Index j) {
  using namespace Eigen::internal;
  Packet acc[R][C];
  Scalar* c = o.c + i + j * o.ldc;
  for (int r = 0; r < R; ++r)
    for (int q = 0; q < C; ++q) acc[r][q] = Accumulate ? ploadu<Packet>(c + r * width + q * o.ldc) : pset1<Packet>(0);
  const Scalar* a = o.a + i;
  const Scalar* b = o.b + j * o.b_j;
  for (Index k = 0; k < o.K; ++k, a += o.lda, b += o.b_k) {
    Packet x[R];
    for (int r = 0; r < R; ++r) x[r] = ploadu<Packet>(a + r * width);
    for (int q = 0; q < C; ++q) {
      const Packet y = pset1<Packet>(b[q * o.b_j]);
      for (int r = 0; r < R; ++r) acc[r][q] = pmadd(x[r], y, acc[r][q]);
    }
  }
  for (int r = 0; r < R; ++r)
    for (int q = 0; q < C; ++q) pstoreu(c + r * width + q * o.ldc, acc[r][q]);
}

// The last rows [i, end) (fewer than one packet), one at a time, summed in the same order.
template <int C, bool Accumulate>
void row_tail(const Operands& o, Index i, Index end, Index j) {
  for (; i < end; ++i) {
    Scalar acc[C];
    for (int q = 0; q < C; ++q) acc[q] = Accumulate ? o.c[i + (j + q) * o.ldc] : Scalar(0);
    for (Index k = 0; k < o.K; ++k)
      for (int q = 0; q < C; ++q) acc[q] = Eigen::internal::pmadd(o.a[i + k * o.lda], o.b[k * o.b_k + (j + q) * o.b_j], acc[q]);
    for (int q = 0; q < C; ++q) o.c[i + (j + q) * o.ldc] = acc[q];
  }
}

// Rows [begin, end) by columns [j, j + C).
template <int C, bool Accumulate>
void column_block(const Operands& o, Index begin, Index end, Index j) {
  Index i = begin;
  for (; i + MR * width <= end; i += MR * width) tile<MR, C, Accumulate>(o, i, j);
  for (; i + width <= end; i += width) tile<1, C, Accumulate>(o, i, j);
  row_tail<C, Accumulate>(o, i, end, j);
}

// The columns left after the blocks of NR (fewer than NR), as one block of their number.
template <bool Accumulate, int C = NR - 1>
void last_columns(const Operands& o, Index begin, Index end, Index j, Index count) {
  if constexpr (C > 0) {
    if (count == C) return column_block<C, Accumulate>(o, begin, end, j);
    last_columns<Accumulate, C - 1>(o, begin, end, j, count);
  }
}

template <bool Accumulate>
void product(Matrix& C, const Matrix& A, const Matrix& B, bool transpose_b) {
  const Index M = A.rows(), K = A.cols(), N = C.cols();
  const Operands o{A.data(), M, B.data(), transpose_b ? B.rows() : 1, transpose_b ? 1 : B.rows(), C.data(), M, K};
  // Rows in blocks whose part of A (rows x K) stays in a 256 KiB cache while every column of C
  // passes over it.
  const Index block = std::max<Index>(MR * width, (Index(256 * 1024) / (Index(sizeof(Scalar)) * std::max<Index>(K, 1))) / (MR * width) * (MR * width));
  for (Index begin = 0; begin < M; begin += block) {
    const Index end = std::min(M, begin + block);
    Index j = 0;
    for (; j + NR <= N; j += NR) column_block<NR, Accumulate>(o, begin, end, j);
    last_columns<Accumulate>(o, begin, end, j, N - j);
  }
}

void check(const char* op, const Matrix& C, const Matrix& A, const Matrix& B, bool transpose_b) {
  const Index K = transpose_b ? B.cols() : B.rows(), N = transpose_b ? B.rows() : B.cols();
  if (A.cols() != K || C.rows() != A.rows() || C.cols() != N)
    fail(op, "shapes " + shape_of(C) + " = " + shape_of(A) + " times " + shape_of(B) + (transpose_b ? "^T" : "") + " do not fit");
}

}  // namespace

void add_product(Matrix& C, const Matrix& A, const Matrix& B, bool transpose_b) {
  check("add_product", C, A, B, transpose_b);
  if (A.rows() < width) {  // not one packet of rows (acting on a few states): Eigen's product
    if (transpose_b) C.noalias() += A * B.transpose();
    else C.noalias() += A * B;
    return;
  }
  product<true>(C, A, B, transpose_b);
}

void set_product(Matrix& C, const Matrix& A, const Matrix& B, bool transpose_b) {
  C.resize(A.rows(), transpose_b ? B.rows() : B.cols());  // a no-op once the shape is right
  check("set_product", C, A, B, transpose_b);
  if (A.rows() < width) {
    if (transpose_b) C.noalias() = A * B.transpose();
    else C.noalias() = A * B;
    return;
  }
  product<false>(C, A, B, transpose_b);
}

}  // namespace pgcpp::ad

#pragma GCC diagnostic pop
