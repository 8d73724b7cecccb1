#include "experiment/policy_file.hpp"

#include <cerrno>
#include <charconv>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <stdexcept>

namespace pgcpp {

namespace fs = std::filesystem;

namespace {

[[noreturn]] void fail(const std::string& path, const std::string& what) {
  throw std::runtime_error("policy file '" + printable(path) + "': " + printable(what));
}

const char* scalar_name() { return sizeof(Scalar) == 8 ? "double" : "float"; }
const char* scalar_dtype() { return sizeof(Scalar) == 8 ? "F64" : "F32"; }

std::string checksum_text(std::string_view data) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "fnv1a64:%016llx", static_cast<unsigned long long>(fnv1a64(data)));
  return buf;
}

std::string shape_text(const std::vector<std::int64_t>& shape) {
  std::string s = "[";
  for (std::size_t i = 0; i < shape.size(); ++i) s += (i ? ", " : "") + std::to_string(shape[i]);
  return s + "]";
}

bool parse_u64(const std::string& text, std::uint64_t& v) {
  const auto [end, error] = std::from_chars(text.data(), text.data() + text.size(), v);
  return error == std::errc() && end == text.data() + text.size() && !text.empty();
}

// The bytes of the data section of an encoded file.
std::string_view data_of(const std::string& encoded) {
  std::uint64_t n = 0;
  for (int i = 0; i < 8; ++i) n |= static_cast<std::uint64_t>(static_cast<unsigned char>(encoded[static_cast<std::size_t>(i)])) << (8 * i);
  return std::string_view(encoded).substr(8 + n);
}

void write_file(const std::string& path, const std::string& tmp, const std::string& bytes) {
  std::ofstream f(tmp, std::ios::binary | std::ios::trunc);
  if (!f) fail(path, "cannot open '" + tmp + "' for writing: " + std::strerror(errno));
  f.write(bytes.data(), static_cast<std::streamsize>(bytes.size()));
  f.flush();
  if (!f) fail(path, "write to '" + tmp + "' failed (disk full?): " + std::strerror(errno));
  f.close();
  if (!f) fail(path, "closing '" + tmp + "' failed: " + std::strerror(errno));
  std::error_code ec;
  fs::rename(tmp, path, ec);
  if (ec) fail(path, "cannot rename '" + tmp + "': " + ec.message());
}

}  // namespace

std::string printable(const std::string& text) {
  std::string out;
  for (const char ch : text) {
    const auto c = static_cast<unsigned char>(ch);
    if (c >= 0x20 && c != 0x7F) {
      out += ch;
    } else if (c == '\n') {
      out += "\\n";
    } else if (c == '\r') {
      out += "\\r";
    } else if (c == '\t') {
      out += "\\t";
    } else {
      char buf[8];
      std::snprintf(buf, sizeof buf, "\\x%02x", c);
      out += buf;
    }
  }
  return out;
}

// ------------------------------------------------------------------ architectures

int MlpPolicyArchitecture::act_dim() const {
  switch (kind) {
    case Kind::categorical: return 1;
    case Kind::gaussian_state_independent:
    case Kind::deterministic_tanh: return sizes.back();
    case Kind::gaussian_state_dependent:
    case Kind::squashed_gaussian: return sizes.back() / 2;
  }
  return 0;
}

Eigen::Index MlpPolicyArchitecture::parameter_count() const {
  Eigen::Index d = 0;
  for (std::size_t k = 0; k + 1 < sizes.size(); ++k)
    d += static_cast<Eigen::Index>(sizes[k]) * sizes[k + 1] + sizes[k + 1];
  return kind == Kind::gaussian_state_independent ? d + act_dim() : d;
}

std::string MlpPolicyArchitecture::describe() const {
  std::string s;
  switch (kind) {
    case Kind::categorical: s = "categorical "; break;
    case Kind::gaussian_state_independent: s = "gaussian state-independent-log-std "; break;
    case Kind::gaussian_state_dependent: s = "gaussian state-dependent-log-std "; break;
    case Kind::squashed_gaussian: s = "squashed-gaussian "; break;
    case Kind::deterministic_tanh: s = "deterministic-tanh "; break;
  }
  for (std::size_t k = 0; k < sizes.size(); ++k) {
    if (k > 0) s += '-';
    s += std::to_string(sizes[k]);
  }
  s += ' ';
  return s + activation;
}

