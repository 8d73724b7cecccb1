#include "chapter3/experiment/policy_file.hpp"

#include <bit>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <stdexcept>

namespace pgcpp {

namespace {

constexpr std::string_view kMagic = "PGCPPPOL";
// A sanity bound for the two strings: a corrupted length must not make us allocate gigabytes.
constexpr std::uint32_t kMaxStringBytes = 1 << 16;

void put_u32(std::string& out, std::uint32_t v) {
  for (int i = 0; i < 4; ++i) out.push_back(static_cast<char>((v >> (8 * i)) & 0xFF));
}
void put_u64(std::string& out, std::uint64_t v) {
  for (int i = 0; i < 8; ++i) out.push_back(static_cast<char>((v >> (8 * i)) & 0xFF));
}
void put_string(std::string& out, const std::string& s) {
  put_u32(out, static_cast<std::uint32_t>(s.size()));
  out += s;
}

[[noreturn]] void fail(const std::string& path, const std::string& what) {
  throw std::runtime_error("policy file '" + path + "': " + what);
}

// Reads the fields in order; running past the end is reported as truncation.
class Reader {
 public:
  Reader(const std::string& bytes, const std::string& path) : bytes_(bytes), path_(path) {}

  std::uint64_t uint(int width, const char* field) {
    need(static_cast<std::size_t>(width), field);
    std::uint64_t v = 0;
    for (int i = 0; i < width; ++i)
      v |= static_cast<std::uint64_t>(static_cast<unsigned char>(bytes_[pos_ + i])) << (8 * i);
    pos_ += static_cast<std::size_t>(width);
    return v;
  }
  std::string text(const char* field) {
    const std::uint64_t n = uint(4, field);
    if (n > kMaxStringBytes)
      fail(path_, std::string("corrupted header: ") + field + " length " + std::to_string(n) +
                      " exceeds " + std::to_string(kMaxStringBytes));
    need(n, field);
    std::string s = bytes_.substr(pos_, n);
    pos_ += n;
    return s;
  }
  void need(std::size_t n, const char* field) const {
    if (bytes_.size() - pos_ < n)
      fail(path_, std::string("truncated: file ends inside the ") + field + " (" +
                      std::to_string(bytes_.size()) + " bytes)");
  }
  std::size_t pos() const { return pos_; }

 private:
  const std::string& bytes_;
  const std::string& path_;
  std::size_t pos_ = 0;
};

}  // namespace

std::uint64_t fnv1a64(std::string_view bytes) {
  std::uint64_t h = 14695981039346656037ull;
  for (unsigned char c : bytes) {
    h ^= c;
    h *= 1099511628211ull;
  }
  return h;
}

void save_policy_file(const std::string& path, const PolicyFile& policy) {
  if (!policy.theta.allFinite())
    throw std::runtime_error("policy file '" + path + "': refusing to save non-finite parameters");
  std::string out(kMagic);
  put_u32(out, kPolicyFileVersion);
  put_u32(out, static_cast<std::uint32_t>(sizeof(Scalar)));
  put_string(out, policy.architecture);
  put_string(out, policy.env);
  put_u64(out, static_cast<std::uint64_t>(policy.theta.size()));
  for (Eigen::Index i = 0; i < policy.theta.size(); ++i) {
    // Written at the build's own precision: the cast is the identity for the branch taken.
    if constexpr (sizeof(Scalar) == 8) put_u64(out, std::bit_cast<std::uint64_t>(static_cast<double>(policy.theta[i])));
    else put_u32(out, std::bit_cast<std::uint32_t>(static_cast<float>(policy.theta[i])));
  }
  put_u64(out, fnv1a64(out));

  const std::string tmp = path + ".tmp";
  {
    std::ofstream f(tmp, std::ios::binary | std::ios::trunc);
    if (!f) throw std::runtime_error("policy file '" + path + "': cannot open '" + tmp + "' for writing");
    f.write(out.data(), static_cast<std::streamsize>(out.size()));
    f.flush();
    if (!f) throw std::runtime_error("policy file '" + path + "': write failed");
  }
  std::error_code ec;
  std::filesystem::rename(tmp, path, ec);
  if (ec) throw std::runtime_error("policy file '" + path + "': cannot rename '" + tmp + "': " + ec.message());
}

PolicyFile load_policy_file(const std::string& path) {
  std::ifstream f(path, std::ios::binary);
  if (!f) fail(path, "cannot open for reading");
  const std::string bytes((std::istreambuf_iterator<char>(f)), std::istreambuf_iterator<char>());
  if (f.bad()) fail(path, "read error");

  if (bytes.size() < kMagic.size() || std::string_view(bytes).substr(0, kMagic.size()) != kMagic)
    fail(path, bytes.size() < kMagic.size() ? "truncated: too short to be a policy file (" +
                                                  std::to_string(bytes.size()) + " bytes)"
                                            : "bad magic: not a pgcpp policy file");
  Reader r(bytes, path);
  r.uint(static_cast<int>(kMagic.size()), "magic");
  const std::uint64_t version = r.uint(4, "format version");
  if (version != kPolicyFileVersion)
    fail(path, "unsupported format version " + std::to_string(version) + " (this build reads " +
                   std::to_string(kPolicyFileVersion) + ")");
  const std::uint64_t scalar_size = r.uint(4, "scalar size");
  if (scalar_size != 4 && scalar_size != 8)
    fail(path, "corrupted header: scalar size " + std::to_string(scalar_size) + " (expected 4 or 8)");
  PolicyFile policy;
  policy.architecture = r.text("architecture string");
  policy.env = r.text("environment name");
  const std::uint64_t count = r.uint(8, "parameter count");

  // Size check before the checksum, so a short file says "truncated" rather than "checksum".
  const std::size_t header = r.pos();
  const std::size_t have = bytes.size() - header;
  if (count > have / scalar_size || have - count * scalar_size < 8)
    fail(path, "truncated or corrupted: the header announces " + std::to_string(count) +
                   " parameters of " + std::to_string(scalar_size) + " bytes, but only " +
                   std::to_string(have) + " bytes follow it");
  const std::size_t expected = header + count * scalar_size + 8;
  if (bytes.size() != expected)
    fail(path, "corrupted: " + std::to_string(bytes.size() - expected) +
                   " unexpected trailing bytes after the checksum");

  std::uint64_t stored = 0;
  for (std::size_t i = 0; i < 8; ++i)
    stored |= static_cast<std::uint64_t>(static_cast<unsigned char>(bytes[expected - 8 + i])) << (8 * i);
  const std::uint64_t actual = fnv1a64(std::string_view(bytes).substr(0, expected - 8));
  if (stored != actual) fail(path, "checksum mismatch: the file is corrupted");

  policy.theta.resize(static_cast<Eigen::Index>(count));
  for (Eigen::Index i = 0; i < policy.theta.size(); ++i) {
    if (scalar_size == 8) policy.theta[i] = static_cast<Scalar>(std::bit_cast<double>(r.uint(8, "payload")));
    else policy.theta[i] = static_cast<Scalar>(std::bit_cast<float>(static_cast<std::uint32_t>(r.uint(4, "payload"))));
  }
  return policy;
}

}  // namespace pgcpp
