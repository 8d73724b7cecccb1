#!/usr/bin/env python3
"""pgcpp's Jupyter kernel: C++20 cells run by clang-repl (LLVM's incremental C++ interpreter,
Debian package clang-tools-16) with the project's headers, Eigen and libpgcpp.so.

  python3 pgcpp_kernel.py -f CONNECTION_FILE       run the kernel (what Jupyter does)
  python3 pgcpp_kernel.py install [--user|--sys-prefix|--prefix DIR] [--build DIR] [--name NAME]
                                                   register it with Jupyter (kernelspec `pgcpp`)

How a cell runs (notebooks_cpp/README.md has the reasons):
  * the cell is written to a file whose first line is `#line 1 "In [k]"` and clang-repl is sent
    `#include "<that file>"`, so a cell of any length and with preprocessor lines is one input and
    its compile errors name the cell and its line (`In [k]:3:10: error: ...`);
  * `#pragma cling ...` lines (xeus-cling's) are commented out; `const`/`constexpr` declarations at
    the cell's top level get `inline` (clang-repl 16 cannot reach a previous input's variable
    with internal linkage); nothing else changes;
  * after the cell, an input prints a marker to stdout and to stderr; the cell is done when both
    have arrived. stdout streams to the notebook as it comes; a line
    `@@pgcpp-display image/svg+xml PATH@@` (show_svg of notebook.hpp) becomes display data;
  * a cell that fails (a compile error, a symbol the JIT cannot resolve, a crash of the process,
    an interrupt) leaves clang-repl 16 in a state it cannot be trusted in (the parsed part of a
    failed input is executed with the next one). The kernel reports the error, starts a new
    clang-repl and replays the cells that succeeded, silently: the session is as before the
    failed cell. A cell that redefines a name of an earlier cell (an edited cell run again)
    rewinds the session to just before that cell (it and the cells after it are dropped), then runs.
The library is preloaded (LD_PRELOAD: clang-repl's %lib does not resolve its symbols); the flags
are the build's (its CMakeCache.txt: PGCPP_FLOAT, -march=native), so that the cells have the
library's scalar type and Eigen ABI. The build is $PGCPP_BUILD, else <repository>/build.
"""
from __future__ import annotations

import json
import os
import queue
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent.parent
sys.path.insert(0, str(ROOT / "scripts"))
from notebook import on, read_cache  # noqa: E402  (the build's CMakeCache.txt, read as the g++ route does)
NAME = "pgcpp"
DISPLAY_RE = re.compile(r"@@pgcpp-display (\S+) (.+?)@@\n")
INCLUDED_FROM_RE = re.compile(r"^In file included from .*\n", re.M)
REDEFINITION_RE = re.compile(r"^In \[(\d+)\]:\d+:\d+: note: previous definition is here", re.M)

ERROR_RE = re.compile(r"(^|\s)error: |JIT session error|Failed to materialize", re.M)


# ---------------------------------------------------------------------------------------------
# The build: flags and library

def find_clang_repl() -> str | None:
    for name in ("clang-repl-16", "clang-repl", "clang-repl-17", "clang-repl-18"):
        path = shutil.which(name)
        if path:
            return path
    return None


