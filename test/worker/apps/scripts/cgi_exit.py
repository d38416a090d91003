"""sys.exit in a CGI script: 0 or None is a normal end, anything else a
failure. QUERY_STRING picks the code."""
import os
import sys

print("Content-Type: text/plain")
print()
print("before exit")
code = os.environ.get("QUERY_STRING", "")
if code == "none":
    sys.exit()
if code == "message":
    sys.exit("leaving with a message")
sys.exit(int(code))
