// policy.safetensors (experiment/policy_file.hpp, safetensors.hpp): the bytes are the
// standard safetensors layout, the tensors mean what PyTorch's nn.Linear means, a saved policy
// comes back exactly, and every damaged, hostile or mismatched file is refused with one message
// naming the file (issue 9: NaN parameters, the wrong policy kind, /dev/zero, a full disk).
#include <doctest/doctest.h>

#include <bit>
#include <cmath>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <limits>
#include <sstream>

#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <csignal>
#include <unistd.h>

#include "chapter3/3_4_9_ddpg.hpp"
#include "experiment/demo.hpp"
#include "experiment/policy_file.hpp"

using namespace pgcpp;
namespace fs = std::filesystem;

namespace {

const fs::path scratch_root = fs::temp_directory_path() / ("pgcpp_test_policy_file_" + std::to_string(::getpid()));
struct RemoveScratch {
  ~RemoveScratch() {
    std::error_code ec;
    fs::remove_all(scratch_root, ec);
  }
} remove_scratch;

fs::path scratch(const std::string& name) {
  fs::path p = scratch_root / name;
  fs::remove_all(p);
  fs::create_directories(p);
  return p;
}

std::string read(const fs::path& p) {
  std::ifstream f(p, std::ios::binary);
  REQUIRE_MESSAGE(f, "cannot read " << p);
  std::stringstream s;
  s << f.rdbuf();
  return s.str();
}

void write(const fs::path& p, const std::string& bytes) {
  std::ofstream f(p, std::ios::binary | std::ios::trunc);
  f.write(bytes.data(), static_cast<std::streamsize>(bytes.size()));
}

std::uint64_t u64_at(const std::string& bytes, std::size_t at) {
  std::uint64_t v = 0;
  for (int i = 0; i < 8; ++i) v |= static_cast<std::uint64_t>(static_cast<unsigned char>(bytes[at + i])) << (8 * i);
  return v;
}

std::string le64(std::uint64_t v) {
  std::string s;
  for (int i = 0; i < 8; ++i) s.push_back(static_cast<char>((v >> (8 * i)) & 0xFF));
  return s;
}

std::string load_error(const fs::path& p) {
  try {
    load_policy_file(p.string());
  } catch (const std::runtime_error& e) {
    return e.what();
  }
  return "";
}

// The element at `index` of a tensor in a file's data, read from the raw bytes.
double element(const std::string& bytes, std::size_t data_offset, std::size_t index) {
  const std::size_t start = 8 + u64_at(bytes, 0) + data_offset;
  if constexpr (sizeof(Scalar) == 8) {
    return std::bit_cast<double>(u64_at(bytes, start + 8 * index));
  } else {
    std::uint32_t v = 0;
    for (int i = 0; i < 4; ++i)
      v |= static_cast<std::uint32_t>(static_cast<unsigned char>(bytes[start + 4 * index + i])) << (8 * i);
    return std::bit_cast<float>(v);
  }
}

// A file that passes every check: a categorical 4-16-8-2 tanh policy for CartPole-v1.
struct Sample {
  std::unique_ptr<CategoricalPolicy> policy;
  PolicyFile file;
};
Sample sample_policy(std::uint64_t seed = 11) {
  Rng rng(seed);
  Sample s{CategoricalPolicy::make(4, {16, 8}, 2, ad::Activation::Tanh, rng), {}};
  s.file = {s.policy->describe(), "CartPole-v1", s.policy->parameters().flatten(), "reinforce", seed};
  return s;
}

// Re-encodes a decoded file after a change, with a valid checksum, so only the change is wrong.
std::string reseal(SafeTensors f) {
  f.metadata["checksum"] = "fnv1a64:0000000000000000";
  const std::string first = encode_safetensors(f);
  char hex[32];
  std::snprintf(hex, sizeof hex, "fnv1a64:%016llx",
                static_cast<unsigned long long>(fnv1a64(std::string_view(first).substr(8 + u64_at(first, 0)))));
  f.metadata["checksum"] = hex;
  return encode_safetensors(f);
}

}  // namespace

// FNV-1a 64 against the published test vectors (the checksum the metadata carry).
TEST_CASE("fnv1a64 matches the published FNV-1a 64 test vectors") {
  CHECK(fnv1a64("") == 0xcbf29ce484222325ull);
  CHECK(fnv1a64("a") == 0xaf63dc4c8601ec8cull);
  CHECK(fnv1a64("foobar") == 0x85944171f73967e8ull);
}