def repl_command(build: Path) -> tuple[list[str], Path]:
    """clang-repl's command line and the library to preload; raises RuntimeError with the fix."""
    repl = find_clang_repl()
    if repl is None:
        raise RuntimeError("clang-repl-16 not found: bash scripts/setup.sh --notebooks installs it (clang-tools-16)")
    if not (build / "CMakeCache.txt").exists():
        raise RuntimeError(f"{build}/CMakeCache.txt not found: configure and build the library first "
                           f"(cmake --preset default && cmake --build --preset default)")
    cache = read_cache(build)
    lib = build / "lib" / "libpgcpp.so"
    if not lib.exists():
        raise RuntimeError(f"{lib} not found: cmake --build {build} --target pgcpp_shared")
    eigen = next((d for d in ("/usr/include/eigen3", "/usr/local/include/eigen3") if Path(d, "Eigen").is_dir()), None)
    if eigen is None:
        raise RuntimeError("Eigen's headers not found in /usr/include/eigen3 (apt-get install libeigen3-dev)")
    # No -O: clang-repl 16 aborts with an out-of-memory error on Eigen with -O1. The heavy work is
    # in the library, compiled as the build compiles it.
    flags = ["-std=c++20", f"-I{ROOT}", f"-I{ROOT / 'notebooks_cpp'}", f"-isystem{eigen}", "-ffp-contract=off",
             "-Wno-extern-initializer"]  # extern before a const declaration (see Preparer)
    # The scalar of libpgcpp.so: PGCPP_PROGRAM_SCALAR (float or double), or the older PGCPP_FLOAT switch.
    if on(cache, "PGCPP_FLOAT") or cache.get("PGCPP_PROGRAM_SCALAR", "").lower() == "float":
        flags.append("-DPGCPP_FLOAT=1")
    native = on(cache, "PGCPP_NATIVE") and cache.get("CMAKE_BUILD_TYPE", "Release") in ("Release", "RelWithDebInfo")
    if native:
        flags.append("-march=native")
    # clang-repl 16 cannot JIT inline assembly ("no asm parser for this target"), which Eigen uses
    # under clang (its FMA, max, cpuid and optimization-barrier paths). So the cells' own Eigen code
    # runs unvectorized, with Eigen's alignment (its ABI: struct layouts, allocations) set to the
    # library's, as the build's compiler with the build's flags defines it. The library's code is
    # the build's, vectorized.
    align, static_align = eigen_alignment(cache.get("CMAKE_CXX_COMPILER") or "g++", eigen, native)
    flags += ["-DEIGEN_DONT_VECTORIZE", f"-DEIGEN_MAX_ALIGN_BYTES={align}",
              f"-DEIGEN_MAX_STATIC_ALIGN_BYTES={static_align}", "-DEIGEN_NO_CPUID",
              "-DEIGEN_OPTIMIZATION_BARRIER(X)=", "-DEIGEN_ASM_COMMENT(X)="]
    return [repl] + [f"-Xcc={f}" for f in flags], lib


def eigen_alignment(cxx: str, eigen: str, native: bool) -> tuple[str, str]:
    """EIGEN_MAX_ALIGN_BYTES and EIGEN_MAX_STATIC_ALIGN_BYTES as the library was compiled."""
    probe = "#include <Eigen/Core>\npgcpp_alignment EIGEN_MAX_ALIGN_BYTES EIGEN_MAX_STATIC_ALIGN_BYTES\n"
    cmd = [cxx, "-std=c++20", "-E", "-P", f"-isystem{eigen}", "-x", "c++", "-"] + (["-march=native"] if native else [])
    r = subprocess.run(cmd, input=probe, capture_output=True, text=True)
    m = re.search(r"^pgcpp_alignment (\d+) (\d+)\s*$", r.stdout, re.M)
    if r.returncode != 0 or not m:
        raise RuntimeError(f"could not read Eigen's alignment from {cxx}: {r.stderr.strip()[:500]}")
    return m.group(1), m.group(2)


# ---------------------------------------------------------------------------------------------
# A cell's source as clang-repl gets it

def _code_mask(src: str) -> list[bool]:
    """True at the characters that are code (not in a comment, string or character literal)."""
    mask = [True] * len(src)
    i, n = 0, len(src)
    while i < n:
        c = src[i]
        if src.startswith("//", i):
            j = src.find("\n", i)
            j = n if j < 0 else j
        elif src.startswith("/*", i):
            j = src.find("*/", i + 2)
            j = n if j < 0 else j + 2
        elif c == "'" and i > 0 and src[i - 1].isalnum() and i + 1 < n and src[i + 1].isalnum():
            i += 1  # a digit separator, 200'000
            continue
        elif c in "\"'":
            j = i + 1
            while j < n and src[j] != c and src[j] != "\n":
                j += 2 if src[j] == "\\" else 1
            j = min(j + 1, n)
        else:
            i += 1
            continue
        for k in range(i, j):
            mask[k] = False
        i = j
    return mask


# A top-level declaration: specifiers, a type, a declarator; or specifiers alone (`unsigned long n = 0;`).
DECL_KW = r"(?:const|constexpr|static|inline|extern|thread_local|volatile|unsigned|signed|long|short|int|char|double|float|bool)"
DECL_RE = re.compile(rf"(?:{DECL_KW}\s+)*[A-Za-z_][\w:]*(?:\s*<[^;{{}}]*>)?(?:\s*::\s*\w+)*[\s*&]+[A-Za-z_]\w*\s*[=({{;,\[]"
                     rf"|(?:{DECL_KW}\s+)+[\s*&]*[A-Za-z_]\w*\s*[=({{;,\[]")