std::optional<MlpPolicyArchitecture> parse_mlp_policy(const std::string& architecture) {
  std::istringstream in(architecture);
  std::string kind;
  in >> kind;
  MlpPolicyArchitecture a;
  using Kind = MlpPolicyArchitecture::Kind;
  if (kind == "categorical") {
    a.kind = Kind::categorical;
  } else if (kind == "squashed-gaussian") {
    a.kind = Kind::squashed_gaussian;
  } else if (kind == "deterministic-tanh") {
    a.kind = Kind::deterministic_tanh;
  } else if (kind == "gaussian") {
    std::string log_std;
    in >> log_std;
    if (log_std == "state-independent-log-std") a.kind = Kind::gaussian_state_independent;
    else if (log_std == "state-dependent-log-std") a.kind = Kind::gaussian_state_dependent;
    else throw std::invalid_argument("policy architecture '" + architecture + "': unknown log-std kind '" + log_std + "'");
  } else {
    return std::nullopt;
  }
  std::string sizes_text, extra;
  in >> sizes_text >> a.activation >> extra;
  if (!extra.empty()) throw std::invalid_argument("policy architecture '" + architecture + "': unexpected '" + extra + "'");
  std::stringstream sizes_in(sizes_text);
  for (std::string item; std::getline(sizes_in, item, '-');) {
    int n = 0;
    const auto [end, error] = std::from_chars(item.data(), item.data() + item.size(), n);
    if (error != std::errc() || end != item.data() + item.size() || n < 1 || n > 65536 || a.sizes.size() >= 64)
      throw std::invalid_argument("policy architecture '" + architecture + "': bad layer sizes '" + sizes_text + "'");
    a.sizes.push_back(n);
  }
  if (a.sizes.size() < 2 || sizes_text.back() == '-')
    throw std::invalid_argument("policy architecture '" + architecture + "': needs at least an input and an output size");
  if (a.activation != "tanh" && a.activation != "relu" && a.activation != "identity")
    throw std::invalid_argument("policy architecture '" + architecture + "': unknown activation '" + a.activation + "'");
  if ((a.kind == Kind::gaussian_state_dependent || a.kind == Kind::squashed_gaussian) && a.sizes.back() % 2 != 0)
    throw std::invalid_argument("policy architecture '" + architecture + "': the last layer must output [mu, log sigma], an even number");
  // One spelling per network, so that the file's architecture is exactly the rebuilt policy's.
  if (a.describe() != architecture)
    throw std::invalid_argument("policy architecture '" + architecture + "' is not written as describe() writes it ('" +
                                a.describe() + "': one space between words, no leading zero)");
  return a;
}

void check_policy_fits_env(const std::string& architecture, const MlpPolicyArchitecture& policy, const EnvSpec& env) {
  const std::string who = "a '" + architecture + "' policy cannot act in " + env.name + ": ";
  const bool categorical = policy.kind == MlpPolicyArchitecture::Kind::categorical;
  if (categorical && !env.discrete)
    throw std::invalid_argument(who + "a categorical policy needs a discrete action space, " + env.name + "'s is continuous");
  if (!categorical && env.discrete)
    throw std::invalid_argument(who + "a Gaussian or deterministic policy needs a continuous action space, " + env.name +
                                "'s is discrete");
  if (policy.sizes.front() != env.obs_dim)
    throw std::invalid_argument(who + "it reads " + std::to_string(policy.sizes.front()) + " observations, " +
                                env.name + " has " + std::to_string(env.obs_dim));
  if (categorical && policy.sizes.back() != env.num_actions)
    throw std::invalid_argument(who + "it chooses among " + std::to_string(policy.sizes.back()) + " actions, " +
                                env.name + " has " + std::to_string(env.num_actions));
  if (!categorical && policy.act_dim() != env.act_dim)
    throw std::invalid_argument(who + "its actions have " + std::to_string(policy.act_dim()) + " dimensions, " +
                                env.name + "'s have " + std::to_string(env.act_dim));
}

namespace {

// The tensors an architecture has; `fallback_count` sizes the one tensor `theta` of others.
std::vector<PolicyTensor> layout_of(const std::string& architecture, Eigen::Index fallback_count) {
  std::vector<PolicyTensor> tensors;
  const std::optional<MlpPolicyArchitecture> mlp = parse_mlp_policy(architecture);
  if (!mlp) {
    tensors.push_back({"theta", {fallback_count}, 0, fallback_count});
    return tensors;
  }
  if (mlp->kind == MlpPolicyArchitecture::Kind::deterministic_tanh) {  // one tensor, its size the network's
    const Eigen::Index d = mlp->parameter_count();
    tensors.push_back({"theta", {d}, 0, d});
    return tensors;
  }
  Eigen::Index at = 0;
  auto add = [&](std::string name, std::vector<std::int64_t> shape) {
    Eigen::Index size = 1;
    for (const std::int64_t d : shape) size *= static_cast<Eigen::Index>(d);
    tensors.push_back({std::move(name), std::move(shape), at, size});
    at += size;
  };
  for (std::size_t k = 0; k + 1 < mlp->sizes.size(); ++k) {
    const std::string layer = "pi." + std::to_string(k);
    add(layer + ".weight", {mlp->sizes[k + 1], mlp->sizes[k]});
    add(layer + ".bias", {mlp->sizes[k + 1]});
  }
  if (mlp->kind == MlpPolicyArchitecture::Kind::gaussian_state_independent) add("pi.log_std", {mlp->act_dim()});
  return tensors;
}

Eigen::Index total_size(const std::vector<PolicyTensor>& tensors) {
  Eigen::Index d = 0;
  for (const PolicyTensor& t : tensors) d += t.size;
  return d;
}

}  // namespace

