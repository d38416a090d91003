"""A small application behind wsgiref.validate.validator, the stdlib's PEP 3333
checker. Its warnings are turned into errors, so any complaint about the
server side (environ, input, errors, start_response, iteration, close) turns
the response into a 500 with the traceback on FCGI_STDERR.
"""

import warnings
from wsgiref.validate import WSGIWarning, validator

warnings.simplefilter("error", WSGIWarning)


def inner(environ, start_response):
    method = environ["REQUEST_METHOD"]
    stream = environ["wsgi.input"]
    if method == "POST":
        length = int(environ.get("CONTENT_LENGTH") or 0)
        first = stream.readline(5)
        body = first + stream.read(length - len(first))
        body += stream.read(1)  # past the end: b""
        lines = stream.readlines(1)
        assert lines == [], lines
        reply = b"posted " + body
    else:
        reply = ("%s %s" % (method, environ["PATH_INFO"])).encode("latin-1")
    errors = environ["wsgi.errors"]
    errors.flush()
    start_response("200 OK", [
        ("Content-Type", "text/plain; charset=utf-8"),
        ("Content-Length", str(len(reply))),
    ])
    return iter([reply])


app = validator(inner)
