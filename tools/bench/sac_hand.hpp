// One continuous SAC update (Section 3.4.8.2, steps 3-7) written by hand with plain Eigen, for
// bench's comparison with SacAgent::update (chapter3/3_4_8_sac.cpp), which runs the same
// computation through the autodiff. Every buffer is allocated once; each derivative is coded
// directly:
//   target:  a' = 2 tanh(mu + sigma eps'), y = r + gamma (1 - d) (min_j Qbar_j(s', a') - alpha log pi(a'|s'))
//   critics: L = mean (Q_1 - y)^2 + mean (Q_2 - y)^2,  dQ_j = 2 (Q_j - y) / B
//   actor:   L = mean(alpha log pi(a|s) - min_j Q_j(s, a)),  a = 2 tanh(u), u = mu + sigma eps,
//            log pi = -eps^2/2 - log sigma - log(2 pi)/2 - log 2 - log(1 - tanh^2 u),
//            d log pi / du = 2 tanh u,  da/du = 2 (1 - tanh^2 u),  du/d log sigma = sigma eps
//   alpha:   d/d log alpha of -alpha (mean log pi + Hbar) = -alpha (mean log pi + Hbar)
//   targets: psibar <- tau psi + (1 - tau) psibar
// with one action dimension (Pendulum-v1) and ReLU networks, as in Example 3.8.
#pragma once

#include <cmath>
#include <numbers>
#include <vector>

#include "autodiff/autodiff.hpp"
#include "tools/bench/hand_adam.hpp"
#include "chapter3/common/replay_buffer.hpp"

namespace pgcpp::bench {

// A ReLU MLP with its forward activations, gradients and Adam moments, all preallocated.
struct HandMlp {
  std::vector<Matrix> W, b, H, A, dH, dA, dW, db, mW, vW, mb, vb;
  Matrix dX;  // gradient with respect to the input
  long k = 0;

  HandMlp(const ad::ParameterSet& init, int batch) {
    const auto& params = init.list();
    const std::size_t L = params.size() / 2;
    for (std::size_t l = 0; l < L; ++l) {
      W.push_back(params[2 * l].value());
      b.push_back(params[2 * l + 1].value());
      const Eigen::Index out = W[l].cols();
      H.emplace_back(batch, out);
      A.emplace_back(batch, out);
      dH.emplace_back(batch, out);
      dA.emplace_back(batch, out);
      dW.push_back(Matrix::Zero(W[l].rows(), out));
      db.push_back(Matrix::Zero(1, out));
      mW.push_back(dW[l]);
      vW.push_back(dW[l]);
      mb.push_back(db[l]);
      vb.push_back(db[l]);
    }
    dX.resize(batch, W[0].rows());
  }
  std::size_t layers() const { return W.size(); }
  const Matrix& output() const { return H.back(); }

