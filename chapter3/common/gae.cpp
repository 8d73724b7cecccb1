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

// One stream in the scalar S (double, or a float build's Scalar), contiguous or strided: a column
// of a T x N segment stored in row order t N + i has its steps N apart.
template <class S>
using Stream = Eigen::Ref<Eigen::Matrix<S, Eigen::Dynamic, 1>, 0, Eigen::InnerStride<>>;
template <class S>
using ConstStream = Eigen::Ref<const Eigen::Matrix<S, Eigen::Dynamic, 1>, 0, Eigen::InnerStride<>>;

// A T x N segment quantity over either storage: a T x N matrix, or a (T N)-vector in row order.
template <class S>
using SegmentRef = Eigen::Ref<Eigen::Matrix<S, Eigen::Dynamic, Eigen::Dynamic>, 0, Eigen::Stride<Eigen::Dynamic, Eigen::Dynamic>>;
template <class S>
using ConstSegmentRef =
    Eigen::Ref<const Eigen::Matrix<S, Eigen::Dynamic, Eigen::Dynamic>, 0, Eigen::Stride<Eigen::Dynamic, Eigen::Dynamic>>;

// (3.35) in S. gamma is rounded to S once; for S = double this is the double code exactly.
template <class S>
void residuals(const ConstStream<double>& rewards, const ConstStream<S>& values, const ConstStream<S>& next_values,
               const Eigen::Ref<const MaskVector>& terminated, double gamma, Stream<S> delta) {
  const Eigen::Index T = rewards.size();
  check_size("td_residuals", "values", values.size(), T);
  check_size("td_residuals", "next_values", next_values.size(), T);
  check_size("td_residuals", "terminated", terminated.size(), T);
  check_size("td_residuals", "delta", delta.size(), T);
  const S g = static_cast<S>(gamma);
  for (Eigen::Index t = 0; t < T; ++t) {
    // A terminal s_{t+1} is worth 0 whatever the critic says there.
    const S bootstrap = terminated(t) ? S(0) : next_values(t);
    delta(t) = static_cast<S>(rewards(t)) + g * bootstrap - values(t);  // (3.35)
  }
}

// (3.37) in S. gamma lambda is formed in double and rounded once, the product the double code
// always took first (gamma * lambda_ * carry groups left to right), so double results are unchanged.
template <class S>
void backward_gae(const ConstStream<S>& delta, const Eigen::Ref<const MaskVector>& ended, double gamma, double lambda_,
                  Stream<S> advantage) {
  const Eigen::Index T = delta.size();
  check_size("gae_from_residuals", "ended", ended.size(), T);
  check_size("gae_from_residuals", "advantage", advantage.size(), T);
  const S gamma_lambda = static_cast<S>(gamma * lambda_);
  S next = 0;  // A_T = 0
  for (Eigen::Index t = T - 1; t >= 0; --t) {
    // Where an episode ended after step t, A_{t+1} belongs to the next episode: do not chain it.
    const S carry = ended(t) ? S(0) : next;
    advantage(t) = delta(t) + gamma_lambda * carry;  // (3.37)
    next = advantage(t);
  }
}

// gae_segment in S, over T x N views of the caller's storage; `out` may have delta and advantage
// on the same storage (backward_gae reads delta_t before it writes A_t).
template <class S>
void segment_gae(const Eigen::MatrixXd& rewards, const ConstSegmentRef<S>& values, const ConstSegmentRef<S>& next_values,
                 const MaskMatrix& terminated, const MaskMatrix& ended, double gamma, double lambda_,
                 GaeResult<SegmentRef<S>> out) {
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
  for (Eigen::Index i = 0; i < N; ++i) {
    residuals<S>(rewards.col(i), values.col(i), next_values.col(i), terminated.col(i), gamma, out.delta.col(i));
    backward_gae<S>(out.delta.col(i), ended.col(i), gamma, lambda_, out.advantage.col(i));
  }
  out.target = out.advantage + values;  // (3.39)
}

// A (T N)-vector in the row order of Segment::obs seen as its T x N segment: element (t, i) sits
// at t N + i, so a copy's consecutive steps are N apart (inner stride) and copies 1 apart (outer).
using RowOrder = Eigen::Stride<Eigen::Dynamic, Eigen::Dynamic>;
Eigen::Map<const Matrix, 0, RowOrder> as_segment(const Eigen::Ref<const Vector>& per_row, Eigen::Index T, Eigen::Index N) {
  return {per_row.data(), T, N, RowOrder(1, N)};
}
Eigen::Map<Matrix, 0, RowOrder> as_segment(Eigen::Ref<Vector> per_row, Eigen::Index T, Eigen::Index N) {
  return {per_row.data(), T, N, RowOrder(1, N)};
}

}  // namespace

void td_residuals(const Eigen::Ref<const Eigen::VectorXd>& rewards, const Eigen::Ref<const Eigen::VectorXd>& values,
                  const Eigen::Ref<const Eigen::VectorXd>& next_values, const Eigen::Ref<const MaskVector>& terminated,
                  double gamma, Eigen::Ref<Eigen::VectorXd> delta) {
  residuals<double>(rewards, values, next_values, terminated, gamma, delta);
}

void gae_from_residuals(const Eigen::Ref<const Eigen::VectorXd>& delta, const Eigen::Ref<const MaskVector>& ended,
                        double gamma, double lambda_, Eigen::Ref<Eigen::VectorXd> advantage) {
  backward_gae<double>(delta, ended, gamma, lambda_, advantage);
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
  out.delta.resize(T, N);
  out.advantage.resize(T, N);
  out.target.resize(T, N);
  segment_gae<double>(rewards, values, next_values, terminated, ended, gamma, lambda_,
                      {out.delta, out.advantage, out.target});
}

void gae_segment_rows(const Eigen::MatrixXd& rewards, const Eigen::Ref<const Vector>& values,
                      const Eigen::Ref<const Vector>& next_values, const MaskMatrix& terminated,
                      const MaskMatrix& ended, double gamma, double lambda_, Eigen::Ref<Vector> advantage,
                      Eigen::Ref<Vector> target) {
  const Eigen::Index T = rewards.rows(), N = rewards.cols();
  check_size("gae_segment_rows", "values", values.size(), T * N);
  check_size("gae_segment_rows", "next_values", next_values.size(), T * N);
  check_size("gae_segment_rows", "advantage", advantage.size(), T * N);
  check_size("gae_segment_rows", "target", target.size(), T * N);
  // delta_t is written where A_t goes: backward_gae turns it into A_t in place.
  const auto A = as_segment(advantage, T, N);
  segment_gae<Scalar>(rewards, as_segment(values, T, N), as_segment(next_values, T, N), terminated, ended, gamma,
                      lambda_, {A, A, as_segment(target, T, N)});
}

}  // namespace pgcpp