SCOPE_RE = re.compile(r"(using|struct|class|template|namespace|typedef|enum|union)\b")
BLOCK_RE = re.compile(r"(for|if|while|switch|do|try)\b|\{")
FILE_SCOPE = "// [file scope]"


def split_statements(src: str) -> list[tuple[int, str]]:
    """The top-level statements of a cell: (offset, text), comments attached to the next one."""
    mask = _code_mask(src)
    out, depth, start, i, n = [], 0, 0, 0, len(src)
    block = None  # the current statement starts with for/if/while/...: it may end at a "}"

    def next_word(j):
        while j < n and (src[j].isspace() or not mask[j]):
            j += 1
        m = re.match(r"\w+", src[j:])
        return m.group(0) if m else ""

    while i < n:
        c = src[i]
        if mask[i] and depth == 0 and block is None and not src[start:i].strip("\n\t ") == "" and False:
            pass
        if mask[i]:
            if depth == 0 and c == "#" and src[start:i].strip() == "" and (i == 0 or src[i - 1] == "\n"):
                j = src.find("\n", i)
                j = n if j < 0 else j
                out.append((start, src[start:j]))
                start = i = j
                continue
            if depth == 0 and block is None:
                code = "".join(ch for k, ch in enumerate(src[start:i + 1]) if mask[start + k]).strip()
                if len(code) == 1 or (code and not code[:-1].strip()):
                    block = bool(BLOCK_RE.match(src[i:]))
            if c in "([{":
                depth += 1
            elif c in ")]}":
                depth = max(0, depth - 1)
                if depth == 0 and c == "}" and block and next_word(i + 1) not in ("else", "catch", "while"):
                    out.append((start, src[start:i + 1]))
                    start, block = i + 1, None
            elif c == ";" and depth == 0 and next_word(i + 1) not in ("else",):
                out.append((start, src[start:i + 1]))
                start, block = i + 1, None
        i += 1
    if src[start:].strip():
        out.append((start, src[start:]))
    return out


class Preparer:
    """A cell's source -> the file clang-repl includes (prepare)."""

    def __init__(self):
        self.serial = 0

    def prepare(self, src: str, cell: str) -> str:
        """File-scope cells go in as they are (#pragma cling lines commented out). In the other cells,
        each top-level statement that is not a declaration becomes the body of a function called
        from a global's initializer (clang-repl 16 miscompiles some top-level statements: a
        `for (double a : {x, y})` there reads the wrong values, a larger one crashes), and `extern`
        goes before a top-level const declaration (its variable would otherwise have internal
        linkage, which a later input cannot reach in clang-repl 16). #line keeps the cell's lines."""
        def line_of(offset):
            return src.count("\n", 0, offset) + 1
        lines = [("// (xeus-cling only) " + l if l.lstrip().startswith("#pragma cling") else l) for l in src.split("\n")]
        src = "\n".join(lines)
        if src.lstrip().startswith(FILE_SCOPE):
            return f'#line 1 "{cell}"\n{src}\n'
        out = []
        for offset, text in split_statements(src):
            mask = _code_mask(text)
            lead = next((k for k in range(len(text)) if mask[k] and not text[k].isspace()), None)
            if lead is None:
                continue  # comments only
            body = text[lead:]
            where = f'#line {line_of(offset + lead)} "{cell}"\n'
            if body.startswith("#") or SCOPE_RE.match(body) or DECL_RE.match(body):
                # clang-repl 16 misparses `Eigen::VectorXd v(3);` at top level ("no template named
                # 'VectorXd'; did you mean 'Eigen::VectorX'?"); `::Eigen::VectorXd v(3);` is parsed.
                body = re.sub(r"^((?:const\s+)?)Eigen::", r"\1::Eigen::", body)
                if re.match(r"const\s", body):
                    # `const T x;` (a default-constructed constant) needs an initializer once extern
                    body = "extern " + re.sub(r"^(const\s[^=(){};,]*\s)(\w+)\s*;$", r"\1\2{};", body.rstrip())
                out.append(where + body)
            else:
                self.serial += 1
                name = f"pgcpp_cell_statement_{self.serial}"
                out.append(f"{where}static void {name}() {{ {body}\n}}\n"
                           f"static const int {name}_run = ({name}(), 0);")
        return "\n".join(out) + "\n"