// The safetensors layout: a file written by hand from the format's definition (8-byte LE header
// length, JSON header with space padding, row-major little-endian data) is read as written.
TEST_CASE("decode_safetensors reads a file laid out by hand as the format defines it") {
  std::string header =
      "{\"__metadata__\":{\"format\":\"pt\"},\"b\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[48,56]},"
      "\"a\":{\"dtype\":\"F64\",\"shape\":[2,3],\"data_offsets\":[0,48]}}";
  header.append((8 - header.size() % 8) % 8, ' ');
  std::string data;
  for (double v : {1.0, 2.0, 3.0, 4.0, 5.0, 6.0}) data += le64(std::bit_cast<std::uint64_t>(v));
  for (float v : {-0.5f, 0.25f}) {
    const auto u = std::bit_cast<std::uint32_t>(v);
    for (int i = 0; i < 4; ++i) data.push_back(static_cast<char>((u >> (8 * i)) & 0xFF));
  }
  const SafeTensors f = decode_safetensors(le64(header.size()) + header + data);
  CHECK(f.metadata.at("format") == "pt");
  REQUIRE(f.tensors.size() == 2);
  CHECK(f.tensors[0].name == "a");  // in data order, whatever the header's order
  CHECK(f.tensors[0].dtype == "F64");
  CHECK(f.tensors[0].shape == std::vector<std::int64_t>{2, 3});
  CHECK(f.tensors[0].values[5] == Scalar(6));
  CHECK(f.tensors[1].name == "b");
  CHECK(f.tensors[1].values[0] == Scalar(-0.5));
  CHECK(f.tensors[1].values[1] == Scalar(0.25));
  // And our writer produces the same layout: header length, then JSON, data 8-byte aligned.
  const std::string again = encode_safetensors(f);
  CHECK(u64_at(again, 0) % 8 == 0);
  CHECK(again[8] == '{');
  CHECK(again.size() == 8 + u64_at(again, 0) + 56);
  CHECK(again.substr(8 + u64_at(again, 0)) == data);
}

// The data ranges must tile the data exactly: a gap or an overlap is refused (the reference
// reader's rule), so every byte of the data is some tensor's and the checksum covers only them.
TEST_CASE("decode_safetensors refuses data ranges with a gap or an overlap") {
  const auto file = [](const std::string& header, std::size_t data_bytes) {
    return le64(header.size()) + header + std::string(data_bytes, '\0');
  };
  const auto error = [](const std::string& bytes) {
    try {
      decode_safetensors(bytes);
    } catch (const std::runtime_error& e) {
      return std::string(e.what());
    }
    return std::string();
  };
  const std::string ok = "{\"a\":{\"dtype\":\"F64\",\"shape\":[1],\"data_offsets\":[0,8]},"
                         "\"b\":{\"dtype\":\"F64\",\"shape\":[1],\"data_offsets\":[8,16]}}";
  CHECK(error(file(ok, 16)) == "");
  CHECK(error(file("{\"a\":{\"dtype\":\"F64\",\"shape\":[1],\"data_offsets\":[0,8]},"
                   "\"b\":{\"dtype\":\"F64\",\"shape\":[1],\"data_offsets\":[16,24]}}", 24))
            .find("gap") != std::string::npos);
  CHECK(error(file("{\"a\":{\"dtype\":\"F64\",\"shape\":[2],\"data_offsets\":[0,16]},"
                   "\"b\":{\"dtype\":\"F64\",\"shape\":[1],\"data_offsets\":[8,16]}}", 16))
            .find("overlapping") != std::string::npos);
  CHECK(error(file(ok, 17)).find("trailing") != std::string::npos);
  CHECK(error(file(ok, 15)).find("truncated") != std::string::npos);
  CHECK(error(file("{\"a\":{\"dtype\":\"F64\",\"shape\":[1,1,1,1,1,1,1,1,1],\"data_offsets\":[0,8]}}", 8))
            .find("dimensions") != std::string::npos);
  CHECK(error(file("{\"a\":[[[[[[[[[[1]]]]]]]]]]}", 0)).find("nested deeper") != std::string::npos);
  CHECK(error(file("{\"__metadata__\":{\"k\":\"\\u00e9\\ud83d\\ude00\"}}", 0)) == "");
  CHECK(decode_safetensors(file("{\"__metadata__\":{\"k\":\"\\u00e9\\ud83d\\ude00\"}}", 0)).metadata.at("k") ==
        "\xc3\xa9\xf0\x9f\x98\x80");  // UTF-8 of U+00E9 and U+1F600 (a surrogate pair)
  CHECK(error(file("{\"__metadata__\":{\"k\":\"\\ud83d\"}}", 0)).find("surrogate") != std::string::npos);
}

TEST_CASE("policy.safetensors round-trips a policy exactly, with its metadata, and leaves no .tmp") {
  const Sample s = sample_policy();
  const fs::path p = scratch("roundtrip") / kPolicyFileName;
  save_policy_file(p.string(), s.file);
  const PolicyFile q = load_policy_file(p.string());
  CHECK(q.architecture == "categorical 4-16-8-2 tanh");
  CHECK(q.env == "CartPole-v1");
  CHECK(q.algorithm == "reinforce");
  CHECK(q.seed == 11);
  CHECK(q.theta == s.file.theta);
  CHECK(!fs::exists(p.string() + ".tmp"));
  // An existing file is replaced whole.
  const Sample other = sample_policy(12);
  save_policy_file(p.string(), other.file);
  CHECK(load_policy_file(p.string()).theta == other.file.theta);
}

