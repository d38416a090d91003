"""The one WSGI application (PEP 3333) every Python server of the benchmark runs.

pyfpm, gunicorn and uWSGI all import `benchapp:application` from this file, so
they do the same Python work per request and load the same modules (Flask
included) into each worker; only the server around the application differs.

Paths (PATH_INFO; every server is configured so that SCRIPT_NAME is empty):
  /hello   13 bytes, "Hello, world\n": the cost of the server itself
  /sleep   waits 10 ms (time.sleep, I/O wait, no CPU), then 6 bytes
  /big     1 MiB response body (one bytes object, built once at import)
  /echo    POST: answers the request body as it came (64 KiB in the benchmark)
  /flask   a Flask page: routing, a Jinja template, a request context
Anything else answers 404, which the harness would count as non-2xx.
"""

import time

from flask import Flask, render_template
from jinja2 import DictLoader

HELLO = b"Hello, world\n"
SLEPT = b"slept\n"
BIG = b"x" * (1024 * 1024)
TEXT = "text/plain"

# A small but real page: a loop, escaping and a filter, ~3 KB of HTML. The
# template is compiled once per worker and cached by Jinja, as a file
# template would be.
PAGE = """<!doctype html>
<html><head><title>{{ title }}</title></head>
<body>
<h1>{{ title }}</h1>
<table>
{% for item in items %}<tr><td>{{ loop.index }}</td><td>{{ item.name }}</td><td>{{ "%.2f"|format(item.price) }}</td></tr>
{% endfor %}</table>
<p>{{ note }}</p>
</body></html>
"""
ITEMS = [{"name": "item <%d> & co" % i, "price": i * 1.25} for i in range(40)]

flask_app = Flask(__name__)
flask_app.jinja_loader = DictLoader({"page.html": PAGE})


@flask_app.get("/flask")
def flask_page():
    return render_template("page.html", title="Flask page", items=ITEMS, note="rendered per request")


def _plain(start_response, body, status="200 OK"):
    start_response(status, [("Content-Type", TEXT), ("Content-Length", str(len(body)))])
    return [body]


def _echo(environ, start_response):
    try:
        length = int(environ.get("CONTENT_LENGTH") or 0)
    except ValueError:
        length = 0
    stream = environ["wsgi.input"]
    chunks = []
    remaining = length
    while remaining > 0:
        chunk = stream.read(min(remaining, 65536))
        if not chunk:
            break
        chunks.append(chunk)
        remaining -= len(chunk)
    body = b"".join(chunks)
    start_response("200 OK", [("Content-Type", "application/octet-stream"), ("Content-Length", str(len(body)))])
    return [body]


def application(environ, start_response):
    path = environ.get("PATH_INFO") or "/"
    if path == "/hello":
        return _plain(start_response, HELLO)
    if path == "/sleep":
        time.sleep(0.010)
        return _plain(start_response, SLEPT)
    if path == "/big":
        return _plain(start_response, BIG)
    if path == "/echo":
        return _echo(environ, start_response)
    if path.startswith("/flask"):
        return flask_app.wsgi_app(environ, start_response)
    return _plain(start_response, b"not found\n", "404 Not Found")
