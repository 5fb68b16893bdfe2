"""Old import path, kept working: an alias of :mod:`mockcomposio.testing.plugin`."""

import sys

from .testing import plugin as _moved

sys.modules[__name__] = _moved
