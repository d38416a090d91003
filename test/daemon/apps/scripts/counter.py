"""A CGI script that leaves a global behind; the next request must not see it."""
try:
    hits += 1  # noqa: F821 - only defined if globals leaked
except NameError:
    hits = 1
print("Content-Type: text/plain")
print()
print(f"hits={hits}")