def prepare(src: str, cell: str = "In [1]") -> str:
    return Preparer().prepare(src, cell)


# ---------------------------------------------------------------------------------------------
# The interpreter process

class Crashed(Exception):
    pass


class Repl:
    """One clang-repl process: run(code) sends an input and collects its output up to the markers."""

    def __init__(self, build: Path, cwd: str):
        cmd, lib = repl_command(build)
        env = dict(os.environ)
        env["LD_PRELOAD"] = str(lib) + (" " + env["LD_PRELOAD"] if env.get("LD_PRELOAD") else "")
        self.proc = subprocess.Popen(cmd, stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                                     cwd=cwd, env=env, start_new_session=True, bufsize=0)
        self.chunks: queue.Queue = queue.Queue()
        self.count = 0
        for name, pipe in (("stdout", self.proc.stdout), ("stderr", self.proc.stderr)):
            threading.Thread(target=self._pump, args=(name, pipe), daemon=True).start()
        # Line-buffered stdout through a pipe, so that a cell's text streams as it is printed
        # (std::cout goes through stdio: sync_with_stdio).
        err = self.run("#include <cstdio>\n#include <iostream>\nstd::setvbuf(stdout, nullptr, _IOLBF, 1 << 16);",
                       lambda text: None)
        if err:
            raise RuntimeError("clang-repl did not start:\n" + err)

    def _pump(self, name, pipe):
        while True:
            data = os.read(pipe.fileno(), 65536)
            if not data:
                self.chunks.put((name, None))
                return
            self.chunks.put((name, data.decode("utf-8", "replace")))

    def alive(self) -> bool:
        return self.proc.poll() is None

    def kill(self):
        if self.alive():
            try:
                os.killpg(self.proc.pid, signal.SIGKILL)
            except OSError:
                pass
        self.proc.wait()

    def send(self, line: str):
        try:
            self.proc.stdin.write((line + "\n").encode())
            self.proc.stdin.flush()
        except (BrokenPipeError, OSError):
            raise Crashed()

    def run(self, code: str, on_stdout, path: Path | None = None) -> str:
        """Runs one input (a cell written to `path`, or a line of code). Calls on_stdout(text) as
        text arrives; returns clang-repl's stderr for the input. Raises Crashed if the process ends."""
        self.count += 1
        mark = f"@@pgcpp-end {self.count}@@"
        if path is None:
            for line in code.split("\n"):
                self.send(line)
        else:
            self.send(f'#include "{path}"')
        self.send(f'std::fflush(stdout); std::fputs("{mark}\\n", stdout); std::fflush(stdout); '
                  f'std::fputs("{mark}\\n", stderr);')
        out, err, done = "", "", {"stdout": False, "stderr": False}
        while not all(done.values()):
            # Once one marker is in, the other follows at once, or the process is broken. After a
            # JIT error (a symbol not found), clang-repl 16 fails every later input the same way,
            # the markers' too: no marker comes.
            jit_error = "Failed to materialize" in err or "JIT session error" in err
            try:
                name, text = self.chunks.get(timeout=20 if any(done.values()) else 5 if jit_error else None)
            except queue.Empty:
                self.kill()
                if jit_error:
                    return err
                raise Crashed("the interpreter's " + ("stdout" if done["stderr"] else "stderr") +
                              " did not come back after the cell (stdio broken?)")
            if text is None:
                self.proc.wait()
                raise Crashed(err)
            if name == "stdout":
                out += text
                cut = out.find(mark + "\n")
                if cut >= 0:
                    done["stdout"] = True
                    on_stdout(out[:cut])
                    out = out[cut + len(mark) + 1:]
                else:
                    last = out.rfind("\n")
                    if last >= 0:  # stream the complete lines
                        on_stdout(out[: last + 1])
                        out = out[last + 1:]
            else:
                err += text
                cut = err.find(mark + "\n")
                if cut >= 0:
                    done["stderr"] = True
                    err = err[:cut] + err[cut + len(mark) + 1:]
        return err


# ---------------------------------------------------------------------------------------------
# The kernel

