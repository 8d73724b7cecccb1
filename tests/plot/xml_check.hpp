// A small XML well-formedness check for the tests: balanced and properly nested tags, quoted
// attributes, and no bare '<' or '&' in text or attribute values. Enough to catch what a
// broken SVG writer produces; not a full XML parser.
#pragma once

#include <string>
#include <vector>

namespace pgcpp::plot::test {

// Empty if `doc` is well-formed, else what is wrong first.
inline std::string xml_problem(const std::string& doc) {
  auto bad_entities = [](const std::string& s) {
    for (std::size_t i = s.find('&'); i != std::string::npos; i = s.find('&', i + 1)) {
      std::size_t end = s.find(';', i);
      std::string name = end == std::string::npos ? "" : s.substr(i + 1, end - i - 1);
      if (name != "amp" && name != "lt" && name != "gt" && name != "quot" && name != "apos") return true;
    }
    return false;
  };
  std::vector<std::string> open;
  std::size_t i = 0;
  if (doc.rfind("<?xml", 0) == 0) i = doc.find("?>") + 2;
  while (true) {
    std::size_t lt = doc.find('<', i);
    std::string text = doc.substr(i, lt == std::string::npos ? std::string::npos : lt - i);
    if (bad_entities(text)) return "bad '&' in text: " + text;
    if (text.find('>') != std::string::npos) return "bare '>' in text: " + text;
    if (lt == std::string::npos) break;
    std::size_t gt = doc.find('>', lt);
    if (gt == std::string::npos) return "unterminated tag";
    std::string tag = doc.substr(lt + 1, gt - lt - 1);
    if (tag.find('<') != std::string::npos) return "'<' inside tag: " + tag;
    if (bad_entities(tag)) return "bad '&' in attribute: " + tag;
    std::size_t quotes = 0;
    for (char c : tag) quotes += c == '"';
    if (quotes % 2) return "unbalanced quotes: " + tag;
    if (tag[0] == '/') {
      if (open.empty() || open.back() != tag.substr(1)) return "mismatched </" + tag.substr(1) + ">";
      open.pop_back();
    } else if (tag.back() != '/') {
      open.push_back(tag.substr(0, tag.find_first_of(" \n\t")));
    }
    i = gt + 1;
  }
  if (!open.empty()) return "unclosed <" + open.back() + ">";
  return "";
}

}  // namespace pgcpp::plot::test
