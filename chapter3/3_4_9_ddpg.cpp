// Section 3.4.9 — Deterministic policy gradient (Silver et al. 2014) and DDPG (Lillicrap et al.
// 2015). Equations (3.69)-(3.73), Theorem 3.9; Example 3.9 (Pendulum-v1).
//
// A deterministic actor a = mu_theta(s) is improved along the DPG (3.71)/(3.72),
//   grad J = E_s[ grad_theta mu_theta(s) grad_a Q(s, a)|_{a = mu_theta(s)} ],
// which off-policy (states from a behaviour's rho^beta) changes only the state weighting; Theorem
// 3.9: both forms vanish where mu is greedy for its own Q (tests/chapter3/test_3_4_9_ddpg.cpp checks
// both on a linear-quadratic problem with a closed form). The book's DDPG pseudocode, step by step
// below. Initialize thetabar <- theta, psibar <- psi; fill D with a short random warm-up; then
//   1. Interaction: a_t = clip(mu_theta(s_t) + eps_t, a_min, a_max); push (s_t, a_t, r_t, s_{t+1}, d_t) to D.
//   2. Sample a minibatch of B transitions from D.
//   3. Critic target: a' = mu_thetabar(s'), y = r + gamma (1 - d) Q_psibar(s', a').
//   4. Critic: psi <- psi - alpha_psi grad 1/B sum (Q_psi(s, a) - y)^2.
//   5. Actor (DPG): theta <- theta + alpha_theta 1/B sum grad_theta mu_theta(s) grad_a Q_psi(s, a)|_{a=mu_theta(s)},
//      i.e. ascend 1/B sum Q_psi(s, mu_theta(s)) by backpropagation.                          (3.72)
//   6. Targets: thetabar <- tau theta + (1 - tau) thetabar, psibar <- tau psi + (1 - tau) psibar.
//
// Settings (the course's example script, ../shared/book/example_settings.md), Example 3.9: actor
// 3-256-256-1 ReLU with tanh x 2; critic 4-256-256-1 ReLU; targets for both; Adam 1e-3 each;
// replay 200k, minibatch 256; Ornstein–Uhlenbeck noise theta = 0.15, sigma = 0.2, clipped to
// +-0.5, reset each episode; 1000 random steps; 50 gradient steps every 50 env steps; tau =
// 0.005; 50k env steps.
// Where our defaults differ, and why: the time budget of a default run on one core.
//   - Budget 20k env steps (the book's curve is there from ~7k); --steps 50000 runs the book's.
//   - Width 128 instead of 256 (--hidden 256,256 gives the book's): a quarter of the matrix work.
//
// Choices the pseudocode leaves open:
// - d is `terminated`: a transition cut by the time limit bootstraps from its true s'.
// - The noise is clipped to [-c, c] first, then the noisy action to the box; the Gaussian
//   alternative (--noise gaussian) draws eps_t ~ N(0, sigma^2) independently each step.
// - Each gradient step draws its own minibatch; steps 3-6 run once per gradient step (the actor
//   is updated as often as the critic).
// - Step 5 evaluates Q_psi after step 4 through a FrozenCopy (chapter3/common/off_policy.hpp):
//   the same values and action gradients, without forming the critic's weight gradients.
#include "chapter3/3_4_9_ddpg.hpp"

#include <algorithm>
#include <sstream>
#include <stdexcept>

