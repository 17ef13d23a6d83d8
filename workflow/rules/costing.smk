# costing stage: see docs/developing.md
