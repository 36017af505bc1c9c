"""All of coach's settings, one section per subsystem, and every file location.

``settings.grading.weight_scorer`` reads a value; ``settings.paths.index_dir`` a location.
The section modules beside this one (``grading.py``, ``vllm`` in ``llm.py`` ...) hold the
fields with their defaults and the reasons for them.
"""

from coach.config.paths import Paths
from coach.config.settings import FlatSettingWarning, Settings, get_settings

__all__ = ["FlatSettingWarning", "Paths", "Settings", "get_settings"]
