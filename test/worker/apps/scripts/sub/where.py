"""A CGI script in a subfolder: its folder is the working directory and
sys.path[0]."""
import os
import sys

print("Content-Type: text/plain")
print()
print(os.getcwd())
print(sys.path[0])
