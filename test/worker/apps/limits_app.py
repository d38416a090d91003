"""Routes for the worker's recycling limits and slowlog tests.

/leak?mb=N      keeps N more MiB alive for the life of the worker
/slow-function  sleeps in slow_function_name until "$PYFPM_TEST_DIR/slow-release"
                exists (bounded at 20 s), after creating "slow-started"
/thread-signal  sends SIGUSR2 to a thread of its own (not the main one) and
                waits for it in thread_signal
/hello          a small answer
"""

import os
import signal
import threading
import time

TEST_DIR = os.environ.get("PYFPM_TEST_DIR", "/nonexistent")
_kept = []


def marker(name):
    return os.path.join(TEST_DIR, name)


def text(start_response, body):
    data = body.encode()
    start_response("200 OK", [("Content-Type", "text/plain"), ("Content-Length", str(len(data)))])
    return [data]


def slow_function_name():
    with open(marker("slow-started"), "w") as f:
        f.write(str(os.getpid()))
    deadline = time.monotonic() + 20
    while not os.path.exists(marker("slow-release")) and time.monotonic() < deadline:
        time.sleep(0.01)
    return "slow done"


def leak(environ, start_response):
    mib = int(environ.get("QUERY_STRING", "mb=0").split("=", 1)[1])
    # Filled, not merely reserved: untouched pages would not be resident.
    _kept.append(bytearray(b"\x01") * (mib << 20))
    return text(start_response, "kept %d MiB" % sum(len(block) >> 20 for block in _kept))


def thread_signal(environ, start_response):
    def signal_myself():
        signal.pthread_kill(threading.get_ident(), signal.SIGUSR2)

    helper = threading.Thread(target=signal_myself)
    helper.start()
    helper.join()
    return text(start_response, "signalled")


def app(environ, start_response):
    path = environ.get("PATH_INFO", "")
    if path == "/leak":
        return leak(environ, start_response)
    if path == "/slow-function":
        return text(start_response, slow_function_name())
    if path == "/thread-signal":
        return thread_signal(environ, start_response)
    return text(start_response, "hello")
