"""A CGI script reading a POSTed form with cgi.FieldStorage."""
import cgi

form = cgi.FieldStorage()
print("Content-Type: text/plain; charset=utf-8")
print()
for key in sorted(form.keys()):
    print(f"{key}={','.join(form.getlist(key))}")
