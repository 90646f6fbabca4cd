"""What the app ships for tests, benchmarks and demos, never used to stamp: the FacturaAPI emulator."""