def make_kernel_class():
    from ipykernel.kernelbase import Kernel

    class PgcppKernel(Kernel):
        implementation = NAME
        implementation_version = "1.0"
        language = "c++"
        language_version = "20"
        language_info = {"name": "c++", "version": "20", "mimetype": "text/x-c++src", "file_extension": ".cpp",
                         "codemirror_mode": "text/x-c++src", "pygments_lexer": "cpp"}
        banner = "pgcpp: C++20 with the pgcpp library, run by clang-repl"

        def __init__(self, **kwargs):
            super().__init__(**kwargs)
            self.build = Path(os.environ.get("PGCPP_BUILD") or ROOT / "build").resolve()
            self.cells_dir = Path(tempfile.mkdtemp(prefix="pgcpp-kernel-"))
            self.history: list[tuple[int, Path]] = []  # the cells that succeeded, in order
            self.repl: Repl | None = None
            self.preparer = Preparer()
            self.start_error: str | None = None

        # -- output --------------------------------------------------------------------------
        def _stream(self, name: str, text: str):
            if text and not self.silent:
                self.send_response(self.iopub_socket, "stream", {"name": name, "text": text})

        def _stdout(self, text: str):
            self.pending += text
            while True:
                m = DISPLAY_RE.search(self.pending)
                if not m:
                    break
                self._stream("stdout", self.pending[: m.start()])
                self._display(m.group(1), m.group(2))
                self.pending = self.pending[m.end():]
            keep = self.pending.rfind("@@pgcpp-display")
            if keep < 0:
                self._stream("stdout", self.pending)
                self.pending = ""
            else:  # a display marker may be arriving in pieces
                self._stream("stdout", self.pending[:keep])
                self.pending = self.pending[keep:]

        def _display(self, mime: str, path: str):
            if self.silent:
                return
            file = Path(os.getcwd(), path)
            try:
                data = file.read_text()
            except (OSError, ValueError) as ex:
                self._stream("stderr", f"show_svg: cannot read {file}: {ex}\n")
                return
            data = re.sub(r"\A\s*<\?xml[^>]*\?>\s*", "", data, count=1)  # as scripts/notebook.py: for nbconvert's HTML
            self.send_response(self.iopub_socket, "display_data",
                               {"data": {mime: data, "text/plain": path}, "metadata": {}})

        # -- the interpreter -------------------------------------------------------------------
        def _start(self):
            self.repl = Repl(self.build, os.getcwd())

        def _restart(self, before: int | None = None) -> str | None:
            """A new clang-repl with the successful cells replayed (those before In [before] only)."""
            if self.repl:
                self.repl.kill()
            self.repl = None
            self._start()
            kept, note = [], None
            silent, self.silent = self.silent, True
            try:
                for number, path in self.history:
                    if before is not None and number >= before:
                        break
                    err = self.repl.run("", self._stdout, path)
                    self.pending = ""
                    if ERROR_RE.search(err):
                        note = f"(replaying In [{number}] failed: it and the cells after it are dropped)"
                        break
                    kept.append((number, path))
            except Crashed:
                note = f"(replaying In [{number}] crashed the interpreter: it and the cells after it are dropped)"
                self._start()
            finally:
                self.silent = silent
                self.history = kept
            return note

        def _error(self, ename: str, evalue: str, text: str) -> dict:
            if not self.silent:
                self.send_response(self.iopub_socket, "error",
                                   {"ename": ename, "evalue": evalue, "traceback": [text]})
            return {"status": "error", "execution_count": self.execution_count, "ename": ename,
                    "evalue": evalue, "traceback": [text]}

        def do_execute(self, code, silent, store_history=True, user_expressions=None, allow_stdin=False):
            self.silent = silent
            self.pending = ""
            ok = {"status": "ok", "execution_count": self.execution_count, "payload": [], "user_expressions": {}}
            if not code.strip():
                return ok
            try:
                if self.repl is None or not self.repl.alive():
                    self._start()
            except RuntimeError as ex:
                return self._error("KernelSetupError", str(ex).splitlines()[0], str(ex))
            number = self.execution_count
            path = self.cells_dir / f"cell_{number}_{time.monotonic_ns()}.cpp"
            path.write_text(self.preparer.prepare(code, f"In [{number}]"))
            for attempt in (0, 1):
                try:
                    err = self.repl.run("", self._stdout, path)
                except Crashed as ex:
                    self._stdout("")
                    status = self.repl.proc.returncode
                    what = f"signal {-status}" if status < 0 else f"exit status {status}"
                    note = self._restart()
                    detail = str(ex).strip()
                    return self._error("Crash", f"the C++ process ended ({what})",
                                       f"In [{number}]: the C++ process ended during this cell ({what})"
                                       f"{chr(10) + detail if detail else ''}\nA new interpreter runs the cells that "
                                       f"succeeded before this one.{' ' + note if note else ''}")
                except KeyboardInterrupt:
                    note = self._restart()
                    return self._error("Interrupted", "interrupted", f"In [{number}]: interrupted. A new interpreter "
                                       f"runs the cells that succeeded before this one.{' ' + note if note else ''}")
                if self.pending:
                    self._stream("stdout", self.pending)
                    self.pending = ""
                err = INCLUDED_FROM_RE.sub("", err)
                if not ERROR_RE.search(err):
                    break
                errors = [l for l in err.splitlines() if ERROR_RE.search(l) and "error: Parsing failed" not in l]
                replaced = {int(k) for k in REDEFINITION_RE.findall(err)} & {h[0] for h in self.history}
                if attempt == 0 and replaced and all("redefinition of" in l for l in errors):
                    # An earlier cell In [k] run again, edited: the session rewinds to just before In [k]
                    # (it and the cells after it are dropped), then this cell runs.
                    if self._restart(before=min(replaced)) is None:
                        continue
                note = self._restart()
                text = err.replace("error: Parsing failed.\n", "").rstrip()
                first = errors[0].strip() if errors else "compile error"
                return self._error("CompileError", first, text + ("\n" + note if note else ""))
            if err.strip():
                self._stream("stderr", err)
            self.history.append((number, path))
            return ok

        def do_is_complete(self, code):
            return {"status": "complete"}

        def do_shutdown(self, restart):
            if self.repl:
                self.repl.kill()
            shutil.rmtree(self.cells_dir, ignore_errors=True)
            return {"status": "ok", "restart": restart}

    return PgcppKernel