  void forward(const Matrix& X) {
    for (std::size_t l = 0; l < layers(); ++l) {
      const Matrix& in = l == 0 ? X : A[l - 1];
      H[l].noalias() = in * W[l];
      H[l].rowwise() += b[l].row(0);
      if (l + 1 < layers()) A[l] = H[l].cwiseMax(Scalar(0));
    }
  }
  // dOut: dL/d output. Parameter gradients if `params`, dX if `input`.
  void backward(const Matrix& X, const Matrix& dOut, bool params, bool input) {
    dH.back() = dOut;
    for (std::size_t l = layers(); l-- > 0;) {
      if (l + 1 < layers()) dH[l].array() = (H[l].array() > 0).select(dA[l].array(), Scalar(0));
      const Matrix& in = l == 0 ? X : A[l - 1];
      if (params) {
        dW[l].noalias() = in.transpose() * dH[l];
        db[l] = dH[l].colwise().sum();
      }
      if (l > 0) dA[l - 1].noalias() = dH[l] * W[l].transpose();
      else if (input) dX.noalias() = dH[0] * W[0].transpose();
    }
  }
  void adam(Scalar lr) {
    ++k;
    for (std::size_t l = 0; l < layers(); ++l) {
      adam_step(W[l], dW[l], mW[l], vW[l], lr);
      adam_step(b[l], db[l], mb[l], vb[l], lr);
    }
  }
  void adam_step(Matrix& theta, const Matrix& g, Matrix& m, Matrix& v, Scalar lr) const {
    hand_adam_step(theta, g, m, v, lr, k);
  }
  void polyak(const HandMlp& online, Scalar tau) {
    for (std::size_t l = 0; l < layers(); ++l) {
      W[l] = tau * online.W[l] + (1 - tau) * W[l];
      b[l] = tau * online.b[l] + (1 - tau) * b[l];
    }
  }
  // Matrix-product FLOPs of one forward pass on `batch` rows.
  double forward_flops(int batch) const {
    double f = 0;
    for (const Matrix& w : W) f += 2.0 * batch * static_cast<double>(w.rows() * w.cols());
    return f;
  }
};

struct HandSacSettings {
  Scalar gamma = Scalar(0.99), tau = Scalar(0.005), lr = Scalar(3e-4), target_entropy = -1;
  Scalar log_std_min = -20, log_std_max = 2, scale = 2;
};

class HandSac {
 public:
  // The networks' initial parameters: W, b per layer (ad::Mlp::parameters() order).
  HandSac(const ad::ParameterSet& actor, const ad::ParameterSet& q1, const ad::ParameterSet& q2, Scalar alpha, int batch,
          HandSacSettings s = {})
      : s_(s), pi_(actor, batch), q1_(q1, batch), q2_(q2, batch), t1_(q1, batch), t2_(q2, batch),
        log_alpha_(std::log(alpha)), X_(batch, q1.list()[0].rows()), dOut_(batch, 2), dQ_(batch, 1),
        eps_(batch, 1), u_(batch, 1), tanh_u_(batch, 1), log_pi_(batch, 1), y_(batch, 1), mask_(batch, 1) {}

  void update(const ReplayBatch& D, Rng& rng) {
    const Eigen::Index B = D.size();
    const Scalar alpha = std::exp(log_alpha_), n = static_cast<Scalar>(B);
    const int obs_dim = static_cast<int>(D.obs.cols());
    // 3. Target.
    pi_.forward(D.next_obs);
    sample(rng);
    X_.leftCols(obs_dim) = D.next_obs;
    X_.col(obs_dim) = s_.scale * tanh_u_;
    t1_.forward(X_);
    t2_.forward(X_);
    y_.array() = D.rewards.array() + s_.gamma * (1 - D.terminated.array()) *
                                         (t1_.output().array().min(t2_.output().array()) - alpha * log_pi_.array());
    // 4. Critics.
    X_.leftCols(obs_dim) = D.obs;
    X_.col(obs_dim) = D.actions;
    q1_.forward(X_);
    q2_.forward(X_);
    dQ_ = (2 / n) * (q1_.output() - y_);
    q1_.backward(X_, dQ_, true, false);
    dQ_ = (2 / n) * (q2_.output() - y_);
    q2_.backward(X_, dQ_, true, false);
    q1_.adam(s_.lr);
    q2_.adam(s_.lr);
    // 5. Actor.
    pi_.forward(D.obs);
    sample(rng);
    X_.col(obs_dim) = s_.scale * tanh_u_;
    q1_.forward(X_);
    q2_.forward(X_);
    mask_ = (q1_.output().array() <= q2_.output().array()).cast<Scalar>().matrix();
    dQ_ = (-1 / n) * mask_;
    q1_.backward(X_, dQ_, false, true);
    Matrix& da = dOut_;  // reuse: column 0 holds dL/da for now
    da.col(0) = q1_.dX.col(obs_dim);
    dQ_ = (-1 / n) * (1 - mask_.array()).matrix();
    q2_.backward(X_, dQ_, false, true);
    da.col(0) += q2_.dX.col(obs_dim);
    // gu = dL/du = alpha/B d log pi/du + dL/da da/du
    const Matrix& out = pi_.output();
    dOut_.col(0).array() = (alpha / n) * 2 * tanh_u_.array() + da.col(0).array() * s_.scale * (1 - tanh_u_.array().square());
    const auto sigma = out.col(1).array().max(s_.log_std_min).min(s_.log_std_max).exp();
    const auto inside = (out.col(1).array() >= s_.log_std_min && out.col(1).array() <= s_.log_std_max).cast<Scalar>();
    dOut_.col(1).array() = (dOut_.col(0).array() * sigma * eps_.array() - alpha / n) * inside;
    pi_.backward(D.obs, dOut_, true, false);
    pi_.adam(s_.lr);
    // 6. Temperature (Adam on the scalar log alpha).
    const Scalar g = -alpha * (log_pi_.mean() + s_.target_entropy);
    ++k_alpha_;
    m_alpha_ = Scalar(0.9) * m_alpha_ + Scalar(0.1) * g;
    v_alpha_ = Scalar(0.999) * v_alpha_ + Scalar(0.001) * g * g;
    const Scalar c1 = 1 - std::pow(Scalar(0.9), Scalar(k_alpha_)), c2 = 1 - std::pow(Scalar(0.999), Scalar(k_alpha_));
    log_alpha_ -= (s_.lr / c1) * m_alpha_ / (std::sqrt(v_alpha_ / c2) + Scalar(1e-8));
    // 7. Target critics.
    t1_.polyak(q1_, s_.tau);
    t2_.polyak(q2_, s_.tau);
  }

