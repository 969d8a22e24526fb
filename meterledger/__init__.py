"""meterledger: meters over Modbus and MQTT into PostgreSQL/TimescaleDB, and a carbon ledger.

This package is the composition root (settings, bootstrap, CLI) plus the error tree that
every part shares. The parts live in their own top-level packages: ``collector``,
``store``, ``ledger``, ``api`` and ``simulators``.
"""

__version__ = "0.1.0"
