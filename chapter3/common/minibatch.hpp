// Shuffled minibatches over the rows of a batch: a random permutation of the row indices, then
// B rows at a time gathered into reused storage. Used by REINFORCE's baseline fit (Section
// 3.2.4), PPO's K epochs (Section 3.4.7) and the value fit of NPG and TRPO
// (chapter3/common/value_fitting.hpp, Sections 3.4.4, 3.4.6).
#pragma once

#include <vector>

#include "autodiff/autodiff.hpp"

namespace pgcpp {

// A random permutation of 0..n-1 (Fisher-Yates), written into `index` (resized to n).
void shuffle_indices(std::vector<int>& index, int n, Rng& rng);

// Rows index[from .. from + count) of x, into out (resized only if its shape differs).
void gather_rows(const Matrix& x, const std::vector<int>& index, int from, int count, Matrix& out);

}  // namespace pgcpp
