"""mockcomposio's benchmark: ``python -m bench [--quick] [--json]`` (see bench/README.md)."""
