"""A WSGI script: the file defines `application`, so a scripts pool serves it
as a WSGI application (PEP 3333). It is executed once per worker and again
when the file changes; editing it needs no restart.

    curl http://127.0.0.1:8081/hello.py/anything?name=you
"""
from urllib.parse import parse_qs


def application(environ, start_response):
    name = parse_qs(environ.get("QUERY_STRING", "")).get("name", ["world"])[0]
    body = (f"Hello, {name}!\n"
            f"SCRIPT_NAME={environ.get('SCRIPT_NAME', '')}\n"
            f"PATH_INFO={environ.get('PATH_INFO', '')}\n").encode()
    start_response("200 OK", [("Content-Type", "text/plain; charset=utf-8"),
                              ("Content-Length", str(len(body)))])
    return [body]
