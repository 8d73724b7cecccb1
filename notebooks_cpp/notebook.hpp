// What the notebooks of notebooks_cpp/ need besides the library: show_svg(path) shows an SVG
// file (a figure the cell just wrote) as the cell's output.
//
// Otherwise it prints a marker line, `@@pgcpp-display image/svg+xml PATH@@`: the project's kernel
// (notebooks_cpp/kernel, clang-repl) turns it into the cell's display data, and scripts/notebook.py
// (the g++ route) stores it in the notebook as the cell's image output, so a notebook viewed
// without a kernel shows its figures. Under xeus-cling (the xcpp17 kernel) it displays through
// xeus' rich-display protocol, an object whose mime_bundle_repr gives the "image/svg+xml" data.
#pragma once

#include <fstream>
#include <iostream>
#include <sstream>
#include <string>

#if defined(__CLING__) && __has_include(<xcpp/xdisplay.hpp>)
#include <nlohmann/json.hpp>
#include <xcpp/xdisplay.hpp>

namespace pgcpp_notebook {
struct SvgFile {
  std::string path;
};
inline nlohmann::json mime_bundle_repr(const SvgFile& file) {
  std::ifstream in(file.path);
  std::stringstream text;
  text << in.rdbuf();
  auto bundle = nlohmann::json::object();
  bundle["image/svg+xml"] = text.str();
  return bundle;
}
}  // namespace pgcpp_notebook

inline void show_svg(const std::string& path) { xcpp::display(pgcpp_notebook::SvgFile{path}); }
#else
inline void show_svg(const std::string& path) {
  std::cout << "@@pgcpp-display image/svg+xml " << path << "@@" << std::endl;
}
#endif
