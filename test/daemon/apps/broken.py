"""An application that cannot be imported: its pool must back off, answer
503, and leave the other pools alone."""

raise ImportError("broken.py refuses to load on purpose")
