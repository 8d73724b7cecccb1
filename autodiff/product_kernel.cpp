// The matrix products of layers: y = 1 b + x W (forward), C = A B^T and C = A^T B (backward),
// column-major, vectorized over the result's rows, without Eigen's packing copies.
//
// Eigen's general product packs (copies) both operands into blocks before multiplying; for the
// chapter's networks the operands are small (a minibatch of 64-256 rows, widths 64-256) and the
// copies cost as much as a quarter of the product. Here A's columns are already the vectors we
// need: a tile of C (MR packets of rows by NR columns) is held in registers while k runs,
//   C(i:i+MR w, j+c) += A(i:i+MR w, k) * op(B)(k, j+c),
// one packet load of A per packet of rows and one broadcast of op(B)(k, j+c) per column, each
// reused MR or NR times. A^T B has no such columns in memory and multiplies a transposed copy.
// Measured on the AVX-512 machine of README's benchmarks (float, GFLOP/s, Eigen / this kernel):
// 256x64 by 64x64 81 / 104; 256x256 by 256x256 67 / 107; (256x64)^T by 256x64 85 / 100.
//
// Each coefficient of C is summed over k in order 0, 1, ..., K-1 (one multiply-add per k), starting
// from 0 or from b, so results are deterministic; they differ from Eigen's product only in rounding.
#include "autodiff/ops.hpp"

#include <algorithm>
#include <type_traits>

#include "autodiff/errors.hpp"
#include "autodiff/var.hpp"

#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wignored-attributes"  // SIMD packet types carry alignment attributes

