#include "experiment/safetensors.hpp"

#include <algorithm>
#include <bit>
#include <cstdio>
#include <limits>
#include <set>
#include <stdexcept>
#include <utility>

namespace pgcpp {

namespace {

[[noreturn]] void bad(const std::string& what) { throw std::runtime_error(what); }

std::size_t dtype_size(const std::string& dtype) {
  if (dtype == "F64") return 8;
  if (dtype == "F32") return 4;
  return 0;
}

// ---------------------------------------------------------------- writing

void put_le(std::string& out, std::uint64_t v, int width) {
  for (int i = 0; i < width; ++i) out.push_back(static_cast<char>((v >> (8 * i)) & 0xFF));
}

std::string json_quote(const std::string& s) {
  std::string out = "\"";
  for (const char ch : s) {
    const auto c = static_cast<unsigned char>(ch);
    if (c == '"' || c == '\\') {
      out += '\\';
      out += ch;
    } else if (c < 0x20) {
      char buf[8];
      std::snprintf(buf, sizeof buf, "\\u%04x", c);
      out += buf;
    } else {
      out += ch;
    }
  }
  return out + "\"";
}

// ---------------------------------------------------------------- reading: a JSON subset

struct Json {
  enum class Kind { object, array, string, integer };
  Kind kind = Kind::object;
  std::string text = "";                                  // string
  std::uint64_t integer = 0;                              // integer
  std::vector<std::pair<std::string, Json>> members = {};  // object, in order
  std::vector<Json> items = {};                           // array
};

const char* kind_name(Json::Kind k) {
  switch (k) {
    case Json::Kind::object: return "an object";
    case Json::Kind::array: return "an array";
    case Json::Kind::string: return "a string";
    case Json::Kind::integer: return "an integer";
  }
  return "?";
}

// RFC 8259 JSON restricted to what a safetensors header holds: objects, arrays, strings and
// non-negative integers (no true/false/null, no fractions or exponents, no minus sign).
class JsonReader {
 public:
  explicit JsonReader(std::string_view s) : s_(s) {}

  Json document() {
    skip_space();
    if (pos_ >= s_.size() || s_[pos_] != '{') bad("header: not a JSON object");
    Json j = value(0);
    skip_space();
    if (pos_ != s_.size()) bad("header: unexpected " + what_is_here() + " after the JSON object");
    return j;
  }

 private:
  static constexpr int kMaxDepth = 8;

  std::string where() const { return " at header byte " + std::to_string(pos_); }
  std::string what_is_here() const {
    if (pos_ >= s_.size()) return "end of header";
    const auto c = static_cast<unsigned char>(s_[pos_]);
    char buf[16];
    if (c >= 0x20 && c < 0x7F) std::snprintf(buf, sizeof buf, "'%c'", c);
    else std::snprintf(buf, sizeof buf, "byte 0x%02x", c);
    return buf + where();
  }
  void skip_space() {
    while (pos_ < s_.size() && (s_[pos_] == ' ' || s_[pos_] == '\t' || s_[pos_] == '\n' || s_[pos_] == '\r')) ++pos_;
  }
  void expect(char c) {
    skip_space();
    if (pos_ >= s_.size() || s_[pos_] != c)
      bad(std::string("header: expected '") + c + "', found " + what_is_here());
    ++pos_;
  }
  bool next_is(char c) {
    skip_space();
    return pos_ < s_.size() && s_[pos_] == c;
  }

  Json value(int depth) {
    if (depth > kMaxDepth) bad("header: JSON nested deeper than " + std::to_string(kMaxDepth) + " levels");
    skip_space();
    if (pos_ >= s_.size()) bad("header: the JSON ends early (truncated header)");
    const char c = s_[pos_];
    if (c == '{') return object(depth);
    if (c == '[') return array(depth);
    if (c == '"') {
      Json j;
      j.kind = Json::Kind::string;
      j.text = string();
      return j;
    }
    if (c >= '0' && c <= '9') return integer();
    bad("header: unexpected " + what_is_here() +
        " (a safetensors header holds only objects, arrays, strings and non-negative integers)");
  }

  Json object(int depth) {
    Json j;
    j.kind = Json::Kind::object;
    std::set<std::string> keys;
    expect('{');
    if (next_is('}')) {
      ++pos_;
      return j;
    }
    for (;;) {
      skip_space();
      if (pos_ >= s_.size() || s_[pos_] != '"') bad("header: expected a quoted key, found " + what_is_here());
      std::string key = string();
      if (!keys.insert(key).second) bad("header: duplicate key " + json_quote(key));
      expect(':');
      Json v = value(depth + 1);
      j.members.emplace_back(std::move(key), std::move(v));
      if (next_is(',')) {
        ++pos_;
        continue;
      }
      expect('}');
      return j;
    }
  }

