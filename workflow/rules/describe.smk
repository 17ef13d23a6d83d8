# describe stage: see docs/developing.md
