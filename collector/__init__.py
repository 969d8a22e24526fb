"""Acquisition: Modbus and MQTT sources, decoding, a durable spool and a batch writer.

Readings flow one way: a source decodes values into `store.readings.Reading` rows, appends
them to the spool (durable on disk), and the writer empties the spool into the store with
COPY. A reading is acknowledged to its MQTT broker only once the spool holds it.
"""
