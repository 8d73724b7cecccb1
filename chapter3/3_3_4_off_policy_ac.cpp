// Section 3.3.4 — Experience-replay off-policy actor–critic.
// Equations (3.42)-(3.45); Examples 3.5 (CartPole-v1) and 3.6 (Pendulum-v1).
//
// The book's pseudocode, step by step below. Initialize psibar <- psi; for every env step:
//   1. Interact & store: a ~ b(.|s); append (s, a, r, s', done, p^b = b(a|s)) to D.
//   2. Sample a minibatch of B transitions from D.
//   3. Critic target (expected SARSA): y = r + gamma (1 - d) sum_a' pi(a'|s') Qbar(s', a')   (3.44)
//      (continuous actions: a sample average over a' ~ pi(.|s')).
//   4. Critic: psi <- psi - alpha_psi grad 1/B sum_i (Q_psi(s_i, a_i) - y_i)^2 (several steps).
//   5. Actor advantage A = Q_psi(s, a) - V_psi(s), V_psi(s) = sum_a pi(a|s) Q_psi(s, a)       (3.45)
//      (continuous: a sample average), optionally normalized in the batch.
//   6. Importance ratios rho = pi(a|s) / p^b, rho_bar = min(rho, c).                        (3.42)
//   7. Actor: theta <- theta + alpha_theta 1/B sum_i rho_bar_i grad log pi(a_i|s_i) A_i.      (3.43)
//   8. Target network: psibar <- tau psi + (1 - tau) psibar.
//
// Settings (the course's example scripts, ../shared/book/example_settings.md):
//   Example 3.5, CartPole: pi 4-128-128-2 tanh; Q(s, .) 4-128-128-2 ReLU and its target; Adam 1e-3
//     each; replay 200k, minibatch 256, 2000 warm-up steps; b eps-soft around pi, eps 0.2 -> 0.02
//     linearly over 80k steps, b(a|s) stored; IS clip c = 10; advantage normalized; per env step 8
//     critic steps and 1 actor step, then tau = 0.005; gradient-norm clip 1.0; <= 2000 episodes,
//     stopping once the last 100 average 475.
//   Example 3.6, Pendulum: pi a tanh-Gaussian on 3-256-256 ReLU with mean and log-std heads
//     (log-std in [-5, 2]), scaled to [-2, 2]; Q(s, a) 4-256-256-1 ReLU and its target; Adam 3e-4
//     each; replay 300k; b keeps pi's mean with pre-squash std sqrt(sigma^2 + 0.5^2); one-sample
//     target and V; otherwise as Example 3.5; stopping once the last 100 average -250.
// All of these are reachable by flags. Three defaults differ, each said in --help, so that one run
// takes at most about two minutes of one core (README has the measured times): the examples' 8
// critic steps on minibatches of 256 per env step, and Example 3.6's 256-wide networks, make a run
// take 15 minutes to over an hour. The defaults are 1 critic step on a minibatch of 64 per env
// step and 128-wide networks on Pendulum, the nearest settings we found that solve both tasks;
// --critic-steps 8 --batch-size 256 [--actor-hidden 256,256 --critic-hidden 256,256] give the
// examples'. And a budget of 90k env steps besides the episodes (--env-steps 0: none, as in the
// examples), so that a CartPole run that does not solve still stops within two minutes; the runs
// that solve need at most 82k.
//
// Choices the pseudocode leaves open:
// - done_t is `terminated`: a transition cut by the time limit bootstraps from Qbar at its s'
//   (every Pendulum episode ends that way; the scripts treat it as terminal).
// - Each critic and actor step draws its own minibatch; step 8 runs once per update.
// - p^b is stored as log b(a|s) (chapter3/common/replay_buffer.hpp); for the squashed Gaussian,
//   log-densities of the action a in [-2, 2] (with the tanh change of variables) for pi and b.
// - The warm-up steps act with the behaviour policy of the untrained pi, so p^b is exact for them.
#include "chapter3/3_3_4_off_policy_ac.hpp"

#include <cmath>
#include <deque>
#include <numeric>
#include <stdexcept>
#include <type_traits>

#include "chapter3/common/critic.hpp"
#include "chapter3/common/replay_buffer.hpp"