namespace pgcpp {

using namespace ad;

// ------------------------------------------------------------------ formulas

Matrix dpg_critic_target(const Matrix& rewards, const Matrix& terminated, const Matrix& q_next, double gamma) {
  if (rewards.cols() != 1 || terminated.cols() != 1 || q_next.cols() != 1 || rewards.rows() != q_next.rows() ||
      terminated.rows() != q_next.rows())
    throw std::invalid_argument("dpg_critic_target: rewards, terminated and q_next must all be B x 1");
  // y = r + gamma (1 - d) Q_psibar(s', mu_thetabar(s'))
  return (rewards.array() + static_cast<Scalar>(gamma) * (1 - terminated.array()) * q_next.array()).matrix();
}

Var dpg_actor_loss(const Var& q_of_mu, const Matrix& weights) {
  if (q_of_mu.cols() != 1 || (weights.size() > 0 && (weights.rows() != q_of_mu.rows() || weights.cols() != 1)))
    throw std::invalid_argument("dpg_actor_loss: q_of_mu must be B x 1 and weights B x 1 or empty");
  // -1/B sum_i w_i Q(s_i, mu_theta(s_i)): descent on it is ascent along (3.72)'s sample mean.
  if (weights.size() == 0) return -mean(q_of_mu);
  return -mean(q_of_mu * Var(weights));
}

// ------------------------------------------------------------------ the actor and its noise

DeterministicActor::DeterministicActor(Mlp net, const Eigen::VectorXd& action_low, const Eigen::VectorXd& action_high)
    : net_(std::move(net)) {
  const Eigen::Index m = action_low.size();
  if (m < 1 || action_high.size() != m || net_.sizes().back() != m)
    throw std::invalid_argument("DeterministicActor: the network's outputs must match the action box's dimension");
  if (!(action_low.array() < action_high.array()).all() || !action_low.allFinite() || !action_high.allFinite())
    throw std::invalid_argument("DeterministicActor: the action box must be finite with low < high");
  scale_ = (0.5 * (action_high - action_low)).transpose().cast<Scalar>();
  shift_ = (0.5 * (action_high + action_low)).transpose().cast<Scalar>();
}

DeterministicActor DeterministicActor::make(const EnvSpec& env, const std::vector<int>& hidden, Rng& rng) {
  if (env.discrete) throw std::invalid_argument("a deterministic actor needs continuous actions, " + env.name + " has discrete ones");
  return DeterministicActor(Mlp(mlp_sizes(env.obs_dim, hidden, env.act_dim), Activation::ReLU, rng, Activation::Tanh),
                            env.action_low, env.action_high);
}

Var DeterministicActor::to_box(const Var& y) const {
  const Eigen::Index n = y.rows();
  return y * broadcast_to(Var(Matrix(scale_)), n, scale_.cols()) + broadcast_to(Var(Matrix(shift_)), n, shift_.cols());
}

Eigen::VectorXd DeterministicActor::act(const Eigen::VectorXd& obs) const {
  ActWorkspace ws;
  Eigen::VectorXd action;
  act(obs, action, ws);
  return action;
}

void DeterministicActor::act(const Eigen::VectorXd& obs, Eigen::VectorXd& action, ActWorkspace& ws) const {
  ws.obs.resize(1, obs.size());
  ws.obs.row(0) = obs.cast<Scalar>().transpose();
  net_.forward(ws.obs, ws.actions, ws.net);  // y = tanh(f(s))
  // to_box, as its two ops compute it: y scale, then + shift (two roundings, not one fused).
  ws.actions.array().rowwise() *= scale_.array();
  ws.actions.array().rowwise() += shift_.array();
  action = ws.actions.row(0).transpose().cast<double>();
}

ExplorationNoise::ExplorationNoise(Kind kind, int dim, double sigma, double theta)
    : kind_(kind), sigma_(sigma), theta_(theta), x_(Eigen::VectorXd::Zero(dim)) {}

void ExplorationNoise::reset() { x_.setZero(); }

const Eigen::VectorXd& ExplorationNoise::sample(Rng& rng) {
  for (Eigen::Index j = 0; j < x_.size(); ++j) {
    if (kind_ == Kind::gaussian) x_(j) = sigma_ * rng.normal();
    else x_(j) += theta_ * (0 - x_(j)) + sigma_ * rng.normal();  // x <- x + theta (mu - x) + sigma N(0, 1), mu = 0
  }
  return x_;
}

void explore(const Eigen::VectorXd& mu, const Eigen::VectorXd& eps, double noise_clip, const Eigen::VectorXd& low,
             const Eigen::VectorXd& high, Eigen::VectorXd& action) {
  action.resize(mu.size());
  for (Eigen::Index j = 0; j < mu.size(); ++j)
    action(j) = std::clamp(mu(j) + std::clamp(eps(j), -noise_clip, noise_clip), low(j), high(j));
}

// ------------------------------------------------------------------ DDPG

DdpgAgent::DdpgAgent(const DdpgConfig& cfg, const EnvSpec& env, Rng& rng)
    : cfg_(cfg),
      actor_(std::make_shared<DeterministicActor>(DeterministicActor::make(env, cfg.hidden, rng))),
      q_(q_network_continuous(env.obs_dim, env.act_dim, cfg.hidden, Activation::ReLU, rng)),
      actor_target_(actor_->net()),  // Initialize: thetabar <- theta, psibar <- psi
      q_target_(q_),
      q_frozen_(q_),
      actor_opt_(actor_->parameters(), StepSize::constant(static_cast<Scalar>(cfg.lr_actor))),
      critic_opt_(q_.parameters(), StepSize::constant(static_cast<Scalar>(cfg.lr_critic))) {}

void DdpgAgent::update(const ReplayBatch& D) {
  ++stats_.updates;
  // 3. Critic target: a' = mu_thetabar(s'), y = r + gamma (1 - d) Q_psibar(s', a').
  Matrix y;
  {
    NoGrad off;
    const Var next(D.next_obs);
    const Var a_next = actor_->to_box(actor_target_(next));
    y = dpg_critic_target(D.rewards, D.terminated, q_target_(q_input(next, a_next)).value(), cfg_.gamma);
  }
  // 4. Critic: 1/B sum (Q_psi(s, a) - y)^2.
  const Var s(D.obs);
  const Var critic_loss = mean(square(q_(q_input(s, Var(D.actions))) - Var(y)));
  critic_opt_.minimize(critic_loss);
  stats_.critic_loss = critic_loss.item();
  check_loss("critic_loss", stats_.critic_loss, stats_.updates);
  // With --actor-every d > 1 (a delayed actor, as CleanRL's DDPG and TD3 run it), steps 5 and 6
  // follow only every d-th critic step.
  if (stats_.updates % cfg_.actor_every != 0) return;
  // 5. Actor: ascend 1/B sum Q_psi(s, mu_theta(s)); its gradient is the DPG sample mean (3.72).
  q_frozen_.refresh();
  const Var actor_loss = dpg_actor_loss(q_frozen_(q_input(s, (*actor_)(s))));
  actor_opt_.minimize(actor_loss);
  stats_.actor_loss = actor_loss.item();
  ++stats_.actor_updates;
  check_loss("actor_loss", stats_.actor_loss, stats_.updates);
  // 6. Targets: thetabar <- tau theta + (1 - tau) thetabar, psibar <- tau psi + (1 - tau) psibar.
  actor_target_.update(static_cast<Scalar>(cfg_.tau));
  q_target_.update(static_cast<Scalar>(cfg_.tau));
}

void train_ddpg(const DdpgConfig& cfg, Env& env, DdpgAgent& agent, Rng& rng, const DdpgCallback& on_episode) {
  if (env.discrete()) throw std::invalid_argument("DDPG: " + env.name() + " has discrete actions");
  ReplayBuffer D(cfg.buffer, env.obs_dim(), env.act_dim());
  ReplayBatch minibatch;
  ExplorationNoise noise(cfg.noise() == "gaussian" ? ExplorationNoise::Kind::gaussian : ExplorationNoise::Kind::ornstein_uhlenbeck,
                         env.act_dim(), cfg.noise_sigma, cfg.ou_theta);
  Interaction real(env, rng);
  Eigen::VectorXd a(env.act_dim()), mu(env.act_dim());
  ActWorkspace act_ws;  // mu_theta(s_t) by the plain forward pass, without the tape
  for (long t = 1; t <= cfg.steps; ++t) {
    // 1. Interaction: a_t = clip(mu_theta(s_t) + eps_t, a_min, a_max) (uniformly random during
    //    the warm-up); push to D.
    if (t <= cfg.warmup) random_action(env.spec(), rng, a);
    else {
      agent.actor()->act(real.s(), mu, act_ws);
      explore(mu, noise.sample(rng), cfg.noise_clip, env.action_low(), env.action_high(), a);
    }
    const bool episode_over = real.step(a, D);

    if (t > cfg.warmup && t % cfg.update_every == 0) {
      for (int j = 0; j < cfg.gradient_steps; ++j) {
        // 2. Sample a minibatch of B transitions from D.
        D.sample(cfg.batch_size, rng, minibatch);
        // 3.-6. Critic target, critic, actor, targets.
        agent.update(minibatch);
      }
    }

    if (episode_over) {
      if (on_episode) on_episode(t, real.episode_return(), real.length(), agent.stats());
      real.reset(rng);
      noise.reset();
    }
  }
}

}  // namespace pgcpp
