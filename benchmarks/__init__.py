"""Ferry benchmark harness: ``python -m benchmarks run [--size small|full] [--runs N]``."""
