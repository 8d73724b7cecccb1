// Two computations of Section 3.4 written by hand with plain Eigen, for bench's comparison with
// the code the algorithms run (every buffer allocated once, each derivative coded directly):
//
// (d) One PPO-Clip update on a minibatch (chapter3/3_4_7_ppo.cpp, step 3): softmax policy and
//     value network, both tanh MLPs;
//       rho = exp(log pi(a|s) - log pi_k(a|s)),  J = -mean min(rho A, clip(rho, 1-eps, 1+eps) A)
//                                                   + c_v mean (V(s) - V_targ)^2,
//       dJ/drho_i = -A_i / B where the unclipped term is the min (or rho lies inside the range),
//       else 0;  dJ/dlogits_i = dJ/drho_i rho_i (e_{a_i} - softmax_i);  dJ/dV = 2 c_v (V - V_targ) / B;
//     one global gradient-norm clip over both networks (torch's rule), then Adam.
// (e) One NPG Fisher-vector product F v at theta_k (chapter3/common/natural_gradient.cpp): the
//     Hessian of the mean KL at theta_k is J^T M J with J = d logits / d theta and, per row,
//     M = diag(p) - p p^T (the KL's gradient in the logits vanishes at theta_k, so the other term
//     of the Hessian is 0). By hand: a forward tangent pass J v, then M, then a backward pass J^T.
#pragma once

#include <cmath>
#include <vector>

#include "autodiff/autodiff.hpp"
#include "tools/bench/hand_adam.hpp"

namespace pgcpp::bench {

// A tanh MLP (identity output) with its activations, gradients, tangents and Adam moments.
struct HandTanhMlp {
  std::vector<Matrix> W, b, H, A, dH, dA, dW, db, mW, vW, mb, vb, tW, tb, tH, tA;
  long k = 0;

  HandTanhMlp(const ad::ParameterSet& init, int batch) {
    const auto& params = init.list();
    for (std::size_t l = 0; l < params.size() / 2; ++l) {
      W.push_back(params[2 * l].value());
      b.push_back(params[2 * l + 1].value());
      const Eigen::Index out = W[l].cols();
      for (auto* m : {&H, &A, &dH, &dA, &tH, &tA}) m->emplace_back(batch, out);
      dW.push_back(Matrix::Zero(W[l].rows(), out));
      db.push_back(Matrix::Zero(1, out));
      for (auto* m : {&mW, &vW, &tW}) m->push_back(dW[l]);
      for (auto* m : {&mb, &vb, &tb}) m->push_back(db[l]);
    }
  }
  std::size_t layers() const { return W.size(); }
  const Matrix& output() const { return H.back(); }

  void forward(const Matrix& X) {
    for (std::size_t l = 0; l < layers(); ++l) {
      const Matrix& in = l == 0 ? X : A[l - 1];
      H[l].noalias() = in * W[l];
      H[l].rowwise() += b[l].row(0);
      if (l + 1 < layers()) ad::tanh_kernel(H[l].data(), A[l].data(), H[l].size());
    }
  }
  // dOut = dL/d output; fills dW, db (after forward on X).
  void backward(const Matrix& X, const Matrix& dOut) {
    dH.back() = dOut;
    for (std::size_t l = layers(); l-- > 0;) {
      if (l + 1 < layers()) dH[l].array() = dA[l].array() * (1 - A[l].array().square());
      const Matrix& in = l == 0 ? X : A[l - 1];
      dW[l].noalias() = in.transpose() * dH[l];
      db[l] = dH[l].colwise().sum();
      if (l > 0) dA[l - 1].noalias() = dH[l] * W[l].transpose();
    }
  }
  // The output's directional derivative along (tW, tb) (after forward on X): tH.back().
  void tangent(const Matrix& X) {
    for (std::size_t l = 0; l < layers(); ++l) {
      tH[l].noalias() = (l == 0 ? X : A[l - 1]) * tW[l];
      if (l > 0) tH[l].noalias() += tA[l - 1] * W[l];
      tH[l].rowwise() += tb[l].row(0);
      if (l + 1 < layers()) tA[l].array() = tH[l].array() * (1 - A[l].array().square());
    }
  }
  double grad_squared_norm() const {
    double s = 0;
    for (std::size_t l = 0; l < layers(); ++l) s += double(dW[l].squaredNorm()) + double(db[l].squaredNorm());
    return s;
  }
  void scale_grad(Scalar c) {
    for (std::size_t l = 0; l < layers(); ++l) dW[l] *= c, db[l] *= c;
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
  // Matrix-product FLOPs: forward + backward (no input gradient) on `batch` rows.
  double train_flops(int batch) const {
    double f = 0;
    for (std::size_t l = 0; l < layers(); ++l) f += (l == 0 ? 4.0 : 6.0) * batch * double(W[l].rows() * W[l].cols());
    return f;
  }
};

// (d) one PPO-Clip minibatch update.
class HandPpo {
 public:
  struct Settings {
    Scalar epsilon = Scalar(0.2), c_v = Scalar(0.5), max_norm = Scalar(0.5), lr = Scalar(1e-3);
  };
  HandPpo(const ad::ParameterSet& pi, const ad::ParameterSet& v, int batch, Settings s)
      : s_(s), pi_(pi, batch), v_(v, batch), P_(batch, pi.list().back().cols()), dY_(P_.rows(), P_.cols()),
        dV_(batch, 1) {}