// The tensors mean what torch.nn.Linear means: pi.k.weight is [out, in] (our W transposed) and
// layer k computes h W^T + b. A forward pass written here from the file's bytes alone, row-major,
// gives the policy's logits. Fails if W is stored untransposed, layers are misnamed or misordered.
TEST_CASE("the file's tensors are nn.Linear layers: a forward pass from the raw bytes gives the logits") {
  const Sample s = sample_policy();
  const fs::path p = scratch("layout") / kPolicyFileName;
  save_policy_file(p.string(), s.file);
  const std::string bytes = read(p);
  const std::string header = bytes.substr(8, u64_at(bytes, 0));
  const std::string dtype = sizeof(Scalar) == 8 ? "F64" : "F32";
  const std::size_t w = sizeof(Scalar);
  // Expected entries, from the architecture 4-16-8-2 alone.
  struct Layer {
    int in, out;
    std::size_t weight_at, bias_at;
  };
  std::vector<Layer> layers;
  std::size_t at = 0;
  const int sizes[] = {4, 16, 8, 2};
  for (int k = 0; k < 3; ++k) {
    Layer l{sizes[k], sizes[k + 1], at, at + w * sizes[k] * sizes[k + 1]};
    at = l.bias_at + w * l.out;
    layers.push_back(l);
    const std::string weight = "\"pi." + std::to_string(k) + ".weight\":{\"dtype\":\"" + dtype + "\",\"shape\":[" +
                               std::to_string(l.out) + "," + std::to_string(l.in) + "],\"data_offsets\":[" +
                               std::to_string(l.weight_at) + "," + std::to_string(l.bias_at) + "]}";
    const std::string bias = "\"pi." + std::to_string(k) + ".bias\":{\"dtype\":\"" + dtype + "\",\"shape\":[" +
                             std::to_string(l.out) + "],\"data_offsets\":[" + std::to_string(l.bias_at) + "," +
                             std::to_string(at) + "]}";
    CHECK_MESSAGE(header.find(weight) != std::string::npos, weight << " not in " << header);
    CHECK_MESSAGE(header.find(bias) != std::string::npos, bias << " not in " << header);
  }
  CHECK(bytes.size() == 8 + header.size() + at);
  for (const char* key : {"\"architecture\":\"categorical 4-16-8-2 tanh\"", "\"env\":\"CartPole-v1\"",
                          "\"algorithm\":\"reinforce\"", "\"seed\":\"11\"", "\"pgcpp_policy_version\":\"1\"",
                          "\"checksum\":\"fnv1a64:"})
    CHECK_MESSAGE(header.find(key) != std::string::npos, key);
  CHECK(header.find(sizeof(Scalar) == 8 ? "\"scalar\":\"double\"" : "\"scalar\":\"float\"") != std::string::npos);

  Rng rng(5);
  for (int trial = 0; trial < 5; ++trial) {
    Matrix obs(1, 4);
    std::vector<double> h(4);
    for (int j = 0; j < 4; ++j) h[static_cast<std::size_t>(j)] = obs(0, j) = static_cast<Scalar>(rng.normal());
    for (std::size_t k = 0; k < layers.size(); ++k) {
      const Layer& l = layers[k];
      std::vector<double> next(static_cast<std::size_t>(l.out));
      for (int o = 0; o < l.out; ++o) {
        double z = element(bytes, l.bias_at, static_cast<std::size_t>(o));
        for (int i = 0; i < l.in; ++i)
          z += element(bytes, l.weight_at, static_cast<std::size_t>(o * l.in + i)) * h[static_cast<std::size_t>(i)];
        next[static_cast<std::size_t>(o)] = k + 1 < layers.size() ? std::tanh(z) : z;
      }
      h = next;
    }
    const Matrix logits = s.policy->params_of(obs);
    const double tol = sizeof(Scalar) == 8 ? 1e-12 : 1e-4;  // summation order differs
    CHECK(std::abs(logits(0, 0) - h[0]) < tol);
    CHECK(std::abs(logits(0, 1) - h[1]) < tol);
  }
}

TEST_CASE("every MLP policy kind has its tensors, other architectures are one tensor theta") {
  const auto names = [](const std::string& arch, Eigen::Index d) {
    std::string s;
    for (const PolicyTensor& t : policy_tensors(arch, d)) {
      s += t.name + "[";
      for (std::size_t i = 0; i < t.shape.size(); ++i) {
        if (i) s += ',';
        s += std::to_string(t.shape[i]);
      }
      s.append("]@").append(std::to_string(t.offset)).append(" ");
    }
    return s;
  };
  CHECK(names("gaussian state-independent-log-std 3-8-1 tanh", 32 + 9 + 1) ==
        "pi.0.weight[8,3]@0 pi.0.bias[8]@24 pi.1.weight[1,8]@32 pi.1.bias[1]@40 pi.log_std[1]@41 ");
  CHECK(names("squashed-gaussian 3-4-2 relu", 16 + 10) == "pi.0.weight[4,3]@0 pi.0.bias[4]@12 pi.1.weight[2,4]@16 pi.1.bias[2]@24 ");
  CHECK(names("linear-threshold 4", 4) == "theta[4]@0 ");
  CHECK_THROWS_AS(policy_tensors("categorical 4-16-2 tanh", 5), std::invalid_argument);  // count mismatch
  CHECK_THROWS_AS(policy_tensors("categorical 4-x-2 tanh", 5), std::invalid_argument);
  CHECK_THROWS_AS(policy_tensors("categorical 4-2 sigmoid", 10), std::invalid_argument);
  CHECK_THROWS_AS(policy_tensors("gaussian 3-2 tanh", 8), std::invalid_argument);
  CHECK_THROWS_AS(policy_tensors("squashed-gaussian 3-3 tanh", 12), std::invalid_argument);  // odd [mu, log sigma]
}