  Json array(int depth) {
    Json j;
    j.kind = Json::Kind::array;
    expect('[');
    if (next_is(']')) {
      ++pos_;
      return j;
    }
    for (;;) {
      j.items.push_back(value(depth + 1));
      if (next_is(',')) {
        ++pos_;
        continue;
      }
      expect(']');
      return j;
    }
  }

  Json integer() {
    Json j;
    j.kind = Json::Kind::integer;
    const std::size_t start = pos_;
    while (pos_ < s_.size() && s_[pos_] >= '0' && s_[pos_] <= '9') {
      const auto digit = static_cast<std::uint64_t>(s_[pos_] - '0');
      if (j.integer > (std::numeric_limits<std::uint64_t>::max() - digit) / 10)
        bad("header: integer too large" + where());
      j.integer = 10 * j.integer + digit;
      ++pos_;
    }
    if (pos_ - start > 1 && s_[start] == '0') bad("header: integer with a leading zero at header byte " + std::to_string(start));
    if (pos_ < s_.size() && (s_[pos_] == '.' || s_[pos_] == 'e' || s_[pos_] == 'E'))
      bad("header: expected an integer, found a fraction or exponent" + where());
    return j;
  }

  unsigned hex4() {
    if (s_.size() - pos_ < 4) bad("header: truncated \\u escape" + where());
    unsigned v = 0;
    for (int i = 0; i < 4; ++i) {
      const char c = s_[pos_++];
      v <<= 4;
      if (c >= '0' && c <= '9') v |= static_cast<unsigned>(c - '0');
      else if (c >= 'a' && c <= 'f') v |= static_cast<unsigned>(c - 'a' + 10);
      else if (c >= 'A' && c <= 'F') v |= static_cast<unsigned>(c - 'A' + 10);
      else bad("header: bad \\u escape" + where());
    }
    return v;
  }

  static void put_utf8(std::string& out, unsigned cp) {
    if (cp < 0x80) {
      out += static_cast<char>(cp);
    } else if (cp < 0x800) {
      out += static_cast<char>(0xC0 | (cp >> 6));
      out += static_cast<char>(0x80 | (cp & 0x3F));
    } else if (cp < 0x10000) {
      out += static_cast<char>(0xE0 | (cp >> 12));
      out += static_cast<char>(0x80 | ((cp >> 6) & 0x3F));
      out += static_cast<char>(0x80 | (cp & 0x3F));
    } else {
      out += static_cast<char>(0xF0 | (cp >> 18));
      out += static_cast<char>(0x80 | ((cp >> 12) & 0x3F));
      out += static_cast<char>(0x80 | ((cp >> 6) & 0x3F));
      out += static_cast<char>(0x80 | (cp & 0x3F));
    }
  }

  std::string string() {
    ++pos_;  // the opening quote
    std::string out;
    for (;;) {
      if (pos_ >= s_.size()) bad("header: unterminated string (truncated header)");
      const auto c = static_cast<unsigned char>(s_[pos_]);
      if (c == '"') {
        ++pos_;
        return out;
      }
      if (c < 0x20) bad("header: control character in a string" + where());
      if (c != '\\') {
        out += static_cast<char>(c);
        ++pos_;
        continue;
      }
      ++pos_;
      if (pos_ >= s_.size()) bad("header: unterminated string (truncated header)");
      const char e = s_[pos_++];
      switch (e) {
        case '"': out += '"'; break;
        case '\\': out += '\\'; break;
        case '/': out += '/'; break;
        case 'b': out += '\b'; break;
        case 'f': out += '\f'; break;
        case 'n': out += '\n'; break;
        case 'r': out += '\r'; break;
        case 't': out += '\t'; break;
        case 'u': {
          unsigned cp = hex4();
          if (cp >= 0xD800 && cp < 0xDC00) {  // a high surrogate must be followed by a low one
            if (s_.size() - pos_ < 2 || s_[pos_] != '\\' || s_[pos_ + 1] != 'u') bad("header: unpaired surrogate" + where());
            pos_ += 2;
            const unsigned low = hex4();
            if (low < 0xDC00 || low >= 0xE000) bad("header: unpaired surrogate" + where());
            cp = 0x10000 + ((cp - 0xD800) << 10) + (low - 0xDC00);
          } else if (cp >= 0xDC00 && cp < 0xE000) {
            bad("header: unpaired surrogate" + where());
          }
          put_utf8(out, cp);
          break;
        }
        default: bad("header: bad escape '\\" + std::string(1, e) + "'" + where());
      }
    }
  }