  void update(const Matrix& obs, const std::vector<int>& actions, const Matrix& log_pi_k, const Matrix& A,
              const Matrix& v_targ) {
    const Eigen::Index B = obs.rows();
    const Scalar n = static_cast<Scalar>(B), lo = 1 - s_.epsilon, hi = 1 + s_.epsilon;
    pi_.forward(obs);
    const Matrix& Y = pi_.output();
    P_ = (Y.colwise() - Y.rowwise().maxCoeff()).array().exp().matrix();
    P_.array().colwise() /= P_.array().rowwise().sum();
    for (Eigen::Index i = 0; i < B; ++i) {
      const int a = actions[static_cast<std::size_t>(i)];
      const Scalar log_pi = std::log(P_(i, a));
      const Scalar rho = std::exp(log_pi - log_pi_k(i, 0)), Ai = A(i, 0);
      const Scalar clipped = std::min(std::max(rho, lo), hi);
      const bool through = rho * Ai <= clipped * Ai || (rho >= lo && rho <= hi);
      const Scalar d_log_pi = through ? -Ai / n * rho : Scalar(0);  // dJ/dlog pi = dJ/drho rho
      dY_.row(i) = -d_log_pi * P_.row(i);                                 // d log pi / dY = e_a - p
      dY_(i, a) += d_log_pi;
    }
    pi_.backward(obs, dY_);
    v_.forward(obs);
    dV_ = (2 * s_.c_v / n) * (v_.output() - v_targ);
    v_.backward(obs, dV_);
    const double norm = std::sqrt(pi_.grad_squared_norm() + v_.grad_squared_norm());
    if (norm > s_.max_norm) {
      const Scalar c = s_.max_norm / (static_cast<Scalar>(norm) + Scalar(1e-6));
      pi_.scale_grad(c);
      v_.scale_grad(c);
    }
    pi_.adam(s_.lr);
    v_.adam(s_.lr);
  }
  const HandTanhMlp& policy() const { return pi_; }
  const HandTanhMlp& value() const { return v_; }
  double flops(int batch) const { return pi_.train_flops(batch) + v_.train_flops(batch); }

 private:
  Settings s_;
  HandTanhMlp pi_, v_;
  Matrix P_, dY_, dV_;
};

// (e) v -> (F + xi I) v at theta_k for a softmax policy on the batch obs.
class HandFisher {
 public:
  HandFisher(const ad::ParameterSet& pi, const Matrix& obs, Scalar damping)
      : net_(pi, static_cast<int>(obs.rows())), X_(obs), damping_(damping), P_(obs.rows(), pi.list().back().cols()),
        G_(P_.rows(), P_.cols()), out_(pi.count()) {
    net_.forward(X_);
    const Matrix& Y = net_.output();
    P_ = (Y.colwise() - Y.rowwise().maxCoeff()).array().exp().matrix();
    P_.array().colwise() /= P_.array().rowwise().sum();
  }

  const Vector& operator()(const Vector& v) {
    const Scalar n = static_cast<Scalar>(X_.rows());
    Eigen::Index at = 0;
    for (std::size_t l = 0; l < net_.layers(); ++l) {  // v -> (tW, tb), ParameterSet order
      net_.tW[l].reshaped() = v.segment(at, net_.W[l].size());
      at += net_.W[l].size();
      net_.tb[l].reshaped() = v.segment(at, net_.b[l].size());
      at += net_.b[l].size();
    }
    net_.tangent(X_);  // J v
    const Matrix& Jv = net_.tH.back();
    // M J v per row, M = diag(p) - p p^T, and the mean's 1/N
    G_.array() = P_.array() * (Jv.array().colwise() - (P_.array() * Jv.array()).rowwise().sum()) / n;
    net_.backward(X_, G_);  // J^T M J v
    at = 0;
    for (std::size_t l = 0; l < net_.layers(); ++l) {
      out_.segment(at, net_.W[l].size()) = net_.dW[l].reshaped();
      at += net_.W[l].size();
      out_.segment(at, net_.b[l].size()) = net_.db[l].reshaped();
      at += net_.b[l].size();
    }
    out_ += damping_ * v;
    return out_;
  }
  // Tangent pass (2 products per layer after the first) plus backward pass (no input gradient).
  double flops() const {
    double f = 0;
    for (std::size_t l = 0; l < net_.layers(); ++l)
      f += (l == 0 ? 4.0 : 8.0) * double(X_.rows()) * double(net_.W[l].rows() * net_.W[l].cols());
    return f;
  }

 private:
  HandTanhMlp net_;
  Matrix X_;
  Scalar damping_;
  Matrix P_, G_;
  Vector out_;
};

}  // namespace pgcpp::bench
