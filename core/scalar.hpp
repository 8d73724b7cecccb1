// The one scalar type of autodiff/ and chapter3/: double by default, float with -DPGCPP_FLOAT=ON.
// Environments always compute in double; observations are cast at the boundary.
#pragma once

#include <Eigen/Core>

namespace pgcpp {

#if defined(PGCPP_FLOAT) && PGCPP_FLOAT
using Scalar = float;
#else
using Scalar = double;
#endif

// Shape convention (everywhere): a batch is one sample per row, so a batch of N observations
// of dimension d is an N x d matrix, a linear layer maps X (N x in) to X W + b with W (in x out)
// and b (1 x out), and a per-sample scalar (a value, a log-probability) is an N x 1 column.
using Matrix = Eigen::Matrix<Scalar, Eigen::Dynamic, Eigen::Dynamic>;
using Vector = Eigen::Matrix<Scalar, Eigen::Dynamic, 1>;
using RowVector = Eigen::Matrix<Scalar, 1, Eigen::Dynamic>;

}  // namespace pgcpp
