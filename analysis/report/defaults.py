"""Defaults of the report, importable without loading the report machinery (the CLI's parser reads them)."""

#: Default cohort size of a report (``build_report``, ``calcsim report --women``). 200,000 women pin the
#: calcification-only share of recalls to about ±0.5 percentage points and the recall rate to ±0.02 (Wilson 95%
#: half-widths) in about two minutes on 2 cores, the notebooks fitting their GEEs with the vectorised engine;
#: reports/README.md has the measurements behind it.
DEFAULT_WOMEN = 200_000
#: Default seed of a report.
DEFAULT_SEED = 2026
