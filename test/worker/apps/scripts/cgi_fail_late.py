"""Writes more than the worker holds back (1 MiB), then fails: the response
can only be cut short."""
import sys

sys.stdout.write("Content-Type: application/octet-stream\r\n\r\n")
sys.stdout.buffer.write(b"x" * (2 * 1024 * 1024))
raise RuntimeError("cgi script failed after streaming")
