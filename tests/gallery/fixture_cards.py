"""A tiny gallery for tests/gallery/page_loads.py: one figure card and one claim card, both drawn
from one `compare` run over the fixture run folder next to this file (60 made-up CartPole
episodes), plus one of the book's PNGs. Runs in well under a second."""
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "scripts"))
from gallery_cards import Card, Check, Job  # noqa: E402

FIXTURE = Path(__file__).resolve().parent / "fixture_run"

JOBS = [Job("fixture_compare", "compare", ["--title", "fixture", f"fixture={FIXTURE}"], est=1)]
CARDS = [
    Card("fig3.02", "Fig. 3.2 — a figure card", "3.2.3", "Example 3.1", ["fig3.02.png"], quote="a quote",
         job="fixture_compare", ours=["comparison.svg"]),
    Card("claim-fixture", "Claim 0 — a claim card", "3.3", quote="a claim", job="fixture_compare",
         ours=["comparison.svg"], check=Check("comparison.csv exists", lambda run: (
             (run.dir / "comparison.csv").exists(), "comparison.csv written"))),
]
