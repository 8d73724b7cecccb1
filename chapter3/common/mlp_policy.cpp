#include "chapter3/common/mlp_policy.hpp"

namespace pgcpp {

using namespace ad;

std::shared_ptr<Policy> make_mlp_policy(const Env& env, const std::vector<int>& hidden, double log_std_init, Rng& rng,
                                        Activation activation) {
  if (env.discrete()) return CategoricalPolicy::make(env.obs_dim(), hidden, env.num_actions(), activation, rng);
  std::vector<int> sizes{env.obs_dim()};
  sizes.insert(sizes.end(), hidden.begin(), hidden.end());
  sizes.push_back(env.act_dim());
  return std::make_shared<GaussianPolicy>(Mlp(sizes, activation, rng), env.act_dim(),
                                          GaussianPolicy::LogStd::StateIndependent, static_cast<Scalar>(log_std_init));
}

}  // namespace pgcpp
