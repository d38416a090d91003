"""A CGI script: no `application`, so it runs as `python3 form.py` would
under a CGI server, once per request with fresh globals. The request is in
os.environ and on sys.stdin; what it prints is the response, headers first.

    curl -d 'name=you&colour=green' http://127.0.0.1:8081/form.py
"""
import html
import os
import warnings

with warnings.catch_warnings():
    # Python 3.11 deprecates cgi (removed in 3.13); FieldStorage still works.
    warnings.simplefilter("ignore", DeprecationWarning)
    import cgi

form = cgi.FieldStorage()
name = form.getfirst("name", "")
colour = form.getfirst("colour", "")

print("Content-Type: text/html; charset=utf-8")
print()
print("<!doctype html><title>form</title>")
if os.environ.get("REQUEST_METHOD") == "POST":
    print(f"<p>Hello, {html.escape(name)}; you like {html.escape(colour)}.</p>")
print('<form method="post"><input name="name"> <input name="colour"> <button>Send</button></form>')
