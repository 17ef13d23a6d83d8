# report stage: see docs/developing.md
