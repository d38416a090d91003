"""A WSGI application whose paths each exercise one part of PEP 3333.

The worker tests drive it over FastCGI. Files it must leave behind (close()
markers, "the request has started") go to $PYFPM_TEST_DIR.
"""

import json
import os
import sys
import time

TEST_DIR = os.environ.get("PYFPM_TEST_DIR", "/nonexistent")


def marker(name):
    return os.path.join(TEST_DIR, name)


def text(start_response, body, status="200 OK", content_type="text/plain; charset=utf-8"):
    data = body.encode("utf-8")
    start_response(status, [("Content-Type", content_type), ("Content-Length", str(len(data)))])
    return [data]


def as_json(start_response, value):
    return text(start_response, json.dumps(value), content_type="application/json")


def query(environ):
    pairs = (part.split("=", 1) for part in environ.get("QUERY_STRING", "").split("&") if "=" in part)
    return dict(pairs)


def echo(environ, start_response):
    body = environ["wsgi.input"].read()
    start_response("200 OK", [
        ("Content-Type", "application/octet-stream"),
        ("Content-Length", str(len(body))),
    ])
    return [body]


def ignore_body(environ, start_response):
    return text(start_response, "ignored")


def input_ops(environ, start_response):
    stream = environ["wsgi.input"]
    op = environ["PATH_INFO"].rsplit("/", 1)[-1]
    n = int(query(environ).get("n", "-1"))
    decode = lambda chunk: chunk.decode("latin-1")
    if op == "read-chunks":
        sizes, data = [], b""
        while True:
            chunk = stream.read(n)
            if not chunk:
                break
            sizes.append(len(chunk))
            data += chunk
        result = {"sizes": sizes, "data": decode(data)}
    elif op == "readline":
        lines = []
        while True:
            line = stream.readline() if n < 0 else stream.readline(n)
            if not line:
                break
            lines.append(decode(line))
        result = {"lines": lines}
    elif op == "readlines":
        lines = stream.readlines() if n < 0 else stream.readlines(n)
        result = {"lines": [decode(line) for line in lines], "rest": decode(stream.read())}
    elif op == "iterate":
        result = {"lines": [decode(line) for line in stream]}
    elif op == "past-end":
        first = stream.read()
        result = {
            "first": decode(first),
            "read": decode(stream.read()),
            "read_n": decode(stream.read(10)),
            "readline": decode(stream.readline()),
            "readlines": stream.readlines(),
        }
    elif op == "mixed":
        head = stream.read(3)
        line = stream.readline()
        rest = stream.read(None)
        result = {"head": decode(head), "line": decode(line), "rest": decode(rest)}
    else:
        return text(start_response, "unknown input op", status="404 Not Found")
    result["types"] = "bytes"
    return as_json(start_response, result)


def show_environ(environ, start_response):
    shown = {}
    for key, value in environ.items():
        if isinstance(value, str):
            shown[key] = value
        elif key in ("wsgi.version", "wsgi.multithread", "wsgi.multiprocess", "wsgi.run_once"):
            shown[key] = repr(value)
        else:
            shown[key] = type(value).__name__
    shown["all_str_keys"] = all(isinstance(key, str) for key in environ)
    return as_json(start_response, shown)


def scheme(environ, start_response):
    return text(start_response, environ["wsgi.url_scheme"])


def errors(environ, start_response):
    stream = environ["wsgi.errors"]
    stream.write("probe: one line to wsgi.errors\n")
    stream.writelines(["probe: two ", "lines\n", "probe: é ünïcode\n"])
    stream.flush()
    return text(start_response, "logged")


def write_callable(environ, start_response):
    write = start_response("200 OK", [("Content-Type", "text/plain")])
    write(b"first,")
    write(b"second,")
    return [b"third"]


def cookies(environ, start_response):
    start_response("200 OK", [
        ("Content-Type", "text/plain"),
        ("Set-Cookie", "a=1; Path=/"),
        ("Set-Cookie", "b=2; Path=/; HttpOnly"),
    ])
    return [b"two cookies"]


