"""Readers for the public Breast Cancer Surveillance Consortium (BCSC) datasets.

Two public-use BCSC datasets are supported:

* the **BCSC Risk Estimation Dataset** (Barlow et al. 2006; index mammograms
  1996-2002): ``risk_dataset.zip`` (``risk.txt``, 280,660 rows, 2,392,998
  mammograms) and ``risk_dataset_v2.zip`` (``risk_rand.txt``, one randomly
  chosen mammogram per woman). See :func:`read_risk_estimation` and
  :func:`risk_profiles`.
* the **BCSC Mammography Screening Performance Dataset** (aggregated
  screening exams 2005-2017, women aged 40-74). See
  :func:`read_screening_performance`.

Every problem with an input file raises :class:`~analysis.errors.CalcsimInputError`
with a single line naming the file, what is wrong and what is allowed. Nothing is
read at import time.

The package is laid out as :mod:`~analysis.io.bcsc.risk` (the risk estimation reader),
:mod:`~analysis.io.bcsc.profiles` (:func:`risk_profiles`), :mod:`~analysis.io.bcsc.performance`
(the screening performance reader) and :mod:`~analysis.io.bcsc.common` (helpers the readers share);
import the public names from here.

Required citations and acknowledgements are listed in
``data/parameters/README-bcsc-summaries.md``.
"""

from analysis.io.bcsc.performance import PERFORMANCE_COLUMNS, read_screening_performance
from analysis.io.bcsc.profiles import risk_profiles
from analysis.io.bcsc.risk import RISK_CODES, RISK_COLUMNS, agegrp_bounds, read_risk_estimation

__all__ = [
    "PERFORMANCE_COLUMNS",
    "RISK_CODES",
    "RISK_COLUMNS",
    "agegrp_bounds",
    "read_risk_estimation",
    "read_screening_performance",
    "risk_profiles",
]
