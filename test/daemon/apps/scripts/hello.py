"""A WSGI script (it defines `application`) for test/daemon/scripts_test.cpp."""
from urllib.parse import parse_qs


def application(environ, start_response):
    name = parse_qs(environ.get("QUERY_STRING", "")).get("name", ["world"])[0]
    body = (f"Hello, {name}!\n"
            f"SCRIPT_NAME={environ.get('SCRIPT_NAME', '')}\n"
            f"PATH_INFO={environ.get('PATH_INFO', '')}\n").encode()
    start_response("200 OK", [("Content-Type", "text/plain; charset=utf-8"),
                              ("Content-Length", str(len(body)))])
    return [body]
