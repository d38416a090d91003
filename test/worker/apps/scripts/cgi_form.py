"""A CGI script reading a POSTed form the 3.11 way: cgi.FieldStorage reads
os.environ and sys.stdin.buffer."""
import cgi
import json

form = cgi.FieldStorage()
fields = {}
for key in form.keys():
    item = form[key]
    if isinstance(item, list):
        fields[key] = [entry.value for entry in item]
    elif item.filename:
        fields[key] = {"filename": item.filename, "size": len(item.value)}
    else:
        fields[key] = item.value
print("Content-Type: application/json")
print("Status: 201 Created")
print()
print(json.dumps(fields))
