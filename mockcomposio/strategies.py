"""Old import path, kept working: an alias of :mod:`mockcomposio.testing.strategies`."""

import sys

from .testing import strategies as _moved

sys.modules[__name__] = _moved
