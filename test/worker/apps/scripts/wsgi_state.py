"""A WSGI script (it binds `application`): executed once per version of the
file, so `calls` counts across requests; never run as __main__."""
import json
import sys

calls = 0
ran_as_main = __name__ == "__main__"


def application(environ, start_response):
    global calls
    calls += 1
    body = json.dumps({
        "calls": calls,
        "name": __name__,
        "file": __file__,
        "ran_as_main": ran_as_main,
        "sys_path_0": sys.path[0],
        "script_name": environ.get("SCRIPT_NAME"),
        "path_info": environ.get("PATH_INFO"),
        "stdout_is_worker": sys.stdout is sys.__stdout__,
    }).encode()
    start_response("200 OK", [("Content-Type", "application/json"), ("Content-Length", str(len(body)))])
    return [body]


if __name__ == "__main__":
    # What `python3 wsgi_state.py` would do; the worker must not.
    from wsgiref.simple_server import make_server
    make_server("127.0.0.1", 0, application).serve_forever()
