"""An application whose import waits for the test: "$PYFPM_TEST_DIR/import-release"
must appear (bounded at 20 s), so the test can look at a worker that is
still Starting."""

import os
import time

TEST_DIR = os.environ.get("PYFPM_TEST_DIR", "/nonexistent")

with open(os.path.join(TEST_DIR, "import-started"), "w") as f:
    f.write(str(os.getpid()))
_deadline = time.monotonic() + 20
while not os.path.exists(os.path.join(TEST_DIR, "import-release")) and time.monotonic() < _deadline:
    time.sleep(0.01)


def app(environ, start_response):
    start_response("200 OK", [("Content-Type", "text/plain")])
    return [b"imported"]
