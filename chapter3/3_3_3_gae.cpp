// Section 3.3.3 — On-policy actor–critic with generalized advantage estimation (GAE).
// Equations (3.33)-(3.41); Example 3.4.
//
// The book's pseudocode, step by step below:
//   1. Collect B trajectories (s_t, a_t, r_t, s_{t+1}, done_t).
//   2. Values and residuals: v_t = V_phi(s_t), m_t = 1 - done_t,
//      delta_t = r_t + gamma m_t v_{t+1} - v_t.                                            (3.35)
//   3. Backward GAE: A_T = 0; A_t = delta_t + gamma lambda m_t A_{t+1}                     (3.37)
//      (optionally normalized within the minibatch).
//   4. Critic target, the lambda-return: V_targ_t = A_t + v_t (= g_t^(lambda))            (3.38), (3.39)
//   5. Critic: phi <- phi - alpha_phi grad 1/B sum_t (V_phi(s_t) - V_targ_t)^2, several steps.
//   6. Actor: theta <- theta + alpha_theta 1/B sum_t grad log pi(a_t|s_t) A_t.              (3.40)
//
// Example 3.4's settings, from the course's example script, are the defaults: pi and V
// 4-128-128 tanh, Adam 1e-3 each, gamma 0.99, lambda 0.95, 20 episodes per update; the
// lambda-return targets are computed once and held fixed for 20 critic steps; GAE is then
// recomputed with the updated critic and normalized for the actor; one actor step;
// gradient-norm clip 1.0; at most 3000 episodes, stopping once the last 100 average 475.
// As the script does, "1/B sum_t" is the mean over all steps of the batch.
//
// Where the pseudocode is silent: the mask m_t is split in two (chapter3/common/gae.hpp).
// Bootstrapping is cut at termination only; an episode cut by the time limit bootstraps from
// V_phi at its final observation, and the recursion never chains two episodes. The script
// treats the time limit as terminal.
#include "chapter3/3_3_3_gae.hpp"

#include "chapter3/common/critic.hpp"
#include "chapter3/common/gae.hpp"

namespace pgcpp {

using namespace ad;

void train_gae(const GaeConfig& cfg, Env& env, Policy& policy, Mlp& value, Rng& rng, const GaeCallback& on_batch) {
  Adam actor(policy.parameters(), StepSize::constant(static_cast<Scalar>(cfg.lr_actor)));
  Adam critic(value.parameters(), StepSize::constant(static_cast<Scalar>(cfg.lr_critic)));
  SolvedRule solved(cfg.solved);
  EpisodeBudget budget(cfg.episodes);
  for (long k = 0; budget.left(); ++k) {
    // 1. Collect B trajectories under pi_theta.
    const std::vector<Trajectory> batch = budget.collect(env, policy, cfg.batch, rng);
    const Matrix obs = stack_obs(batch);
    const Var s(obs);

    // 2.-3. Values, residuals delta_t (3.35) and the backward recursion for A_t (3.37).
    EpisodeValues v = episode_values(value, obs, batch);
    const GaeResult<Eigen::VectorXd> before = gae_episodes(batch, v.values, v.final_values, cfg.gamma, cfg.lambda_);

    // 4. Critic targets: the lambda-returns V_targ_t = A_t + v_t, held fixed during step 5.  (3.39)
    const Var target(Matrix(before.target.cast<Scalar>()));

    // 5. Critic update: several steps on 1/B sum_t (V_phi(s_t) - V_targ_t)^2.
    GaeStats stats;
    for (int j = 0; j < cfg.critic_steps; ++j) {
      const Var loss = mean(square(value(s) - target));
      critic.minimize(loss, static_cast<Scalar>(cfg.clip));
      stats.critic_loss = loss.item();
    }

    // 3. (again) GAE recomputed with the updated critic, then normalized within the batch.
    v = episode_values(value, obs, batch);
    Vector advantage =
        gae_episodes(batch, v.values, v.final_values, cfg.gamma, cfg.lambda_).advantage.cast<Scalar>();
    if (!cfg.no_normalize) advantage = standardize(advantage);

    // 6. Actor update: theta <- theta + alpha_theta 1/B sum_t grad log pi(a_t|s_t) A_t         (3.40)
    const Var loss = -mean(policy.log_prob(obs, stack_actions(batch)) * Var(Matrix(advantage)));
    actor.minimize(loss, static_cast<Scalar>(cfg.clip));
    stats.actor_loss = loss.item();

    if (on_batch) on_batch(k, batch, stats);
    if (solved.record(batch)) break;
  }
}

}  // namespace pgcpp
