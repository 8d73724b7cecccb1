// Section 3.4.8 — Soft actor–critic (Haarnoja et al. 2018).
// Equations (3.59)-(3.68); Examples 3.7 (discrete, CartPole-v1) and 3.8 (continuous, Pendulum-v1).
//
// SAC maximizes the entropy-regularized return (3.60) with the soft values (3.61) and their soft
// Bellman consistency (3.62). The book's two pseudocodes, step by step below:
//
// 3.4.8.1, discrete actions (single Q + single target). Initialize psibar <- psi; then
//   1. Interaction: a_t ~ pi_theta(.|s_t); push (s_t, a_t, r_t, s_{t+1}, d_t) to D.
//   2. Sample a minibatch of B transitions from D.
//   3. Target: V(s') = <pi(.|s'), Qbar(s', .) - alpha log pi(.|s')>, y = r + gamma (1 - d) V(s')  (3.63)
//   4. Critic: psi <- psi - alpha_psi grad 1/B sum (Q_psi(s, a) - y)^2                              (3.64)
//   5. Actor: theta <- theta - alpha_theta grad 1/B sum_s sum_a pi(a|s) (alpha log pi(a|s) - Q(s, a)) (3.65)
//   6. Target critic: psibar <- tau psi + (1 - tau) psibar.
//
// 3.4.8.2, continuous actions (twin critics + twin targets). Initialize psibar_j <- psi_j; then
//   1. Interaction: a_t = f_theta(s_t, eps_t) = tanh(mu + sigma eps_t) a_scale + a_bias; push to D.
//   2. Sample a minibatch of B transitions from D.
//   3. Target: a' = f_theta(s', eps'), y = r + gamma (1 - d) (min_j Qbar_j(s', a') - alpha log pi(a'|s'))  (3.67)
//   4. Critics: psi_j <- psi_j - alpha_psi grad 1/B sum (Q_psi_j(s, a) - y)^2, j = 1, 2.
//   5. Actor: a = f_theta(s, eps), J_pi = 1/B sum (alpha log pi(a|s) - min_j Q_psi_j(s, a))          (3.68)
//   6. Temperature: J(alpha) = 1/B sum -alpha (log pi(a|s) + Hbar), a step on log alpha.
//   7. Target critics: psibar_j <- tau psi_j + (1 - tau) psibar_j.
//
// Settings (the course's example scripts, ../shared/book/example_settings.md):
//   Example 3.7: pi and a single Q(s, .), both 4-128-128-2 ReLU; one target Q; Adam 3e-4 each;
//     replay 200k, minibatch 256; alpha = 0.2 fixed; 1000 random steps first, then every 50 env
//     steps 50 gradient steps; tau = 0.005; no gradient clipping; greedy evaluation; 80k env steps.
//   Example 3.8: actor 3-256-256-2 ReLU (mean, log-std clamped to [-20, 2]), tanh-squashed, x2;
//     twin Q 4-256-256-1 ReLU and twin targets; Adam 3e-4 (actor, critics, alpha); replay 200k,
//     minibatch 256; alpha learned from 0.2, target entropy -1; 1000 random steps; 50 gradient
//     steps every 50 env steps; tau = 0.005; 50k env steps.
// Where our defaults differ, and why: the time budget of a default run on one core.
//   - Budgets: 50k env steps for Example 3.7 and 20k for Example 3.8 (the book's curves are solved
//     by then); --steps 80000 / --steps 50000 run the book's length.
//   - Example 3.8's width: 128 instead of 256 (--hidden 256,256 gives the book's). One update at
//     width 256 is about 550 MFLOP of matrix products, so 19000 of them take minutes on one core
//     in double; at 128 a quarter of that. The demo's --help reports the measured times.
//
// Choices the pseudocode leaves open:
// - d is `terminated`: a transition cut by the time limit bootstraps from its true s'.
// - Each gradient step draws its own minibatch; steps 3-6 (3-7) run once per gradient step, as
//   in the pseudocode (no delayed actor updates).
// - Step 6 (continuous) uses the log pi of step 5's samples, as the book's J(alpha) is written.
// - The actor's loss evaluates the critics through FrozenCopy (chapter3/common/off_policy.hpp):
//   the same values and action gradients, without forming the critics' weight gradients.
// - log pi(a|s) is the squashed density's exactly, including the constant - sum_i log a_scale_i of
//   the change of variables to a = a_scale tanh(u) + a_bias, which the course's script drops (the
//   book's "+ constant"). It shifts log pi by -log 2 on Pendulum-v1, so the entropy that the
//   temperature steers toward Hbar = -1 is that of a, not of tanh(u).
//
// Ablations (issue 21, the chapter's claims; each a flag of SacConfig, off by default):
// - --single-critic: one critic and its target; (3.67) and (3.68) use Q_1 in place of min_j Q_j.
// - --no-tanh-correction: log pi(a|s) = log N(u; mu, sigma^2), the change-of-variables term dropped.
// - Always measured (SacStats::q_minus_return): the target's critic value on the states of each
//   finished episode against the soft discounted return that followed, the overestimation that
//   the twin minimum is there to reduce.
#include "chapter3/3_4_8_sac.hpp"