  std::string_view s_;
  std::size_t pos_ = 0;
};

// JSON text is UTF-8 (RFC 8259 section 8.1): reject overlong forms, surrogates and bytes > U+10FFFF.
void check_utf8(std::string_view s) {
  for (std::size_t i = 0; i < s.size();) {
    const auto c = static_cast<unsigned char>(s[i]);
    int n = 0;
    unsigned cp = 0, min = 0;
    if (c < 0x80) {
      ++i;
      continue;
    } else if ((c & 0xE0) == 0xC0) {
      n = 1, cp = c & 0x1F, min = 0x80;
    } else if ((c & 0xF0) == 0xE0) {
      n = 2, cp = c & 0x0F, min = 0x800;
    } else if ((c & 0xF8) == 0xF0) {
      n = 3, cp = c & 0x07, min = 0x10000;
    } else {
      bad("header: invalid UTF-8 at header byte " + std::to_string(i));
    }
    if (s.size() - i <= static_cast<std::size_t>(n)) bad("header: invalid UTF-8 at header byte " + std::to_string(i));
    for (int k = 1; k <= n; ++k) {
      const auto cc = static_cast<unsigned char>(s[i + static_cast<std::size_t>(k)]);
      if ((cc & 0xC0) != 0x80) bad("header: invalid UTF-8 at header byte " + std::to_string(i));
      cp = (cp << 6) | (cc & 0x3F);
    }
    if (cp < min || cp > 0x10FFFF || (cp >= 0xD800 && cp < 0xE000))
      bad("header: invalid UTF-8 at header byte " + std::to_string(i));
    i += static_cast<std::size_t>(n) + 1;
  }
}

std::uint64_t get_le(std::string_view bytes, std::size_t at, int width) {
  std::uint64_t v = 0;
  for (int i = 0; i < width; ++i)
    v |= static_cast<std::uint64_t>(static_cast<unsigned char>(bytes[at + static_cast<std::size_t>(i)])) << (8 * i);
  return v;
}

// Where a tensor's bytes sit in the data: [begin, end).
struct Entry {
  std::size_t index;  // into SafeTensors::tensors
  std::uint64_t begin, end;
};

// The bytes of the header, after checking its 8-byte length against the file; `data` is set to the
// bytes after it. Checked before anything is read, so a corrupted length never makes us read
// past the end or allocate much.
std::string_view split_header(std::string_view bytes, std::string_view& data) {
  if (bytes.size() < 8)
    bad("truncated: " + std::to_string(bytes.size()) + " bytes, too short for the 8-byte header length");
  const std::uint64_t n = get_le(bytes, 0, 8);
  if (n > kMaxSafetensorsHeaderBytes)
    bad("corrupted: header length " + std::to_string(n) + " exceeds the limit of " +
        std::to_string(kMaxSafetensorsHeaderBytes) + " bytes");
  if (n < 2) bad("corrupted: header length " + std::to_string(n) + " is too short for a JSON object");
  if (n > bytes.size() - 8)
    bad("truncated: the header length is " + std::to_string(n) + " bytes but only " +
        std::to_string(bytes.size() - 8) + " bytes follow it");
  data = bytes.substr(8 + n);
  return bytes.substr(8, n);
}

// __metadata__: an object of string values.
void read_metadata(const Json& value, std::map<std::string, std::string>& metadata) {
  if (value.kind != Json::Kind::object) bad("header: __metadata__ is " + std::string(kind_name(value.kind)) + ", not an object");
  for (const auto& [key, v] : value.members) {
    if (v.kind != Json::Kind::string)
      bad("header: __metadata__ value of " + json_quote(key) + " is " + kind_name(v.kind) + ", not a string");
    metadata[key] = v.text;
  }
}

// The element count of a shape (an array of non-negative integers), into `shape`. The count is
// saturated (so the product cannot overflow) far above any real file, and rejected there.
std::uint64_t element_count(const std::string& who, const Json& dims, std::vector<std::int64_t>& shape) {
  const std::uint64_t cap = std::numeric_limits<std::uint64_t>::max() / 16;
  std::uint64_t count = 1;
  bool zero = false;
  for (const Json& d : dims.items) {
    if (d.kind != Json::Kind::integer) bad(who + ": shape holds " + kind_name(d.kind) + ", not an integer");
    if (d.integer > static_cast<std::uint64_t>(std::numeric_limits<std::int64_t>::max()))
      bad(who + ": dimension " + std::to_string(d.integer) + " is too large");
    shape.push_back(static_cast<std::int64_t>(d.integer));
    if (d.integer == 0) zero = true;
    else count = count > cap / d.integer ? cap : count * d.integer;
  }
  if (zero) count = 0;
  if (count >= cap) bad(who + ": shape has too many elements");
  return count;
}

// A tensor's entry in the header, {"dtype": ..., "shape": [...], "data_offsets": [begin, end]},
// checked field by field: the tensor without its values, and its bytes' range in `entry`.
SafeTensor read_tensor_entry(const std::string& name, const Json& value, Entry& entry) {
  const std::string who = "header: tensor " + json_quote(name);
  if (value.kind != Json::Kind::object) bad(who + " is " + kind_name(value.kind) + ", not an object");
  const Json *dtype = nullptr, *shape = nullptr, *offsets = nullptr;
  for (const auto& [key, v] : value.members) {
    if (key == "dtype") dtype = &v;
    else if (key == "shape") shape = &v;
    else if (key == "data_offsets") offsets = &v;
    else bad(who + " has an unknown field " + json_quote(key));
  }
  if (!dtype || !shape || !offsets) bad(who + " lacks " + (!dtype ? "dtype" : !shape ? "shape" : "data_offsets"));
  if (dtype->kind != Json::Kind::string) bad(who + ": dtype is not a string");
  const std::size_t width = dtype_size(dtype->text);
  if (width == 0) bad(who + ": unsupported dtype " + json_quote(dtype->text) + " (this reader reads F64 and F32)");
  if (shape->kind != Json::Kind::array) bad(who + ": shape is not an array");
  if (shape->items.size() > static_cast<std::size_t>(kMaxSafetensorsRank))
    bad(who + ": shape has " + std::to_string(shape->items.size()) + " dimensions (at most " +
        std::to_string(kMaxSafetensorsRank) + ")");
  SafeTensor t{.name = name, .dtype = dtype->text};
  const std::uint64_t count = element_count(who, *shape, t.shape);
  if (offsets->kind != Json::Kind::array || offsets->items.size() != 2 ||
      offsets->items[0].kind != Json::Kind::integer || offsets->items[1].kind != Json::Kind::integer)
    bad(who + ": data_offsets is not a pair of integers [begin, end]");
  const std::uint64_t begin = offsets->items[0].integer, end = offsets->items[1].integer;
  if (end < begin) bad(who + ": data_offsets [" + std::to_string(begin) + ", " + std::to_string(end) + "] end before begin");
  if (end - begin != count * width)
    bad(who + ": data_offsets [" + std::to_string(begin) + ", " + std::to_string(end) + "] hold " +
        std::to_string(end - begin) + " bytes, but its dtype and shape need " + std::to_string(count * width));
  entry.begin = begin;
  entry.end = end;
  return t;
}

// The tensors' byte ranges tile the data [0, data_size) exactly: no gap, overlap or trailing
// byte. Sorts `entries` by where they begin.
void check_tiling(std::vector<Entry>& entries, const std::vector<SafeTensor>& tensors, std::size_t data_size) {
  std::uint64_t need = 0;
  for (const Entry& e : entries) need = std::max(need, e.end);
  if (need > data_size)
    bad("truncated: the tensors need " + std::to_string(need) + " bytes of data, but only " +
        std::to_string(data_size) + " follow the header");
  std::sort(entries.begin(), entries.end(),
            [](const Entry& a, const Entry& b) { return a.begin != b.begin ? a.begin < b.begin : a.end < b.end; });
  std::uint64_t at = 0;
  for (const Entry& e : entries) {
    if (e.begin != at)
      bad(std::string("corrupted: tensor ") + json_quote(tensors[e.index].name) + " starts at data byte " +
          std::to_string(e.begin) + (e.begin > at ? ", leaving a gap after byte " : ", overlapping the bytes before ") +
          std::to_string(at));
    at = e.end;
  }
  if (at != data_size)
    bad("corrupted: " + std::to_string(data_size - at) + " unexpected trailing bytes after the last tensor");
}

// Each tensor's elements, little-endian F64 or F32, as Scalars; the tensors in the order of
// their data (`entries` sorted by check_tiling).
std::vector<SafeTensor> read_values(const std::vector<Entry>& entries, std::vector<SafeTensor> tensors,
                                    std::string_view data) {
  std::vector<SafeTensor> ordered;
  for (const Entry& e : entries) {
    SafeTensor& t = tensors[e.index];
    const std::size_t width = dtype_size(t.dtype);
    const auto count = static_cast<Eigen::Index>((e.end - e.begin) / width);
    t.values.resize(count);
    for (Eigen::Index i = 0; i < count; ++i) {
      const std::size_t p = static_cast<std::size_t>(e.begin) + static_cast<std::size_t>(i) * width;
      t.values[i] = width == 8 ? static_cast<Scalar>(std::bit_cast<double>(get_le(data, p, 8)))
                               : static_cast<Scalar>(std::bit_cast<float>(static_cast<std::uint32_t>(get_le(data, p, 4))));
    }
    ordered.push_back(std::move(t));
  }
  return ordered;
}

}  // namespace

std::uint64_t fnv1a64(std::string_view bytes) {
  std::uint64_t h = 14695981039346656037ull;
  for (unsigned char c : bytes) {
    h ^= c;
    h *= 1099511628211ull;
  }
  return h;
}

std::string encode_safetensors(const SafeTensors& file) {
  std::string header = "{";
  bool first = true;
  if (!file.metadata.empty()) {
    header += "\"__metadata__\":{";
    for (const auto& [key, value] : file.metadata) {
      if (!first) header += ',';
      header.append(json_quote(key)).append(":").append(json_quote(value));
      first = false;
    }
    header += "}";
    first = false;
  }
  std::string data;
  std::set<std::string> names;
  for (const SafeTensor& t : file.tensors) {
    const std::size_t width = dtype_size(t.dtype);
    if (width == 0) throw std::invalid_argument("safetensors: tensor '" + t.name + "': unsupported dtype '" + t.dtype + "'");
    if (t.name.empty() || t.name.starts_with("__") || !names.insert(t.name).second)
      throw std::invalid_argument("safetensors: empty, reserved or duplicate tensor name '" + t.name + "'");
    std::int64_t count = 1;
    std::string shape;
    for (const std::int64_t d : t.shape) {
      if (d < 0) throw std::invalid_argument("safetensors: tensor '" + t.name + "' has a negative dimension");
      count *= d;
      if (!shape.empty()) shape += ',';
      shape += std::to_string(d);
    }
    if (count != static_cast<std::int64_t>(t.values.size()))
      throw std::invalid_argument("safetensors: tensor '" + t.name + "' has shape [" + shape + "] but " +
                                  std::to_string(t.values.size()) + " values");
    const std::size_t begin = data.size();
    for (Eigen::Index i = 0; i < t.values.size(); ++i) {
      if (width == 8) put_le(data, std::bit_cast<std::uint64_t>(static_cast<double>(t.values[i])), 8);
      else put_le(data, std::bit_cast<std::uint32_t>(static_cast<float>(t.values[i])), 4);
    }
    if (!first) header += ',';
    header.append(json_quote(t.name)).append(":{\"dtype\":\"").append(t.dtype).append("\",\"shape\":[");
    header.append(shape).append("],\"data_offsets\":[").append(std::to_string(begin)).append(",");
    header.append(std::to_string(data.size())).append("]}");
    first = false;
  }
  header += "}";
  // The reference writer pads with spaces so that the data (and every F64) is 8-byte aligned.
  header.append((8 - header.size() % 8) % 8, ' ');
  std::string out;
  out.reserve(8 + header.size() + data.size());
  put_le(out, header.size(), 8);
  return out + header + data;
}

SafeTensors decode_safetensors(std::string_view bytes) {
  std::string_view data;
  const std::string_view header = split_header(bytes, data);
  check_utf8(header);
  const Json root = JsonReader(header).document();

  SafeTensors file;
  std::vector<Entry> entries;
  for (const auto& [name, value] : root.members) {
    if (name == "__metadata__") {
      read_metadata(value, file.metadata);
      continue;
    }
    Entry entry{file.tensors.size(), 0, 0};
    file.tensors.push_back(read_tensor_entry(name, value, entry));
    entries.push_back(entry);
  }
  check_tiling(entries, file.tensors, data.size());
  file.tensors = read_values(entries, std::move(file.tensors), data);
  return file;
}

}  // namespace pgcpp
