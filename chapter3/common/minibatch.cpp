#include "chapter3/common/minibatch.hpp"

#include <numeric>
#include <stdexcept>
#include <string>

namespace pgcpp {

void shuffle_indices(std::vector<int>& index, int n, Rng& rng) {
  index.resize(static_cast<std::size_t>(n));
  std::iota(index.begin(), index.end(), 0);
  for (int i = n - 1; i > 0; --i) {
    const auto j = static_cast<std::size_t>(rng.uniform_int(static_cast<std::uint64_t>(i) + 1));
    std::swap(index[static_cast<std::size_t>(i)], index[j]);
  }
}

void gather_rows(const Matrix& x, const std::vector<int>& index, int from, int count, Matrix& out) {
  if (from < 0 || count < 0 || static_cast<std::size_t>(from) + static_cast<std::size_t>(count) > index.size())
    throw std::invalid_argument("gather_rows: rows " + std::to_string(from) + ".." + std::to_string(from + count) +
                                " of an index of " + std::to_string(index.size()));
  if (out.rows() != count || out.cols() != x.cols()) out.resize(count, x.cols());
  for (int r = 0; r < count; ++r) out.row(r) = x.row(index[static_cast<std::size_t>(from + r)]);
}

}  // namespace pgcpp
