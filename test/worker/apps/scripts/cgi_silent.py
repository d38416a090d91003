"""Writes nothing at all: not a CGI response."""
value = 1 + 1
