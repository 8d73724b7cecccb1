#include "chapter3/common/value_fitting.hpp"

#include <algorithm>
#include <vector>

#include "chapter3/common/minibatch.hpp"

namespace pgcpp {

using namespace ad;

double fit_value_function(Mlp& value, Optimizer& optimizer, const Matrix& obs, const Matrix& target, int epochs,
                          int minibatch, Scalar max_norm, Rng& rng) {
  const int n = static_cast<int>(obs.rows());
  const int B = std::min(minibatch, n);
  std::vector<int> index;
  Matrix s, v_targ;
  double epoch_loss = 0;
  for (int e = 0; e < epochs; ++e) {
    shuffle_indices(index, n, rng);
    epoch_loss = 0;
    int batches = 0;
    for (int from = 0; from + B <= n; from += B, ++batches) {
      gather_rows(obs, index, from, B, s);
      gather_rows(target, index, from, B, v_targ);
      // 1/B sum (V_phi(s) - V_targ)^2
      const Var loss = mean(square(value(Var(s)) - Var(v_targ)));
      optimizer.minimize(loss, max_norm);
      epoch_loss += static_cast<double>(loss.item());
    }
    epoch_loss /= std::max(1, batches);
  }
  return epoch_loss;
}

}  // namespace pgcpp
