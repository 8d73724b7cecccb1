// The one entry point of every executable's main(): a usage error has already exited 2 through
// Cli; everything that goes wrong later (I/O, memory, non-finite numbers, a bug's exception)
// becomes one line "program: message" on stderr and exit status 1, never an abort.
//
//   int main(int argc, char** argv) {
//     Config cfg;
//     Cli cli("gd_sgd", "...");
//     cli.add(cfg);
//     cli.parse(argc, argv);
//     return run_program(cli, [&] {
//       make_output_dir(cfg.out(), "--out");
//       ...
//       return 0;
//     });
//   }
//
// RL demos call run_experiment (run.hpp) inside it.
#pragma once

#include <filesystem>
#include <functional>
#include <string>

#include "experiment/cli.hpp"

namespace pgcpp {

int run_program(const Cli& cli, const std::function<int()>& body);

// Creates `dir` and its parents and checks that a file can be written in it; throws
// std::runtime_error "<flag> '<dir>': <why>" otherwise.
void make_output_dir(const std::filesystem::path& dir, const std::string& flag = "--out");

// Writes `text` to `path` through `path`.tmp and a rename, so a failed write (a full disk) never
// leaves a truncated file; the temporary is removed on failure. Throws naming the path.
void write_file_atomically(const std::filesystem::path& path, const std::string& text);

}  // namespace pgcpp
