#include "chapter3/common/params.hpp"

#include <charconv>
#include <cmath>
#include <cstdio>
#include <cstdlib>

namespace pgcpp {

ParamBase::ParamBase(Params* owner, std::string flag, std::string help)
    : flag_(std::move(flag)), help_(std::move(help)), offset_(reinterpret_cast<char*>(this) - reinterpret_cast<char*>(owner)) {
  owner->offsets_.push_back(offset_);
}

ParamBase::ParamBase(const ParamBase& other) : flag_(other.flag_), help_(other.help_), offset_(other.offset_) {
  reinterpret_cast<Params*>(reinterpret_cast<char*>(this) - offset_)->offsets_.push_back(offset_);
}

std::string ParamBase::key() const {
  std::string k = flag_.substr(flag_.find_first_not_of('-'));
  for (char& c : k)
    if (c == '-') c = '_';
  return k;
}

std::vector<ParamBase*> Params::all() {
  std::vector<ParamBase*> list;
  for (std::ptrdiff_t off : offsets_) list.push_back(reinterpret_cast<ParamBase*>(reinterpret_cast<char*>(this) + off));
  return list;
}

std::vector<const ParamBase*> Params::all() const {
  std::vector<const ParamBase*> list;
  for (std::ptrdiff_t off : offsets_)
    list.push_back(reinterpret_cast<const ParamBase*>(reinterpret_cast<const char*>(this) + off));
  return list;
}

const ParamBase* Params::find(const std::string& flag) const {
  for (const ParamBase* p : all())
    if (p->flag() == flag) return p;
  return nullptr;
}

std::string Params::first_error() const {
  for (const ParamBase* p : all())
    if (std::string why = p->check(); !why.empty()) return p->flag() + " " + p->text() + " is " + why;
  return "";
}

// ---- strings ----

std::string Param<std::string>::range_text() const {
  std::string s;
  for (const std::string& c : choices) {
    if (!s.empty()) s += '|';
    s += c;
  }
  return s;
}

std::string Param<std::string>::parse(const std::string& s) {
  value = s;
  return check().empty() ? "" : "one of " + range_text();
}

std::string Param<std::string>::check() const {
  if (choices.empty()) return "";
  for (const std::string& c : choices)
    if (c == value) return "";
  return "not one of " + range_text();
}

// ---- layer sizes ----

std::string Param<std::vector<int>>::range_text() const {
  return "1 to " + std::to_string(max_layers) + " sizes in [1, " + std::to_string(max_width) + "]";
}

std::string Param<std::vector<int>>::check() const {
  if (value.empty() || value.size() > static_cast<std::size_t>(max_layers)) return "not " + range_text();
  for (int n : value)
    if (n < 1 || n > max_width) return "not " + range_text();
  return "";
}

namespace detail {

std::string number_text(double v) {
  char buf[64];
  // Shortest round-trip form: exact, and the same text for the same double on every run.
  auto [end, ec] = std::to_chars(buf, buf + sizeof buf, v);
  (void)ec;  // 64 characters always suffice for a double
  return std::string(buf, end);
}

std::string json_string(const std::string& s) {
  std::string out = "\"";
  for (char c : s) {
    switch (c) {
      case '"': out += "\\\""; break;
      case '\\': out += "\\\\"; break;
      case '\n': out += "\\n"; break;
      case '\t': out += "\\t"; break;
      case '\r': out += "\\r"; break;
      default:
        if (static_cast<unsigned char>(c) < 0x20) {
          char buf[8];
          std::snprintf(buf, sizeof buf, "\\u%04x", static_cast<unsigned>(static_cast<unsigned char>(c)));
          out += buf;
        } else {
          out += c;  // UTF-8 passes through unchanged
        }
    }
  }
  return out + "\"";
}

std::string range_text(double lo, double hi, bool open_lo, bool open_hi, bool integer) {
  auto num = [&](double v) { return integer ? std::to_string(static_cast<long long>(v)) : number_text(v); };
  return std::string(open_lo ? "(" : "[") + num(lo) + ", " + num(hi) + (open_hi ? ")" : "]");
}

std::string parse_number(const std::string& text, double& out) {
  if (text.empty() || std::isspace(static_cast<unsigned char>(text[0]))) return "a finite number";
  char* end = nullptr;
  out = std::strtod(text.c_str(), &end);
  if (end != text.c_str() + text.size() || !std::isfinite(out)) return "a finite number";
  return "";
}

std::string parse_integer(const std::string& text, long long& out) {
  const char* end = text.data() + text.size();
  auto [ptr, ec] = std::from_chars(text.data(), end, out);
  return ec == std::errc() && ptr == end && !text.empty() ? "" : "an integer";
}

std::string parse_unsigned(const std::string& text, unsigned long long& out) {
  const char* end = text.data() + text.size();
  auto [ptr, ec] = std::from_chars(text.data(), end, out);
  return ec == std::errc() && ptr == end && !text.empty() ? "" : "a non-negative integer";
}

std::string sizes_text(const std::vector<int>& v) {
  std::string s;
  for (std::size_t i = 0; i < v.size(); ++i) {
    if (i) s += ',';
    s += std::to_string(v[i]);
  }
  return s;
}

bool split_list(const std::string& text, std::vector<std::string>& items) {
  items.clear();
  std::string::size_type start = 0;
  for (;;) {
    const std::string::size_type comma = text.find(',', start);
    items.push_back(text.substr(start, comma == std::string::npos ? std::string::npos : comma - start));
    if (items.back().empty()) return false;
    if (comma == std::string::npos) return true;
    start = comma + 1;
  }
}

std::string parse_sizes(const std::string& text, std::vector<int>& out) {
  const std::string expected = "comma-separated layer sizes, e.g. 128,128 (1 to 8 sizes in [1, 4096])";
  std::vector<std::string> items;
  if (!split_list(text, items) || items.size() > static_cast<std::size_t>(Param<std::vector<int>>::max_layers))
    return expected;
  std::vector<int> sizes;
  for (const std::string& item : items) {
    long long n = 0;
    if (!parse_integer(item, n).empty() || n < 1 || n > Param<std::vector<int>>::max_width) return expected;
    sizes.push_back(static_cast<int>(n));
  }
  out = sizes;
  return "";
}

}  // namespace detail

}  // namespace pgcpp
