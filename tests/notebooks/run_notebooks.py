#!/usr/bin/env python3
"""The notebooks of notebooks_cpp/ executed by a real Jupyter client with the project's kernel:
`jupyter nbconvert --to notebook --execute --ExecutePreprocessor.kernel_name=pgcpp` (nbclient)
of each one into a temporary folder; fails on any cell's error, then compares every cell's outputs
with the stored ones (scripts/notebook.py's comparison: the stored outputs are what the g++ route
prints, so this also checks that the kernel and g++ give the same text and figures).

  run_notebooks.py --build BUILD [NB.ipynb ...]

The kernel is registered in the temporary folder (JUPYTER_PATH), pointing at this checkout and
BUILD, so that the test runs this checkout's kernel whatever is installed for the user. Needs
Jupyter (bash scripts/setup.sh --notebooks); fails with that message when it is missing.
"""
from __future__ import annotations

import argparse
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent.parent
sys.path.insert(0, str(ROOT / "scripts"))
import notebook  # noqa: E402  (scripts/notebook.py: stale_cells)

SETUP = "bash scripts/setup.sh --notebooks"


def jupyter_python() -> tuple[str, str]:
    """`jupyter` and the Python it runs with (Debian's python3, whatever python3 is on PATH)."""
    jupyter = shutil.which("jupyter")
    if jupyter is None:
        sys.exit(f"FAIL: jupyter not found on PATH: install it and the kernel with `{SETUP}`")
    first = Path(jupyter).read_text(errors="replace").split("\n", 1)[0]
    python = first[2:].strip().split()[0] if first.startswith("#!") else sys.executable
    if python.endswith("/env"):
        python = shutil.which(first[2:].split()[1]) or sys.executable
    return jupyter, python


def install_kernel(python: str, build: Path, tmp: Path) -> dict:
    env = dict(os.environ, JUPYTER_PATH=str(tmp / "share" / "jupyter"))
    r = subprocess.run([python, str(ROOT / "notebooks_cpp" / "kernel" / "pgcpp_kernel.py"), "install",
                        "--prefix", str(tmp), "--build", str(build)], capture_output=True, text=True, env=env)
    if r.returncode != 0:
        sys.exit(f"FAIL: registering the kernel failed (is python3-ipykernel installed? `{SETUP}`):\n{r.stderr}")
    return env


def normalized(nb: dict) -> dict:
    """Outputs as scripts/notebook.py stores them: stream text and display data as lists of lines,
    consecutive streams of one name merged, display metadata {}."""
    for cell in nb["cells"]:
        if cell.get("cell_type") != "code":
            continue
        outs = []
        for o in cell.get("outputs", []):
            if o["output_type"] == "stream":
                text = "".join(o["text"]) if isinstance(o["text"], list) else o["text"]
                if outs and outs[-1]["output_type"] == "stream" and outs[-1]["name"] == o["name"]:
                    text = "".join(outs.pop()["text"]) + text
                outs.append({"name": o["name"], "output_type": "stream", "text": notebook.lines_of(text)})
            elif o["output_type"] == "display_data":
                data = {k: notebook.lines_of("".join(v) if isinstance(v, list) else v) for k, v in o["data"].items()}
                outs.append({"data": data, "metadata": {}, "output_type": "display_data"})
            else:
                outs.append(o)
        cell["outputs"] = outs
    return nb


NUMBER = re.compile(r"[-+]?(?:\d+\.?\d*|\.\d+)(?:[eE][-+]?\d+)?")


def last_digit(token: str) -> float:
    """One unit in the last printed digit of a number's text: "3.1726e-03" -> 1e-7, "0.0500" -> 1e-4."""
    mantissa, _, exponent = token.lower().partition("e")
    decimals = len(mantissa.split(".")[1]) if "." in mantissa else 0
    return 10.0 ** (int(exponent or 0) - decimals)


