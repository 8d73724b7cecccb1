// Policy models of Section 3.2.1.1, shared by every later section.
//
//   CategoricalPolicy       softmax over MLP logits f_theta(s, a)                         (3.16)
//   GaussianPolicy          N(mu_theta(s), diag sigma^2), log-std state-independent
//                           (a parameter) or state-dependent (a second output head)        (3.17)
//   SquashedGaussianPolicy  a = shift + scale * tanh(u), u ~ N(mu_theta(s), diag sigma^2):
//                           the Gaussian squashed into the action box (SAC, Section 3.4.8)
//
// A policy maps a batch of observations (N x obs_dim, one per row) to distribution parameters
// (`params`: logits N x |A|, or [mu, log sigma] N x 2m); every other quantity is a function of
// those parameters, so old and new policies can be compared (KL for NPG/TRPO/PPO) by holding
// the old parameters constant. Actions are N x act_dim; a discrete action is its index, stored
// as a Scalar in column 0.
#pragma once

#include <memory>
#include <string>

#include "autodiff/autodiff.hpp"

namespace pgcpp {

using ad::Var;

// The buffers of acting without the tape (Policy::act, act_mode and the plain dist_params):
// the network's activations, its output, the distribution parameters and the actions. Owned by
// the caller, one per loop, so that acting stays const and allocates nothing once the first step
// has given every buffer its shape.
struct ActWorkspace {
  ad::Workspace net;
  Matrix obs;      // observations as rows, in Scalar
  Matrix out;      // the network's output (where it differs from params)
  Matrix params;   // distribution parameters, as dist_params(Var(obs)).value()
  Matrix actions;  // one action per row
};

class Policy {
 public:
  virtual ~Policy() = default;

  virtual Var dist_params(const Var& obs) const = 0;
  // log pi(a|s), N x 1, differentiable in params.
  virtual Var log_prob(const Var& params, const Matrix& actions) const = 0;
  // Entropy H[pi(.|s)], N x 1.
  virtual Var entropy(const Var& params) const = 0;
  // KL(pi_old(.|s) || pi(.|s)), N x 1; old_params are treated as constants.
  virtual Var kl(const Matrix& old_params, const Var& params) const = 0;
  virtual ad::ParameterSet parameters() const = 0;
  virtual std::string describe() const = 0;  // architecture, e.g. "categorical 4-128-128-2 tanh"
  virtual int act_dim() const = 0;           // columns of an action matrix

  // ---- Acting without the tape ----
  // The plain counterpart of dist_params: ws.params = dist_params(Var(obs)).value() bit for bit,
  // by a plain forward pass (ad::Mlp::forward): no graph, no allocation once ws is warm.
  virtual void dist_params(const Matrix& obs, ActWorkspace& ws) const = 0;
  // An action per row of params, into `actions` (resized only when the shape changes).
  virtual void sample(const Matrix& params, Rng& rng, Matrix& actions) const = 0;
  // The deterministic action used for evaluation: the most likely action for the categorical
  // and Gaussian policies; for the squashed Gaussian, the squashed mean (see there).
  virtual void mode(const Matrix& params, Matrix& actions) const = 0;

  // One sampled action per row of obs, into ws.actions (returned): dist_params, then sample.
  const Matrix& act(const Matrix& obs, Rng& rng, ActWorkspace& ws) const;
  // One sampled (or mode) action for one observation, as the environment takes it.
  void act(const Eigen::VectorXd& obs, Rng& rng, Eigen::VectorXd& action, ActWorkspace& ws) const;
  void act_mode(const Eigen::VectorXd& obs, Eigen::VectorXd& action, ActWorkspace& ws) const;

  // Conveniences over the above (each allocates its result and a workspace).
  Var log_prob(const Matrix& obs, const Matrix& actions) const { return log_prob(dist_params(Var(obs)), actions); }
  Matrix params_of(const Matrix& obs) const;                       // dist_params without recording
  Matrix sample(const Matrix& params, Rng& rng) const;
  Matrix mode(const Matrix& params) const;
  Eigen::VectorXd act(const Eigen::VectorXd& obs, Rng& rng) const;  // one sampled action
  Eigen::VectorXd act_mode(const Eigen::VectorXd& obs) const;       // one mode() action
};

class CategoricalPolicy final : public Policy {
 public:
  CategoricalPolicy(ad::Mlp logits_net);
  // obs_dim -> hidden... -> num_actions
  static std::unique_ptr<CategoricalPolicy> make(int obs_dim, const std::vector<int>& hidden, int num_actions,
                                                 ad::Activation act, Rng& rng);

