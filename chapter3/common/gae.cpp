#include "chapter3/common/gae.hpp"

#include <stdexcept>
#include <string>

namespace pgcpp {

namespace {

void check_size(const char* who, const char* what, Eigen::Index got, Eigen::Index expected) {
  if (got != expected)
    throw std::invalid_argument(std::string(who) + ": " + what + " has " + std::to_string(got) + " entries, expected " +
                                std::to_string(expected));
}

}  // namespace

void td_residuals(const Eigen::Ref<const Eigen::VectorXd>& rewards, const Eigen::Ref<const Eigen::VectorXd>& values,
                  const Eigen::Ref<const Eigen::VectorXd>& next_values, const Eigen::Ref<const MaskVector>& terminated,
                  double gamma, Eigen::Ref<Eigen::VectorXd> delta) {
  const Eigen::Index T = rewards.size();
  check_size("td_residuals", "values", values.size(), T);
  check_size("td_residuals", "next_values", next_values.size(), T);
  check_size("td_residuals", "terminated", terminated.size(), T);
  check_size("td_residuals", "delta", delta.size(), T);
  for (Eigen::Index t = 0; t < T; ++t) {
    // A terminal s_{t+1} is worth 0 whatever the critic says there.
    const double bootstrap = terminated(t) ? 0.0 : next_values(t);
    delta(t) = rewards(t) + gamma * bootstrap - values(t);  // (3.35)
  }
}

void gae_from_residuals(const Eigen::Ref<const Eigen::VectorXd>& delta, const Eigen::Ref<const MaskVector>& ended,
                        double gamma, double lambda_, Eigen::Ref<Eigen::VectorXd> advantage) {
  const Eigen::Index T = delta.size();
  check_size("gae_from_residuals", "ended", ended.size(), T);
  check_size("gae_from_residuals", "advantage", advantage.size(), T);
  double next = 0;  // A_T = 0
  for (Eigen::Index t = T - 1; t >= 0; --t) {
    // Where an episode ended after step t, A_{t+1} belongs to the next episode: do not chain it.
    const double carry = ended(t) ? 0.0 : next;
    advantage(t) = delta(t) + gamma * lambda_ * carry;  // (3.37)
    next = advantage(t);
  }
}

GaeResult<Eigen::VectorXd> gae_episodes(const std::vector<Trajectory>& batch, const Eigen::VectorXd& values,
                                        const Eigen::VectorXd& final_values, double gamma, double lambda_) {
  const Eigen::Index rows = total_steps(batch);
  check_size("gae_episodes", "values", values.size(), rows);
  check_size("gae_episodes", "final_values", final_values.size(), static_cast<Eigen::Index>(batch.size()));
  Eigen::VectorXd rewards(rows), next_values(rows);
  MaskVector terminated = MaskVector::Constant(rows, false), ended = MaskVector::Constant(rows, false);
  Eigen::Index at = 0;
  for (std::size_t i = 0; i < batch.size(); ++i) {
    const Trajectory& tau = batch[i];
    const Eigen::Index T = tau.length();
    for (Eigen::Index t = 0; t < T; ++t) {
      rewards(at + t) = tau.rewards[static_cast<std::size_t>(t)];
      // v'_t = V(s_{t+1}): the next row's value within the episode, V(final_obs) after its last step.
      next_values(at + t) = t + 1 < T ? values(at + t + 1) : final_values(static_cast<Eigen::Index>(i));
    }
    if (T > 0) {
      ended(at + T - 1) = true;
      terminated(at + T - 1) = tau.terminated;
    }
    at += T;
  }
  GaeResult<Eigen::VectorXd> out;
  out.delta.resize(rows);
  out.advantage.resize(rows);
  td_residuals(rewards, values, next_values, terminated, gamma, out.delta);
  gae_from_residuals(out.delta, ended, gamma, lambda_, out.advantage);
  out.target = out.advantage + values;  // (3.39)
  return out;
}

void gae_segment(const Eigen::MatrixXd& rewards, const Eigen::MatrixXd& values, const Eigen::MatrixXd& next_values,
                 const MaskMatrix& terminated, const MaskMatrix& ended, double gamma, double lambda_,
                 GaeResult<Eigen::MatrixXd>& out) {
  const Eigen::Index T = rewards.rows(), N = rewards.cols();
  const auto check_shape = [&](const char* what, Eigen::Index r, Eigen::Index c) {
    if (r != T || c != N)
      throw std::invalid_argument(std::string("gae_segment: ") + what + " is " + std::to_string(r) + " x " +
                                  std::to_string(c) + ", expected " + std::to_string(T) + " x " + std::to_string(N));
  };
  check_shape("values", values.rows(), values.cols());
  check_shape("next_values", next_values.rows(), next_values.cols());
  check_shape("terminated", terminated.rows(), terminated.cols());
  check_shape("ended", ended.rows(), ended.cols());
  out.delta.resize(T, N);
  out.advantage.resize(T, N);
  out.target.resize(T, N);
  for (Eigen::Index i = 0; i < N; ++i) {
    td_residuals(rewards.col(i), values.col(i), next_values.col(i), terminated.col(i), gamma, out.delta.col(i));
    gae_from_residuals(out.delta.col(i), ended.col(i), gamma, lambda_, out.advantage.col(i));
  }
  out.target = out.advantage + values;  // (3.39)
}

}  // namespace pgcpp
