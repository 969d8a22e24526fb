"""PV generation: the sun's elevation at the site, a clear-sky curve, clouds and losses.

Solar position (good to about half a degree, plenty for energy):
- declination δ = 23.44° x sin(360° x (284 + n) / 365), n the day of the year (Cooper 1969);
- equation of time E = 9.87 sin 2B - 7.53 cos B - 1.5 sin B minutes, B = 360° (n - 81) / 364;
- solar time = UTC + longitude / 15° h + E; hour angle ω = 15° x (solar time - 12 h);
- sin(elevation) = sin φ sin δ + cos φ cos δ cos ω, φ the latitude.

Clear sky (Haurwitz 1945, global horizontal irradiance from elevation alone):
GHI = 1098 W/m² x sin(elevation) x exp(-0.057 / sin(elevation)), 0 below the horizon.

Clouds: a day's loss L is uniform in [0, 2 x cloudiness] (capped at 0.95), so its mean is
``cloudiness``; within the day each quarter hour varies it by ±50 %. The AC output is

    P [kW] = capacity [kWp] x GHI / 1000 W/m² x performance_ratio x (1 - loss).

Panels are treated as horizontal: a tilted array yields some 10-15 % more a year, which
``performance_ratio`` can absorb. The shape is what matters here: zero at night, a midday
peak that is higher and longer in June than in December, and cloudy days.
"""

from __future__ import annotations

import math
import time

from simulators.config import PvSimulation
from simulators.profiles import noise

_DAY = 86400.0
_SOLAR_CONSTANT_HAURWITZ = 1098.0  # W/m²
_STC_IRRADIANCE = 1000.0  # W/m², at which a panel makes its kWp
_CLOUD_SLOT = 900  # s, how long a passing cloud pattern holds


def solar_elevation(t: float, latitude: float, longitude: float) -> float:
    """The sun's elevation above the horizon in degrees at Unix time ``t``."""
    n = time.gmtime(t).tm_yday
    declination = math.radians(23.44) * math.sin(2 * math.pi * (284 + n) / 365)
    b = 2 * math.pi * (n - 81) / 364
    equation_of_time = 9.87 * math.sin(2 * b) - 7.53 * math.cos(b) - 1.5 * math.sin(b)  # min
    utc_hours = (t % _DAY) / 3600
    solar_hours = utc_hours + longitude / 15 + equation_of_time / 60
    hour_angle = math.radians(15 * (solar_hours - 12))
    phi = math.radians(latitude)
    sin_alpha = math.sin(phi) * math.sin(declination) + math.cos(phi) * math.cos(
        declination
    ) * math.cos(hour_angle)
    return math.degrees(math.asin(max(-1.0, min(1.0, sin_alpha))))


def clear_sky_irradiance(elevation: float) -> float:
    """Global horizontal irradiance in W/m² under a clear sky (Haurwitz)."""
    if elevation <= 0:
        return 0.0
    sin_alpha = math.sin(math.radians(elevation))
    return _SOLAR_CONSTANT_HAURWITZ * sin_alpha * math.exp(-0.057 / sin_alpha)


class PvGeneration:
    """AC power of a PV plant in kW at Unix time ``t``: a rate, like a load profile."""

    def __init__(self, spec: PvSimulation, latitude: float, longitude: float) -> None:
        self.spec = spec
        self.seed = spec.seed
        self.latitude = latitude
        self.longitude = longitude

    def irradiance(self, t: float) -> float:
        """GHI in W/m² at ``t``, with this site's clouds."""
        clear = clear_sky_irradiance(solar_elevation(t, self.latitude, self.longitude))
        return clear * (1 - self.cloud_loss(t)) if clear else 0.0

    def cloud_loss(self, t: float) -> float:
        """Share of the clear-sky irradiance clouds take at ``t`` (0…0.95)."""
        daily = self.spec.cloudiness * (1 + noise(self.seed, math.floor(t / _DAY)))
        passing = 1 + 0.5 * noise(self.seed + 1, math.floor(t / _CLOUD_SLOT))
        return min(0.95, max(0.0, daily * passing))

    def rate(self, t: float) -> float:
        ghi = self.irradiance(t)
        return self.spec.capacity * ghi / _STC_IRRADIANCE * self.spec.performance_ratio
