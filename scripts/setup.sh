#!/usr/bin/env bash
# Installs what pgcpp needs to build and test on Debian 12 (or Ubuntu 22.04+): a C++20 compiler,
# CMake >= 3.25, Eigen 3.4, doctest and Python 3 (for scripts/equation_index.py; standard library
# only). Installs only the packages that are missing, as root or through sudo; prints what to do
# when it can do neither. Safe to run again.
#
#   bash scripts/setup.sh             the build and the tests
#   bash scripts/setup.sh --gallery   also Chromium, for the gallery page test (ctest --preset gallery)
#   bash scripts/setup.sh --cluster   also Slurm (slurm-wlm: munge, slurmctld, slurmd, sbatch), for the
#                                     cluster test (ctest --preset cluster) or to submit from this machine
#   bash scripts/setup.sh --notebooks also Jupyter and clang-repl-16 (clang-tools-16), and registers the
#                                     notebooks' kernel `pgcpp` for this user (notebooks_cpp/README.md);
#                                     for ctest --preset notebooks
#   bash scripts/setup.sh --clang     also Clang 16 (Debian's clang-16: clang++-16), for the clang preset
set -euo pipefail

packages=(cmake make g++ libeigen3-dev doctest-dev python3)
case "${1:-}" in
  "") ;;
  --cluster) packages+=(slurm-wlm) ;;
  --gallery) packages+=(chromium) ;;
  --notebooks) packages+=(clang-tools-16 jupyter-notebook jupyter-nbconvert python3-nbclient python3-ipykernel
                          python3-jupyter-client python3-jupyter-kernel-test) ;;
  --clang) packages+=(clang-16) ;;
  *) echo "setup: unknown option '$1' (--cluster, --gallery, --notebooks or --clang)" >&2; exit 2 ;;
esac
register_kernel() {  # the notebooks' kernel, for the user running this script (Debian's python3: ipykernel)
  if [ "${1:-}" = --notebooks ]; then
    /usr/bin/python3 "$(dirname "$0")/../notebooks_cpp/kernel/pgcpp_kernel.py" install --user
  fi
}
missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ ${#missing[@]} -eq 0 ]; then
  echo "setup: all packages present (${packages[*]})"
  register_kernel "${1:-}"
  exit 0
fi

if [ "$(id -u)" -eq 0 ]; then
  run_as_root=()
elif command -v sudo >/dev/null 2>&1 && sudo -n true 2>/dev/null; then
  run_as_root=(sudo)
elif command -v sudo >/dev/null 2>&1 && [ -t 0 ]; then
  run_as_root=(sudo)  # will ask for the password
else
  echo "setup: missing packages: ${missing[*]}" >&2
  echo "setup: this script needs root or sudo to install them. Ask an administrator to run:" >&2
  echo "         apt-get update && apt-get install -y ${missing[*]}" >&2
  exit 1
fi

if ! command -v apt-get >/dev/null 2>&1; then
  echo "setup: apt-get not found; install these with your package manager: ${missing[*]}" >&2
  exit 1
fi
echo "setup: installing ${missing[*]}"
export DEBIAN_FRONTEND=noninteractive
"${run_as_root[@]}" apt-get update -qq
"${run_as_root[@]}" apt-get install -y -qq --no-install-recommends "${missing[@]}"
register_kernel "${1:-}"
