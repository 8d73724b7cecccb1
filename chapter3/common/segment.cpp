#include "chapter3/common/segment.hpp"

#include <stdexcept>
#include <string>

namespace pgcpp {

Eigen::MatrixXd Segment::by_step(const Vector& per_row) const {
  if (per_row.size() != static_cast<Eigen::Index>(T) * N)
    throw std::invalid_argument("Segment::by_step: expected " + std::to_string(static_cast<long>(T) * N) +
                                " entries, got " + std::to_string(per_row.size()));
  Eigen::MatrixXd out(T, N);
  for (int t = 0; t < T; ++t)
    for (int i = 0; i < N; ++i) out(t, i) = static_cast<double>(per_row(static_cast<Eigen::Index>(t) * N + i));
  return out;
}

SegmentCollector::SegmentCollector(VecEnv& envs, int T, std::uint64_t seed) : envs_(envs) {
  if (T < 1) throw std::invalid_argument("SegmentCollector: T must be >= 1, got " + std::to_string(T));
  const int N = envs.num_envs(), d = envs.obs_dim(), m = envs.act_dim();
  seg_.T = T;
  seg_.N = N;
  const Eigen::Index rows = static_cast<Eigen::Index>(T) * N;
  seg_.obs.resize(rows, d);
  seg_.next_obs.resize(rows, d);
  seg_.actions.resize(rows, m);
  seg_.rewards.resize(T, N);
  seg_.terminated.resize(T, N);
  seg_.ended.resize(T, N);
  seg_.finished.reserve(static_cast<std::size_t>(N) * 4);
  action_.resize(N, m);
  current_ = envs.reset(seed);
}

const Segment& SegmentCollector::collect(const Policy& policy, Rng& rng) {
  const int N = seg_.N;
  seg_.finished.clear();
  for (int t = 0; t < seg_.T; ++t) {
    const Eigen::Index row = static_cast<Eigen::Index>(t) * N;
    seg_.obs.middleRows(row, N) = current_.cast<Scalar>();
    act_.obs = seg_.obs.middleRows(row, N);
    const Matrix& a = policy.act(act_.obs, rng, act_);  // without the tape, into act_'s storage
    seg_.actions.middleRows(row, N) = a;
    seg_.params.resize(seg_.obs.rows(), act_.params.cols());  // a no-op once the shape is right
    seg_.params.middleRows(row, N) = act_.params;
    action_ = a.cast<double>();
    const VecStepResult& step = envs_.step(action_);
    seg_.next_obs.middleRows(row, N) = step.final_observation.cast<Scalar>();
    seg_.rewards.row(t) = step.reward.transpose();
    for (int i = 0; i < N; ++i) {
      seg_.terminated(t, i) = step.terminated(i);
      seg_.ended(t, i) = step.terminated(i) || step.truncated(i);
      if (seg_.ended(t, i)) seg_.finished.push_back({t, i, step.episode_return(i), step.episode_length(i)});
    }
    current_ = step.observation;  // the next episode's first observation where one ended
  }
  env_steps_ += static_cast<long>(seg_.T) * N;
  return seg_;
}

}  // namespace pgcpp