# ---------------------------------------------------------------------------------------------
# Installing the kernelspec

def install(argv: list[str]) -> int:
    import argparse
    from jupyter_client.kernelspec import KernelSpecManager

    ap = argparse.ArgumentParser(prog="pgcpp_kernel.py install", description="register the pgcpp kernel with Jupyter")
    where = ap.add_mutually_exclusive_group()
    where.add_argument("--user", action="store_true", help="in ~/.local/share/jupyter (the default)")
    where.add_argument("--sys-prefix", action="store_true", help=f"in {sys.prefix}/share/jupyter")
    where.add_argument("--prefix", help="in PREFIX/share/jupyter")
    ap.add_argument("--build", help="the build whose libpgcpp.so the kernel loads (default: <repository>/build)")
    ap.add_argument("--name", default=NAME)
    args = ap.parse_args(argv)
    spec = {"argv": [sys.executable, "-Xfrozen_modules=off", str(Path(__file__).resolve()), "-f", "{connection_file}"],
            "display_name": "C++20 (pgcpp, clang-repl)", "language": "c++", "interrupt_mode": "signal",
            "metadata": {"repository": str(ROOT)}}
    spec["env"] = {"PYDEVD_DISABLE_FILE_VALIDATION": "1"}  # ipykernel's debugger's warning on stderr
    if args.build:
        spec["env"]["PGCPP_BUILD"] = str(Path(args.build).resolve())
    with tempfile.TemporaryDirectory() as tmp:
        (Path(tmp) / "kernel.json").write_text(json.dumps(spec, indent=1) + "\n")
        prefix = sys.prefix if args.sys_prefix else args.prefix
        dest = KernelSpecManager().install_kernel_spec(tmp, args.name, user=prefix is None, prefix=prefix)
    print(f"pgcpp kernel: installed as '{args.name}' in {dest} (the repository {ROOT})")
    return 0


def main() -> int:
    if len(sys.argv) > 1 and sys.argv[1] == "install":
        return install(sys.argv[2:])
    from ipykernel.kernelapp import IPKernelApp
    IPKernelApp.launch_instance(kernel_class=make_kernel_class())
    return 0


if __name__ == "__main__":
    sys.exit(main())
