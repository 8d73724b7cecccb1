#include "chapter3/experiment/demo.hpp"

#include <charconv>
#include <optional>
#include <sstream>
#include <stdexcept>

namespace pgcpp {

TrainResult policy_result(std::shared_ptr<const Policy> policy) {
  return TrainResult{policy->parameters(), policy->describe(),
                     [policy](const Eigen::VectorXd& s) { return policy->act_mode(s); }};
}

std::unique_ptr<Policy> rebuild_policy(const PolicyFile& file) {
  const std::optional<MlpPolicyArchitecture> a = parse_mlp_policy(file.architecture);
  if (!a)
    throw std::invalid_argument("policy architecture '" + file.architecture +
                                "' is not one this demo can rebuild (expected e.g. 'categorical 4-128-128-2 tanh')");
  const std::unique_ptr<Env> env = make_env(file.env);
  check_policy_fits_env(file.architecture, *a, env->spec());
  Rng rng(0);  // the initial values are overwritten by theta
  ad::Mlp net(a->sizes, ad::parse_activation(a->activation), rng);
  std::unique_ptr<Policy> policy;
  using Kind = MlpPolicyArchitecture::Kind;
  switch (a->kind) {
    case Kind::categorical: policy = std::make_unique<CategoricalPolicy>(std::move(net)); break;
    case Kind::gaussian_state_independent:
      policy = std::make_unique<GaussianPolicy>(std::move(net), a->act_dim(), GaussianPolicy::LogStd::StateIndependent);
      break;
    case Kind::gaussian_state_dependent:
      policy = std::make_unique<GaussianPolicy>(std::move(net), a->act_dim(), GaussianPolicy::LogStd::StateDependent);
      break;
    case Kind::squashed_gaussian:
      policy = std::make_unique<SquashedGaussianPolicy>(std::move(net), env->action_low(), env->action_high());
      break;
  }
  if (policy->describe() != file.architecture)  // e.g. extra spaces: describe() writes one form
    throw std::invalid_argument("policy architecture '" + file.architecture + "' is not written as describe() writes it ('" +
                                policy->describe() + "')");
  ad::ParameterSet parameters = policy->parameters();
  if (parameters.count() != file.theta.size())
    throw std::invalid_argument("policy architecture '" + file.architecture + "' has " +
                                std::to_string(parameters.count()) + " parameters, the file holds " +
                                std::to_string(file.theta.size()));
  parameters.unflatten(file.theta);
  return policy;
}

ActFn restore_policy(const PolicyFile& file) {
  std::shared_ptr<const Policy> policy = rebuild_policy(file);
  return [policy](const Eigen::VectorXd& s) { return policy->act_mode(s); };
}

void log_segment(RunLog& log, long iteration, const Segment& segment, long env_steps_after) {
  const long before = env_steps_after - static_cast<long>(segment.T) * segment.N;
  for (const Segment::Finished& f : segment.finished)
    log.episode(before + static_cast<long>(f.t) * segment.N + f.copy + 1, f.episode_return, f.length);
  log.progress(iteration + 1, env_steps_after);
}

}  // namespace pgcpp