def texts_agree(a: str, b: str) -> bool:
    """The same text except numbers, which are printed alike and differ by at most one unit in their
    last digit."""
    if NUMBER.sub("#", a) != NUMBER.sub("#", b):
        return False
    for x, y in zip(NUMBER.findall(a), NUMBER.findall(b)):
        if x != y and (last_digit(x) != last_digit(y) or abs(float(x) - float(y)) > 1.5 * last_digit(x)):
            return False
    return True


def same_to_last_digit(stored: dict, executed: dict) -> bool:
    """Whether every code cell's outputs agree with the stored ones up to the last printed digit.
    Why a tolerance at all: the stored outputs come from g++ (scripts/notebook.py), which vectorizes
    the cells' own Eigen code; clang-repl cannot run Eigen's inline assembly, so the kernel runs that
    code unvectorized (notebooks_cpp/README.md). In float the two summation orders round differently,
    which can move a printed number by one unit in its last digit (measured: 3.1726e-03 against
    3.1727e-03); anything more is a real difference. Bug caught: a kernel that drops, reorders or
    changes output (the text between numbers must be equal, and the counts of outputs)."""
    cells = [(a, b) for a, b in zip(stored["cells"], executed["cells"]) if a.get("cell_type") == "code"]
    for a, b in cells:
        outs_a, outs_b = a.get("outputs", []), b.get("outputs", [])
        if a.get("execution_count") != b.get("execution_count") or len(outs_a) != len(outs_b):
            return False
        for x, y in zip(outs_a, outs_b):
            if x["output_type"] != y["output_type"]:
                return False
            if x["output_type"] == "stream":
                if x["name"] != y["name"] or not texts_agree("".join(x["text"]), "".join(y["text"])):
                    return False
            elif x["output_type"] == "display_data":
                if sorted(x["data"]) != sorted(y["data"]) or not all(
                        texts_agree("".join(x["data"][k]), "".join(y["data"][k])) for k in x["data"]):
                    return False
            elif x != y:
                return False
    return True


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--build", type=Path, required=True)
    ap.add_argument("--timeout", type=int, default=300, help="per cell, seconds")
    ap.add_argument("notebooks", nargs="*", type=Path)
    args = ap.parse_args()
    notebooks = [p.resolve() for p in args.notebooks] or sorted((ROOT / "notebooks_cpp").glob("*.ipynb"))
    jupyter, python = jupyter_python()
    failures = []
    with tempfile.TemporaryDirectory(prefix="pgcpp-nbexec-") as tmp_name:
        tmp = Path(tmp_name)
        env = install_kernel(python, args.build.resolve(), tmp)
        for nb in notebooks:
            out = tmp / "out"
            start = time.monotonic()
            r = subprocess.run([jupyter, "nbconvert", "--to", "notebook", "--execute",
                                "--ExecutePreprocessor.kernel_name=pgcpp",
                                f"--ExecutePreprocessor.timeout={args.timeout}", "--output-dir", str(out), str(nb)],
                               capture_output=True, text=True, env=env, cwd=nb.parent)
            seconds = time.monotonic() - start
            if r.returncode != 0:
                tail = r.stderr.strip().split("CellExecutionError:")[-1].strip()
                failures.append(f"{nb.name}: nbconvert --execute failed after {seconds:.1f} s:\n{tail[-3000:]}")
                continue
            executed = normalized(json.loads((out / nb.name).read_text()))
            stored = json.loads(nb.read_text())
            problems = notebook.stale_cells(stored, executed) if not same_to_last_digit(stored, executed) else []
            if problems:
                failures.append(f"{nb.name}: the kernel's outputs differ from the stored ones:\n" + "\n".join(problems))
            else:
                print(f"run_notebooks: {nb.name}: executed by the pgcpp kernel in {seconds:.1f} s, outputs as stored")
    for f in failures:
        print(f"run_notebooks: FAIL: {f}", file=sys.stderr)
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
