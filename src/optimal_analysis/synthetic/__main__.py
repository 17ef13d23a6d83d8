"""``python -m optimal_analysis.synthetic``: the ``optimal-synth`` command."""

from optimal_analysis.synthetic import main

raise SystemExit(main())
