"""Binds `application` to something that is not a WSGI callable."""
application = 42
