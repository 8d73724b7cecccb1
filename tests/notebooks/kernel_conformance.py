#!/usr/bin/env python3
"""The pgcpp kernel (notebooks_cpp/kernel/pgcpp_kernel.py) against jupyter_kernel_test, the
Jupyter project's conformance tests for kernels (kernel_info, execute, stdout, stderr, errors,
display data; the kernel offers no completion or inspection, so those are not claimed), plus what
the notebooks need from it: state across cells, compile errors naming the cell's line, recovery
from a compile error and from a crash of the C++ process, an edited cell run again.

  kernel_conformance.py --build BUILD

The kernel is registered in a temporary folder (JUPYTER_PATH) for this checkout and BUILD. Needs
Jupyter and python3-jupyter-kernel-test (bash scripts/setup.sh --notebooks); fails when missing.
"""
from __future__ import annotations

import os
import shutil
import subprocess
import sys
import tempfile
import unittest
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent.parent
SETUP = "bash scripts/setup.sh --notebooks"

try:
    import jupyter_kernel_test as jkt
except ImportError:
    jkt = None


def reexec_or_fail():
    """Under a Python without jupyter_kernel_test (pyenv's, say): run again under Debian's."""
    for python in ("/usr/bin/python3",):
        if Path(python).exists() and Path(python).resolve() != Path(sys.executable).resolve():
            os.execv(python, [python] + sys.argv)
    sys.exit(f"FAIL: jupyter_kernel_test not importable by {sys.executable}: `{SETUP}` installs it "
             f"(python3-jupyter-kernel-test)")


