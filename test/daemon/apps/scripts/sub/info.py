"""A CGI script in a subfolder: shows SCRIPT_NAME and PATH_INFO."""
import os

print("Content-Type: text/plain")
print()
print(f"SCRIPT_NAME={os.environ.get('SCRIPT_NAME', '')}")
print(f"PATH_INFO={os.environ.get('PATH_INFO', '')}")