// Issue 9: a policy is checked against the environment it claims: its kind (categorical for a
// discrete action space, Gaussian for a continuous one), observation size and action count.
TEST_CASE("check_policy_fits_env: the policy kind and sizes must match the environment") {
  const EnvSpec cartpole = make_env("CartPole-v1")->spec(), pendulum = make_env("Pendulum-v1")->spec();
  const auto fits = [](const std::string& arch, const EnvSpec& env) {
    try {
      check_policy_fits_env(arch, *parse_mlp_policy(arch), env);
    } catch (const std::invalid_argument& e) {
      return std::string(e.what());
    }
    return std::string("fits");
  };
  CHECK(fits("categorical 4-16-2 tanh", cartpole) == "fits");
  CHECK(fits("gaussian state-independent-log-std 3-16-1 tanh", pendulum) == "fits");
  CHECK(fits("squashed-gaussian 3-16-2 tanh", pendulum) == "fits");
  CHECK(fits("categorical 3-16-2 tanh", pendulum).find("discrete action space") != std::string::npos);
  CHECK(fits("gaussian state-dependent-log-std 4-16-2 tanh", cartpole).find("continuous action space") != std::string::npos);
  CHECK(fits("categorical 3-16-2 tanh", cartpole).find("reads 3 observations") != std::string::npos);
  CHECK(fits("categorical 4-16-3 tanh", cartpole).find("among 3 actions") != std::string::npos);
  CHECK(fits("squashed-gaussian 3-16-4 tanh", pendulum).find("2 dimensions") != std::string::npos);
}

TEST_CASE("a damaged policy.safetensors is a one-line error naming the file and the problem") {
  const fs::path dir = scratch("corrupt");
  const fs::path good = dir / kPolicyFileName;
  const Sample s = sample_policy();
  save_policy_file(good.string(), s.file);
  const std::string bytes = read(good);
  const std::size_t n = u64_at(bytes, 0);
  const SafeTensors decoded = decode_safetensors(bytes);

  int count = 0;
  auto error_of = [&](const std::string& content) {
    const fs::path p = dir / ("variant" + std::to_string(++count) + ".safetensors");
    write(p, content);
    const std::string error = load_error(p);
    INFO(p.filename().string() << ": " << error);
    CHECK(error.find("'" + p.string() + "'") != std::string::npos);
    CHECK(error.find('\n') == std::string::npos);
    return error;
  };
  auto has = [](const std::string& error, const char* word) {
    INFO(error);
    CHECK_MESSAGE(error.find(word) != std::string::npos, "expected '" << word << "' in: " << error);
  };

  // A flipped bit in the data: first, middle and last byte.
  for (std::size_t at : {8 + n, 8 + n + (bytes.size() - 8 - n) / 2, bytes.size() - 1}) {
    std::string flipped = bytes;
    flipped[at] = static_cast<char>(flipped[at] ^ 0x10);
    has(error_of(flipped), "checksum mismatch");
  }
  // Cut anywhere: inside the length, inside the header, inside the data.
  for (std::size_t keep : {std::size_t(0), std::size_t(5), std::size_t(9), 8 + n / 2, 8 + n + 3, bytes.size() - 1})
    has(error_of(bytes.substr(0, keep)), "truncated");
  has(error_of(bytes + "x"), "trailing");
  has(error_of(le64(std::uint64_t(1) << 40) + bytes.substr(8)), "exceeds the limit");
  has(error_of(le64(n) + "[" + bytes.substr(9)), "not a JSON object");
  {  // the length says less than the header's JSON: the JSON is cut
    std::string shorter = bytes;
    shorter.replace(0, 8, le64(n - 16));
    error_of(shorter);
  }
  // Headers that are not the JSON they should be (the data kept, lengths adjusted).
  const std::string data = bytes.substr(8 + n);
  const std::string h = bytes.substr(8, n);
  auto with_header = [&](std::string header) { return le64(header.size()) + header + data; };
  auto replace = [&](std::string text, const std::string& from, const std::string& to) {
    const std::size_t at = text.find(from);
    REQUIRE_MESSAGE(at != std::string::npos, from);
    return text.replace(at, from.size(), to);
  };
  const std::string dt = sizeof(Scalar) == 8 ? "F64" : "F32";
  has(error_of(with_header(replace(h, "\"dtype\":\"" + dt + "\"", "\"dtype\":\"I64\""))), "unsupported dtype");
  has(error_of(with_header(replace(h, "\"shape\":[16,4]", "\"shape\":[16,5]"))), "need");
  has(error_of(with_header(replace(h, "\"shape\":[16,4]", "\"shape\":[4,16]"))), "has shape [4, 16]");
  has(error_of(with_header(replace(h, "\"shape\":[16,4]", "\"shape\":[16,4.0]"))), "fraction");
  has(error_of(with_header(replace(h, "\"shape\":[16,4]", "\"shape\":[16,-4]"))), "unexpected '-'");
  has(error_of(with_header(replace(h, "\"shape\":[16,4]", "\"shape\":[99999999999999999999]"))), "too large");
  has(error_of(with_header(replace(h, "\"shape\":[16,4]", "\"shape\":null"))), "unexpected 'n'");
  has(error_of(with_header(replace(h, "\"pi.0.bias\"", "\"pi.0.weight\""))), "duplicate key");
  has(error_of(with_header(replace(h, "\"pi.2.bias\"", "\"pi.2.bias2\""))), "unexpected tensor 'pi.2.bias2'");
  has(error_of(with_header(replace(h, "\"dtype\"", "\"dtipe\""))), "unknown field");
  has(error_of(with_header(replace(h, "\"env\":\"CartPole-v1\"", "\"env\":\"Cartpole-v9\""))), "unknown environment");
  has(error_of(with_header(replace(h, "\"env\":\"CartPole-v1\"", "\"env\":\"cartpole\""))), "not a Gymnasium id");
  has(error_of(with_header(replace(h, "\"seed\":\"11\"", "\"seed\":\"1x\""))), "seed");
  has(error_of(with_header(replace(h, "\"pgcpp_policy_version\":\"1\"", "\"pgcpp_policy_version\":\"7\""))), "version '7'");
  has(error_of(with_header(replace(h, "\"pgcpp_policy_version\":\"1\",", ""))), "lacks 'pgcpp_policy_version'");
  has(error_of(with_header(replace(h, "\"seed\":\"11\"", "\"seed\":11"))), "not a string");
  has(error_of(with_header(replace(h, "\"architecture\":\"categorical", "\"architecture\":\"categorical\x01"))),
      "control character");
  has(error_of(with_header(replace(h, "\"architecture\":\"categorical", "\"architecture\":\"categorical\xff"))),
      "invalid UTF-8");
  has(error_of(with_header(h + "x")), "after the JSON object");
  has(error_of(with_header(replace(h, "\"data_offsets\":[0,", "\"data_offsets\":[8,"))), "hold");
  // An F32 tensor in a file whose metadata say scalar double (or the other way round).
  {
    SafeTensors f = decoded;
    f.tensors[0].dtype = sizeof(Scalar) == 8 ? "F32" : "F64";
    has(error_of(reseal(f)), "metadata say scalar");
  }
  // A tensor of the architecture left out.
  {
    SafeTensors f = decoded;
    f.tensors.erase(f.tensors.begin() + 1);
    has(error_of(reseal(f)), "tensor 'pi.0.bias' of a 'categorical 4-16-8-2 tanh' policy is missing");
  }
  // A tensor the architecture does not have.
  {
    SafeTensors f = decoded;
    f.tensors.push_back({"pi.extra", sizeof(Scalar) == 8 ? "F64" : "F32", {1}, Vector::Zero(1)});
    has(error_of(reseal(f)), "unexpected tensor 'pi.extra'");
  }
  CHECK(load_error(dir / "absent.safetensors").find("no such file") != std::string::npos);
}