if jkt is not None:
    class PgcppKernelTests(jkt.KernelTests):
        kernel_name = "pgcpp"
        language_name = "c++"
        file_extension = ".cpp"
        code_hello_world = 'std::printf("hello, world\\n");'
        code_stderr = 'std::fprintf(stderr, "to stderr\\n");'
        code_generate_error = "int generates_an_error = undefined_name;"
        complete_code_samples = ["int complete_sample = 1;"]
        code_display_data = []  # set in setUpClass: an SVG file written for it

        @classmethod
        def setUpClass(cls):
            svg = Path(TMP) / "figure.svg"
            svg.write_text('<svg xmlns="http://www.w3.org/2000/svg" width="10" height="10"><rect width="5" height="5"/></svg>\n')
            cls.code_display_data = [{"code": f'#include "notebook.hpp"\nshow_svg("{svg}");', "mime": "image/svg+xml"}]
            super().setUpClass()

        def cell(self, code, timeout=120):  # reply, stdout, errors
            self.flush_channels()
            reply, messages = self.execute_helper(code=code, timeout=timeout, stop_on_error=False)
            stdout = "".join(m["content"]["text"] for m in messages
                             if m["msg_type"] == "stream" and m["content"]["name"] == "stdout")
            errors = [m["content"] for m in messages if m["msg_type"] == "error"]
            return reply["content"], stdout, errors

        # Catches: each cell run in a fresh process (no state), or a global not reachable from the next input.
        def test_pgcpp_state_across_cells(self):
            self.cell("#include <cstdio>\n#include <vector>\nconst std::vector<double> kept = {1.5, 2.5};\nint counter = 3;")
            reply, out, _ = self.cell('counter += 1;\nfor (double v : kept) std::printf("%g ", v * counter);\nstd::printf("\\n");')
            self.assertEqual(reply["status"], "ok")
            self.assertEqual(out, "6 10 \n")  # (1.5, 2.5) * 4: the for over a const vector of an earlier cell

        # Catches: clang-repl's line numbers (of the include) reported instead of the cell's.
        def test_pgcpp_compile_error_names_the_cell_line(self):
            reply, _, errors = self.cell("int fine = 1;\nint broken = fine +\n    no_such_name;")
            self.assertEqual(reply["status"], "error")
            self.assertEqual(len(errors), 1)
            text = "\n".join(errors[0]["traceback"])
            self.assertRegex(text, r"In \[\d+\]:3:5: error: use of undeclared identifier 'no_such_name'")

        # Catches: a failed input's parsed part left in the interpreter (clang-repl 16 executes it later).
        def test_pgcpp_recovers_after_a_compile_error(self):
            self.cell("int before_error = 10;")
            reply, _, _ = self.cell('int half_parsed = 5;\nstd::printf("half\\n");\nint bad = nope;')
            self.assertEqual(reply["status"], "error")
            reply, out, _ = self.cell('int half_parsed = 7;\nstd::printf("%d %d\\n", before_error, half_parsed);')
            self.assertEqual(reply["status"], "ok")
            self.assertEqual(out, "10 7\n")

        # Catches: a hang after a symbol the JIT cannot resolve (clang-repl 16 then fails every input).
        def test_pgcpp_link_error_is_reported(self):
            self.cell("int kept_after_link_error = 5;")
            reply, _, errors = self.cell("int declared_never_defined();\nint link_fails = declared_never_defined();")
            self.assertEqual(reply["status"], "error")
            self.assertIn("declared_never_defined", "\n".join(errors[0]["traceback"]))
            reply, out, _ = self.cell('std::printf("%d\\n", kept_after_link_error);')
            self.assertEqual((reply["status"], out), ("ok", "5\n"))

        # Catches: a kernel that dies with the C++ process, or restarts it without the earlier cells.
        def test_pgcpp_crash_restarts_with_the_session(self):
            self.cell("int survives = 42;")
            reply, _, errors = self.cell("int* null_pointer = nullptr;\n*null_pointer = 1;")
            self.assertEqual(reply["status"], "error")
            self.assertIn("signal 11", errors[0]["evalue"])
            reply, out, _ = self.cell('std::printf("%d\\n", survives);')
            self.assertEqual(reply["status"], "ok")
            self.assertEqual(out, "42\n")

        # Catches: an interrupt that kills the kernel, is lost (the cell never ends), or loses the session.
        def test_pgcpp_interrupt(self):
            import threading
            self.cell("int kept_after_interrupt = 8;")
            timer = threading.Timer(3.0, self.km.interrupt_kernel)
            timer.start()
            reply, _, errors = self.cell("volatile long spin = 0;\nwhile (true) ++spin;")
            timer.join()
            self.assertEqual((reply["status"], errors[0]["ename"]), ("error", "Interrupted"))
            reply, out, _ = self.cell('std::printf("%d\\n", kept_after_interrupt);')
            self.assertEqual((reply["status"], out), ("ok", "8\n"))

        # Catches: an edited cell run again failing with "redefinition".
        def test_pgcpp_edited_cell_runs_again(self):
            self.cell("double edited = 1.0;")
            reply, out, _ = self.cell('double edited = 2.0;\nstd::printf("%g\\n", edited);')
            self.assertEqual(reply["status"], "ok")
            self.assertEqual(out, "2\n")

        # Catches: the text printed before a figure, or the figure, lost or out of order.
        def test_pgcpp_stream_then_display(self):
            self.flush_channels()
            reply, messages = self.execute_helper(code=self.code_display_data[0]["code"].replace(
                "show_svg", 'std::printf("before\\n"); show_svg'))
            kinds = [(m["msg_type"], m["content"].get("text")) for m in messages if m["msg_type"] in ("stream", "display_data")]
            self.assertEqual(kinds, [("stream", "before\n"), ("display_data", None)])


TMP = ""


def main() -> int:
    import argparse
    if jkt is None:
        reexec_or_fail()
    global TMP
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--build", type=Path, required=True)
    args, rest = ap.parse_known_args()
    with tempfile.TemporaryDirectory(prefix="pgcpp-kerneltest-") as tmp:
        TMP = tmp
        r = subprocess.run([sys.executable, str(ROOT / "notebooks_cpp" / "kernel" / "pgcpp_kernel.py"), "install",
                            "--prefix", tmp, "--build", str(args.build.resolve())], capture_output=True, text=True)
        if r.returncode != 0:
            sys.exit(f"FAIL: registering the kernel failed (`{SETUP}`):\n{r.stderr}")
        os.environ["JUPYTER_PATH"] = str(Path(tmp) / "share" / "jupyter")
        os.chdir(ROOT / "notebooks_cpp")  # the kernel's folder, as for a notebook: notebook.hpp is found
        program = unittest.main(module=__name__, argv=[sys.argv[0], "-v"] + rest, exit=False)
        return 0 if program.result.wasSuccessful() and program.result.testsRun > 0 else 1


if __name__ == "__main__":
    sys.exit(main())