#include <algorithm>
#include <cmath>
#include <stdexcept>
#include <vector>

namespace pgcpp {

using namespace ad;

// ------------------------------------------------------------------ formulas

Matrix soft_state_value(const Matrix& probs, const Matrix& log_probs, const Matrix& q, double alpha) {
  if (probs.rows() != q.rows() || probs.cols() != q.cols() || log_probs.rows() != q.rows() || log_probs.cols() != q.cols())
    throw std::invalid_argument("soft_state_value: probs, log_probs and q must have the same shape");
  // V(s) = sum_a pi(a|s) (Q(s, a) - alpha log pi(a|s))                                     (3.61)
  return (probs.array() * (q.array() - static_cast<Scalar>(alpha) * log_probs.array())).rowwise().sum().matrix();
}

Matrix soft_bellman_target(const Matrix& rewards, const Matrix& terminated, const Matrix& v_next, double gamma) {
  if (rewards.cols() != 1 || terminated.cols() != 1 || v_next.cols() != 1 || rewards.rows() != v_next.rows() ||
      terminated.rows() != v_next.rows())
    throw std::invalid_argument("soft_bellman_target: rewards, terminated and v_next must all be B x 1");
  // y = r + gamma (1 - d) V(s')                                                       (3.63), (3.67)
  return (rewards.array() + static_cast<Scalar>(gamma) * (1 - terminated.array()) * v_next.array()).matrix();
}

Var discrete_actor_loss(const Var& logits, const Matrix& q, double alpha) {
  if (logits.rows() != q.rows() || logits.cols() != q.cols())
    throw std::invalid_argument("discrete_actor_loss: logits " + logits.shape() + " and q must have the same shape");
  // 1/B sum_s sum_a pi(a|s) (alpha log pi(a|s) - Q(s, a)), Q held constant                  (3.65)
  const Var log_pi = log_softmax(logits);
  const Var pi = exp(log_pi);
  return sum(pi * (log_pi * static_cast<Scalar>(alpha) - Var(q))) / static_cast<Scalar>(logits.rows());
}

Var continuous_actor_loss(const Var& log_pi, const Var& q_min, double alpha) {
  if (log_pi.cols() != 1 || q_min.cols() != 1 || log_pi.rows() != q_min.rows())
    throw std::invalid_argument("continuous_actor_loss: log_pi and q_min must both be B x 1");
  // 1/B sum (alpha log pi(f_theta(s, eps)|s) - min_j Q_psi_j(s, f_theta(s, eps)))            (3.68)
  return mean(log_pi * static_cast<Scalar>(alpha) - q_min);
}

Eigen::VectorXd discounted_soft_returns(const Eigen::VectorXd& rewards, const Eigen::VectorXd& log_pi, double gamma,
                                        double alpha) {
  if (rewards.size() != log_pi.size() || rewards.size() < 1)
    throw std::invalid_argument("discounted_soft_returns: rewards and log_pi must have the same length >= 1");
  // G_t = r_t + gamma (G_{t+1} - alpha log pi(a_{t+1}|s_{t+1})): the soft value's entropy bonus
  // starts at the next step, as in Q(s, a) = r + gamma E[V(s')], V = E[Q - alpha log pi]  (3.61)
  const Eigen::Index T = rewards.size();
  Eigen::VectorXd G(T);
  G(T - 1) = rewards(T - 1);
  for (Eigen::Index t = T - 2; t >= 0; --t) G(t) = rewards(t) + gamma * (G(t + 1) - alpha * log_pi(t + 1));
  return G;
}

Var temperature_loss(const Var& log_alpha, const Matrix& log_pi, double target_entropy) {
  if (log_alpha.size() != 1 || log_pi.cols() != 1 || log_pi.rows() < 1)
    throw std::invalid_argument("temperature_loss: log_alpha must be 1 x 1 and log_pi B x 1");
  // J(alpha) = 1/B sum -alpha (log pi + Hbar), log pi a constant; d J / d log alpha = alpha (H - Hbar).
  const Scalar m = log_pi.mean() + static_cast<Scalar>(target_entropy);
  return -(exp(log_alpha) * m);
}

// ------------------------------------------------------------------ shared by both loops

namespace {

const std::vector<int>& action_index(const Matrix& actions, std::vector<int>& index) {
  index.resize(static_cast<std::size_t>(actions.rows()));
  for (Eigen::Index i = 0; i < actions.rows(); ++i) index[static_cast<std::size_t>(i)] = static_cast<int>(actions(i, 0));
  return index;
}

void fill_normal(Matrix& eps, Rng& rng) {
  for (Eigen::Index i = 0; i < eps.size(); ++i) eps(i) = static_cast<Scalar>(rng.normal());
}

// pi(.|s) and log pi(.|s) of a categorical policy, both B x |A|, as plain matrices.
void probabilities(const Matrix& logits, Matrix& probs, Matrix& log_probs) {
  log_probs = logits.colwise() - logits.rowwise().maxCoeff();
  log_probs.colwise() -= log_probs.array().exp().rowwise().sum().log().matrix();
  probs = log_probs.array().exp().matrix();
}

}  // namespace

// ------------------------------------------------------------------ 3.4.8.1: discrete actions

// The book's pseudocode loop, kept whole (longer than 60 lines) so that it reads step by step like the book.
void train_sac_discrete(const SacDiscreteConfig& cfg, Env& env, const CategoricalPolicy& policy, Mlp& q, Rng& rng,
                        const SacCallback& on_episode) {
  if (!env.discrete()) throw std::invalid_argument("SAC (discrete): " + env.name() + " has continuous actions");
  Adam actor(policy.parameters(), StepSize::constant(static_cast<Scalar>(cfg.lr_actor)));
  Adam critic(q.parameters(), StepSize::constant(static_cast<Scalar>(cfg.lr_critic)));
  const Var log_alpha(Matrix::Constant(1, 1, static_cast<Scalar>(std::log(cfg.alpha()))), true);
  Adam temperature(ParameterSet({log_alpha}), StepSize::constant(static_cast<Scalar>(cfg.lr_alpha)));
  const double target_entropy = cfg.target_entropy_ratio * std::log(static_cast<double>(env.num_actions()));
  TargetNetwork target(q);  // Initialize: psibar <- psi
  ReplayBuffer D(cfg.buffer, env.obs_dim(), 1);
  ReplayBatch minibatch;
  Matrix probs, log_probs;
  std::vector<int> taken;
  SacStats stats;
  stats.alpha = cfg.alpha;

  Interaction real(env, rng);
  Eigen::VectorXd a;
  ActWorkspace act_ws;  // acting runs the plain forward pass, without the tape
  for (long t = 1; t <= cfg.steps; ++t) {
    // 1. Interaction: a_t ~ pi_theta(.|s_t) (uniformly random during the warm-up); push to D.
    if (t <= cfg.warmup) random_action(env.spec(), rng, a);
    else policy.act(real.s(), rng, a, act_ws);
    const bool episode_over = real.step(a, D);

    if (t > cfg.warmup && t % cfg.update_every == 0) {
      for (int j = 0; j < cfg.gradient_steps; ++j) {
        ++stats.updates;
        const Scalar alpha = std::exp(log_alpha.item());
        // 2. Sample a minibatch of B transitions from D.
        D.sample(cfg.batch_size, rng, minibatch);
        // 3. Target: y = r + gamma (1 - d) <pi(.|s'), Qbar(s', .) - alpha log pi(.|s')>          (3.63)
        Matrix y;
        {
          NoGrad off;
          const Var next(minibatch.next_obs);
          probabilities(policy.dist_params(next).value(), probs, log_probs);
          y = soft_bellman_target(minibatch.rewards, minibatch.terminated,
                                  soft_state_value(probs, log_probs, target(next).value(), alpha), cfg.gamma);
        }
        // 4. Critic: 1/B sum (Q_psi(s, a) - y)^2                                                (3.64)
        const Var obs(minibatch.obs);
        const Var q_all = q(obs);
        const Var critic_loss = mean(square(pick(q_all, action_index(minibatch.actions, taken)) - Var(y)));
        critic.minimize(critic_loss);
        stats.critic_loss = critic_loss.item();
        check_loss("critic_loss", stats.critic_loss, stats.updates);
        // 5. Actor: 1/B sum_s sum_a pi(a|s) (alpha log pi(a|s) - Q_psi(s, a)), exact over a      (3.65)
        //    (Q_psi after step 4, a constant here).
        const Matrix q_now = [&] {
          NoGrad off;
          return q(obs).value();
        }();
        const Var logits = policy.dist_params(obs);
        const Var actor_loss = discrete_actor_loss(logits, q_now, alpha);
        actor.minimize(actor_loss);
        stats.actor_loss = actor_loss.item();
        check_loss("actor_loss", stats.actor_loss, stats.updates);
        probabilities(logits.value(), probs, log_probs);
        const Matrix mean_log_pi = (probs.array() * log_probs.array()).rowwise().sum().matrix();  // -H(pi(.|s))
        stats.entropy = -static_cast<double>(mean_log_pi.mean());
        // (optional) temperature as a dual variable, with the exact E_a[log pi(a|s)].
        if (cfg.learn_alpha) temperature.minimize(temperature_loss(log_alpha, mean_log_pi, target_entropy));
        stats.alpha = std::exp(static_cast<double>(log_alpha.item()));
        // 6. Target critic: psibar <- tau psi + (1 - tau) psibar.
        target.update(static_cast<Scalar>(cfg.tau));
      }
    }

    if (episode_over) {
      if (on_episode) on_episode(t, real.episode_return(), real.length(), stats);
      real.reset(rng);
    }
  }
}

// ------------------------------------------------------------------ 3.4.8.2: continuous actions

namespace {

ParameterSet both(const Mlp& a, const Mlp& b) {
  ParameterSet p = a.parameters();
  p.add(b.parameters());
  return p;
}

std::shared_ptr<SquashedGaussianPolicy> make_policy(const SacConfig& cfg, const EnvSpec& env, Rng& rng) {
  if (env.discrete) throw std::invalid_argument("SAC (continuous): " + env.name + " has discrete actions");
  return std::make_shared<SquashedGaussianPolicy>(Mlp(mlp_sizes(env.obs_dim, cfg.hidden, 2 * env.act_dim), Activation::ReLU, rng),
                                                  env.action_low, env.action_high);
}

}  // namespace

SacAgent::SacAgent(const SacConfig& cfg, const EnvSpec& env, Rng& rng)
    : cfg_(cfg),
      policy_(make_policy(cfg, env, rng)),
      q1_(q_network_continuous(env.obs_dim, env.act_dim, cfg.hidden, Activation::ReLU, rng)),
      q2_(q_network_continuous(env.obs_dim, env.act_dim, cfg.hidden, Activation::ReLU, rng)),
      target1_(q1_),  // Initialize: psibar_j <- psi_j
      target2_(q2_),
      frozen1_(q1_),
      frozen2_(q2_),
      log_alpha_(Matrix::Constant(1, 1, static_cast<Scalar>(std::log(cfg.alpha()))), true),
      actor_opt_(policy_->parameters(), StepSize::constant(static_cast<Scalar>(cfg.lr_actor))),
      critic_opt_(both(q1_, q2_), StepSize::constant(static_cast<Scalar>(cfg.lr_critic))),
      alpha_opt_(ParameterSet({log_alpha_}), StepSize::constant(static_cast<Scalar>(cfg.lr_alpha))),
      eps_(cfg.batch_size(), env.act_dim) {
  stats_.alpha = cfg.alpha;
}

double SacAgent::alpha() const { return std::exp(static_cast<double>(log_alpha_.item())); }

void SacAgent::act(const Eigen::VectorXd& obs, Rng& rng, Eigen::VectorXd& action) {
  policy_->act(obs, rng, action, act_ws_);
}

void SacAgent::act(const Matrix& obs, Rng& rng, Matrix& actions) {
  policy_->dist_params(obs, act_ws_);
  policy_->sample(act_ws_.params, rng, actions);
}

SquashedGaussianPolicy::Sample SacAgent::sample(const Var& obs, const Matrix& eps) const {
  const Var params = policy_->dist_params(obs);
  SquashedGaussianPolicy::Sample a = policy_->rsample(params, eps);
  // Ablation (--no-tanh-correction): log N(u; mu, sigma^2) alone, without the change of variables'
  // - sum_i log(1 - tanh^2 u_i) (and its constant - sum_i log a_scale) of Section 3.4.8.2.
  if (cfg_.no_tanh_correction)
    a.log_prob = -0.5 * sum(Var(eps.array().square().matrix()), 1) - sum(policy_->log_std(params), 1) -
                 static_cast<Scalar>(0.5 * static_cast<double>(eps.cols()) * std::log(2 * 3.14159265358979323846));
  return a;
}

Matrix SacAgent::target_value(const Matrix& obs, const Matrix& actions) const {
  NoGrad off;
  const Var x = q_input(Var(obs), Var(actions));
  const Matrix q1 = target1_(x).value();
  // Ablation (--single-critic): Qbar_1 alone instead of the twin minimum of (3.67).
  if (cfg_.single_critic) return q1;
  return q1.cwiseMin(target2_(x).value());
}

Matrix SacAgent::critic_target(const ReplayBatch& D, const Matrix& eps_next) const {
  NoGrad off;
  // y = r + gamma (1 - d) (min_j Qbar_j(s', a') - alpha log pi(a'|s')), a' = f_theta(s', eps')  (3.67)
  const SquashedGaussianPolicy::Sample a_next = sample(Var(D.next_obs), eps_next);
  const Matrix q = target_value(D.next_obs, a_next.action.value());
  return soft_bellman_target(D.rewards, D.terminated, q - static_cast<Scalar>(alpha()) * a_next.log_prob.value(),
                             cfg_.gamma);
}

Var SacAgent::actor_objective(const Var& obs, const Matrix& eps, SquashedGaussianPolicy::Sample& a) {
  a = sample(obs, eps);
  const Var x_pi = q_input(obs, a.action);
  // Ablation (--single-critic): Q_psi1 alone instead of min_j Q_psi_j in (3.68).
  const Var q = cfg_.single_critic ? frozen1_(x_pi) : minimum(frozen1_(x_pi), frozen2_(x_pi));
  return continuous_actor_loss(a.log_prob, q, alpha());
}

void SacAgent::update(const ReplayBatch& D, Rng& rng) {
  ++stats_.updates;
  if (eps_.rows() != D.size()) eps_.resize(D.size(), eps_.cols());
  // 3. Target with a fresh a' = f_theta(s', eps'):
  //    y = r + gamma (1 - d) (min_j Qbar_j(s', a') - alpha log pi(a'|s'))                    (3.67)
  fill_normal(eps_, rng);
  const Matrix y = critic_target(D, eps_);
  // 4. Both critics on 1/B sum (Q_psi_j(s, a) - y)^2 (one step of one optimizer over psi_1, psi_2:
  //    the parameters are disjoint, so this is the two updates of the pseudocode).
  const Var s(D.obs), target(y);
  const Var x = q_input(s, Var(D.actions));
  // Ablation (--single-critic): Q_psi1 alone is fitted; Q_psi2 is never used.
  const Var critic_loss = cfg_.single_critic ? mean(square(q1_(x) - target))
                                             : mean(square(q1_(x) - target)) + mean(square(q2_(x) - target));
  critic_opt_.minimize(critic_loss);
  stats_.critic_loss = critic_loss.item();
  check_loss("critic_loss", stats_.critic_loss, stats_.updates);

  // 5. Actor on a = f_theta(s, eps): 1/B sum (alpha log pi(a|s) - min_j Q_psi_j(s, a))        (3.68)
  //    (the critics after step 4, through frozen copies: gradients reach theta by a only).
  frozen1_.refresh();
  frozen2_.refresh();
  fill_normal(eps_, rng);
  SquashedGaussianPolicy::Sample a;
  const Var actor_loss = actor_objective(s, eps_, a);
  actor_opt_.minimize(actor_loss);
  stats_.actor_loss = actor_loss.item();
  check_loss("actor_loss", stats_.actor_loss, stats_.updates);
  stats_.entropy = -static_cast<double>(a.log_prob.value().mean());

  // 6. Temperature: a step on log alpha for J(alpha) = 1/B sum -alpha (log pi(a|s) + Hbar).
  if (!cfg_.fixed_alpha) alpha_opt_.minimize(temperature_loss(log_alpha_, a.log_prob.value(), cfg_.target_entropy));
  stats_.alpha = this->alpha();
  check_loss("alpha", stats_.alpha, stats_.updates);

  // 7. Target critics: psibar_j <- tau psi_j + (1 - tau) psibar_j.
  target1_.update(static_cast<Scalar>(cfg_.tau));
  target2_.update(static_cast<Scalar>(cfg_.tau));
}

double SacAgent::q_minus_return(const Matrix& obs, const Matrix& actions, const Eigen::VectorXd& rewards) const {
  if (obs.rows() != actions.rows() || obs.rows() != rewards.size() || obs.rows() < 1)
    throw std::invalid_argument("q_minus_return: obs, actions and rewards need one row per step of the episode");
  NoGrad off;
  // log pi of the actions taken (the squashed density's) and alpha now, for the soft return.
  const Eigen::VectorXd log_pi = policy_->log_prob(policy_->dist_params(Var(obs)), actions).value().col(0).cast<double>();
  const Eigen::VectorXd G = discounted_soft_returns(rewards, log_pi, cfg_.gamma, alpha());
  const Eigen::VectorXd q = target_value(obs, actions).col(0).cast<double>();
  // The first half only: there the return's missing tail beyond a time limit weighs gamma^(T/2)
  // at most (0.37 on Pendulum-v1's 200 steps, of a value near 0 once the pendulum is held up).
  const Eigen::Index half = std::max<Eigen::Index>(1, obs.rows() / 2);
  return (q.head(half) - G.head(half)).mean();
}

void train_sac(const SacConfig& cfg, Env& env, SacAgent& agent, Rng& rng, const SacCallback& on_episode) {
  if (env.discrete()) throw std::invalid_argument("SAC (continuous): " + env.name() + " has discrete actions");
  ReplayBuffer D(cfg.buffer, env.obs_dim(), env.act_dim());
  ReplayBatch minibatch;
  Interaction real(env, rng);
  Eigen::VectorXd a(env.act_dim());
  // The episode so far, for the critic's bias against the return that followed (SacStats::q_minus_return).
  std::vector<Scalar> episode_obs, episode_actions;
  std::vector<double> episode_rewards;
  long episode_start = 1;
  for (long t = 1; t <= cfg.steps; ++t) {
    // 1. Interaction: a_t = f_theta(s_t, eps_t) (uniformly random during the warm-up); push to D.
    if (t <= cfg.warmup) random_action(env.spec(), rng, a);
    else agent.act(real.s(), rng, a);
    for (Eigen::Index i = 0; i < real.s().size(); ++i) episode_obs.push_back(static_cast<Scalar>(real.s()(i)));
    for (Eigen::Index i = 0; i < a.size(); ++i) episode_actions.push_back(static_cast<Scalar>(a(i)));
    const double return_before = real.episode_return();
    const bool episode_over = real.step(a, D);
    episode_rewards.push_back(real.episode_return() - return_before);

    if (t > cfg.warmup && t % cfg.update_every == 0) {
      for (int j = 0; j < cfg.gradient_steps; ++j) {
        // 2. Sample a minibatch of B transitions from D.
        D.sample(cfg.batch_size, rng, minibatch);
        // 3.-7. Target, critics, actor, temperature, target critics.
        agent.update(minibatch, rng);
      }
    }

    if (episode_over) {
      if (episode_start > cfg.warmup && agent.stats().updates > 0) {  // an episode of pi alone
        using Rows = Eigen::Matrix<Scalar, Eigen::Dynamic, Eigen::Dynamic, Eigen::RowMajor>;
        const auto T = static_cast<Eigen::Index>(episode_rewards.size());
        agent.stats().q_minus_return = agent.q_minus_return(
            Matrix(Eigen::Map<const Rows>(episode_obs.data(), T, env.obs_dim())),
            Matrix(Eigen::Map<const Rows>(episode_actions.data(), T, env.act_dim())),
            Eigen::Map<const Eigen::VectorXd>(episode_rewards.data(), T));
      }
      if (on_episode) on_episode(t, real.episode_return(), real.length(), agent.stats());
      real.reset(rng);
      episode_obs.clear();
      episode_actions.clear();
      episode_rewards.clear();
      episode_start = t + 1;
    }
  }
}

}  // namespace pgcpp
