// Section 3.3.3 — TD residuals, generalized advantage estimation and lambda-returns, written once
// for every on-policy method that uses them (actor–critic with TD(0) and GAE, NPG, TRPO, PPO).
// Equations (3.31), (3.35), (3.37), (3.39).
//
// The input is a stream of consecutive steps t = 0..T-1 with, per step,
//   r_t          the reward,
//   v_t          V_phi(s_t),
//   v'_t         V_phi(s_{t+1}) at the TRUE next state: where the episode ended after step t, its
//                final observation (Trajectory::final_obs, VecEnv's final_observation), never
//                the next episode's first observation,
//   terminated_t s_{t+1} is a terminal state of the MDP: its value is 0, v'_t is not used,
//   ended_t      the episode ended after step t (terminated, or truncated by the time limit): the
//                next row of the stream belongs to another episode.
// A stream is either a batch of episodes laid end to end (gae_episodes) or one VecEnv copy's
// fixed-length segment (gae_segment, one stream per column).
//
// The book's pseudocode uses one mask m_t = 1 - done_t in both (3.35) and (3.37) and is silent on
// time limits (its example scripts count the time limit as termination). We split it in two:
//   delta_t = r_t + gamma (1 - terminated_t) v'_t - v_t                                   (3.35)
//   A_t     = delta_t + gamma lambda (1 - ended_t) A_{t+1},   A_T = 0                      (3.37)
// so bootstrapping is cut at termination only, and a time limit (or the end of a segment)
// bootstraps from V(s_{t+1}): that is what the MDP means (the state where time ran out is not
// worth 0), and it matters most on Pendulum, where every episode ends by truncation.
// At the last row of a stream, A_{T} = 0: the future beyond it is summarized by v'_{T-1} alone.
//
// Precision. The on-policy path (gae_segment_rows: NPG, TRPO and PPO through chapter3/common/
// on_policy.hpp) computes in pgcpp::Scalar, reading the critic's values and writing A and V_targ
// where the batch keeps them: no copy to double and back. Only the rewards come in double (the
// environments compute in double); each is rounded to Scalar as it is read.
// The rest stays in double whatever Scalar is: gae_episodes, whose inputs (critic.hpp's
// EpisodeValues) and callers (Sections 3.3.2, 3.3.3) are double; td_residuals, gae_from_residuals
// and the T x N gae_segment, the reference against which Section 3.3.3's identities are tested to
// 1e-12 in every build. One template (gae.cpp) computes both, so in the default double build the
// on-policy path runs the tested code, operation for operation.
// gae_segment and gae_segment_rows write into caller-owned storage without allocating.
#pragma once

#include <Eigen/Dense>
#include <vector>

#include "chapter3/common/rollout.hpp"

namespace pgcpp {

using MaskVector = Eigen::Array<bool, Eigen::Dynamic, 1>;
using MaskMatrix = Eigen::Array<bool, Eigen::Dynamic, Eigen::Dynamic>;

// delta_t = r_t + gamma (1 - terminated_t) v'_t - v_t, for one stream          (3.31), (3.35)
// All inputs and delta have the stream's length T (checked: std::invalid_argument).
void td_residuals(const Eigen::Ref<const Eigen::VectorXd>& rewards, const Eigen::Ref<const Eigen::VectorXd>& values,
                  const Eigen::Ref<const Eigen::VectorXd>& next_values, const Eigen::Ref<const MaskVector>& terminated,
                  double gamma, Eigen::Ref<Eigen::VectorXd> delta);

// A_t = delta_t + gamma lambda (1 - ended_t) A_{t+1}, from t = T-1 down to 0, A_T = 0   (3.37)
// (= sum_l (gamma lambda)^l delta_{t+l} over the rest of the episode within the stream, (3.36)).
// delta, ended and advantage have the same length (checked); advantage may alias delta.
void gae_from_residuals(const Eigen::Ref<const Eigen::VectorXd>& delta, const Eigen::Ref<const MaskVector>& ended,
                        double gamma, double lambda_, Eigen::Ref<Eigen::VectorXd> advantage);

// The result for a stream or a segment: delta (3.35), A^(lambda) (3.37) and the lambda-return
// critic targets V_targ = A + v (3.39). For a batch of episodes these are T_total-vectors in the
// row order of stack_obs(batch); for a segment, T x N matrices (column i = copy i).
template <class Array>
struct GaeResult {
  Array delta, advantage, target;
};

// A batch of episodes laid end to end (the order of stack_obs(batch)):
//   values        V_phi(s_t) for every row of stack_obs(batch)
//   final_values  V_phi(s_T) of each trajectory (its final_obs); ignored where it terminated
// Each trajectory's last step ends its episode; it bootstraps from final_values unless
// terminated. Throws std::invalid_argument if the sizes do not match the batch.
GaeResult<Eigen::VectorXd> gae_episodes(const std::vector<Trajectory>& batch, const Eigen::VectorXd& values,
                                        const Eigen::VectorXd& final_values, double gamma, double lambda_);

// A fixed-length segment of N environment copies stepped together (chapter3/common/segment.hpp):
// every argument T x N, column i the stream of copy i; next_values(t, i) = V(s_{t+1}) of copy i
// at its true next state. `out` is resized only if its shape differs.
void gae_segment(const Eigen::MatrixXd& rewards, const Eigen::MatrixXd& values, const Eigen::MatrixXd& next_values,
                 const MaskMatrix& terminated, const MaskMatrix& ended, double gamma, double lambda_,
                 GaeResult<Eigen::MatrixXd>& out);

// The same over a segment whose per-step quantities are (T N)-vectors in the row order of
// Segment::obs (row t N + i = step t of copy i), in pgcpp::Scalar: the layout of the on-policy
// batch. rewards, terminated and ended are Segment's T x N matrices; values, next_values,
// advantage and target have T N entries (checked: std::invalid_argument). Writes A (3.37) and
// V_targ = A + v (3.39); delta (3.35) passes through `advantage` and is not kept.
void gae_segment_rows(const Eigen::MatrixXd& rewards, const Eigen::Ref<const Vector>& values,
                      const Eigen::Ref<const Vector>& next_values, const MaskMatrix& terminated,
                      const MaskMatrix& ended, double gamma, double lambda_, Eigen::Ref<Vector> advantage,
                      Eigen::Ref<Vector> target);

}  // namespace pgcpp
