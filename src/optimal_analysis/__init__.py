"""optimal-analysis: NHS service use, costs and admissions of care home residents,
by model of care."""

__version__ = "0.1.0"
