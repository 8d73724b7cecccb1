// Section 3.5: model-based policy optimization with SAC as the off-policy learner. See 3_5_mbpo.cpp.
#pragma once

#include <functional>
#include <limits>
#include <string>
#include <vector>

#include "chapter3/3_4_8_sac.hpp"

namespace pgcpp {

// ---- the section's pieces (tested in tests/chapter3/test_3_5_mbpo.cpp)

// Pendulum-v1's reward by its known formula, for model transitions (step 3):
//   r(s, a) = -(theta^2 + 0.1 thetadot^2 + 0.001 u^2),  theta = atan2(sin, cos) of the observation
//   (cos theta, sin theta, thetadot), u = clip(a, -2, 2). obs B x 3, actions B x 1; B x 1.
Matrix pendulum_reward(const Matrix& obs, const Matrix& actions);

// The dynamics ensemble {f_psi_k}, k = 1..K: MLPs [s, a] -> Delta s = s' - s (ReLU), each with
// its own Adam.
class DynamicsEnsemble {
 public:
  DynamicsEnsemble(int members, int obs_dim, int act_dim, const std::vector<int>& hidden, double lr, Rng& rng);

  // Step 2, one iteration: every member takes one gradient step on the mean squared error of its
  // predicted Delta s on one minibatch of `batch` real transitions, shared by all members (the
  // course's script) or, with own_batches, a minibatch of its own. Returns the members' mean loss;
  // throws std::runtime_error if it is not finite.
  double train_step(const ReplayBuffer& real, int batch, Rng& rng, bool own_batches = false);
  // s' = s + f_psi_k(s, a) with k = member[i] for row i, into next_obs (without recording).
  void predict(const Matrix& obs, const Matrix& actions, const std::vector<int>& member, Matrix& next_obs);
  // s' = s + 1/K sum_k f_psi_k(s, a), the ensemble mean, into next_obs (without recording).
  void predict_mean(const Matrix& obs, const Matrix& actions, Matrix& next_obs);

  int size() const { return static_cast<int>(models_.size()); }
  ad::Mlp& model(int k) { return models_[static_cast<std::size_t>(k)]; }

 private:
  std::vector<ad::Mlp> models_;
  std::vector<ad::Adam> optimizers_;
  ReplayBatch batch_;
  Matrix input_, rows_in_, rows_out_;
  std::vector<std::vector<Eigen::Index>> rows_of_;  // predict(): the rows each member serves
};

// How step 3 picks "a random ensemble member": one for the whole batch at each step (the
// course's script), one per row and step, or none: the ensemble mean (the ablation of
// --ensemble-mean).
enum class MemberDraw { per_step, per_row, mean };

// Step 3: short model rollouts. `starts` seed states are drawn uniformly (with replacement) from the
// latest `recent` transitions of `real`; from each, H steps: a ~ pi(.|s), a member k drawn
// uniformly (per `draw`), s' = s + f_k(s, a), r by pendulum_reward, (s, a, r, s', done = 0)
// pushed to `model`, s <- s'. Returns the number of transitions pushed (starts x H). If `members`
// is given, it receives the member used for each pushed transition, in push order (-1: the mean).
long model_rollouts(DynamicsEnsemble& ensemble, SacAgent& agent, const ReplayBuffer& real, long recent, int starts,
                    int horizon, ReplayBuffer& model, Rng& rng, std::vector<int>* members = nullptr,
                    MemberDraw draw = MemberDraw::per_row);

// Step 4's minibatch: round(p_model B) transitions from `model` and the rest from `real`, the
// model's first, into out (storage reused: no allocation once out has this shape).
void mixed_minibatch(const ReplayBuffer& model, const ReplayBuffer& real, double p_model, int B, Rng& rng,
                     ReplayBatch& from_model, ReplayBatch& from_real, ReplayBatch& out);

// ---- MBPO (Example 3.10)

// Example 3.10's settings are the defaults except the budget, SAC's width and G_dyn (said in
// --help). SAC's settings are SacConfig's; --update-every is the period of steps 2-4, and
// --gradient-steps is G_rl.
struct MbpoConfig : SacConfig {
  MbpoConfig()
      : SacConfig(6000, "budget in env steps (the book: 50000; 6000 keeps a default run within four minutes of one core)") {}
  Param<int> ensemble{this, "--ensemble", 5, "K, dynamics models in the ensemble", {1, 100}};
  Param<std::vector<int>> model_hidden{this, "--model-hidden", {200, 200}, "hidden layer sizes of each model (ReLU)"};
  Param<double> lr_model{this, "--lr-model", 1e-3, "Adam step size of the models", Range<double>::open_closed(0, 1)};
  Param<int> model_batch{this, "--model-batch", 256, "real transitions per model minibatch", {1, 100'000}};
  Param<int> model_steps{this, "--model-steps", 150, "G_dyn, model-training iterations per round (step 2) (the book: 200; 150 keeps a default run "
                         "within four minutes of one core)",
                         {0, 1'000'000}};
  Param<int> rollout_starts{this, "--rollout-starts", 1000, "|S_0|, start states of the model rollouts per round",
                            {1, 1'000'000}};
  Param<long> recent{this, "--recent", 5000, "start states come from the latest this many real transitions",
                     {1, 100'000'000}};
  Param<int> horizon{this, "--horizon", 2, "H, steps of each model rollout", {1, 1000}};
  Param<long> model_buffer{this, "--model-buffer", 500'000, "capacity of D_model in transitions", {1, 100'000'000}};
  Param<double> model_ratio{this, "--model-ratio", 0.9, "p_model, the fraction of model data in SAC's minibatches",
                            {0, 1}};
  Param<std::string> member_per{this, "--member-per", "step",
                                "one random member per rollout step for the whole batch (the course's script) or one "
                                "per row and step",
                                {"step", "row"}};
  Param<bool> own_model_batches{this, "--own-model-batches", false,
                                "each member fits its own minibatch (the course's script: one minibatch shared by all)"};
  Param<bool> ensemble_mean{this, "--ensemble-mean", false,
                            "ablation: model rollouts step with the ensemble mean instead of a random member"};
  MemberDraw draw() const {
    return ensemble_mean ? MemberDraw::mean : std::string(member_per) == "row" ? MemberDraw::per_row : MemberDraw::per_step;
  }
};

struct MbpoStats {
  SacStats sac;
  double model_loss = std::numeric_limits<double>::quiet_NaN();  // the last iteration's mean over members
  long model_steps = 0;                                           // model-training iterations so far (0 with --model-steps 0)
  long model_transitions = 0;                                     // pushed to D_model so far
};

using MbpoCallback = std::function<void(long env_steps, double episode_return, int length, const MbpoStats& stats)>;

// Trains agent (and the ensemble) on Pendulum-v1 for cfg.steps env steps.
void train_mbpo(const MbpoConfig& cfg, Env& env, SacAgent& agent, DynamicsEnsemble& ensemble, Rng& rng,
                const MbpoCallback& on_episode);

}  // namespace pgcpp
