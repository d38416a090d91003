"""A CGI script: reports what it sees, then leaves state behind that the
next request must not see (a global, an os.environ entry, sys.argv)."""
import json
import os
import sys

report = {
    "name": __name__,
    "file": __file__,
    "main_is_this": sys.modules["__main__"].__dict__ is globals(),
    "cwd": os.getcwd(),
    "sys_path_0": sys.path[0],
    "argv": list(sys.argv),
    "saw_global": "left_behind" in globals(),
    "environ": {name: os.environ.get(name) for name in (
        "REQUEST_METHOD", "QUERY_STRING", "SCRIPT_FILENAME", "PATH_INFO", "HTTP_X_PROBE",
        "HTTP_PROXY", "LEFT_BY_SCRIPT", "PYFPM_TEST_DIR")},
    "stdin_encoding": sys.stdin.encoding,
    "stdout_encoding": sys.stdout.encoding,
}
left_behind = True
os.environ["LEFT_BY_SCRIPT"] = "1"
sys.argv.append("left-behind")
print("Content-Type: application/json")
print()
print(json.dumps(report))
