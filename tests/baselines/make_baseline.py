"""Regenerate the exact regression baseline (run deliberately when the model changes on purpose).

.venv/bin/python tests/baselines/make_baseline.py
"""

from pathlib import Path

from analysis import load_scenario
from analysis.model.simulation import simulate

if __name__ == "__main__":
    out = Path(__file__).parent / "nl-biennial-women3000-seed7.csv"
    simulate(load_scenario("nl-biennial", calibration=None), women=3000, seed=7).counts.to_csv(out, index=False)
    print(f"written {out}")