// Issue 9: --load accepted a file whose parameters are NaN or infinite (with a valid checksum).
TEST_CASE("a policy file with NaN or infinite parameters and a valid checksum is refused") {
  const fs::path dir = scratch("nonfinite");
  const SafeTensors decoded = [&] {
    const fs::path p = dir / "good.safetensors";
    save_policy_file(p.string(), sample_policy().file);
    return decode_safetensors(read(p));
  }();
  for (const Scalar bad : {std::numeric_limits<Scalar>::quiet_NaN(), std::numeric_limits<Scalar>::infinity(),
                           -std::numeric_limits<Scalar>::infinity()}) {
    SafeTensors f = decoded;
    f.tensors[3].values[2] = bad;
    const fs::path p = dir / "bad.safetensors";
    write(p, reseal(f));
    const std::string error = load_error(p);
    INFO(error);
    CHECK(error.find("'" + f.tensors[3].name + "' element 2") != std::string::npos);
    CHECK(error.find("not a finite number") != std::string::npos);
  }
  PolicyFile nan = sample_policy().file;
  nan.theta[7] = std::numeric_limits<Scalar>::quiet_NaN();
  CHECK_THROWS_WITH_AS(save_policy_file((dir / "nan.safetensors").string(), nan),
                       doctest::Contains("non-finite parameters (theta[7]"), std::runtime_error);
  CHECK(!fs::exists(dir / "nan.safetensors"));
}