def raise_early(environ, start_response):
    raise ZeroDivisionError("probe raised before start_response")


def raise_after_start(environ, start_response):
    start_response("200 OK", [("Content-Type", "text/plain")])
    raise KeyError("probe raised after start_response")


def raise_in_iterable(environ, start_response):
    start_response("200 OK", [("Content-Type", "text/plain")])

    def body():
        yield b"partial"
        raise RuntimeError("probe raised while streaming")

    return body()


class Recorded:
    """An iterable that records its close() in a marker file."""

    def __init__(self, name, chunks):
        self.name = name
        self.chunks = chunks

    def __iter__(self):
        return iter(self.chunks)

    def close(self):
        with open(marker(self.name), "w") as f:
            f.write("closed")


def generator(environ, start_response):
    start_response("200 OK", [("Content-Type", "text/plain")])

    def chunks():
        try:
            yield b"one,"
            yield b""
            yield b"two,"
            yield b"three"
        finally:
            with open(marker("generator-finally"), "w") as f:
                f.write("finally")

    return chunks()


def recorded(environ, start_response):
    start_response("200 OK", [("Content-Type", "text/plain")])
    return Recorded("recorded-closed", [b"recorded ", b"body"])


def recorded_raising(environ, start_response):
    start_response("200 OK", [("Content-Type", "text/plain")])

    class Failing(Recorded):
        def __iter__(self):
            raise ValueError("probe iterable failed")

    return Failing("raising-closed", [])


def exc_info_early(environ, start_response):
    start_response("200 OK", [("Content-Type", "text/plain")])
    try:
        raise LookupError("probe failure")
    except LookupError:
        start_response("503 Service Unavailable", [("Content-Type", "text/plain")], sys.exc_info())
    return [b"replaced by exc_info"]


def exc_info_late(environ, start_response):
    write = start_response("200 OK", [("Content-Type", "text/plain")])
    write(b"already sent")
    try:
        raise LookupError("probe failure after the head")
    except LookupError:
        start_response("500 Internal Server Error", [("Content-Type", "text/plain")], sys.exc_info())
    return [b"never"]


def bad_head(environ, start_response):
    attempts = {
        "status-no-reason-space": ("200", []),
        "status-letters": ("2x0 OK", []),
        "status-type": (200, []),
        "headers-tuple": ("200 OK", (("A", "b"),)),
        "header-crlf": ("200 OK", [("X-Injected", "a\r\nSet-Cookie: evil=1")]),
        "header-name": ("200 OK", [("Bad Name", "v")]),
        "header-status": ("200 OK", [("Status", "404 Not Found")]),
        "header-latin1": ("200 OK", [("X-Name", "snowman \u2603")]),
        "header-bytes": ("200 OK", [(b"X-Bytes", "v")]),
        "header-pair": ("200 OK", [("X-Only-Name",)]),
    }
    results = {}
    for name, (status, headers) in attempts.items():
        try:
            start_response(status, headers)
            results[name] = "accepted"
            break
        except (TypeError, ValueError) as e:
            results[name] = type(e).__name__
    try:
        start_response("200 OK", [("X-Latin1", "caf\u00e9")])
    except Exception as e:  # pragma: no cover - reported in the body
        results["latin1-ok"] = repr(e)
    return [json.dumps(results).encode()]


def header_injection(environ, start_response):
    # Not caught: the ValueError start_response raises must become a 500
    # with nothing of the header reaching the client.
    where = environ.get("QUERY_STRING", "")
    if where == "name":
        start_response("200 OK", [("X-Ok\r\nX-Injected", "1")])
    elif where == "nul":
        start_response("200 OK", [("Set-Cookie", "a\x00X-Injected: 1")])
    else:
        start_response("200 OK", [("Set-Cookie", "a\r\nX-Injected: 1")])
    return [b"should not be sent"]


def twice(environ, start_response):
    start_response("200 OK", [("Content-Type", "text/plain")])
    try:
        start_response("200 OK", [("Content-Type", "text/plain")])
    except RuntimeError as e:
        return [b"RuntimeError: " + str(e).encode()]
    return [b"accepted"]


