import subprocess
import sys

import orjson

SNIPPET = """
import logging
from meterledger.logs import configure
configure(logging.INFO, "json")
logging.getLogger("collector.modbus").warning("unit %d failed", 7)
try:
    1 / 0
except ZeroDivisionError:
    logging.getLogger("x").exception("boom")
logging.getLogger("pymodbus").error("library noise")
"""


def test_json_logs_are_one_object_per_line() -> None:
    result = subprocess.run(
        [sys.executable, "-c", SNIPPET], capture_output=True, text=True, check=True
    )
    lines = [orjson.loads(line) for line in result.stderr.splitlines()]
    assert [(e["level"], e["logger"], e["message"]) for e in lines] == [
        ("warning", "collector.modbus", "unit 7 failed"),
        ("error", "x", "boom"),
    ]
    assert "ZeroDivisionError" in lines[1]["exc"]
    assert lines[0]["ts"].endswith("+00:00")
