"""Old import path, kept working: an alias of :mod:`mockcomposio.testing.tenant`."""

import sys

from .testing import tenant as _moved

sys.modules[__name__] = _moved
