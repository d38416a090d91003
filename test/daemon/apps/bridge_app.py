"""The WSGI application the daemon's integration tests run behind pyfpm's
HTTP bridge and behind nginx. Each path exercises one behaviour."""

import json
import os
import time


def _query(environ):
    pairs = (p.split("=", 1) for p in environ.get("QUERY_STRING", "").split("&") if "=" in p)
    return dict(pairs)


def _text(start_response, body, status="200 OK", headers=()):
    data = body.encode("utf-8")
    start_response(status, [("Content-Type", "text/plain; charset=utf-8"),
                            ("Content-Length", str(len(data)))] + list(headers))
    return [data]


def hello(environ, start_response):
    return _text(start_response, "Hello, world!")


def echo(environ, start_response):
    body = environ["wsgi.input"].read()
    start_response("200 OK", [("Content-Type", "application/octet-stream"),
                              ("Content-Length", str(len(body)))])
    return [body]


def big(environ, start_response):
    """N bytes of a repeating pattern, streamed without Content-Length."""
    n = int(_query(environ).get("n", "0"))
    block = bytes(range(251)) * 261  # 65511 bytes: blocks straddle records
    start_response("200 OK", [("Content-Type", "application/octet-stream")])

    def chunks():
        sent = 0
        while sent < n:
            piece = block[: min(len(block), n - sent)]
            sent += len(piece)
            yield piece

    return chunks()


def env(environ, start_response):
    shown = {k: v for k, v in environ.items() if isinstance(v, str)}
    data = json.dumps(shown).encode("utf-8")
    start_response("200 OK", [("Content-Type", "application/json"),
                              ("Content-Length", str(len(data)))])
    return [data]


def not_found(environ, start_response):
    return _text(start_response, "nothing here", status="404 Not Found")


def redirect(environ, start_response):
    return _text(start_response, "moved", status="302 Found", headers=[("Location", "/hello")])


def error(environ, start_response):
    raise RuntimeError("bridge_app /error raised on purpose")


def cookies(environ, start_response):
    return _text(start_response, "two cookies",
                 headers=[("Set-Cookie", "a=1; Path=/"), ("Set-Cookie", "b=2; Path=/")])


def sleep(environ, start_response):
    """Sleeps ?ms= milliseconds; writes ?mark= into PYFPM_TEST_DIR first."""
    q = _query(environ)
    if "mark" in q:
        with open(os.path.join(os.environ["PYFPM_TEST_DIR"], q["mark"]), "w") as f:
            f.write(str(os.getpid()))
    time.sleep(int(q.get("ms", "0")) / 1000.0)
    return _text(start_response, "slept %s" % q.get("ms", "0"))


class _SlowClose:
    """A complete Content-Length body whose close() takes 100 ms: the client
    has everything well before FCGI_END_REQUEST."""

    def __iter__(self):
        yield b"Hello, world!"

    def close(self):
        time.sleep(0.1)


def slow_close(environ, start_response):
    start_response("200 OK", [("Content-Type", "text/plain"), ("Content-Length", "13")])
    return _SlowClose()


def value(environ, start_response):
    """The pool's PYFPM_VALUE: reload tests change it and watch it switch."""
    return _text(start_response, os.environ.get("PYFPM_VALUE", ""))


_leaked = []


def leak(environ, start_response):
    """Keeps ?mb= MiB more on every call: a worker that grows until max_rss."""
    _leaked.append(bytearray(int(_query(environ).get("mb", "16")) << 20))
    return _text(start_response, "holding %d MiB" % (sum(len(b) for b in _leaked) >> 20))


def slow_function_for_the_slowlog(ms):
    time.sleep(ms / 1000.0)


def slow(environ, start_response):
    slow_function_for_the_slowlog(int(_query(environ).get("ms", "1000")))
    return _text(start_response, "slow done")


def pid(environ, start_response):
    return _text(start_response, str(os.getpid()))


ROUTES = {
    "/hello": hello, "/echo": echo, "/big": big, "/env": env, "/missing": not_found,
    "/redirect": redirect, "/error": error, "/cookies": cookies, "/sleep": sleep,
    "/pid": pid, "/slow-close": slow_close, "/value": value, "/leak": leak, "/slow": slow,
}


def app(environ, start_response):
    path = environ.get("PATH_INFO", "")
    handler = ROUTES.get(path, None)
    if handler is None:
        # PEP 3333: PATH_INFO holds the request's bytes as latin-1
        # characters; encoding it back gives those bytes unchanged.
        body = b"no route for " + path.encode("latin-1")
        start_response("404 Not Found", [("Content-Type", "application/octet-stream"),
                                         ("Content-Length", str(len(body)))])
        return [body]
    return handler(environ, start_response)
