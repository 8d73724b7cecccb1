// Small helpers shared by the envs tests.
#pragma once

#include <Eigen/Dense>

#include "envs/env.hpp"

namespace pgcpp::test {

inline Eigen::VectorXd vec(std::initializer_list<double> values) {
  Eigen::VectorXd v(static_cast<Eigen::Index>(values.size()));
  Eigen::Index i = 0;
  for (double x : values) v[i++] = x;
  return v;
}

inline StepResult step(Env& env, double action) { return env.step(vec({action})); }

}  // namespace pgcpp::test
