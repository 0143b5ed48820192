"""Figures of the report and the notebooks: each function returns a matplotlib Figure.

Notebooks, reports and users share these functions; nothing here runs a
simulation — every function takes the tables the analysis functions return
(estimates, the screens table, :func:`analysis.stats.question.calc_only_question`,
:func:`analysis.stats.uncertainty.compare`, :func:`analysis.stats.cumulative.cumulative_false_positive_curve`,
:func:`analysis.calibration.posterior.calibration_fit`, :func:`analysis.calibration.sensitivity.one_way`).

No global matplotlib state: importing this package neither imports pyplot nor chooses or
changes the backend, and the style (:data:`STYLE`) is applied with
:func:`matplotlib.rc_context` around each figure, so the user's rcParams are left as they
were. Figures are :class:`matplotlib.figure.Figure` objects made directly (no pyplot
figure manager), so they can be made in a loop, in a server or in a test without leaking
windows; ``fig.savefig("x.png")`` works with no backend chosen (the Agg canvas), and in
Jupyter a returned figure displays itself as a PNG. Every interval drawn is labelled with
what it is (Wilson 95% within one run, paired 95%, Greenwood 95% …).

Functions that accept several scenarios take either one table, a table with a
``scenario`` column, or a ``{label: table}`` mapping; a scenario keeps its colour
(:data:`SCENARIO_COLOURS`) in every figure.

Modules: :mod:`~analysis.figures.style` (palette, style, drawing helpers),
:mod:`~analysis.figures.inputs` (reading the tables), :mod:`~analysis.figures.cohort`,
:mod:`~analysis.figures.funnel`, :mod:`~analysis.figures.recalls`,
:mod:`~analysis.figures.question`, :mod:`~analysis.figures.programmes`,
:mod:`~analysis.figures.regression`, :mod:`~analysis.figures.calibration`, :mod:`~analysis.figures.benefits`.

Tables: :mod:`~analysis.figures.tables` (``from analysis.figures import tables``) formats every
table of the notebooks with one pandas Styler — units in the headers, intervals as
``"24.0% (22.5–25.5)"``, p-values as ``"<0.001"``, readable stratum labels, an em dash for a missing
value, no truncation, no meaningless index; :mod:`~analysis.figures.cells` holds its cell
formatters, which the sentences printed beside a table use as well.
"""

from analysis.figures.benefits import STRATEGY_MEASURES, balance_sheet, efficiency_frontier, harm_benefit
from analysis.figures.calibration import calibration_fit, sobol_indices, tornado
from analysis.figures.cohort import cohort_distributions
from analysis.figures.funnel import funnel_counts, screening_funnel
from analysis.figures.inputs import parse_stratum
from analysis.figures.programmes import COMPARE_MEASURES, cumulative_false_positive, scenario_comparison
from analysis.figures.question import calc_only_shares
from analysis.figures.recalls import ROUND_MEASURES, recall_by, rounds_compared
from analysis.figures.regression import odds_ratios
from analysis.figures.style import (
    FINDINGS,
    MEASURE_LABELS,
    PALETTE,
    SCENARIO_COLOURS,
    STYLE,
    calcsim_style,
    measure_label,
)

__all__ = [
    "COMPARE_MEASURES",
    "FINDINGS",
    "MEASURE_LABELS",
    "PALETTE",
    "ROUND_MEASURES",
    "SCENARIO_COLOURS",
    "STRATEGY_MEASURES",
    "STYLE",
    "balance_sheet",
    "calc_only_shares",
    "calcsim_style",
    "calibration_fit",
    "cohort_distributions",
    "cumulative_false_positive",
    "efficiency_frontier",
    "funnel_counts",
    "harm_benefit",
    "measure_label",
    "odds_ratios",
    "parse_stratum",
    "recall_by",
    "rounds_compared",
    "scenario_comparison",
    "screening_funnel",
    "sobol_indices",
    "tornado",
]
