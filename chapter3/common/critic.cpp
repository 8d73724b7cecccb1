#include "chapter3/common/critic.hpp"

namespace pgcpp {

std::vector<int> mlp_sizes(int in, const std::vector<int>& hidden, int out) {
  std::vector<int> sizes{in};
  sizes.insert(sizes.end(), hidden.begin(), hidden.end());
  sizes.push_back(out);
  return sizes;
}

ad::Mlp value_network(int obs_dim, const std::vector<int>& hidden, ad::Activation act, Rng& rng) {
  return ad::Mlp(mlp_sizes(obs_dim, hidden, 1), act, rng);
}

ad::Mlp q_network(int obs_dim, const std::vector<int>& hidden, int num_actions, ad::Activation act, Rng& rng) {
  return ad::Mlp(mlp_sizes(obs_dim, hidden, num_actions), act, rng);
}

ad::Mlp q_network_continuous(int obs_dim, int act_dim, const std::vector<int>& hidden, ad::Activation act, Rng& rng) {
  return ad::Mlp(mlp_sizes(obs_dim + act_dim, hidden, 1), act, rng);
}

ad::Var q_input(const ad::Var& obs, const ad::Var& actions) { return ad::concat_cols({obs, actions}); }

EpisodeValues episode_values(const ad::Mlp& value, const Matrix& obs, const std::vector<Trajectory>& batch) {
  ad::NoGrad off;
  EpisodeValues out;
  out.values = value(ad::Var(obs)).value().col(0).cast<double>();
  Matrix last(static_cast<Eigen::Index>(batch.size()), obs.cols());
  for (std::size_t i = 0; i < batch.size(); ++i)
    last.row(static_cast<Eigen::Index>(i)) = batch[i].final_obs.transpose().cast<Scalar>();
  out.final_values = value(ad::Var(last)).value().col(0).cast<double>();
  return out;
}

}  // namespace pgcpp
