// compare's reading of run folders (declared in compare_runs.hpp). Every file is treated as
// possibly hostile: only regular files of bounded size are opened (a FIFO would block the open
// forever, /dev/zero never ends), and every number is checked before it is used.
#include "compare_runs.hpp"

#include <algorithm>
#include <charconv>
#include <cmath>
#include <cstdio>
#include <fstream>
#include <iterator>
#include <limits>
#include <sstream>
#include <stdexcept>

namespace pgcpp::compare {

namespace fs = std::filesystem;

std::string shown(const fs::path& path) {
  std::string out = "'";
  for (const char ch : path.string()) {
    const auto c = static_cast<unsigned char>(ch);
    if (c >= 0x20 && c != 0x7F) {
      out += ch;
    } else if (c == '\n') {
      out += "\\n";
    } else {
      char buf[8];
      std::snprintf(buf, sizeof buf, "\\x%02x", c);
      out += buf;
    }
  }
  return out + "'";
}

namespace {

constexpr double kNaN = std::numeric_limits<double>::quiet_NaN();

// The whole of a regular file of at most max_bytes (a symbolic link: what it points to).
std::string read_small_file(const fs::path& file, std::uintmax_t max_bytes) {
  std::error_code ec;
  const fs::file_status status = fs::status(file, ec);
  if (!fs::exists(status)) throw std::runtime_error(shown(file) + " is missing");
  if (!fs::is_regular_file(status)) throw std::runtime_error(shown(file) + " is not a regular file (a device, pipe or folder)");
  const std::uintmax_t size = fs::file_size(file, ec);
  if (ec) throw std::runtime_error("cannot read the size of " + shown(file) + ": " + ec.message());
  if (size > max_bytes)
    throw std::runtime_error(shown(file) + " is too large: " + std::to_string(size) + " bytes (at most " +
                             std::to_string(max_bytes) + " here)");
  std::ifstream in(file, std::ios::binary);
  if (!in) throw std::runtime_error("cannot read " + shown(file));
  std::string text;
  text.reserve(static_cast<std::size_t>(size));
  // The bound holds even if the file grows while it is read.
  char buf[1 << 16];
  while (in.read(buf, sizeof buf) || in.gcount() > 0) {
    text.append(buf, static_cast<std::size_t>(in.gcount()));
    if (text.size() > max_bytes)
      throw std::runtime_error(shown(file) + " grew beyond " + std::to_string(max_bytes) + " bytes while being read");
  }
  return text;
}

// ---- summary.json: a small JSON reader (numbers, true, false and null kept as their text) ----

struct Json {
  enum class Kind { null, boolean, number, string, array, object } kind = Kind::null;
  std::string text;                                    // a scalar: the number's text, or the decoded string
  // An object's members in order, as two parallel lists: a std::pair<std::string, Json> member
  // would need Json complete here (libstdc++ with Clang rejects it); std::vector<Json> does not.
  std::vector<std::string> keys;
  std::vector<Json> values;
  std::vector<Json> items;  // array
  const Json* find(const std::string& key) const {
    for (std::size_t i = 0; i < keys.size(); ++i)
      if (keys[i] == key) return &values[i];
    return nullptr;
  }
};

class JsonReader {
 public:
  explicit JsonReader(const std::string& s) : s_(s) {}
  Json document() {
    Json j = value(0);
    space();
    if (i_ != s_.size()) fail("text after the JSON value");
    return j;
  }

