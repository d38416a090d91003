"""The smallest WSGI application (PEP 3333): GET / answers "Hello, world!".

The body is exactly 13 bytes, so benchmark tools can check every response.
"""

BODY = b"Hello, world!"
HEADERS = [
    ("Content-Type", "text/plain; charset=utf-8"),
    ("Content-Length", str(len(BODY))),
]


def app(environ, start_response):
    start_response("200 OK", HEADERS)
    return [BODY]
