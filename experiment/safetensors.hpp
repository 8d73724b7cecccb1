// The safetensors format (Hugging Face's format for tensors), read and written with no dependency,
// so that a trained policy can be loaded in Python with the `safetensors` package or plain numpy.
//
//   bytes [0, 8)        N, the length of the header, u64 little-endian
//   bytes [8, 8 + N)    the header: a JSON object, UTF-8, padded with spaces so the data starts at a
//                       multiple of 8 (as the reference writer does), e.g.
//                         {"__metadata__": {"env": "CartPole-v1", ...},
//                          "pi.0.weight": {"dtype": "F64", "shape": [128, 4], "data_offsets": [0, 4096]}, ...}
//   bytes [8 + N, end)  the data: each tensor's elements in C (row-major) order, IEEE-754
//                       little-endian, at [begin, end) counted from the first byte after the header.
//
// `__metadata__` is optional and maps strings to strings. Only the dtypes F64 and F32 are read and
// written (every pgcpp parameter is a Scalar). Decoding treats the bytes as hostile: every length,
// dtype, shape and offset is checked before it is used (see decode_safetensors).
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <string_view>
#include <vector>

#include "core/scalar.hpp"

namespace pgcpp {

struct SafeTensor {
  std::string name = "";
  std::string dtype = "F64";            // "F64" or "F32": how the values are (to be) stored
  std::vector<std::int64_t> shape = {};  // {} is a scalar (one element)
  Vector values = {};                    // the elements in row-major order of `shape`
};

struct SafeTensors {
  std::map<std::string, std::string> metadata = {};  // __metadata__
  std::vector<SafeTensor> tensors = {};              // in the order of their data
};

// Bounds of what decode_safetensors accepts (the reference reader allows a 100 MB header; ours are
// about 1 kB), so that a corrupted length never makes us allocate or loop for long.
inline constexpr std::uint64_t kMaxSafetensorsHeaderBytes = 1 << 20;
inline constexpr int kMaxSafetensorsRank = 8;

// Writes the tensors in the given order, each at its own dtype (values rounded to float for F32).
// Throws std::invalid_argument for an unknown dtype, a duplicate or empty name, a name starting
// with "__", or a shape whose element count is not values.size().
std::string encode_safetensors(const SafeTensors& file);

// Throws std::runtime_error saying what is wrong (the caller adds the file name) unless `bytes` is
// a complete safetensors file: an 8-byte length N with 2 <= N <= kMaxSafetensorsHeaderBytes and
// N <= what follows; a header that is one JSON object (strings, non-negative integers, arrays and
// objects only; no duplicate keys; then only spaces); a __metadata__ of string values; per tensor
// exactly dtype (F64 or F32), shape (at most kMaxSafetensorsRank non-negative dimensions) and
// data_offsets [begin, end] with end - begin = 8 or 4 bytes times the element count; and data
// ranges that tile the data exactly, with no gap, overlap or trailing byte.
SafeTensors decode_safetensors(std::string_view bytes);

// FNV-1a, 64-bit (offset basis 14695981039346656037, prime 1099511628211).
std::uint64_t fnv1a64(std::string_view bytes);

}  // namespace pgcpp
