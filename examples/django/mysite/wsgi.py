"""The WSGI entry point pyfpm imports: `app: mysite.wsgi:application`.

Every pyfpm worker imports this module once, before it accepts its first
request, so Django's setup (settings, apps, URLconf) is paid once per worker.
"""
import os

from django.core.wsgi import get_wsgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "mysite.settings")

application = get_wsgi_application()
