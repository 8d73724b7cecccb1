#include "chapter3/common/on_policy.hpp"

#include <numeric>
#include <stdexcept>
#include <string>

namespace pgcpp {

using namespace ad;

OnPolicyCollector::OnPolicyCollector(VecEnv& envs, int T, std::uint64_t env_seed)
    : segments_(envs, T, env_seed), T_(T), N_(envs.num_envs()) {
  const Eigen::Index rows = static_cast<Eigen::Index>(T) * N_;
  batch_.old_log_prob.resize(rows, 1);
  batch_.advantage.resize(rows, 1);
  batch_.target.resize(rows, 1);
  batch_.values.resize(rows, 1);
  values_.resize(T, N_);
  next_values_.resize(T, N_);
}

const OnPolicyBatch& OnPolicyCollector::collect(const Policy& policy, const Mlp& value, double gamma, double lambda_,
                                                bool standardize, Rng& rng) {
  // 1. Collect on-policy data; cache log pi_theta_k(a_t|s_t) and pi_theta_k's parameters.
  const Segment& seg = segments_.collect(policy, rng);
  batch_.segment = &seg;
  {
    NoGrad off;
    batch_.old_params = policy.dist_params(Var(seg.obs)).value();
    batch_.old_log_prob = policy.log_prob(Var(batch_.old_params), seg.actions).value();
    batch_.values = value(Var(seg.obs)).value();
    const Matrix next = value(Var(seg.next_obs)).value();  // V_phi(s_{t+1}) at the true next state
    for (int t = 0; t < T_; ++t)
      for (int i = 0; i < N_; ++i) {
        const Eigen::Index row = static_cast<Eigen::Index>(t) * N_ + i;
        values_(t, i) = static_cast<double>(batch_.values(row, 0));
        next_values_(t, i) = static_cast<double>(next(row, 0));
      }
  }
  // 2. delta_t (3.35), A_t = delta_t + gamma lambda (1 - done_t) A_{t+1} (3.37), V_targ = A + V (3.39).
  gae_segment(seg.rewards, values_, next_values_, seg.terminated, seg.ended, gamma, lambda_, gae_);
  for (int t = 0; t < T_; ++t)
    for (int i = 0; i < N_; ++i) {
      const Eigen::Index row = static_cast<Eigen::Index>(t) * N_ + i;
      batch_.advantage(row, 0) = static_cast<Scalar>(gae_.advantage(t, i));
      batch_.target(row, 0) = static_cast<Scalar>(gae_.target(t, i));
    }
  // (Optionally) standardize A within the batch: (A - mean) / (std + 1e-8).
  if (standardize) batch_.advantage.col(0) = pgcpp::standardize(batch_.advantage.col(0));
  return batch_;
}

std::shared_ptr<Policy> make_mlp_policy(const Env& env, const std::vector<int>& hidden, double log_std_init, Rng& rng) {
  if (env.discrete()) return CategoricalPolicy::make(env.obs_dim(), hidden, env.num_actions(), Activation::Tanh, rng);
  std::vector<int> sizes{env.obs_dim()};
  sizes.insert(sizes.end(), hidden.begin(), hidden.end());
  sizes.push_back(env.act_dim());
  return std::make_shared<GaussianPolicy>(Mlp(sizes, Activation::Tanh, rng), env.act_dim(),
                                          GaussianPolicy::LogStd::StateIndependent, static_cast<Scalar>(log_std_init));
}

void rethrow_at_update(long k, const std::exception& e) {
  const std::string what = e.what();
  if (what.rfind("update ", 0) == 0) throw std::runtime_error(what);
  throw std::runtime_error("update " + std::to_string(k + 1) + ": " + what);
}

bool SegmentSolvedRule::record(const Segment& segment) {
  if (window_ <= 0) return false;
  for (const Segment::Finished& f : segment.finished) {
    recent_.push_back(f.episode_return);
    if (static_cast<int>(recent_.size()) > window_) recent_.erase(recent_.begin());
  }
  if (static_cast<int>(recent_.size()) < window_) return false;
  double sum = 0;
  for (double r : recent_) sum += r;
  return sum / window_ >= target_;
}

void shuffle_indices(std::vector<int>& index, int n, Rng& rng) {
  index.resize(static_cast<std::size_t>(n));
  std::iota(index.begin(), index.end(), 0);
  for (int i = n - 1; i > 0; --i) {
    const auto j = static_cast<std::size_t>(rng.uniform_int(static_cast<std::uint64_t>(i) + 1));
    std::swap(index[static_cast<std::size_t>(i)], index[j]);
  }
}

void gather_rows(const Matrix& x, const std::vector<int>& index, int from, int count, Matrix& out) {
  if (from < 0 || count < 0 || static_cast<std::size_t>(from) + static_cast<std::size_t>(count) > index.size())
    throw std::invalid_argument("gather_rows: rows " + std::to_string(from) + ".." + std::to_string(from + count) +
                                " of an index of " + std::to_string(index.size()));
  if (out.rows() != count || out.cols() != x.cols()) out.resize(count, x.cols());
  for (int r = 0; r < count; ++r) out.row(r) = x.row(index[static_cast<std::size_t>(from + r)]);
}

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
