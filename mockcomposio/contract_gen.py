"""Old import path, kept working: this name is an alias of :mod:`mockcomposio.contracts.gen`
(``python -m mockcomposio.contract_gen`` still runs the generator)."""

import sys

from .contracts import gen as _moved

if __name__ == "__main__":
    sys.exit(_moved.main())
sys.modules[__name__] = _moved
