"""Benchmarks of meterledger, each against a ceiling measured in the same run.

``make bench`` (or ``python -m bench [NAME ...]``) prints a header naming the database and
Python, then one line per benchmark::

    name: value unit (ratio r.rr of ceiling)

The ceiling is the same work done by the bare library loop (pymodbus, psycopg COPY, a
Python process that only imports the libraries), on this machine, minutes earlier, so the
ratio compares like with like where absolute figures would not travel between machines.
Every ratio reads the same way: 1.00 is as good as the ceiling and lower is worse, whether
the figure itself is a rate (ours / ceiling) or a cost (ceiling / ours).

Services come from ``METERLEDGER_BENCH_DATABASE_URL`` / ``METERLEDGER_BENCH_MQTT_URL``,
then ``METERLEDGER_TEST_DATABASE_URL`` / ``METERLEDGER_TEST_MQTT_URL``; without them an
embedded PostgreSQL and a private Mosquitto are started. A fresh database is created for
the run and dropped after it.
"""
