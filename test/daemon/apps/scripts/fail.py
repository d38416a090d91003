"""A CGI script that raises: 500, and the worker serves on."""
print("Content-Type: text/plain")
print()
raise RuntimeError("scripts_test failure on purpose")