namespace pgcpp {

using namespace ad;

// ------------------------------------------------------------------ formulas

Matrix expected_sarsa_target(const Matrix& rewards, const Matrix& terminated, const Matrix& weights,
                             const Matrix& q_next, double gamma) {
  if (weights.rows() != q_next.rows() || weights.cols() != q_next.cols() || rewards.rows() != q_next.rows() ||
      terminated.rows() != q_next.rows() || rewards.cols() != 1 || terminated.cols() != 1)
    throw std::invalid_argument("expected_sarsa_target: shapes do not match (rewards and terminated B x 1, "
                                "weights and q_next B x K)");
  // E_{a' ~ pi(.|s')}[Qbar(s', a')], then the one-step target; a terminal s' is worth 0.   (3.44)
  const Vector expected = (weights.array() * q_next.array()).rowwise().sum();
  return (rewards.array() + static_cast<Scalar>(gamma) * (1 - terminated.array()) * expected.array()).matrix();
}

Matrix clipped_ratios(const Matrix& log_pi, const Matrix& log_behaviour, double c) {
  if (log_pi.rows() != log_behaviour.rows() || log_pi.cols() != 1 || log_behaviour.cols() != 1)
    throw std::invalid_argument("clipped_ratios: log_pi and log_behaviour must both be B x 1");
  // rho = pi / b = exp(log pi - log b); min(rho, c) for c = +inf leaves rho.              (3.42)
  return (log_pi - log_behaviour).array().exp().min(static_cast<Scalar>(c)).matrix();
}

Var off_policy_actor_loss(const Var& log_pi, const Matrix& log_behaviour, const Matrix& advantage, double c) {
  // rho_bar multiplies grad log pi, it is not differentiated: a constant weight.           (3.43)
  const Matrix weight = clipped_ratios(log_pi.value(), log_behaviour, c).cwiseProduct(advantage);
  return -mean(log_pi * Var(weight));
}

Matrix eps_soft(const Matrix& pi_probs, double eps) {
  return ((1 - eps) * pi_probs.array() + eps / static_cast<double>(pi_probs.cols())).matrix();
}

// ------------------------------------------------------------------ training

namespace {

Matrix softmax_rows(const Matrix& logits) {
  Matrix p = (logits.colwise() - logits.rowwise().maxCoeff()).array().exp().matrix();
  return p.array().colwise() / p.rowwise().sum().array();
}

std::vector<int> action_index(const Matrix& actions) {
  std::vector<int> index(static_cast<std::size_t>(actions.rows()));
  for (Eigen::Index i = 0; i < actions.rows(); ++i) index[static_cast<std::size_t>(i)] = static_cast<int>(actions(i, 0));
  return index;
}

void check_finite(const char* what, double value, long update) {
  if (!std::isfinite(value))
    throw std::runtime_error("update " + std::to_string(update) + ": " + what + " is " + std::to_string(value));
}

// What differs between discrete and continuous actions: how b acts, the critic's target, Q(s, a),
// the advantage, log pi. The loop below (train) is the pseudocode and is shared.
struct DiscreteModel {
  const CategoricalPolicy& policy;
  Mlp& q;
  TargetNetwork target;
  double eps = 0;
  ActWorkspace act_ws = {};  // pi's logits at s_t by the plain forward pass, without the tape

  // a ~ b(.|s) = (1 - eps) pi(.|s) + eps / |A|; returns log b(a|s).
  double behave(const Eigen::VectorXd& s, Rng& rng, Eigen::VectorXd& a) {
    act_ws.obs = s.cast<Scalar>().transpose();
    policy.dist_params(act_ws.obs, act_ws);
    const Matrix b = eps_soft(softmax_rows(act_ws.params), eps);
    const int index = rng.categorical(b.row(0));
    a.resize(1);
    a(0) = index;
    return std::log(static_cast<double>(b(0, index)));
  }
  // y = r + gamma (1 - d) sum_a' pi(a'|s') Qbar(s', a')                                     (3.44)
  Matrix critic_target(const ReplayBatch& D, double gamma, Rng&) const {
    NoGrad off;
    const Var next(D.next_obs);
    return expected_sarsa_target(D.rewards, D.terminated, softmax_rows(policy.params_of(D.next_obs)),
                                 target(next).value(), gamma);
  }
  Var q_sa(const ReplayBatch& D) const { return pick(q(Var(D.obs)), action_index(D.actions)); }
  // A = Q(s, a) - sum_a' pi(a'|s) Q(s, a')                                                  (3.45)
  Matrix advantage(const ReplayBatch& D, Rng&) const {
    NoGrad off;
    const Matrix all = q(Var(D.obs)).value();
    const Matrix pi = softmax_rows(policy.params_of(D.obs));
    Matrix A(D.size(), 1);
    const std::vector<int> a = action_index(D.actions);
    for (Eigen::Index i = 0; i < D.size(); ++i) A(i, 0) = all(i, a[static_cast<std::size_t>(i)]) - pi.row(i).dot(all.row(i));
    return A;
  }
  Var log_pi(const ReplayBatch& D) const { return policy.log_prob(D.obs, D.actions); }
};

struct ContinuousModel {
  const SquashedGaussianPolicy& policy;
  Mlp& q;
  TargetNetwork target;
  Scalar behaviour_var;  // beta^2
  int target_samples, value_samples;
  ActWorkspace act_ws = {};  // pi's [mu, log sigma] at s_t by the plain forward pass

