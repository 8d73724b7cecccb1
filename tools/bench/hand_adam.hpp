// Adam (PyTorch's defaults) written by hand for the benchmark's Eigen baselines, shared by
// sac_hand.hpp and ppo_npg_hand.hpp so both time the same update.
#pragma once

#include <cmath>

#include "autodiff/autodiff.hpp"

namespace pgcpp::bench {

// One bias-corrected Adam step at step count k (from 1) on theta with gradient g.
inline void hand_adam_step(Matrix& theta, const Matrix& g, Matrix& m, Matrix& v, Scalar lr, long k) {
  const Scalar b1 = Scalar(0.9), b2 = Scalar(0.999), eps = Scalar(1e-8);
  m.array() = b1 * m.array() + (1 - b1) * g.array();
  v.array() = b2 * v.array() + (1 - b2) * g.array().square();
  const Scalar c1 = 1 - std::pow(b1, Scalar(k)), c2 = 1 - std::pow(b2, Scalar(k));
  theta.array() -= (lr / c1) * m.array() / ((v.array() / c2).sqrt() + eps);
}

}  // namespace pgcpp::bench
