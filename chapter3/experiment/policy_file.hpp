// policy.bin: a trained policy's parameters theta, with what is needed to rebuild and check it.
//
//   save_policy_file("runs/reinforce-cartpole-seed1/policy.bin",
//                    {.architecture = "categorical-mlp 4-128-128-2 tanh", .env = "CartPole-v1",
//                     .theta = policy.parameters().flatten()});
//   PolicyFile f = load_policy_file(path);  // then: build the network from f.architecture,
//                                           // parameters().unflatten(f.theta)
//
// Layout (all integers little-endian):
//   offset 0   8 bytes  magic "PGCPPPOL"
//              u32      format version (1)
//              u32      scalar size in bytes (4 = float, 8 = double) of the payload
//              u32 n, n bytes   architecture string (what the algorithm needs to rebuild the policy)
//              u32 n, n bytes   environment id, e.g. "CartPole-v1"
//              u64      parameter count d
//              d x scalar size  payload: theta, IEEE-754 little-endian
//   last       u64      FNV-1a 64 checksum of every byte before it (header and payload)
//
// The checksum covers the header too, so a flipped byte anywhere is caught, not only in theta.
// A file written by a float build loads into a double build exactly, and the other way round
// with rounding to float.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "autodiff/scalar.hpp"

namespace pgcpp {

struct PolicyFile {
  std::string architecture = "";
  std::string env = "";
  Vector theta = {};
};

inline constexpr std::uint32_t kPolicyFileVersion = 1;

// Writes to `path` + ".tmp" then renames, so an interrupted save never leaves a half-written
// policy.bin. Throws std::runtime_error naming the path if it cannot be written.
void save_policy_file(const std::string& path, const PolicyFile& policy);

// Throws std::runtime_error "policy file '<path>': <what is wrong>" for a missing or unreadable
// file, a bad magic, an unsupported version or scalar size, a truncated file, trailing bytes or
// a checksum mismatch.
PolicyFile load_policy_file(const std::string& path);

// FNV-1a, 64-bit (offset basis 14695981039346656037, prime 1099511628211).
std::uint64_t fnv1a64(std::string_view bytes);

}  // namespace pgcpp