def no_start_response(environ, start_response):
    return []


def str_body(environ, start_response):
    start_response("200 OK", [("Content-Type", "text/plain")])
    return ["not bytes"]


def empty(environ, start_response):
    start_response("204 No Content", [])
    return []


def head(environ, start_response):
    return text(start_response, "body for %s" % environ["REQUEST_METHOD"])


def slow(environ, start_response):
    with open(marker("slow-started"), "w") as f:
        f.write(str(os.getpid()))
    deadline = time.monotonic() + 20
    while not os.path.exists(marker("slow-release")) and time.monotonic() < deadline:
        time.sleep(0.01)
    return text(start_response, "slow done")


def file_wrapper(environ, start_response):
    path = query(environ)["path"]
    skip = int(query(environ).get("skip", "0"))
    f = open(path, "rb")
    f.read(skip)
    start_response("200 OK", [("Content-Type", "application/octet-stream")])
    return environ["wsgi.file_wrapper"](f, 4096)


def stale_objects(environ, start_response):
    """Keeps this request's objects and uses them in the next request."""
    previous = globals().get("_kept")
    globals()["_kept"] = (environ["wsgi.input"], environ["wsgi.errors"], start_response)
    if previous is None:
        return text(start_response, "kept")
    outcomes = []
    for name, call in (
        ("input", lambda: previous[0].read()),
        ("errors", lambda: previous[1].write("x")),
        ("start_response", lambda: previous[2]("200 OK", [])),
    ):
        try:
            call()
            outcomes.append(name + ":accepted")
        except ValueError:
            outcomes.append(name + ":ValueError")
    return text(start_response, ",".join(outcomes))


def mutate_environ(environ, start_response):
    """Changes its environ; the next request must not see any of it."""
    environ["PATH_INFO"] = "/changed"
    environ["probe.added"] = "added"
    del environ["HTTP_HOST"]
    environ.clear()
    return text(start_response, "mutated")


def keywords(environ, start_response):
    """start_response and write called with keywords, and called wrongly."""
    outcomes = {}
    for name, call in (
        ("missing-headers", lambda: start_response("200 OK")),
        ("too-many", lambda: start_response("200 OK", [], None, 1)),
        ("unknown-keyword", lambda: start_response("200 OK", [], bogus=1)),
        ("status-twice", lambda: start_response("200 OK", [], status="200 OK")),
    ):
        try:
            call()
            outcomes[name] = "accepted"
        except TypeError:
            outcomes[name] = "TypeError"
    body = json.dumps(outcomes).encode()
    write = start_response(status="200 OK", headers=[("Content-Type", "application/json")], exc_info=None)
    write(data=body[:5])
    return [body[5:]]


ROUTES = {
    "/echo": echo,
    "/ignore-body": ignore_body,
    "/environ": show_environ,
    "/scheme": scheme,
    "/errors": errors,
    "/write": write_callable,
    "/cookies": cookies,
    "/raise": raise_early,
    "/raise-after-start": raise_after_start,
    "/raise-in-iterable": raise_in_iterable,
    "/generator": generator,
    "/recorded": recorded,
    "/recorded-raising": recorded_raising,
    "/exc-info-early": exc_info_early,
    "/exc-info-late": exc_info_late,
    "/bad-head": bad_head,
    "/twice": twice,
    "/header-injection": header_injection,
    "/no-start-response": no_start_response,
    "/str-body": str_body,
    "/empty": empty,
    "/head": head,
    "/slow": slow,
    "/file": file_wrapper,
    "/stale": stale_objects,
    "/mutate-environ": mutate_environ,
    "/keywords": keywords,
}


def app(environ, start_response):
    path = environ.get("PATH_INFO", "")
    if path.startswith("/input/"):
        return input_ops(environ, start_response)
    handler = ROUTES.get(path)
    if handler is None:
        return text(start_response, "no route for %s" % path, status="404 Not Found")
    return handler(environ, start_response)