 private:
  static constexpr int kMaxDepth = 32;  // summary.json nests 3 deep; a deeper file is not one
  [[noreturn]] void fail(const std::string& what) const {
    throw std::runtime_error("byte " + std::to_string(i_) + ": " + what);
  }
  void space() {
    while (i_ < s_.size() && (s_[i_] == ' ' || s_[i_] == '\n' || s_[i_] == '\r' || s_[i_] == '\t')) ++i_;
  }
  bool eat(char c) {
    space();
    if (i_ < s_.size() && s_[i_] == c) {
      ++i_;
      return true;
    }
    return false;
  }
  void expect(char c) {
    if (!eat(c)) fail(std::string("expected '") + c + "'");
  }
  bool word(const char* w) {
    const std::string_view v(w);
    if (s_.compare(i_, v.size(), v) != 0) return false;
    i_ += v.size();
    return true;
  }
  Json value(int depth) {
    if (depth > kMaxDepth) fail("nested deeper than " + std::to_string(kMaxDepth));
    space();
    if (i_ >= s_.size()) fail("unexpected end");
    Json j;
    const char c = s_[i_];
    if (c == '{') {
      ++i_;
      j.kind = Json::Kind::object;
      if (eat('}')) return j;
      do {
        space();
        std::string key = string();
        if (j.find(key)) fail("duplicate key \"" + key + "\"");
        expect(':');
        Json v = value(depth + 1);
        j.keys.push_back(std::move(key));
        j.values.push_back(std::move(v));
      } while (eat(','));
      expect('}');
    } else if (c == '[') {
      ++i_;
      j.kind = Json::Kind::array;
      if (eat(']')) return j;
      do j.items.push_back(value(depth + 1));
      while (eat(','));
      expect(']');
    } else if (c == '"') {
      j.kind = Json::Kind::string;
      j.text = string();
    } else if (word("true")) {
      j.kind = Json::Kind::boolean;
      j.text = "true";
    } else if (word("false")) {
      j.kind = Json::Kind::boolean;
      j.text = "false";
    } else if (word("null")) {
      j.kind = Json::Kind::null;
      j.text = "null";
    } else {
      j.kind = Json::Kind::number;
      j.text = number();
    }
    return j;
  }
  // -?(0|[1-9][0-9]*)(.[0-9]+)?([eE][+-]?[0-9]+)?
  std::string number() {
    const std::size_t start = i_;
    const auto digits = [&] {
      const std::size_t d = i_;
      while (i_ < s_.size() && s_[i_] >= '0' && s_[i_] <= '9') ++i_;
      if (i_ == d) fail("not a JSON value");
    };
    if (s_[i_] == '-') ++i_;
    if (i_ < s_.size() && s_[i_] == '0') ++i_;
    else digits();
    if (i_ < s_.size() && s_[i_] == '.') ++i_, digits();
    if (i_ < s_.size() && (s_[i_] == 'e' || s_[i_] == 'E')) {
      ++i_;
      if (i_ < s_.size() && (s_[i_] == '+' || s_[i_] == '-')) ++i_;
      digits();
    }
    return s_.substr(start, i_ - start);
  }
  std::string string() {
    if (i_ >= s_.size() || s_[i_] != '"') fail("expected a string");
    ++i_;
    std::string out;
    while (true) {
      if (i_ >= s_.size()) fail("unterminated string");
      const char c = s_[i_++];
      if (c == '"') return out;
      if (static_cast<unsigned char>(c) < 0x20) fail("a control character in a string");
      if (c != '\\') {
        out += c;
        continue;
      }
      if (i_ >= s_.size()) fail("unterminated string");
      switch (const char e = s_[i_++]) {
        case '"': case '\\': case '/': out += e; break;
        case 'b': out += '\b'; break;
        case 'f': out += '\f'; break;
        case 'n': out += '\n'; break;
        case 'r': out += '\r'; break;
        case 't': out += '\t'; break;
        case 'u': {
          unsigned code = 0;
          if (i_ + 4 > s_.size() || std::from_chars(s_.data() + i_, s_.data() + i_ + 4, code, 16).ptr != s_.data() + i_ + 4)
            fail("a bad \\u escape");
          i_ += 4;
          // UTF-8 of one UTF-16 unit (a surrogate pair's halves each on their own: only shown, never used).
          if (code < 0x80) {
            out += static_cast<char>(code);
          } else if (code < 0x800) {
            out += static_cast<char>(0xC0 | (code >> 6));
            out += static_cast<char>(0x80 | (code & 0x3F));
          } else {
            out += static_cast<char>(0xE0 | (code >> 12));
            out += static_cast<char>(0x80 | ((code >> 6) & 0x3F));
            out += static_cast<char>(0x80 | (code & 0x3F));
          }
          break;
        }
        default: fail("a bad escape in a string");
      }
    }
  }
  const std::string& s_;
  std::size_t i_ = 0;
};

Json read_json(const fs::path& file) {
  const std::string text = read_small_file(file, kMaxSummaryBytes);
  try {
    return JsonReader(text).document();
  } catch (const std::runtime_error& e) {
    throw std::runtime_error(shown(file) + " is not valid JSON (" + e.what() + ")");
  }
}

std::uint64_t parse_seed(const std::string& digits, bool& ok) {
  std::uint64_t k = 0;
  const auto [end, error] = std::from_chars(digits.data(), digits.data() + digits.size(), k);
  ok = !digits.empty() && error == std::errc() && end == digits.data() + digits.size();
  return k;
}

// What summary.json says about a finished seed.
void read_summary(const fs::path& file, Seed& seed, const std::uint64_t* folder_seed) {
  const Json j = read_json(file);
  const auto bad = [&](const std::string& what) { return std::runtime_error(shown(file) + ": " + what); };
  if (j.kind != Json::Kind::object) throw bad("not a JSON object");
  const auto text_of = [&](const char* key, Json::Kind kind, const char* kind_name) {
    const Json* v = j.find(key);
    if (!v || v->kind != kind || v->text.empty()) throw bad(std::string("no \"") + key + "\" " + kind_name);
    return v->text;
  };
  seed.algorithm = text_of("algorithm", Json::Kind::string, "string");
  seed.env = text_of("env", Json::Kind::string, "string");
  bool ok = false;
  seed.seed = parse_seed(text_of("seed", Json::Kind::number, "number"), ok);
  if (!ok) throw bad("\"seed\" is not a whole number of at most 20 digits");
  if (folder_seed && seed.seed != *folder_seed)
    throw bad("says seed " + std::to_string(seed.seed) + ", but its folder is seed" + std::to_string(*folder_seed));
  if (const Json* s = j.find("scalar"); s && s->kind == Json::Kind::string) seed.scalar = s->text;
  const Json* h = j.find("hyperparameters");
  if (!h || h->kind != Json::Kind::object) throw bad("no \"hyperparameters\" object");
  for (std::size_t i = 0; i < h->keys.size(); ++i) {
    const std::string& key = h->keys[i];
    const Json& value = h->values[i];
    if (value.kind == Json::Kind::object || value.kind == Json::Kind::array)
      throw bad("hyperparameter \"" + key + "\" is not a single value");
    seed.hyperparameters.emplace_back(key, value.text);
  }
}

// ---- metrics.csv ----

std::vector<std::string> split(const std::string& line) {
  std::vector<std::string> cells;
  std::stringstream s(line);
  for (std::string cell; std::getline(s, cell, ',');) cells.push_back(cell);
  if (!line.empty() && line.back() == ',') cells.emplace_back();
  return cells;
}

// Columns of a CSV file (metrics.csv, timing.csv) by name, one vector per name, every cell finite;
// except that an empty cell of the first column is read as NaN when first_may_be_empty (a quantity
// logged per update is empty on the rows of the episodes before the first update).
std::vector<std::vector<double>> read_columns(const fs::path& file, const std::vector<std::string>& names,
                                              bool first_may_be_empty = false) {
  const std::string text = read_small_file(file, kMaxMetricsBytes);
  std::istringstream in(text);
  std::string line;
  if (!std::getline(in, line)) throw std::runtime_error(shown(file) + " is empty");
  const std::vector<std::string> header = split(line);
  std::vector<std::size_t> index;
  for (const std::string& c : names) {
    const auto it = std::find(header.begin(), header.end(), c);
    if (it == header.end()) throw std::runtime_error(shown(file) + " has no '" + c + "' column");
    index.push_back(static_cast<std::size_t>(it - header.begin()));
  }
  std::vector<std::vector<double>> columns(names.size());
  for (long row = 2; std::getline(in, line); ++row) {
    const std::vector<std::string> cells = split(line);
    for (std::size_t k = 0; k < index.size(); ++k) {
      const std::size_t c = index[k];
      double v = kNaN;
      if (c < cells.size() && !cells[c].empty()) {
        const char* first = cells[c].data();
        const char* last = first + cells[c].size();
        if (*first == '+') ++first;  // from_chars takes no '+'
        if (std::from_chars(first, last, v).ptr != last) v = kNaN;
      }
      if (!std::isfinite(v) && !(k == 0 && first_may_be_empty && (c >= cells.size() || cells[c].empty())))
        throw std::runtime_error(shown(file) + " line " + std::to_string(row) + ": column " + header[c] +
                                 " is not a finite number");
      columns[k].push_back(v);
    }
  }
  return columns;
}

// Each episode's y_column (metrics.csv: "return", or a logged quantity such as "kl") and its x:
// the episode number (x_column empty), metrics.csv's env_steps, or timing.csv's cpu_seconds (the
// seed's CPU time at the episode's end).
void read_metrics(const fs::path& dir, const std::string& x_column, const std::string& y_column, Seed& seed) {
  const fs::path file = dir / "metrics.csv";
  const bool timed = x_column == "cpu_seconds";
  std::vector<std::string> names = {y_column};
  if (!x_column.empty() && !timed) names.push_back(x_column);
  const bool other = y_column != "return";
  std::vector<std::vector<double>> metrics = read_columns(file, names, other);
  seed.returns = metrics[0];
  if (seed.returns.empty()) throw std::runtime_error(shown(file) + " has no episodes");
  const fs::path x_file = timed ? dir / "timing.csv" : file;
  if (timed) {
    std::error_code ec;
    if (!fs::exists(fs::symlink_status(x_file, ec)))
      throw std::runtime_error(shown(x_file) + " is missing (runs write it since CPU times are logged per episode)");
    seed.x = read_columns(x_file, {"cpu_seconds"})[0];
    if (seed.x.size() < seed.returns.size())
      throw std::runtime_error(shown(x_file) + " has " + std::to_string(seed.x.size()) + " rows, metrics.csv " +
                               std::to_string(seed.returns.size()));
    seed.x.resize(seed.returns.size());
  } else if (x_column.empty()) {
    for (std::size_t i = 0; i < seed.returns.size(); ++i) seed.x.push_back(static_cast<double>(i + 1));
  } else {
    seed.x = metrics[1];
  }
  for (std::size_t i = 1; i < seed.x.size(); ++i)
    if (seed.x[i] < seed.x[i - 1])
      throw std::runtime_error(shown(x_file) + " line " + std::to_string(i + 2) + ": " + x_column + " decreases");
  if (other) {  // drop the rows before the first update (an empty y cell)
    std::size_t kept = 0;
    for (std::size_t i = 0; i < seed.returns.size(); ++i)
      if (std::isfinite(seed.returns[i])) seed.x[kept] = seed.x[i], seed.returns[kept++] = seed.returns[i];
    seed.x.resize(kept);
    seed.returns.resize(kept);
    if (kept == 0) throw std::runtime_error(shown(file) + ": column " + y_column + " is empty on every row");
  }
}

Seed read_seed(const fs::path& dir, const std::string& x_column, const std::string& y_column,
               const std::uint64_t* folder_seed) {
  Seed seed;
  seed.dir = dir;
  std::error_code ec;
  if (!fs::exists(fs::symlink_status(dir / "summary.json", ec)))
    throw std::runtime_error(shown(dir / "summary.json") + " is missing: the seed did not finish (training stopped on "
                             "an error or was interrupted)");
  read_summary(dir / "summary.json", seed, folder_seed);
  read_metrics(dir, x_column, y_column, seed);
  return seed;
}

// The seeds a multi-seed run's own summary.json lists as failed (none if it has no summary).
std::vector<std::uint64_t> failed_seeds(const fs::path& dir) {
  std::error_code ec;
  if (!fs::exists(fs::symlink_status(dir / "summary.json", ec))) return {};
  const Json j = read_json(dir / "summary.json");
  std::vector<std::uint64_t> out;
  const Json* f = j.kind == Json::Kind::object ? j.find("failed_seeds") : nullptr;
  if (!f) return out;
  if (f->kind != Json::Kind::array) throw std::runtime_error(shown(dir / "summary.json") + ": \"failed_seeds\" is not an array");
  for (const Json& item : f->items) {
    bool ok = item.kind == Json::Kind::number;
    const std::uint64_t k = ok ? parse_seed(item.text, ok) : 0;
    if (!ok) throw std::runtime_error(shown(dir / "summary.json") + ": \"failed_seeds\" holds a value that is not a seed");
    out.push_back(k);
  }
  return out;
}

}  // namespace

std::vector<Seed> read_run(const fs::path& dir, const std::string& x_column, std::vector<fs::path>& skipped,
                           const std::string& y_column) {
  std::error_code ec;
  if (!fs::is_directory(dir, ec)) throw std::runtime_error("run " + shown(dir) + ": not a folder");
  std::vector<std::pair<std::uint64_t, fs::path>> folders;
  for (const auto& entry : fs::directory_iterator(dir, ec)) {
    const std::string n = entry.path().filename().string();
    if (entry.is_directory() && n.size() > 4 && n.rfind("seed", 0) == 0 &&
        std::all_of(n.begin() + 4, n.end(), [](char c) { return c >= '0' && c <= '9'; }) &&
        fs::exists(fs::symlink_status(entry.path() / "metrics.csv"))) {
      bool ok = false;
      const std::uint64_t k = parse_seed(n.substr(4), ok);
      if (!ok)
        throw std::runtime_error("run " + shown(dir) + ": the seed of folder " + shown(n) +
                                 " is too large (seeds go up to " +
                                 std::to_string(std::numeric_limits<std::uint64_t>::max()) + ")");
      folders.emplace_back(k, entry.path());
    }
  }
  if (ec) throw std::runtime_error("run " + shown(dir) + ": cannot list the folder (" + ec.message() + ")");
  std::sort(folders.begin(), folders.end());

  std::vector<Seed> seeds;
  if (folders.empty()) {
    if (!fs::exists(fs::symlink_status(dir / "metrics.csv", ec)))
      throw std::runtime_error("run " + shown(dir) + ": no metrics.csv in it or in its seed<k>/ folders");
    seeds.push_back(read_seed(dir, x_column, y_column, nullptr));
    return seeds;
  }
  const std::vector<std::uint64_t> failed = failed_seeds(dir);
  for (const auto& [k, path] : folders) {
    if (std::find(failed.begin(), failed.end(), k) != failed.end()) {
      skipped.push_back(path);
      continue;
    }
    seeds.push_back(read_seed(path, x_column, y_column, &k));
    const Seed& first = seeds.front();
    const Seed& s = seeds.back();
    const auto differ = [&](const std::string& what) {
      return std::runtime_error("run " + shown(dir) + ": " + shown(s.dir / "summary.json") + " and " +
                                shown(first.dir / "summary.json") + " differ in " + what +
                                " (one run folder holds the seeds of one run)");
    };
    if (s.algorithm != first.algorithm) throw differ("algorithm");
    if (s.env != first.env) throw differ("env");
    if (s.hyperparameters != first.hyperparameters) throw differ("hyperparameters");
  }
  if (seeds.empty()) throw std::runtime_error("run " + shown(dir) + ": every seed failed (its summary.json's failed_seeds)");
  return seeds;
}

}  // namespace pgcpp::compare
