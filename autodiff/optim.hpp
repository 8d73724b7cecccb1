// Optimizers of Sections 3.1.2-3.1.4 and step-size schedules. All minimize: gradient ascent on
// J is descent on -J. Each reads the gradients that backward() left in the parameters' grad().
//
//   SGD       theta <- theta - alpha_k g                                          (3.1.2, 3.1.3)
//   Momentum  v <- beta v + g;  theta <- theta - alpha_k v
//   AdaGrad   G <- G + g^2;     theta <- theta - alpha_k g / (sqrt(G) + eps)
//   RMSProp   s <- rho s + (1 - rho) g^2;  theta <- theta - alpha_k g / (sqrt(s) + eps)
//   Adam      m <- b1 m + (1-b1) g;  v <- b2 v + (1-b2) g^2;
//             theta <- theta - alpha_k (m / (1-b1^k)) / (sqrt(v / (1-b2^k)) + eps)
// The defaults of AdaGrad (eps), RMSProp (rho = PyTorch's alpha, eps) and Adam (beta1, beta2,
// eps) are PyTorch's, which the course's example scripts use. Momentum's beta = 0.9 is not a
// PyTorch default: torch.optim.SGD has momentum 0 unless it is given; 0.9 is the value usually
// given, and the update above is PyTorch's form of it (v <- beta v + g, no dampening).
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "autodiff/nn.hpp"

namespace pgcpp::ad {

// alpha_k for k = 0, 1, 2, ...: constant alpha, alpha / sqrt(k + 1) (convex, Theorem 3.3) or
// alpha / (k + 1) (strongly convex, Theorem 3.4).
struct StepSize {
  enum class Schedule { Constant, InvSqrt, Inv };
  Scalar alpha = Scalar(1e-3);
  Schedule schedule = Schedule::Constant;
  Scalar at(long k) const;
  static StepSize constant(Scalar a) { return {a, Schedule::Constant}; }
  static StepSize inv_sqrt(Scalar a) { return {a, Schedule::InvSqrt}; }
  static StepSize inv(Scalar a) { return {a, Schedule::Inv}; }
};

class Optimizer {
 public:
  Optimizer(ParameterSet params, StepSize step_size);
  virtual ~Optimizer() = default;
  void step();  // one update from the current gradients; parameters with no gradient are skipped
  void zero_grad() { params_.zero_grad(); }
  // One descent step on a 1x1 loss: zero the gradients, backpropagate, clip their global norm
  // to max_norm (0 = no clipping), step. Returns the norm before clipping.
  Scalar minimize(const Var& loss, Scalar max_norm = 0);
  long iterations() const { return k_; }
  // A new schedule from the next step on (e.g. PPO's learning rate, decayed per iteration).
  void set_step_size(StepSize step_size) { step_size_ = step_size; }
  ParameterSet& parameters() { return params_; }
  virtual std::string name() const = 0;

 protected:
  // Update parameter i in place from its gradient with step alpha (k_ is 1-based here).
  virtual void update(std::size_t i, Matrix& theta, const Matrix& g, Scalar alpha) = 0;
  Matrix& slot(std::vector<Matrix>& state, std::size_t i);  // zero-initialized per-parameter state
  long k_ = 0;

 private:
  ParameterSet params_;
  StepSize step_size_;
};

class Sgd final : public Optimizer {
 public:
  using Optimizer::Optimizer;
  std::string name() const override { return "SGD"; }

 private:
  void update(std::size_t, Matrix& theta, const Matrix& g, Scalar alpha) override;
};

class Momentum final : public Optimizer {
 public:
  Momentum(ParameterSet params, StepSize step, Scalar beta = Scalar(0.9));
  std::string name() const override { return "Momentum"; }

 private:
  void update(std::size_t i, Matrix& theta, const Matrix& g, Scalar alpha) override;
  Scalar beta_;
  std::vector<Matrix> v_;
};

class AdaGrad final : public Optimizer {
 public:
  AdaGrad(ParameterSet params, StepSize step, Scalar eps = Scalar(1e-10));
  std::string name() const override { return "AdaGrad"; }

 private:
  void update(std::size_t i, Matrix& theta, const Matrix& g, Scalar alpha) override;
  Scalar eps_;
  std::vector<Matrix> G_;
};

class RmsProp final : public Optimizer {
 public:
  RmsProp(ParameterSet params, StepSize step, Scalar rho = Scalar(0.99), Scalar eps = Scalar(1e-8));
  std::string name() const override { return "RMSProp"; }

 private:
  void update(std::size_t i, Matrix& theta, const Matrix& g, Scalar alpha) override;
  Scalar rho_, eps_;
  std::vector<Matrix> s_;
};

class Adam final : public Optimizer {
 public:
  Adam(ParameterSet params, StepSize step, Scalar beta1 = Scalar(0.9), Scalar beta2 = Scalar(0.999), Scalar eps = Scalar(1e-8));
  std::string name() const override { return "Adam"; }

 private:
  void update(std::size_t i, Matrix& theta, const Matrix& g, Scalar alpha) override;
  Scalar beta1_, beta2_, eps_;
  std::vector<Matrix> m_, v_;
};

}  // namespace pgcpp::ad