// Issue 9: a categorical policy made for Pendulum-v1 was accepted by CartPole's loader, and vice
// versa. Files claiming the wrong environment for their policy kind are refused at load time.
TEST_CASE("a policy file whose policy cannot act in its environment is refused") {
  const fs::path dir = scratch("mismatch");
  const SafeTensors cartpole = [&] {
    const fs::path p = dir / "good.safetensors";
    save_policy_file(p.string(), sample_policy().file);
    return decode_safetensors(read(p));
  }();
  SafeTensors f = cartpole;
  f.metadata["env"] = "Pendulum-v1";
  write(dir / "categorical_for_pendulum.safetensors", reseal(f));
  CHECK(load_error(dir / "categorical_for_pendulum.safetensors").find("discrete action space") != std::string::npos);

  // A Gaussian policy for Pendulum-v1 relabelled as CartPole-v1's.
  Rng rng(3);
  GaussianPolicy gaussian(ad::Mlp({3, 8, 1}, ad::Activation::Tanh, rng), 1, GaussianPolicy::LogStd::StateIndependent);
  const PolicyFile pendulum{gaussian.describe(), "Pendulum-v1", gaussian.parameters().flatten(), "test", 3};
  save_policy_file((dir / "gaussian.safetensors").string(), pendulum);
  CHECK(load_policy_file((dir / "gaussian.safetensors").string()).theta == pendulum.theta);
  SafeTensors g = decode_safetensors(read(dir / "gaussian.safetensors"));
  g.metadata["env"] = "CartPole-v1";
  write(dir / "gaussian_for_cartpole.safetensors", reseal(g));
  CHECK(load_error(dir / "gaussian_for_cartpole.safetensors").find("continuous action space") != std::string::npos);
  // The writer refuses to make such a file in the first place.
  PolicyFile wrong = pendulum;
  wrong.env = "CartPole-v1";
  CHECK_THROWS_AS(save_policy_file((dir / "w.safetensors").string(), wrong), std::runtime_error);
  CHECK(!fs::exists(dir / "w.safetensors"));
  CHECK(!fs::exists(dir / "w.safetensors.tmp"));
}

// Issue 9: --load /dev/zero hung. Only regular files of bounded size are read.
TEST_CASE("directories, devices, pipes and oversized files are refused without reading them") {
  const fs::path dir = scratch("odd");
  CHECK(load_error(dir).find("not a regular file") != std::string::npos);
  CHECK(load_error("/dev/zero").find("not a regular file") != std::string::npos);
  const fs::path fifo = dir / "fifo";
  REQUIRE(::mkfifo(fifo.c_str(), 0600) == 0);
  CHECK(load_error(fifo).find("not a regular file") != std::string::npos);  // would block on open
  const fs::path big = dir / "big.safetensors";
  write(big, "");
  fs::resize_file(big, kMaxPolicyFileBytes + 1);  // sparse: takes no disk space
  CHECK(load_error(big).find("too large") != std::string::npos);
}

// Issue 9: a full disk left an orphan policy.bin.tmp. A write that fails half-way (the file size
// limit RLIMIT_FSIZE makes write() fail with EFBIG, as a full disk fails with ENOSPC) leaves
// neither the .tmp nor a partial file. Run in a child process, which alone gets the limit.
TEST_CASE("a save that fails half-way removes its .tmp file and leaves no partial policy file") {
  const fs::path dir = scratch("full");
  const fs::path p = dir / kPolicyFileName;
  const pid_t pid = ::fork();
  REQUIRE(pid >= 0);
  if (pid == 0) {
    std::signal(SIGXFSZ, SIG_IGN);
    rlimit limit{1000, 1000};  // the file is ~1.5 kB
    ::setrlimit(RLIMIT_FSIZE, &limit);
    int code = 3;
    try {
      save_policy_file(p.string(), sample_policy().file);
      code = 4;  // the save should have failed
    } catch (const std::runtime_error& e) {
      code = std::string(e.what()).find("write to") != std::string::npos ? 0 : 5;
    }
    ::_exit(code);
  }
  int status = 0;
  REQUIRE(::waitpid(pid, &status, 0) == pid);
  REQUIRE(WIFEXITED(status));
  CHECK(WEXITSTATUS(status) == 0);
  CHECK(!fs::exists(p));
  CHECK(!fs::exists(p.string() + ".tmp"));
  // A folder that does not exist: the error names the path, nothing is left behind.
  CHECK_THROWS_WITH_AS(save_policy_file((dir / "no" / "such" / "p.safetensors").string(), sample_policy().file),
                       doctest::Contains("cannot open"), std::runtime_error);
}

// A float build's file (F32, scalar float) loads into any build, rounded values kept exactly.
TEST_CASE("a file of F32 tensors loads with exactly its float values") {
  const fs::path dir = scratch("f32");
  SafeTensors f = [&] {
    const fs::path p = dir / "good.safetensors";
    save_policy_file(p.string(), sample_policy().file);
    return decode_safetensors(read(p));
  }();
  f.metadata["scalar"] = "float";
  for (SafeTensor& t : f.tensors) {
    t.dtype = "F32";
    for (Eigen::Index i = 0; i < t.values.size(); ++i) t.values[i] = static_cast<Scalar>(static_cast<float>(t.values[i]));
  }
  write(dir / "f32.safetensors", reseal(f));
  const PolicyFile q = load_policy_file((dir / "f32.safetensors").string());
  const Vector theta = sample_policy().file.theta;
  REQUIRE(q.theta.size() == theta.size());
  for (Eigen::Index i = 0; i < theta.size(); ++i) CHECK(q.theta[i] == static_cast<Scalar>(static_cast<float>(theta[i])));
}