std::vector<PolicyTensor> policy_tensors(const std::string& architecture, Eigen::Index parameter_count) {
  std::vector<PolicyTensor> tensors = layout_of(architecture, parameter_count);
  if (total_size(tensors) != parameter_count)
    throw std::invalid_argument("policy architecture '" + architecture + "' has " +
                                std::to_string(total_size(tensors)) + " parameters, not " +
                                std::to_string(parameter_count));
  return tensors;
}

// ------------------------------------------------------------------ saving

void save_policy_file(const std::string& path, const PolicyFile& policy) {
  for (Eigen::Index i = 0; i < policy.theta.size(); ++i)
    if (!std::isfinite(policy.theta[i]))
      fail(path, "refusing to save non-finite parameters (theta[" + std::to_string(i) + "] = " +
                     std::to_string(policy.theta[i]) + ")");
  std::string env_id;
  try {
    const std::unique_ptr<Env> env = make_env(policy.env);
    env_id = env->name();
    if (const std::optional<MlpPolicyArchitecture> mlp = parse_mlp_policy(policy.architecture))
      check_policy_fits_env(policy.architecture, *mlp, env->spec());
  } catch (const std::invalid_argument& e) {
    fail(path, e.what());
  }
  SafeTensors file;
  try {
    for (const PolicyTensor& t : policy_tensors(policy.architecture, policy.theta.size()))
      file.tensors.push_back({t.name, scalar_dtype(), t.shape, policy.theta.segment(t.offset, t.size)});
  } catch (const std::invalid_argument& e) {
    fail(path, e.what());
  }
  file.metadata = {{"pgcpp_policy_version", kPolicyFileVersion},
                   {"architecture", policy.architecture},
                   {"env", env_id},
                   {"algorithm", policy.algorithm},
                   {"seed", std::to_string(policy.seed)},
                   {"scalar", scalar_name()},
                   {"checksum", checksum_text("")}};
  // The checksum has a fixed width, so the data do not move when it is filled in.
  file.metadata["checksum"] = checksum_text(data_of(encode_safetensors(file)));
  const std::string bytes = encode_safetensors(file);

  const std::string tmp = path + ".tmp";
  try {
    write_file(path, tmp, bytes);
  } catch (...) {
    std::error_code ec;
    fs::remove(tmp, ec);
    throw;
  }
}

// ------------------------------------------------------------------ loading

