// Replayer end-to-end tests live in tests/replay (they need the store).
