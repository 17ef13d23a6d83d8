"""Scheme evaluation: did a change of care model in some homes change their rates?

Home × month panel from the cohort and the care_model_history table
(:mod:`.panel`), difference in differences with staggered switching, event
study, regression-to-the-mean check and power (:mod:`optimal_analysis.stats.staggered`,
:mod:`optimal_analysis.stats.did_power`).
"""

from optimal_analysis.evaluation.stage import EVALUATION_TABLES, make_evaluation_tables

__all__ = ["EVALUATION_TABLES", "make_evaluation_tables"]
