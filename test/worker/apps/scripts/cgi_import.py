"""Imports a module from its own folder, as `python3 cgi_import.py` could."""
import helper_module

print("Content-Type: text/plain")
print()
print(helper_module.VALUE)