  // b keeps pi's mean and widens the pre-squash std to sqrt(sigma^2 + beta^2); a = 2 tanh(u).
  double behave(const Eigen::VectorXd& s, Rng& rng, Eigen::VectorXd& a) {
    NoGrad off;
    act_ws.obs = s.cast<Scalar>().transpose();
    policy.dist_params(act_ws.obs, act_ws);
    Matrix& params = act_ws.params;
    const int m = policy.act_dim();
    for (int j = 0; j < m; ++j)
      params(0, m + j) = Scalar(0.5) * std::log(std::exp(2 * params(0, m + j)) + behaviour_var);
    Matrix eps(1, m);
    for (int j = 0; j < m; ++j) eps(0, j) = static_cast<Scalar>(rng.normal());
    // The reparameterized sample also gives log b(a|s) without inverting the tanh.
    const SquashedGaussianPolicy::Sample sample = policy.rsample(Var(params), eps);
    a = sample.action.value().row(0).transpose().cast<double>();
    return static_cast<double>(sample.log_prob.value()(0, 0));
  }
  // Q_psi(rows of obs, a ~ pi(.|obs)) for K samples each, as a B x K matrix (net: Q or Qbar).
  template <class Net>
  Matrix sampled_q(const Net& net, const Matrix& obs, int K, Rng& rng) const {
    const Eigen::Index B = obs.rows();
    Matrix repeated(B * K, obs.cols());
    for (int k = 0; k < K; ++k) repeated.middleRows(k * B, B) = obs;
    const Matrix a = policy.sample(policy.params_of(repeated), rng);
    const Matrix values = net(q_input(Var(repeated), Var(a))).value();  // row k B + i
    return Eigen::Map<const Matrix>(values.data(), B, K);
  }
  // y = r + gamma (1 - d) 1/K sum_k Qbar(s', a'_k), a'_k ~ pi(.|s')                         (3.44)
  Matrix critic_target(const ReplayBatch& D, double gamma, Rng& rng) const {
    NoGrad off;
    const Matrix q_next = sampled_q(target, D.next_obs, target_samples, rng);
    return expected_sarsa_target(D.rewards, D.terminated, Matrix::Constant(D.size(), target_samples, Scalar(1) / target_samples),
                                 q_next, gamma);
  }
  Var q_sa(const ReplayBatch& D) const { return q(q_input(Var(D.obs), Var(D.actions))); }
  // A = Q(s, a) - 1/K sum_k Q(s, a_k), a_k ~ pi(.|s)                                         (3.45)
  Matrix advantage(const ReplayBatch& D, Rng& rng) const {
    NoGrad off;
    const Matrix q_taken = q(q_input(Var(D.obs), Var(D.actions))).value();
    return q_taken - sampled_q(q, D.obs, value_samples, rng).rowwise().mean();
  }
  Var log_pi(const ReplayBatch& D) const { return policy.log_prob(D.obs, D.actions); }
};

// The book's pseudocode loop, kept whole (longer than 60 lines) so that it reads step by step like the book.
template <class Model>
void train(const OffPolicyConfig& cfg, Env& env, const Policy& policy, Model& model, Rng& rng,
           const OffPolicyCallback& on_episode) {
  Adam actor(policy.parameters(), StepSize::constant(static_cast<Scalar>(cfg.lr_actor)));
  Adam critic(model.q.parameters(), StepSize::constant(static_cast<Scalar>(cfg.lr_critic)));
  ReplayBuffer D(cfg.buffer, env.obs_dim(), policy.act_dim());
  ReplayBatch minibatch;
  OffPolicyStats stats;
  std::deque<double> recent;  // the last 100 episode returns, for the stopping rule
  const Scalar max_norm = static_cast<Scalar>(cfg.clip);

  Eigen::VectorXd s = env.reset(rng), s_next(env.obs_dim()), a;
  double episode_return = 0;
  int length = 0;
  long episodes = 0, updates = 0;
  for (long t = 1; episodes < cfg.episodes && (cfg.steps == 0 || t <= cfg.steps); ++t) {
    // 1. Interact & store: a ~ b(.|s), keeping log b(a|s) to form rho later.
    if constexpr (std::is_same_v<Model, DiscreteModel>) {
      const double progress = std::min(1.0, static_cast<double>(t - 1) / static_cast<double>(cfg.eps_steps));
      model.eps = cfg.eps_start + (cfg.eps_end - cfg.eps_start) * progress;
    }
    const double log_b = model.behave(s, rng, a);
    bool terminated = false, truncated = false;
    const double r = env.step(a, s_next, terminated, truncated);
    D.add(s, a, r, s_next, terminated, log_b);  // s_next: the true s', also where time ran out
    episode_return += r;
    ++length;
    s = s_next;

    if (D.size() >= std::max<long>(cfg.warmup, 1) && t % cfg.update_every == 0) {
      ++updates;
      for (int j = 0; j < cfg.critic_steps; ++j) {
        // 2. Sample a minibatch from D.
        D.sample(cfg.batch_size, rng, minibatch);
        // 3. Critic target (expected SARSA) from the target network.                      (3.44)
        const Var y(model.critic_target(minibatch, cfg.gamma, rng));
        // 4. Critic update on 1/B sum_i (Q_psi(s_i, a_i) - y_i)^2.
        const Var loss = mean(square(model.q_sa(minibatch) - y));
        critic.minimize(loss, max_norm);
        stats.critic_loss = loss.item();
        check_finite("critic_loss", stats.critic_loss, updates);
        ++stats.critic_updates;
      }
      for (int j = 0; j < cfg.actor_steps; ++j) {
        D.sample(cfg.batch_size, rng, minibatch);
        // 5. Actor advantage A = Q_psi(s, a) - V_psi(s), normalized in the batch.           (3.45)
        Matrix advantage = model.advantage(minibatch, rng);
        if (!cfg.no_normalize) advantage = standardize(advantage.col(0));
        // 6.-7. Clipped ratios rho_bar = min(pi / b, c) and the actor step on
        // 1/B sum_i rho_bar_i grad log pi(a_i|s_i) A_i.                               (3.42), (3.43)
        const Var log_pi = model.log_pi(minibatch);
        const Var loss = off_policy_actor_loss(log_pi, minibatch.log_behaviour, advantage, cfg.is_clip);
        actor.minimize(loss, max_norm);
        stats.actor_loss = loss.item();
        check_finite("actor_loss", stats.actor_loss, updates);
        const Matrix rho = clipped_ratios(log_pi.value(), minibatch.log_behaviour, INFINITY);
        stats.clipped_fraction = (rho.array() > static_cast<Scalar>(cfg.is_clip)).template cast<double>().mean();
        ++stats.actor_updates;
      }
      // 8. Target network: psibar <- tau psi + (1 - tau) psibar.
      model.target.update(static_cast<Scalar>(cfg.tau));
    }

    if (terminated || truncated) {
      ++episodes;
      if (on_episode) on_episode(t, episode_return, length, stats);
      recent.push_back(episode_return);
      if (recent.size() > 100) recent.pop_front();
      const double mean = std::accumulate(recent.begin(), recent.end(), 0.0) / static_cast<double>(recent.size());
      if (!cfg.no_stop && recent.size() == 100 && mean >= cfg.solved) break;
      s = env.reset(rng);
      episode_return = 0;
      length = 0;
    }
  }
}

}  // namespace

void train_off_policy_ac_discrete(const OffPolicyConfig& cfg, Env& env, const CategoricalPolicy& policy, Mlp& q,
                                  Rng& rng, const OffPolicyCallback& on_episode) {
  if (!env.discrete()) throw std::invalid_argument("off-policy actor-critic (discrete): " + env.name() + " has continuous actions");
  DiscreteModel model{policy, q, TargetNetwork(q)};  // psibar <- psi
  train(cfg, env, policy, model, rng, on_episode);
}

void train_off_policy_ac_continuous(const OffPolicyConfig& cfg, Env& env, const SquashedGaussianPolicy& policy,
                                    Mlp& q, Rng& rng, const OffPolicyCallback& on_episode) {
  if (env.discrete()) throw std::invalid_argument("off-policy actor-critic (continuous): " + env.name() + " has discrete actions");
  const Scalar beta = static_cast<Scalar>(cfg.behaviour_std);
  ContinuousModel model{policy, q, TargetNetwork(q), beta * beta, cfg.target_samples, cfg.value_samples};
  train(cfg, env, policy, model, rng, on_episode);
}

}  // namespace pgcpp
