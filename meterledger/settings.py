"""Settings from the environment, which override the plant file."""

from __future__ import annotations

import os
from pathlib import Path

from pydantic_settings import BaseSettings, SettingsConfigDict


def default_data_dir() -> Path:
    """Where embedded services keep their data.

    As root, pgserver opens every parent of its data directory to its own user (see
    docs/embedded.md), so root gets a dedicated tree under /var/lib rather than $HOME.
    """
    if os.geteuid() == 0:
        return Path("/var/lib/meterledger")
    base = os.environ.get("XDG_DATA_HOME") or str(Path.home() / ".local" / "share")
    return Path(base) / "meterledger"


class Settings(BaseSettings):
    """``METERLEDGER_DATABASE_URL``, ``METERLEDGER_MQTT_URL``, ``METERLEDGER_DATA_DIR``."""

    model_config = SettingsConfigDict(env_prefix="METERLEDGER_", extra="ignore")

    database_url: str | None = None
    mqtt_url: str | None = None
    data_dir: Path = default_data_dir()
