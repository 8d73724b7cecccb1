#include "chapter3/common/off_policy.hpp"

#include <cmath>
#include <sstream>
#include <stdexcept>

namespace pgcpp {

FrozenCopy::FrozenCopy(const ad::Mlp& online) : online_(online), frozen_(online.clone()) {
  const ad::ParameterSet params = frozen_.parameters();
  for (const ad::Var& p : params.list()) p.node()->requires_grad = false;
}

void FrozenCopy::refresh() { frozen_.parameters().copy_from(online_.parameters()); }

void random_action(const EnvSpec& env, Rng& rng, Eigen::VectorXd& action) {
  if (env.discrete) {
    action.resize(1);
    action(0) = static_cast<double>(rng.uniform_int(static_cast<std::uint64_t>(env.num_actions)));
    return;
  }
  action.resize(env.act_dim);
  for (int j = 0; j < env.act_dim; ++j) action(j) = rng.uniform(env.action_low(j), env.action_high(j));
}

void check_loss(const char* name, double value, long update) {
  if (std::isfinite(value)) return;
  std::ostringstream s;
  s << "update " << update << ": " << name << " is " << value;
  throw std::runtime_error(s.str());
}

}  // namespace pgcpp
