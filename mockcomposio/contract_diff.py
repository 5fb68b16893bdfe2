"""Old import path, kept working: an alias of :mod:`mockcomposio.contracts.diff`."""

import sys

from .contracts import diff as _moved

sys.modules[__name__] = _moved
