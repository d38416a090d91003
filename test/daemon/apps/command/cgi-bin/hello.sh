#!/bin/sh
# A CGI/1.1 script (RFC 3875) for fcgiwrap in the command pool tests: the
# response head, a blank line, then what the request looked like.
echo "Content-Type: text/plain"
echo "X-Cgi-Script: hello.sh"
echo ""
echo "hello from cgi"
echo "query=$QUERY_STRING"
echo "method=$REQUEST_METHOD"
echo "script_name=$SCRIPT_NAME"
echo "pid=$$"
