#include "chapter3/common/replay_buffer.hpp"

#include <stdexcept>
#include <string>

namespace pgcpp {

namespace {

void check_length(const char* what, Eigen::Index got, Eigen::Index expected) {
  if (got != expected)
    throw std::invalid_argument(std::string("ReplayBuffer::add: ") + what + " has " + std::to_string(got) +
                                " entries, expected " + std::to_string(expected));
}

// Resizes only when the shape differs (Eigen's resize keeps storage of the same size anyway;
// this also keeps a batch that already has the right shape untouched).
void shape(Matrix& m, Eigen::Index rows, Eigen::Index cols) {
  if (m.rows() != rows || m.cols() != cols) m.resize(rows, cols);
}

}  // namespace

ReplayBuffer::ReplayBuffer(long capacity, int obs_dim, int act_dim) : capacity_(capacity) {
  if (capacity < 1 || obs_dim < 1 || act_dim < 1)
    throw std::invalid_argument("ReplayBuffer: capacity, obs_dim and act_dim must be >= 1, got " +
                                std::to_string(capacity) + ", " + std::to_string(obs_dim) + ", " +
                                std::to_string(act_dim));
  obs_.resize(capacity, obs_dim);
  next_obs_.resize(capacity, obs_dim);
  actions_.resize(capacity, act_dim);
  rewards_.resize(capacity);
  terminated_.resize(capacity);
  log_behaviour_.resize(capacity);
}

void ReplayBuffer::add(const Eigen::Ref<const Eigen::VectorXd>& obs, const Eigen::Ref<const Eigen::VectorXd>& action,
                       double reward, const Eigen::Ref<const Eigen::VectorXd>& next_obs, bool terminated,
                       double log_behaviour) {
  check_length("obs", obs.size(), obs_.cols());
  check_length("action", action.size(), actions_.cols());
  check_length("next_obs", next_obs.size(), next_obs_.cols());
  obs_.row(next_) = obs.transpose().cast<Scalar>();
  actions_.row(next_) = action.transpose().cast<Scalar>();
  next_obs_.row(next_) = next_obs.transpose().cast<Scalar>();
  rewards_(next_) = static_cast<Scalar>(reward);
  terminated_(next_) = terminated ? Scalar(1) : Scalar(0);
  log_behaviour_(next_) = static_cast<Scalar>(log_behaviour);
  next_ = (next_ + 1) % capacity_;
  if (size_ < capacity_) ++size_;
  ++added_;
}

long ReplayBuffer::slot_of(long index) const {
  // The oldest transition sits at next_ once the ring is full, at 0 before.
  return size_ < capacity_ ? index : (next_ + index) % capacity_;
}

void ReplayBuffer::sample(int B, Rng& rng, ReplayBatch& out) const {
  if (size_ == 0) throw std::logic_error("ReplayBuffer::sample: the buffer is empty");
  if (B < 1) throw std::invalid_argument("ReplayBuffer::sample: B must be >= 1, got " + std::to_string(B));
  if (index_.size() != B) index_.resize(B);
  for (int j = 0; j < B; ++j) index_(j) = static_cast<int>(rng.uniform_int(static_cast<std::uint64_t>(size_)));
  gather(index_, out);
}

void ReplayBuffer::gather(const Eigen::Ref<const Eigen::VectorXi>& index, ReplayBatch& out) const {
  const Eigen::Index B = index.size();
  shape(out.obs, B, obs_.cols());
  shape(out.actions, B, actions_.cols());
  shape(out.next_obs, B, next_obs_.cols());
  shape(out.rewards, B, 1);
  shape(out.terminated, B, 1);
  shape(out.log_behaviour, B, 1);
  for (Eigen::Index j = 0; j < B; ++j) {
    if (index(j) < 0 || index(j) >= size_)
      throw std::out_of_range("ReplayBuffer::gather: index " + std::to_string(index(j)) + " not in [0, " +
                              std::to_string(size_) + ")");
    const long s = slot_of(index(j));
    out.obs.row(j) = obs_.row(s);
    out.actions.row(j) = actions_.row(s);
    out.next_obs.row(j) = next_obs_.row(s);
    out.rewards(j, 0) = rewards_(s);
    out.terminated(j, 0) = terminated_(s);
    out.log_behaviour(j, 0) = log_behaviour_(s);
  }
}

}  // namespace pgcpp