namespace {

// The whole file, after checking that it is a regular file small enough to hold a policy.
std::string read_policy_bytes(const std::string& path) {
  std::error_code ec;
  const fs::file_status status = fs::status(path, ec);
  if (!fs::exists(status)) fail(path, "cannot open: no such file");
  if (!fs::is_regular_file(status)) fail(path, "not a regular file (a directory, device or pipe)");
  const std::uintmax_t size = fs::file_size(path, ec);
  if (ec) fail(path, "cannot read its size: " + ec.message());
  if (size > kMaxPolicyFileBytes)
    fail(path, "too large: " + std::to_string(size) + " bytes (a policy file holds at most " +
                   std::to_string(kMaxPolicyFileBytes) + ")");
  std::ifstream f(path, std::ios::binary);
  if (!f) fail(path, std::string("cannot open for reading: ") + std::strerror(errno));
  std::string bytes(static_cast<std::size_t>(size), '\0');
  f.read(bytes.data(), static_cast<std::streamsize>(size));
  if (static_cast<std::uintmax_t>(f.gcount()) != size || f.peek() != std::char_traits<char>::eof())
    fail(path, "read error: the file changed size while being read");
  return bytes;
}

// What __metadata__ says, checked: the version, a seed, a known environment (made, to check the
// policy against it at the end), the scalar and the checksum of the data bytes.
struct PolicyMetadata {
  PolicyFile policy;  // without theta
  std::string scalar;
  std::unique_ptr<Env> env;
};

PolicyMetadata read_metadata(const std::string& path, const SafeTensors& file, const std::string& bytes) {
  auto meta = [&](const char* key) -> const std::string& {
    const auto it = file.metadata.find(key);
    if (it == file.metadata.end()) fail(path, std::string("not a pgcpp policy: __metadata__ lacks '") + key + "'");
    return it->second;
  };
  if (meta("pgcpp_policy_version") != kPolicyFileVersion)
    fail(path, "unsupported pgcpp_policy_version '" + meta("pgcpp_policy_version") + "' (this build reads " +
                   kPolicyFileVersion + ")");
  PolicyMetadata m;
  m.policy.architecture = meta("architecture");
  m.policy.algorithm = meta("algorithm");
  if (!parse_u64(meta("seed"), m.policy.seed)) fail(path, "corrupted metadata: seed '" + meta("seed") + "' is not a number");
  try {
    m.env = make_env(meta("env"));
  } catch (const std::invalid_argument& e) {
    fail(path, std::string("corrupted metadata: ") + e.what());
  }
  m.policy.env = m.env->name();
  if (m.policy.env != meta("env")) fail(path, "corrupted metadata: env '" + meta("env") + "' is not a Gymnasium id");
  m.scalar = meta("scalar");
  if (m.scalar != "double" && m.scalar != "float")
    fail(path, "corrupted metadata: scalar '" + m.scalar + "' (expected double or float)");
  const std::string& checksum = meta("checksum");
  const std::string actual = checksum_text(data_of(bytes));
  if (checksum != actual) fail(path, "checksum mismatch: the data are corrupted (" + actual + ", the file says " + checksum + ")");
  return m;
}

// theta from the tensors: exactly the architecture's tensors (layout_of), each with its shape, the
// dtype of the metadata's scalar and finite values.
Vector read_theta(const std::string& path, const SafeTensors& file, const std::string& architecture,
                  const std::string& scalar) {
  Eigen::Index fallback = 0;  // the size of `theta`, for an architecture stored as one tensor
  for (const SafeTensor& t : file.tensors)
    if (t.name == "theta") fallback = t.values.size();
  std::vector<PolicyTensor> layout;
  try {
    layout = layout_of(architecture, fallback);
  } catch (const std::invalid_argument& e) {
    fail(path, e.what());
  }
  for (const SafeTensor& t : file.tensors) {
    bool known = false;
    for (const PolicyTensor& want : layout) known = known || want.name == t.name;
    if (!known) fail(path, "unexpected tensor '" + t.name + "' for a '" + architecture + "' policy");
  }
  // Every tensor checked against the architecture (present, its shape, its dtype) before theta is
  // allocated: the shapes then bound theta's size by the file's (itself at most kMaxPolicyFileBytes).
  std::vector<const SafeTensor*> have_of;
  for (const PolicyTensor& want : layout) {
    const SafeTensor* have = nullptr;
    for (const SafeTensor& t : file.tensors)
      if (t.name == want.name) have = &t;
    if (!have) fail(path, "tensor '" + want.name + "' of a '" + architecture + "' policy is missing");
    if (have->shape != want.shape)
      fail(path, "tensor '" + want.name + "' has shape " + shape_text(have->shape) + ", a '" + architecture +
                     "' policy needs " + shape_text(want.shape));
    if (have->dtype != (scalar == "double" ? "F64" : "F32"))
      fail(path, "tensor '" + want.name + "' is " + have->dtype + " but the metadata say scalar " + scalar);
    have_of.push_back(have);
  }
  Vector theta(total_size(layout));
  for (std::size_t k = 0; k < layout.size(); ++k) {
    const PolicyTensor& want = layout[k];
    const SafeTensor* have = have_of[k];
    for (Eigen::Index i = 0; i < have->values.size(); ++i)
      if (!std::isfinite(have->values[i]))
        fail(path, "tensor '" + want.name + "' element " + std::to_string(i) + " is " +
                       std::to_string(have->values[i]) + ", not a finite number");
    theta.segment(want.offset, want.size) = have->values;
  }
  return theta;
}

}  // namespace

PolicyFile load_policy_file(const std::string& path) {
  const std::string bytes = read_policy_bytes(path);
  SafeTensors file;
  try {
    file = decode_safetensors(bytes);
  } catch (const std::runtime_error& e) {
    fail(path, e.what());
  }
  PolicyMetadata m = read_metadata(path, file, bytes);
  PolicyFile policy = std::move(m.policy);
  policy.path = path;
  policy.theta = read_theta(path, file, policy.architecture, m.scalar);
  if (const std::optional<MlpPolicyArchitecture> mlp = parse_mlp_policy(policy.architecture)) {
    try {
      check_policy_fits_env(policy.architecture, *mlp, m.env->spec());
    } catch (const std::invalid_argument& e) {
      fail(path, e.what());
    }
  }
  return policy;
}

}  // namespace pgcpp
