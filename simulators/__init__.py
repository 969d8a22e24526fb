"""Simulated meters and gateways that speak the real protocols with real register maps.

They know nothing of meterledger but the published register maps (`collector.register_map`
and its codec): what a collector reads from them is what a real meter of that model would
publish. Each model's counters are integrated from its own load profile, so they are the
ground truth the tests hold the rest of the system to.

- `config`: the plant file's ``simulation`` section; `plant` builds the models from it;
- `profiles` (shifts, weekends, `holidays`, seasons, noise) and `pv` (sun, clear sky,
  clouds): rates as pure functions of time;
- `counters`: fixed-grid integration; `electricity`, `gas`, `steam` (with `steam_tables`)
  and `totalizers` (water, production): the meter models, gathered in `meters`;
- `ground_truth`: what a model delivered over an interval; `clock`: simulated time;
- `modbus_gateway`, `mqtt_gateway`: the protocols.
"""
