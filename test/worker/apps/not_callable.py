"""A module whose `app` is not a WSGI callable."""

app = 42
