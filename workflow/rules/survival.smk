# survival stage: see docs/developing.md
