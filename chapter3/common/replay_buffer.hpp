// Experience replay (Section 3.3.4): a ring of the last `capacity` transitions
//   (s_t, a_t, r_t, s_{t+1}, terminated_t, log b(a_t|s_t))
// sampled uniformly into minibatches, for off-policy actor–critic and the off-policy methods
// after it (SAC, DDPG, MBPO).
//
// s_{t+1} is the true next state (the episode's final observation where it ended), and the flag
// is `terminated`, not `done`: a transition cut by the time limit still bootstraps from
// V(s_{t+1}) (see chapter3/common/gae.hpp). The book stores p^b_t = b(a_t|s_t) to form
// rho_t = pi(a_t|s_t) / p^b_t (3.42); we store its logarithm, which a density of a continuous
// action (possibly far above 1 or far below the smallest double) needs, so rho = exp(log pi - log b).
// Methods without a behaviour probability store 0 there.
//
// All storage is allocated at construction: add() copies into the ring and sample() gathers into
// a caller-owned ReplayBatch, resized only when its shape changes (so a batch reused with the
// same size never allocates).
#pragma once

#include <Eigen/Dense>

#include "core/random.hpp"
#include "core/scalar.hpp"

namespace pgcpp {

// A minibatch of B transitions, one per row.
struct ReplayBatch {
  Matrix obs;          // B x obs_dim
  Matrix actions;      // B x act_dim
  Matrix rewards;      // B x 1
  Matrix next_obs;     // B x obs_dim
  Matrix terminated;   // B x 1: 1 where s_{t+1} is terminal, else 0 (the critic target's 1 - d)
  Matrix log_behaviour;  // B x 1: log b(a|s) when the transition was collected
  Eigen::Index size() const { return obs.rows(); }
};

class ReplayBuffer {
 public:
  // Throws std::invalid_argument for capacity < 1 or dimensions < 1.
  ReplayBuffer(long capacity, int obs_dim, int act_dim);

  // Appends one transition, overwriting the oldest once full. Vectors of length obs_dim /
  // act_dim (checked; std::invalid_argument).
  void add(const Eigen::Ref<const Eigen::VectorXd>& obs, const Eigen::Ref<const Eigen::VectorXd>& action,
           double reward, const Eigen::Ref<const Eigen::VectorXd>& next_obs, bool terminated, double log_behaviour = 0);

  // B transitions drawn uniformly with replacement (as the example scripts' torch.randint) into
  // out. Throws std::logic_error if the buffer is empty.
  void sample(int B, Rng& rng, ReplayBatch& out) const;
  // The transitions at the given ring indices (0 <= index < size(), oldest first), into out.
  void gather(const Eigen::Ref<const Eigen::VectorXi>& index, ReplayBatch& out) const;

  long size() const { return size_; }
  long capacity() const { return capacity_; }
  long added() const { return added_; }  // transitions ever added
  int obs_dim() const { return static_cast<int>(obs_.cols()); }
  int act_dim() const { return static_cast<int>(actions_.cols()); }

 private:
  using RowMatrix = Eigen::Matrix<Scalar, Eigen::Dynamic, Eigen::Dynamic, Eigen::RowMajor>;
  long slot_of(long index) const;  // ring slot of the index-th oldest transition

  long capacity_, size_ = 0, next_ = 0, added_ = 0;
  RowMatrix obs_, actions_, next_obs_;  // one transition per row, rows contiguous
  Vector rewards_, terminated_, log_behaviour_;
  mutable Eigen::VectorXi index_;  // sample()'s draws, reused
};

}  // namespace pgcpp
