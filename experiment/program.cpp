#include "experiment/program.hpp"

#include <cstdio>
#include <exception>
#include <fstream>
#include <iostream>
#include <new>
#include <system_error>

namespace pgcpp {

namespace fs = std::filesystem;

int run_program(const Cli& cli, const std::function<int()>& body) {
  try {
    return body();
  } catch (const std::bad_alloc&) {
    std::cerr << cli.program() << ": out of memory (try smaller sizes or counts; see --help for their ranges)\n";
  } catch (const std::exception& e) {
    std::cerr << cli.program() << ": " << e.what() << "\n";
  } catch (...) {
    std::cerr << cli.program() << ": unknown error\n";
  }
  return 1;
}

void make_output_dir(const fs::path& dir, const std::string& flag) {
  const std::string who = flag + " '" + dir.string() + "': ";
  if (dir.empty()) throw std::runtime_error(flag + ": an empty path is not a folder");
  std::error_code ec;
  fs::create_directories(dir, ec);
  if (ec) throw std::runtime_error(who + "cannot create the folder (" + ec.message() + ")");
  if (!fs::is_directory(dir, ec)) throw std::runtime_error(who + "is not a folder");
  const fs::path probe = dir / ".pgcpp_write_test";
  {
    std::ofstream f(probe, std::ios::trunc);
    f << "x";
    f.flush();
    if (!f) {
      fs::remove(probe, ec);
      throw std::runtime_error(who + "cannot write there");
    }
  }
  fs::remove(probe, ec);
}

void write_file_atomically(const fs::path& path, const std::string& text) {
  const fs::path tmp = path.string() + ".tmp";
  std::error_code ec;
  {
    std::ofstream f(tmp, std::ios::binary | std::ios::trunc);
    f.write(text.data(), static_cast<std::streamsize>(text.size()));
    f.flush();
    if (!f) {
      f.close();
      fs::remove(tmp, ec);
      throw std::runtime_error("cannot write '" + path.string() + "'");
    }
  }
  fs::rename(tmp, path, ec);
  if (ec) {
    fs::remove(tmp, ec);
    throw std::runtime_error("cannot write '" + path.string() + "' (" + ec.message() + ")");
  }
}

}  // namespace pgcpp
