"""An example Flask application for pyfpm.

Routes:
  /           an HTML page (templates/index.html) using static/style.css,
              static/app.js and static/logo.svg
  /api/info   JSON about the process serving the request; "greeting" comes
              from the PYFPM_GREETING environment variable
  /form       a form that POSTs to itself and shows what was posted

Run it with pyfpm (etc/pyfpm.yaml) or with any WSGI server:
`app` is the WSGI callable.
"""

import os
import platform

from flask import Flask, jsonify, render_template, request

app = Flask(__name__)

DEFAULT_GREETING = "Hello from pyfpm"


def greeting():
    return os.environ.get("PYFPM_GREETING", DEFAULT_GREETING)


@app.get("/")
def index():
    return render_template(
        "index.html",
        greeting=greeting(),
        python=platform.python_version(),
        pid=os.getpid(),
    )


@app.get("/api/info")
def info():
    return jsonify(
        greeting=greeting(),
        pid=os.getpid(),
        python=platform.python_version(),
        implementation=platform.python_implementation(),
        server=request.environ.get("SERVER_SOFTWARE", ""),
        scheme=request.scheme,
        multiprocess=request.environ.get("wsgi.multiprocess"),
    )


@app.route("/form", methods=["GET", "POST"])
def form():
    posted = None
    if request.method == "POST":
        posted = {
            "name": request.form.get("name", ""),
            "message": request.form.get("message", ""),
        }
    return render_template("form.html", posted=posted)