  Var dist_params(const Var& obs) const override { return net_(obs); }
  void dist_params(const Matrix& obs, ActWorkspace& ws) const override { net_.forward(obs, ws.params, ws.net); }
  Var log_prob(const Var& params, const Matrix& actions) const override;
  Var entropy(const Var& params) const override;
  Var kl(const Matrix& old_params, const Var& params) const override;
  void sample(const Matrix& params, Rng& rng, Matrix& actions) const override;
  void mode(const Matrix& params, Matrix& actions) const override;
  ad::ParameterSet parameters() const override { return net_.parameters(); }
  std::string describe() const override { return "categorical " + net_.describe(); }
  int act_dim() const override { return 1; }
  using Policy::dist_params;
  using Policy::log_prob;
  using Policy::mode;
  using Policy::sample;

 private:
  ad::Mlp net_;
};

// Log-densities and samplers of a diagonal Gaussian from params = [mu, log sigma].
class GaussianPolicy : public Policy {
 public:
  enum class LogStd { StateIndependent, StateDependent };
  // StateIndependent: net outputs mu (m columns), log sigma is a 1 x m parameter starting at
  // log_std_init. StateDependent: net outputs 2m columns [mu, log sigma], log sigma clamped
  // to [log_std_min, log_std_max] (the clamp passes no gradient outside, as in the book's SAC).
  GaussianPolicy(ad::Mlp net, int act_dim, LogStd kind, Scalar log_std_init = 0, Scalar log_std_min = -20,
                 Scalar log_std_max = 2);

  Var dist_params(const Var& obs) const override;
  void dist_params(const Matrix& obs, ActWorkspace& ws) const override;
  Var log_prob(const Var& params, const Matrix& actions) const override;
  Var entropy(const Var& params) const override;
  Var kl(const Matrix& old_params, const Var& params) const override;
  void sample(const Matrix& params, Rng& rng, Matrix& actions) const override;
  void mode(const Matrix& params, Matrix& actions) const override;
  ad::ParameterSet parameters() const override;
  std::string describe() const override;
  int act_dim() const override { return m_; }
  using Policy::dist_params;
  using Policy::log_prob;
  using Policy::mode;
  using Policy::sample;

  Var mu(const Var& params) const { return ad::slice_cols(params, 0, m_); }
  Var log_std(const Var& params) const { return ad::slice_cols(params, m_, m_); }

 protected:
  ad::Mlp net_;
  int m_;
  LogStd kind_;
  Var log_std_param_;  // StateIndependent only
  Scalar log_std_min_, log_std_max_;
};

class SquashedGaussianPolicy final : public GaussianPolicy {
 public:
  SquashedGaussianPolicy(ad::Mlp net, Eigen::VectorXd action_low, Eigen::VectorXd action_high,
                         Scalar log_std_min = -20, Scalar log_std_max = 2);

  // log pi(a|s) = log N(u; mu, sigma) - sum_j log(scale_j (1 - tanh^2 u_j)), u = atanh of the
  // rescaled action y = (a - shift) / scale. Throws std::invalid_argument for a NaN or infinite
  // action, or one outside the box [low, high] by more than rounding (4 ulps). An action on an
  // edge (a sample rounds there once |u| > ~19 in double, ~9 in float) is read as y = +-(1 - eps),
  // eps the machine epsilon, the nearest point inside where atanh is finite (u = +-18.4 in double,
  // +-8.3 in float), as Stable-Baselines3 does; its log-density is finite but reflects that choice.
  // For sampled actions use rsample, which keeps u and needs no atanh.
  Var log_prob(const Var& params, const Matrix& actions) const override;
  // H = H[N(mu, sigma)] + E_u[sum_j log(scale_j (1 - tanh^2 u_j))], the expectation by the
  // trapezoid rule in z = (u - mu) / sigma with a step fitted to each sigma (error < 1e-10 nats for
  // sigma up to ~53, see policy.cpp); deterministic and differentiable to any order.
  Var entropy(const Var& params) const override;
  // KL is invariant under the invertible squashing: the KL of the Gaussians over u.
  Var kl(const Matrix& old_params, const Var& params) const override { return GaussianPolicy::kl(old_params, params); }
  void sample(const Matrix& params, Rng& rng, Matrix& actions) const override;
  // shift + scale tanh(mu): the Gaussian's mean, squashed — the usual deterministic action (SAC's
  // evaluation action). It is neither the mean nor, in general, the most likely action of the
  // squashed distribution: for large sigma its density peaks near the box's edges.
  void mode(const Matrix& params, Matrix& actions) const override;
  std::string describe() const override;
  using Policy::log_prob;
  using Policy::mode;
  using Policy::sample;

  // Reparameterized sample a = shift + scale tanh(mu + sigma eps) with its log-density, both
  // differentiable in params (SAC's actor loss). eps: N x m standard normal draws.
  struct Sample {
    Var action, log_prob;
  };
  Sample rsample(const Var& params, const Matrix& eps) const;

 private:
  Var squash_log_det(const Var& u) const;  // sum_j log(scale_j (1 - tanh^2 u_j)), N x 1
  RowVector scale_, shift_;
};

}  // namespace pgcpp
