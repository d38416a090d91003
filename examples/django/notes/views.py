"""Two views that exercise what a session-based site needs from its server:
cookies in both directions, a CSRF-protected POST, and redirects.

  /         a form (CSRF token in the page and in the csrftoken cookie);
            a valid POST appends the note to the visitor's session and
            redirects back (POST/redirect/GET), so the list below the form
            shows it on the next GET with the sessionid cookie
  /visits/  counts this visitor's requests in the session, as plain text
"""
from django.http import HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_GET, require_http_methods

from .forms import NoteForm

MAX_NOTES = 20


@require_http_methods(["GET", "POST"])
def notes(request):
    saved = request.session.get("notes", [])
    if request.method == "POST":
        form = NoteForm(request.POST)
        if form.is_valid():
            # Reassigned, not appended in place, so the session sees a change.
            request.session["notes"] = (saved + [form.cleaned_data["text"]])[-MAX_NOTES:]
            return redirect("notes:notes")
        status = 400
    else:
        form = NoteForm()
        status = 200
    return render(request, "notes/index.html", {"form": form, "notes": saved}, status=status)


@require_GET
def visits(request):
    count = request.session.get("visits", 0) + 1
    request.session["visits"] = count
    return HttpResponse(f"visits: {count}\n", content_type="text/plain; charset=utf-8")
