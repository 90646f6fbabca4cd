"""An offline FacturaAPI v2 emulator for tests, benchmarks and demos.

It speaks FacturaAPI's transport contract (auth, error envelope, idempotency, external_id search,
202 then valid, the cancellation state machine, XML/PDF bytes) and injects faults on request. It
does not re-implement SAT, always answers `livemode: false`, and names itself in every answer:
nothing it returns has fiscal validity.
"""

from mexico_localization.testing.emulator.server import EMULATOR_NAME, Emulator, EmulatorConfig

__all__ = ["EMULATOR_NAME", "Emulator", "EmulatorConfig"]
