"""Old import path, kept working: an alias of :mod:`mockcomposio.contracts.check`."""

import sys

from .contracts import check as _moved

sys.modules[__name__] = _moved