// rebuild_policy: every MLP policy kind comes back from its file with the same distribution
// parameters; descriptions it cannot rebuild and policies that do not fit their env throw.
TEST_CASE("rebuild_policy rebuilds every MLP policy kind from its file") {
  Rng rng(21);
  std::vector<std::pair<std::shared_ptr<Policy>, std::string>> policies;
  policies.emplace_back(CategoricalPolicy::make(4, {16, 8}, 2, ad::Activation::Tanh, rng), "CartPole-v1");
  policies.emplace_back(std::make_shared<GaussianPolicy>(ad::Mlp({3, 8, 1}, ad::Activation::ReLU, rng), 1,
                                                         GaussianPolicy::LogStd::StateIndependent, Scalar(-0.7)),
                        "Pendulum-v1");
  policies.emplace_back(std::make_shared<GaussianPolicy>(ad::Mlp({3, 8, 2}, ad::Activation::Tanh, rng), 1,
                                                         GaussianPolicy::LogStd::StateDependent),
                        "Pendulum-v1");
  const auto pendulum = make_env("Pendulum-v1");
  policies.emplace_back(std::make_shared<SquashedGaussianPolicy>(ad::Mlp({3, 8, 2}, ad::Activation::Tanh, rng),
                                                                 pendulum->action_low(), pendulum->action_high()),
                        "Pendulum-v1");
  const fs::path dir = scratch("rebuild");
  for (const auto& [policy, env] : policies) {
    INFO(policy->describe());
    const fs::path p = dir / kPolicyFileName;
    save_policy_file(p.string(), {policy->describe(), env, policy->parameters().flatten(), "test", 1});
    const std::unique_ptr<Policy> back = rebuild_policy(load_policy_file(p.string()));
    CHECK(back->describe() == policy->describe());
    CHECK(back->parameters().flatten() == policy->parameters().flatten());
    const Matrix obs = Matrix::Random(20, policy->parameters()[0].rows());
    CHECK(back->params_of(obs) == policy->params_of(obs));
    CHECK(back->mode(back->params_of(obs)) == policy->mode(policy->params_of(obs)));
  }
  const Vector theta = policies[0].first->parameters().flatten();
  CHECK_THROWS_AS(rebuild_policy({"linear-threshold 4", "CartPole-v1", Vector::Zero(4)}), std::invalid_argument);
  CHECK_THROWS_AS(rebuild_policy({"categorical 4-16-8-2 tanh", "Pendulum-v1", theta}), std::invalid_argument);
  CHECK_THROWS_AS(rebuild_policy({"categorical 4-16-2 tanh", "CartPole-v1", theta}), std::invalid_argument);
  CHECK_THROWS_AS(rebuild_policy({"categorical  4-16-8-2 tanh", "CartPole-v1", theta}), std::invalid_argument);
  CHECK_THROWS_AS(rebuild_policy({"categorical 4-16-8-2 sigmoid", "CartPole-v1", theta}), std::invalid_argument);
}

namespace {

// A file of `architecture` with the given tensors, the metadata otherwise those of a valid file.
fs::path crafted(const fs::path& p, const std::string& env, const std::string& architecture,
                 std::vector<SafeTensor> tensors) {
  const fs::path good = p.parent_path() / "good.safetensors";
  save_policy_file(good.string(), sample_policy().file);
  SafeTensors f = decode_safetensors(read(good));
  f.metadata["env"] = env;
  f.metadata["architecture"] = architecture;
  f.tensors = std::move(tensors);
  write(p, reseal(std::move(f)));
  return p;
}

SafeTensor tensor(const std::string& name, std::vector<std::int64_t> shape, std::vector<Scalar> values) {
  return {name, sizeof(Scalar) == 8 ? "F64" : "F32", std::move(shape),
          Eigen::Map<const Vector>(values.data(), static_cast<Eigen::Index>(values.size()))};
}

// The process's virtual memory in bytes (VmSize of /proc/self/status).
rlim_t virtual_memory_bytes() {
  std::ifstream status("/proc/self/status");
  for (std::string line; std::getline(status, line);)
    if (line.rfind("VmSize:", 0) == 0) return static_cast<rlim_t>(std::stoull(line.substr(7))) * 1024;
  return 0;
}

}  // namespace

// Audit bug: a tiny file declaring a huge network was sized from its architecture before its tensors
// were checked (std::bad_alloc), and DDPG's restore built a 3.1 GB actor before comparing counts.
TEST_CASE("a small policy file declaring a huge network is refused before anything is allocated") {
  const fs::path dir = scratch("huge");
  const fs::path no_tensors = crafted(dir / "no_tensors.safetensors", "CartPole-v1",
                                      "categorical 4-65536-65536-65536-65536-2 tanh", {});
  std::string error = load_error(no_tensors);  // before: std::bad_alloc
  CHECK(error.find("'" + no_tensors.string() + "'") != std::string::npos);
  CHECK(error.find("tensor 'pi.0.weight' of a 'categorical 4-65536-65536-65536-65536-2 tanh' policy is missing") !=
        std::string::npos);
  const fs::path actor = crafted(dir / "actor.safetensors", "Pendulum-v1", "deterministic-tanh 3-20000-20000-1 relu",
                                 {tensor("theta", {5}, {0, 0, 0, 0, 0})});
  error = load_error(actor);  // before: loaded, then restore_policy built the whole actor
  CHECK(error.find("'" + actor.string() + "'") != std::string::npos);
  CHECK(error.find("has shape [5], a 'deterministic-tanh 3-20000-20000-1 relu' policy needs [400120001]") !=
        std::string::npos);
  // A PolicyFile made in memory: restore_policy compares the counts before building, so it throws
  // std::invalid_argument even in a child whose address space has no room for the network.
  const pid_t pid = ::fork();
  REQUIRE(pid >= 0);
  if (pid == 0) {
    const rlim_t room = virtual_memory_bytes() + (rlim_t{256} << 20);
    rlimit limit{room, room};
    ::setrlimit(RLIMIT_AS, &limit);
    int code = 3;
    try {
      restore_policy({"deterministic-tanh 3-20000-20000-1 relu", "Pendulum-v1", Vector::Zero(5)});
      code = 4;
    } catch (const std::invalid_argument& e) {
      code = std::string(e.what()).find("400120001 parameters, the file holds 5") != std::string::npos ? 0 : 5;
    } catch (...) {
      code = 6;  // std::bad_alloc: the network was built first
    }
    ::_exit(code);
  }
  int status = 0;
  REQUIRE(::waitpid(pid, &status, 0) == pid);
  REQUIRE(WIFEXITED(status));
  CHECK(WEXITSTATUS(status) == 0);
}

