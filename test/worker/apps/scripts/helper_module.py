"""Imported by cgi_import.py from the script's folder (sys.path[0])."""
VALUE = "helper module value"
