//! Benchmarks against tokio (criterion benches in `benches/`, binaries in `src/bin/`).
