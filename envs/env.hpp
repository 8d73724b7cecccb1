// Common interface of the environments used in Chapter 3 (CartPole-v1, Pendulum-v1).
//
// The episode bookkeeping (reset before step, time limit, action checks) lives here once;
// each environment only writes its physics: initial-state sampling, one step, its observation.
// Environments always compute in double, whatever pgcpp::Scalar is: their steps must round
// exactly like Gymnasium's float64 numpy code.
#pragma once

#include <Eigen/Dense>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "core/random.hpp"

namespace pgcpp {

struct StepResult {
  Eigen::VectorXd observation;
  double reward;
  bool terminated;  // reached a terminal state of the MDP: do not bootstrap
  bool truncated;   // stopped by the time limit: bootstrap from the final observation
};

// What an environment is, fixed at construction.
struct EnvSpec {
  std::string name;                 // Gymnasium id, e.g. "CartPole-v1"
  int obs_dim = 0;
  int state_dim = 0;                // size of state() / set_state()
  bool discrete = false;
  int num_actions = 0;              // discrete: number of actions; continuous: 0
  int act_dim = 1;                  // continuous: action size; discrete: 1
  Eigen::VectorXd action_low;       // continuous: bounds; discrete: 0 and num_actions - 1
  Eigen::VectorXd action_high;
  int max_episode_steps = 0;        // Gymnasium's TimeLimit
  double dt = 0;                    // seconds of simulated time per step (drawing, animations)
  std::vector<std::string> state_names;
  std::vector<std::string> observation_names;
};

class Env {
 public:
  explicit Env(EnvSpec spec) : spec_(std::move(spec)) {}
  virtual ~Env() = default;

  const EnvSpec& spec() const { return spec_; }
  const std::string& name() const { return spec_.name; }
  int obs_dim() const { return spec_.obs_dim; }
  int state_dim() const { return spec_.state_dim; }
  bool discrete() const { return spec_.discrete; }
  int num_actions() const { return spec_.num_actions; }
  int act_dim() const { return spec_.act_dim; }
  const Eigen::VectorXd& action_low() const { return spec_.action_low; }
  const Eigen::VectorXd& action_high() const { return spec_.action_high; }
  int max_episode_steps() const { return spec_.max_episode_steps; }

  // Starts an episode; returns its first observation. reset(seed) == reset(Rng(seed)).
  Eigen::VectorXd reset(std::uint64_t seed);
  Eigen::VectorXd reset(Rng& rng);

  // One transition. A discrete action is a 1-vector holding an integer in [0, num_actions).
  // Throws std::invalid_argument for a bad action (state unchanged), std::logic_error when
  // called before reset or after the episode ended.
  StepResult step(const Eigen::VectorXd& action);
  // The same without allocating: the observation is written into `observation`.
  double step(const Eigen::VectorXd& action, Eigen::Ref<Eigen::VectorXd> observation,
              bool& terminated, bool& truncated);

  // The full internal state (not the observation), e.g. to replay a Gymnasium trajectory.
  virtual Eigen::VectorXd state() const = 0;
  // Puts the environment in `state` with `elapsed_steps` already taken (0 <= it < limit).
  void set_state(const Eigen::VectorXd& state, int elapsed_steps = 0);
  int elapsed_steps() const { return elapsed_steps_; }
  bool episode_running() const { return phase_ == Phase::running; }

  Eigen::VectorXd observation() const;
  void observation(Eigen::Ref<Eigen::VectorXd> out) const { observe(out); }

  virtual std::unique_ptr<Env> clone() const = 0;

  // Throws std::invalid_argument naming the environment and the bad value.
  void check_action(const Eigen::VectorXd& action) const;

 protected:
  virtual void sample_initial_state(Rng& rng) = 0;
  virtual void load_state(const Eigen::VectorXd& state) = 0;  // size already checked
  // Advances the physics by one step with a checked action; returns the reward.
  virtual double advance(const Eigen::VectorXd& action, bool& terminated) = 0;
  virtual void observe(Eigen::Ref<Eigen::VectorXd> out) const = 0;

 private:
  enum class Phase { before_reset, running, ended };
  void start_episode(int elapsed_steps) { elapsed_steps_ = elapsed_steps; phase_ = Phase::running; }
  void check_running() const;

  EnvSpec spec_;
  int elapsed_steps_ = 0;
  Phase phase_ = Phase::before_reset;
};

// Accepts "cartpole", "CartPole-v1", "pendulum", "Pendulum-v1"; otherwise throws
// std::invalid_argument listing the valid names.
std::unique_ptr<Env> make_env(const std::string& name);

}  // namespace pgcpp