namespace pgcpp::ad {

namespace {

using Index = Eigen::Index;
using Packet = Eigen::internal::packet_traits<Scalar>::type;
template <class P>
constexpr int width_of = Eigen::internal::unpacket_traits<P>::size;
// The next smaller packet (AVX-512's 16 floats -> AVX's 8 -> SSE's 4), for the rows that do not
// fill a packet: a batch of 100 rows is 6 packets of 16 and one of 4, and acting on 4
// environments is one packet of 4. The smallest has itself as half.
template <class P>
using Half = typename Eigen::internal::unpacket_traits<P>::half;
template <class P>
constexpr int smallest_width() {
  if constexpr (std::is_same_v<Half<P>, P>) return width_of<P>;
  else return smallest_width<Half<P>>();
}
// Tile: MR packets of rows by NR columns: MR NR accumulators + MR loads + 1 broadcast must fit
// the registers (32 vector registers with AVX-512, 16 with SSE/AVX2/NEON).
constexpr int MR = 2;
constexpr int NR = EIGEN_ARCH_DEFAULT_NUMBER_OF_REGISTERS >= 32 ? 8 : 4;

// Where a tile's sums start: 0 (C = A op(B)) or the bias row b (C = 1 b + A op(B), a layer's
// affine map: no pass that fills C with b first).
enum class Start { Zero, Bias };

// op(B)(k, j) sits at b[k * b_k + j * b_j]: (1, ldb) for B, (ldb, 1) for B^T.
struct Operands {
  const Scalar* a;
  Index lda;
  const Scalar* b;
  Index b_k, b_j;
  Scalar* c;
  Index ldc;
  Index K;
  const Scalar* bias;  // 1 x N (Start::Bias)
};

// Rows [i, i + R width) by columns [j, j + C) of C, in registers over all k.
template <class P, int R, int C, Start start>
void tile(const Operands& o, Index i, Index j) {
  using namespace Eigen::internal;
  constexpr int w = width_of<P>;
  P acc[R][C];
  Scalar* c = o.c + i + j * o.ldc;
  for (int r = 0; r < R; ++r)
    for (int q = 0; q < C; ++q)
      acc[r][q] = start == Start::Bias ? pset1<P>(o.bias[j + q]) : pset1<P>(0);
  const Scalar* a = o.a + i;
  const Scalar* b = o.b + j * o.b_j;
  for (Index k = 0; k < o.K; ++k, a += o.lda, b += o.b_k) {
    P x[R];
    for (int r = 0; r < R; ++r) x[r] = ploadu<P>(a + r * w);
    for (int q = 0; q < C; ++q) {
      const P y = pset1<P>(b[q * o.b_j]);
      for (int r = 0; r < R; ++r) acc[r][q] = pmadd(x[r], y, acc[r][q]);
    }
  }
  for (int r = 0; r < R; ++r)
    for (int q = 0; q < C; ++q) pstoreu(c + r * w + q * o.ldc, acc[r][q]);
}

// Rows from i on by columns [j, j + C): tiles of MR full packets, then single packets of each
// smaller width; returns the first row left (fewer than the smallest packet).
template <class P, int C, Start start>
Index packet_rows(const Operands& o, Index i, Index end, Index j) {
  constexpr int w = width_of<P>;
  if constexpr (std::is_same_v<P, Packet>)
    for (; i + MR * w <= end; i += MR * w) tile<P, MR, C, start>(o, i, j);
  for (; i + w <= end; i += w) tile<P, 1, C, start>(o, i, j);
  if constexpr (std::is_same_v<Half<P>, P>) return i;
  else return packet_rows<Half<P>, C, start>(o, i, end, j);
}

// The last rows [i, end) (fewer than the smallest packet), one at a time.
template <int C, Start start>
void row_tail(const Operands& o, Index i, Index end, Index j) {
  for (; i < end; ++i) {
    Scalar acc[C];
    for (int q = 0; q < C; ++q)
      acc[q] = start == Start::Bias ? o.bias[j + q] : Scalar(0);
    for (Index k = 0; k < o.K; ++k)
      for (int q = 0; q < C; ++q) acc[q] = Eigen::internal::pmadd(o.a[i + k * o.lda], o.b[k * o.b_k + (j + q) * o.b_j], acc[q]);
    for (int q = 0; q < C; ++q) o.c[i + (j + q) * o.ldc] = acc[q];
  }
}

// Rows [begin, end) by columns [j, j + C).
template <int C, Start start>
void column_block(const Operands& o, Index begin, Index end, Index j) {
  row_tail<C, start>(o, packet_rows<Packet, C, start>(o, begin, end, j), end, j);
}

// The columns left after the blocks of NR (fewer than NR), as one block of their number.
template <Start start, int C = NR - 1>
void last_columns(const Operands& o, Index begin, Index end, Index j, Index count) {
  if constexpr (C > 0) {
    if (count == C) return column_block<C, start>(o, begin, end, j);
    last_columns<start, C - 1>(o, begin, end, j, count);
  }
}

template <Start start>
void product(Matrix& C, const Matrix& A, const Matrix& B, bool transpose_b, const Scalar* bias) {
  const Index M = A.rows(), K = A.cols(), N = C.cols();
  const Operands o{A.data(), M, B.data(), transpose_b ? B.rows() : 1, transpose_b ? 1 : B.rows(), C.data(), M, K, bias};
  // Rows in blocks whose part of A (rows x K) stays in a 256 KiB cache while every column of C
  // passes over it.
  constexpr Index tile_rows = MR * width_of<Packet>;
  const Index block = std::max<Index>(tile_rows, Index(256 * 1024) / (Index(sizeof(Scalar)) * std::max<Index>(K, 1)) / tile_rows * tile_rows);
  for (Index begin = 0; begin < M; begin += block) {
    const Index end = std::min(M, begin + block);
    Index j = 0;
    for (; j + NR <= N; j += NR) column_block<NR, start>(o, begin, end, j);
    last_columns<start>(o, begin, end, j, N - j);
  }
}

void check(const char* op, const Matrix& C, const Matrix& A, const Matrix& B, bool transpose_b) {
  const Index K = transpose_b ? B.cols() : B.rows(), N = transpose_b ? B.rows() : B.cols();
  if (A.cols() != K || C.rows() != A.rows() || C.cols() != N)
    fail(op, "shapes " + shape_of(C) + " = " + shape_of(A) + " times " + shape_of(B) + (transpose_b ? "^T" : "") + " do not fit");
}

// At = A^T, in blocks of width x width that Eigen's ptranspose turns in registers (Eigen's own
// A.transpose() copies one coefficient at a time: 13.7 us for 256 x 64 floats here, this 1.4 us).
void transpose_into(const Matrix& A, Matrix& At) {
  using namespace Eigen::internal;
  constexpr int w = width_of<Packet>;
  const Index R = A.rows(), C = A.cols();
  Index j = 0;
  for (; j + w <= C; j += w) {
    Index i = 0;
    for (; i + w <= R; i += w) {
      PacketBlock<Packet, w> block;
      for (int q = 0; q < w; ++q) block.packet[q] = ploadu<Packet>(A.data() + i + (j + q) * R);
      ptranspose(block);
      for (int q = 0; q < w; ++q) pstoreu(At.data() + j + (i + q) * C, block.packet[q]);
    }
    for (; i < R; ++i)
      for (int q = 0; q < w; ++q) At(j + q, i) = A(i, j + q);
  }
  for (; j < C; ++j)
    for (Index i = 0; i < R; ++i) At(j, i) = A(i, j);
}

// Fewer rows than the smallest packet holds (one state): Eigen's product-vector code.
bool few_rows(const Matrix& m) { return m.rows() < smallest_width<Packet>(); }

}  // namespace

void set_product(Matrix& C, const Matrix& A, const Matrix& B, bool transpose_b) {
  C.resize(A.rows(), transpose_b ? B.rows() : B.cols());  // a no-op once the shape is right
  check("set_product", C, A, B, transpose_b);
  if (!few_rows(A)) return product<Start::Zero>(C, A, B, transpose_b, nullptr);
  if (transpose_b) C.noalias() = A * B.transpose();
  else C.noalias() = A * B;
}

void set_product_tn(Matrix& C, const Matrix& A, const Matrix& B) {
  C.resize(A.cols(), B.cols());  // a no-op once the shape is right
  if (A.rows() != B.rows())
    fail("set_product_tn", "shapes " + shape_of(C) + " = " + shape_of(A) + "^T times " + shape_of(B) + " do not fit");
  if (few_rows(C)) {  // A^T has fewer rows than a packet (a layer with a few inputs)
    C.noalias() = A.transpose() * B;
    return;
  }
  // A^T B = (A^T) B: one transpose copy (A^T's rows are not in memory), then the kernel.
  Matrix At = take_matrix(A.cols(), A.rows());
  transpose_into(A, At);
  product<Start::Zero>(C, At, B, false, nullptr);
  give_matrix(std::move(At));
}

void set_affine(Matrix& y, const Matrix& x, const Matrix& W, const Matrix& b) {
  y.resize(x.rows(), W.cols());  // a no-op once the shape is right
  check("set_affine", y, x, W, false);
  if (b.rows() != 1 || b.cols() != W.cols())
    fail("set_affine", "bias " + shape_of(b) + " must be 1x" + std::to_string(W.cols()) + " for weight " + shape_of(W));
  if (!few_rows(x)) return product<Start::Bias>(y, x, W, false, b.data());
  for (Index j = 0; j < y.cols(); ++j) y.col(j).setConstant(b(0, j));  // then += x W: no zeroing pass
  y.noalias() += x * W;
}

}  // namespace pgcpp::ad

#pragma GCC diagnostic pop