  const HandMlp& actor() const { return pi_; }
  const HandMlp& critic(int j) const { return j == 1 ? q1_ : q2_; }
  Scalar log_alpha() const { return log_alpha_; }

  // Matrix-product FLOPs of one update (B rows): the same products the autodiff forms.
  double flops(int batch) const {
    const double pi = pi_.forward_flops(batch), q = q1_.forward_flops(batch);
    const double q_first = 2.0 * batch * static_cast<double>(q1_.W[0].size());
    const double pi_first = 2.0 * batch * static_cast<double>(pi_.W[0].size());
    const double target = pi + 2 * q;
    const double critics = 2 * (q + q + (q - q_first));  // forward, weight gradients, input gradients of layers >= 1
    const double actor = pi + 2 * (q + q) + pi + (pi - pi_first);
    return target + critics + actor;
  }

 private:
  // u = mu + sigma eps with eps drawn in SacAgent's order; tanh u and log pi(a|s).
  void sample(Rng& rng) {
    for (Eigen::Index i = 0; i < eps_.size(); ++i) eps_(i) = static_cast<Scalar>(rng.normal());
    const Matrix& out = pi_.output();
    const auto ls = out.col(1).array().max(s_.log_std_min).min(s_.log_std_max);
    u_.array() = out.col(0).array() + ls.exp() * eps_.array();
    tanh_u_.array() = u_.array().tanh();
    // log(1 - tanh^2 u) = 2 (log 2 - u - softplus(-2u)), as the policy computes it
    const auto m2u = -2 * u_.array();
    const auto softplus = m2u.max(Scalar(0)) + (-m2u.abs()).exp().log1p();
    const Scalar ln2 = static_cast<Scalar>(std::numbers::ln2);
    const Scalar half_log_2pi = static_cast<Scalar>(0.5 * std::log(2 * std::numbers::pi));
    log_pi_.array() = -Scalar(0.5) * eps_.array().square() - ls - half_log_2pi -
                      (2 * ((ln2 - u_.array()) - softplus) + std::log(s_.scale));
  }

  HandSacSettings s_;
  HandMlp pi_, q1_, q2_, t1_, t2_;
  Scalar log_alpha_, m_alpha_ = 0, v_alpha_ = 0;
  long k_alpha_ = 0;
  Matrix X_, dOut_, dQ_, eps_, u_, tanh_u_, log_pi_, y_, mask_;
};

}  // namespace pgcpp::bench
