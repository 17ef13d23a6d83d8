# rates stage: see docs/developing.md
