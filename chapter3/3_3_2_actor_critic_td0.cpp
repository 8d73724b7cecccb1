// Section 3.3.2 — On-policy actor–critic with one-step bootstrap, TD(0).
// Equations (3.31), (3.32); Example 3.3.
//
// The book's pseudocode, step by step below:
//   1. Collect on-policy rollouts (s_t, a_t, r_t, s_{t+1}).
//   2. TD errors delta_t = r_t + gamma V_phi(s_{t+1}) - V_phi(s_t).                        (3.31)
//   3. Critic: several steps on 1/|B| sum_t 1/2 delta_t^2.                                 (3.31)
//   4. Actor advantages A_t = delta_t, optionally normalized over B.
//   5. Actor: theta <- theta + alpha_theta 1/|B| sum_t grad log pi(a_t|s_t) A_t.            (3.32)
//   6. Repeat.
//
// Example 3.3's settings, from the course's example script, are the defaults: pi and V
// 4-128-128 tanh, Adam 1e-3 each, gamma 0.99, 30 episodes per update; the TD(0) targets
// y_t = r_t + gamma V_phi(s_{t+1}) are computed once and held fixed for 20 critic steps (step 3 is
// then a regression onto fixed targets, the "semi-gradient" of 1/2 delta^2); delta is recomputed
// with the updated critic and normalized (step 4); one actor step; gradient-norm clip 1.0; at
// most 3000 episodes, stopping once the last 100 average 475.
//
// Where the pseudocode is silent: bootstrapping is cut at termination only; an episode cut by the
// time limit bootstraps from V_phi at its final observation (chapter3/common/gae.hpp). The script
// treats the limit as terminal. The step delta_t is TD(0) = GAE with lambda = 0, so it comes from
// gae_episodes(..., lambda = 0), the code Section 3.3.3 uses.
#include "chapter3/3_3_2_actor_critic_td0.hpp"

#include "chapter3/common/critic.hpp"
#include "chapter3/common/gae.hpp"

namespace pgcpp {

using namespace ad;

void train_actor_critic_td0(const ActorCriticConfig& cfg, Env& env, Policy& policy, Mlp& value, Rng& rng,
                            const ActorCriticCallback& on_batch) {
  Adam actor(policy.parameters(), StepSize::constant(static_cast<Scalar>(cfg.lr_actor)));
  Adam critic(value.parameters(), StepSize::constant(static_cast<Scalar>(cfg.lr_critic)));
  SolvedRule solved(cfg.solved);
  EpisodeBudget budget(cfg.episodes);
  for (long k = 0; budget.left(); ++k) {
    // 1. Collect on-policy rollouts: whole episodes, as in Example 3.3.
    const std::vector<Trajectory> batch = budget.collect(env, policy, cfg.batch, rng);
    const Matrix obs = stack_obs(batch);
    const Var s(obs);

    // 2. TD errors with the current critic; the targets y_t = r_t + gamma m_t V(s_{t+1}) = delta_t + v_t.
    EpisodeValues v = episode_values(value, obs, batch);
    const Var y(Matrix(gae_episodes(batch, v.values, v.final_values, cfg.gamma, 0.0).target.cast<Scalar>()));

    // 3. Critic update: several steps of phi <- phi - alpha_phi grad 1/|B| sum_t 1/2 (y_t - V_phi(s_t))^2,
    // y_t held fixed.                                                                        (3.31)
    ActorCriticStats stats;
    for (int j = 0; j < cfg.critic_steps; ++j) {
      const Var loss = 0.5 * mean(square(y - value(s)));
      critic.minimize(loss, static_cast<Scalar>(cfg.clip));
      stats.critic_loss = loss.item();
    }

    // 4. Actor advantages A_t = delta_t, recomputed with the updated critic, normalized over B.
    v = episode_values(value, obs, batch);
    Vector advantage = gae_episodes(batch, v.values, v.final_values, cfg.gamma, 0.0).delta.cast<Scalar>();
    if (!cfg.no_normalize) advantage = standardize(advantage);

    // 5. Actor update: theta <- theta + alpha_theta 1/|B| sum_t grad log pi(a_t|s_t) A_t      (3.32)
    const Var loss = -mean(policy.log_prob(obs, stack_actions(batch)) * Var(Matrix(advantage)));
    actor.minimize(loss, static_cast<Scalar>(cfg.clip));
    stats.actor_loss = loss.item();

    // 6. Repeat (until the budget, or solved: the last 100 episodes average cfg.solved).
    if (on_batch) on_batch(k, batch, stats);
    if (solved.record(batch)) break;
  }
}

}  // namespace pgcpp
