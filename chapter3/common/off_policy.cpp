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

Interaction::Interaction(Env& env, Rng& rng) : env_(env), s_(env.reset(rng)), s_next_(env.obs_dim()) {}

bool Interaction::step(const Eigen::VectorXd& a, ReplayBuffer& D) {
  bool terminated = false, truncated = false;
  const double r = env_.step(a, s_next_, terminated, truncated);
  D.add(s_, a, r, s_next_, terminated);
  episode_return_ += r;
  ++length_;
  s_ = s_next_;
  return terminated || truncated;
}

void Interaction::reset(Rng& rng) {
  s_ = env_.reset(rng);
  episode_return_ = 0;
  length_ = 0;
}

}  // namespace pgcpp
