"""Simulated meters and gateways that speak the real protocols with real register maps.

They know nothing of meterledger but the published register maps (`collector.register_map`
and its codec): what a collector reads from them is what a real meter of that model would
publish. Each model's counters are integrated from its own load profile, so they are the
ground truth the tests hold the rest of the system to.
"""
