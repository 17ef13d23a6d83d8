"""Rule publish_tables: the published copies of the results tables, then the attack suite.

Every published table is computed from disclosure-safe inputs
(optimal_analysis.report.publish); the attack suite
(optimal_analysis.report.check.check_published) then reads the written folder and
the public unit-cost table, and stops the run, listing the first findings, if
any count can be recovered (Snakemake then removes the written tables).
"""

import pandas as pd

from optimal_analysis.io import write_csv
from optimal_analysis.logs import setup_logging
from optimal_analysis.report.check import check_published, format_findings
from optimal_analysis.report.costs import public_unit_costs
from optimal_analysis.report.publish import DisclosureError, publish

snakemake = globals()["snakemake"]  # set by Snakemake's script directive
log = setup_logging(snakemake.log[0])
p = snakemake.params
rules = {"suppress_max": p.suppress_max, "round_to": p.round_to, "rounding": p.rounding}

unit_costs = public_unit_costs(
    pd.read_csv(snakemake.input.unit_costs),
    pd.read_csv(snakemake.input.inflation),
    price_year=p.price_year,
)
tables = {name: pd.read_csv(snakemake.input[name]) for name in p.tables}
published = publish(tables, curve_grid_days=p.curve_grid_days, unit_costs=unit_costs, **rules)
for name, table in published.items():
    write_csv(table, snakemake.output[name])
    log.info("wrote %s (%d rows)", snakemake.output[name], len(table))

folder = str(snakemake.output[p.tables[0]]).rsplit("/published/", 1)[0]
findings = check_published(folder, unit_costs=unit_costs, **rules)
if findings:
    message = format_findings(findings)
    log.error(message)
    raise DisclosureError(message + "\nNothing may be shared from published/ until this is fixed "
                          "(docs/disclosure.md).")
log.info("attack suite (docs/disclosure.md): %s", format_findings(findings))
