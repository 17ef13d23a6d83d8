"""Report stage: disclosure control of the published tables and the self-contained HTML report.

Publishing (rule ``publish_tables``):

- :mod:`~optimal_analysis.report.disclosure`: the table specs and cell-by-cell suppression
  and rounding (:func:`disclose_named`);
- :mod:`~optimal_analysis.report.rounding`: rounding schemes of counts;
- :mod:`~optimal_analysis.report.curves`, :mod:`~optimal_analysis.report.costs`: curves and
  costs recomputed from disclosure-safe inputs;
- :mod:`~optimal_analysis.report.publish`: the publish step (:func:`publish`,
  :func:`assert_safe`);
- :mod:`~optimal_analysis.report.check`: the attack suite run on what is published
  (:func:`check_published`).

The report (rule ``report``):

- :mod:`~optimal_analysis.report.tables`: readable forms of the published tables;
- :mod:`~optimal_analysis.report.methods`: the methods and caveats sections;
- :mod:`~optimal_analysis.report.provenance`: versions, commit, config, checksums;
- :mod:`~optimal_analysis.report.render`: :func:`render_report` and the template
  (``templates/report.html.j2``).
"""

from optimal_analysis.report.methods import compute_caveats, make_methods
from optimal_analysis.report.provenance import git_commit, make_provenance, software_versions
from optimal_analysis.report.render import (
    SECTION_TITLES,
    Figure,
    SectionInputs,
    render_report,
)

__all__ = [
    "SECTION_TITLES",
    "Figure",
    "SectionInputs",
    "compute_caveats",
    "git_commit",
    "make_methods",
    "make_provenance",
    "render_report",
    "software_versions",
]
