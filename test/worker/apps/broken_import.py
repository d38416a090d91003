"""An application module that fails while it is imported."""

raise RuntimeError("broken_import refuses to load")
