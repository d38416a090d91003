"""Prints a head, then fails: the head is held back, so the answer is 500."""
print("Content-Type: text/plain")
print()
print("partial page")
raise ValueError("cgi script failed on purpose")