// Audit bug: an architecture with a double or trailing space (or a newline) loaded, and the rebuild's
// error then named neither the file nor stayed on one line.
TEST_CASE("an architecture not written as describe() writes it is refused, naming the file, on one line") {
  const fs::path dir = scratch("spelling");
  const std::vector<SafeTensor> layer = {tensor("pi.0.weight", {2, 4}, {1, 2, 3, 4, 5, 6, 7, 8}),
                                         tensor("pi.0.bias", {2}, {0, 0})};
  for (const std::string architecture : {"categorical  4-2 tanh", "categorical 4-2 tanh ", "categorical 4-02 tanh",
                                         " categorical 4-2 tanh", "categorical 4-2 tanh\n"}) {
    const fs::path p = crafted(dir / "arch\nname.safetensors", "CartPole-v1", architecture, layer);
    const std::string error = load_error(p);
    INFO(error);
    CHECK(error.find("policy file '" + (dir / "arch\\nname.safetensors").string() + "'") != std::string::npos);
    CHECK(error.find("is not written as describe() writes it") != std::string::npos);
    CHECK(error.find('\n') == std::string::npos);
  }
  const fs::path ok = crafted(dir / "ok.safetensors", "CartPole-v1", "categorical 4-2 tanh", layer);
  CHECK(load_error(ok) == "");
}

// Audit bug: --load of a valid file whose policy the demo cannot rebuild (here a linear policy, once
// DDPG's into PPO) said what was wrong but not in which file.
TEST_CASE("restore_policy's errors name the policy file") {
  const fs::path dir = scratch("restore");
  const fs::path p = crafted(dir / "linear.safetensors", "CartPole-v1", "linear-threshold 4",
                             {tensor("theta", {4}, {1, 2, 3, 4})});
  const PolicyFile file = load_policy_file(p.string());
  CHECK(file.path == p.string());
  CHECK_THROWS_WITH_AS(restore_policy(file),
                       doctest::Contains(("policy file '" + p.string() + "': policy architecture 'linear-threshold 4'").c_str()),
                       std::invalid_argument);
  // DDPG's mu_theta and a stochastic policy both come back through the one restore_policy.
  Rng rng(4);
  const auto pendulum = make_env("Pendulum-v1");
  DeterministicActor mu(ad::Mlp({3, 8, 1}, ad::Activation::ReLU, rng, ad::Activation::Tanh), pendulum->action_low(),
                        pendulum->action_high());
  save_policy_file((dir / "ddpg.safetensors").string(), {mu.describe(), "Pendulum-v1", mu.parameters().flatten(), "ddpg", 4});
  const ActFn act = restore_policy(load_policy_file((dir / "ddpg.safetensors").string()));
  const Eigen::VectorXd s = Eigen::Vector3d(0.5, -0.2, 1.0);
  CHECK(act(s) == mu.act(s));
}

// Audit bug: finite but huge weights (1e300) overflowed to a NaN action, and the error was the
// environment's ("action must be finite"), naming no file.
TEST_CASE("a policy whose finite parameters overflow to a NaN action is an error naming the file") {
  const fs::path dir = scratch("overflow");
  const Scalar big = sizeof(Scalar) == 8 ? Scalar(1e300) : Scalar(1e30);
  // Identity hidden units of +-infinity, so the output is inf - inf = NaN.
  const fs::path p = crafted(dir / "overflow.safetensors", "Pendulum-v1",
                             "gaussian state-independent-log-std 3-2-1 identity",
                             {tensor("pi.0.weight", {2, 3}, {big, big, big, big, big, big}), tensor("pi.0.bias", {2}, {0, 0}),
                              tensor("pi.1.weight", {1, 2}, {big, -big}), tensor("pi.1.bias", {1}, {0}),
                              tensor("pi.log_std", {1}, {0})});
  const ActFn act = restore_policy(load_policy_file(p.string()));
  CHECK_THROWS_WITH_AS(act(Eigen::Vector3d(1.0, 0.0, 0.0)),
                       doctest::Contains(("policy file '" + p.string() + "': the policy's action is not a finite number").c_str()),
                       std::runtime_error);
}
