// Uses the installed pgcpp as a library: a few minibatch REINFORCE updates (Section 3.2.3) on
// CartPole-v1, then saves and reloads the policy. Prints one line and exits 0 if all went as it
// should, 1 otherwise.
#include <cmath>
#include <cstdio>
#include <filesystem>
#include <memory>
#include <string>

#include "autodiff/autodiff.hpp"
#include "chapter3/3_2_3_reinforce.hpp"
#include "experiment/demo.hpp"
#include "experiment/policy_file.hpp"
#include "envs/env.hpp"

using namespace pgcpp;

int main(int argc, char** argv) {
  const std::string out = argc > 1 ? argv[1] : "consumer_policy.safetensors";
  ReinforceConfig cfg;
  cfg.batch = 4;
  cfg.episodes = 12;  // 3 updates
  cfg.hidden = {16};
  Rng rng(1);
  std::unique_ptr<Env> env = make_env("CartPole-v1");
  std::shared_ptr<CategoricalPolicy> policy =
      CategoricalPolicy::make(env->obs_dim(), cfg.hidden, env->num_actions(), ad::Activation::Tanh, rng);
  const Vector theta0 = policy->parameters().flatten();
  int updates = 0;
  long steps = 0;
  bool finite = true;
  train_reinforce(cfg, *env, *policy, rng, [&](long, const std::vector<Trajectory>& batch, double loss) {
    ++updates;
    finite = finite && std::isfinite(loss);
    for (const Trajectory& tau : batch) steps += tau.length();
  });
  const Vector theta = policy->parameters().flatten();
  save_policy_file(out, {policy->describe(), env->name(), theta, "reinforce", 1});
  const std::unique_ptr<Policy> back = rebuild_policy(load_policy_file(out));
  std::filesystem::remove(out);
  const bool ok = updates == 3 && finite && steps >= 12 && (theta - theta0).norm() > 0 &&
                  back->parameters().flatten() == theta;
  std::printf("consumer: %d REINFORCE updates on %s, %ld env steps, |theta - theta_0| = %.3g, scalar %s: %s\n",
              updates, env->name().c_str(), steps, static_cast<double>((theta - theta0).norm()),
              sizeof(Scalar) == 8 ? "double" : "float", ok ? "ok" : "FAILED");
  return ok ? 0 : 1;
}
