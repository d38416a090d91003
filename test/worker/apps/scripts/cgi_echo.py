"""Echoes the request body byte for byte through sys.stdin.buffer and
sys.stdout.buffer."""
import sys

data = sys.stdin.buffer.read()
sys.stdout.write("Content-Type: application/octet-stream\r\n")
sys.stdout.write(f"Content-Length: {len(data)}\r\n\r\n")
sys.stdout.buffer.write(data)
