// policy.safetensors: a trained policy's parameters theta in the standard safetensors format
// (experiment/safetensors.hpp), with what is needed to rebuild and check it.
//
//   save_policy_file("runs/reinforce-cartpole-seed1/policy.safetensors",
//                    {.architecture = "categorical 4-128-128-2 tanh", .env = "CartPole-v1",
//                     .theta = policy.parameters().flatten(), .algorithm = "reinforce", .seed = 1});
//   PolicyFile f = load_policy_file(path);  // then: rebuild_policy(f) (experiment/demo.hpp)
//
// Tensors. An MLP policy of chapter3/common/policy.hpp (architecture "<kind> <n_0>-<n_1>-...-<n_L>
// <activation>", e.g. "categorical 4-128-128-2 tanh") is stored layer by layer, named as PyTorch
// names the state of a module with a ModuleList `pi` of nn.Linear layers:
//   pi.<k>.weight   shape [n_{k+1}, n_k]   layer k computes h W^T + b, exactly like torch.nn.Linear
//   pi.<k>.bias     shape [n_{k+1}]          (our W is n_k x n_{k+1}, h W + b: the file holds W^T)
//   pi.log_std      shape [m]              "gaussian state-independent-log-std" only: log sigma
// with k = 0..L-1 and the activation between layers (none after the last). What the last layer's
// n_L outputs mean is the kind's: the logits of the |A| actions (categorical); mu (gaussian
// state-independent-log-std, m = n_L); [mu, log sigma] (gaussian state-dependent-log-std and
// squashed-gaussian, m = n_L / 2; log sigma then clamped to [-20, 2], and for squashed-gaussian
// a = shift + scale tanh(u) into the environment's action box). Any other architecture (e.g. a
// demo's own linear policy) is stored as one tensor `theta` of shape [d].
// The tensors' data follow theta's order (ParameterSet::flatten: W column-major = W^T row-major,
// then b, layer by layer, then log_std), at the build's precision: F64 (double) or F32 (float).
//
// __metadata__ (all strings): pgcpp_policy_version "1", architecture, env (Gymnasium id),
// algorithm, seed, scalar ("double" or "float"), checksum ("fnv1a64:" + 16 hex digits, FNV-1a 64
// of every data byte after the header). The header itself is checked by its structure.
//
// A file written by a float build loads into a double build exactly, and the other way round
// with rounding to float.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "core/scalar.hpp"
#include "experiment/safetensors.hpp"
#include "envs/env.hpp"

namespace pgcpp {

struct PolicyFile {
  std::string architecture = "";
  std::string env = "";  // Gymnasium id, e.g. "CartPole-v1"
  Vector theta = {};
  std::string algorithm = "";
  std::uint64_t seed = 0;
  std::string path = "";  // the file load_policy_file read it from ("" if made in memory), for errors to name
};

inline constexpr const char* kPolicyFileName = "policy.safetensors";
inline constexpr const char* kPolicyFileVersion = "1";
// Larger than any policy the demos can make (--hidden allows 4096 units per layer: 128 MiB per
// 4096 x 4096 layer in double), small enough that a wrong path never fills the memory.
inline constexpr std::uintmax_t kMaxPolicyFileBytes = std::uintmax_t{1} << 30;

// An MLP policy's architecture as describe() writes it (chapter3/common/policy.hpp).
struct MlpPolicyArchitecture {
  // deterministic_tanh: Section 3.4.9's mu_theta (DeterministicActor), an MLP with a tanh output
  // scaled into the action box; its file keeps the one tensor `theta` (see the top of this file).
  enum class Kind { categorical, gaussian_state_independent, gaussian_state_dependent, squashed_gaussian, deterministic_tanh };
  Kind kind = Kind::categorical;
  std::vector<int> sizes = {};  // n_0 (observation) ... n_L (outputs), each in [1, 65536]
  std::string activation = "";  // "tanh", "relu" or "identity"
  int act_dim() const;          // 1 for categorical (an index); m for the Gaussian and deterministic kinds
  // The length of theta, from the sizes alone (no network is built): every layer's n_k n_{k+1}
  // weights and n_{k+1} biases, then m log sigma for gaussian state-independent-log-std. At most
  // 64 layers of 65536 x 65536 (about 2^38), so the count cannot overflow.
  Eigen::Index parameter_count() const;
  std::string describe() const;  // as the policy's describe() writes it, e.g. "categorical 4-128-128-2 tanh"
};
// std::nullopt if the first word is none of "categorical", "gaussian", "squashed-gaussian",
// "deterministic-tanh";
// throws std::invalid_argument for one of those with malformed sizes, activation or log-std kind, or
// not written exactly as describe() writes it (one space between words, no leading zero).
std::optional<MlpPolicyArchitecture> parse_mlp_policy(const std::string& architecture);
// Throws std::invalid_argument unless the policy can act in `env`: categorical for a discrete
// action space with n_0 = obs_dim and n_L = num_actions; another kind for a continuous one with
// n_0 = obs_dim and act_dim() = act_dim.
void check_policy_fits_env(const std::string& architecture, const MlpPolicyArchitecture& policy, const EnvSpec& env);

struct PolicyTensor {
  std::string name;
  std::vector<std::int64_t> shape;
  Eigen::Index offset = 0, size = 0;  // where its elements sit in theta
};
// The tensors of the file, in theta order (see the top of this file). Throws std::invalid_argument
// if the architecture is malformed or its parameter count is not parameter_count.
std::vector<PolicyTensor> policy_tensors(const std::string& architecture, Eigen::Index parameter_count);

// Writes `path` + ".tmp", then renames it to `path`, so an interrupted save never leaves a
// half-written file; on any failure the .tmp file is removed. Throws std::runtime_error
// "policy file '<path>': ..." for non-finite parameters, an unknown environment or a write error.
void save_policy_file(const std::string& path, const PolicyFile& policy);

// Throws std::runtime_error "policy file '<path>': <what is wrong>" (one line: control characters
// in the path or the message are escaped, see printable) unless `path` is a regular
// file of at most kMaxPolicyFileBytes that decode_safetensors accepts, whose metadata has every
// key above (version 1, a known environment, scalar matching every tensor's dtype, the checksum of
// the data), whose tensors are exactly policy_tensors(architecture) with their shapes, whose values
// are all finite, and whose policy (if an MLP policy) fits its environment (check_policy_fits_env).
// The tensors' shapes are checked against the architecture before theta is allocated, so a small
// file declaring a huge network is refused without allocating it. Sets the result's path.
PolicyFile load_policy_file(const std::string& path);

// `text` on one line: control characters (a newline in a file name, say) written as \n, \t,
// \r or \xNN, and a backslash as \\, so that an error message stays one line.
std::string printable(const std::string& text);

}  // namespace pgcpp
