"""The scenarios: which path, which request, what a correct answer looks like."""

import http.client
import os
from dataclasses import dataclass

SMALL_STATIC = b"Hello, world\n"        # 13 B
BIG_SIZE = 1024 * 1024                  # /big and the big static file
ECHO_SIZE = 64 * 1024                   # the /echo request body


@dataclass(frozen=True)
class Scenario:
    name: str
    path: str
    title: str
    method: str = "GET"
    body_size: int = 0        # request body (POST)
    expect_size: int = None   # exact response body size, when fixed
    expect_text: bytes = None  # bytes the response body must contain

    def check(self, host, port, timeout=30):
        """One request; None when the answer is right, else what is wrong."""
        body = b"x" * self.body_size if self.body_size else None
        headers = {"Content-Type": "application/octet-stream"} if body else {}
        conn = http.client.HTTPConnection(host, port, timeout=timeout)
        try:
            conn.request(self.method, self.path, body=body, headers=headers)
            response = conn.getresponse()
            data = response.read()
        except (OSError, http.client.HTTPException) as e:
            return f"{self.method} {self.path}: {type(e).__name__}: {e}"
        finally:
            conn.close()
        if response.status != 200:
            return f"{self.method} {self.path}: status {response.status}: {data[:200]!r}"
        if self.expect_size is not None and len(data) != self.expect_size:
            return f"{self.method} {self.path}: {len(data)} bytes, expected {self.expect_size}"
        if self.expect_text is not None and self.expect_text not in data:
            return f"{self.method} {self.path}: body lacks {self.expect_text!r}: {data[:200]!r}"
        if body is not None and data != body:
            return f"{self.method} {self.path}: the echoed body differs from the one sent"
        return None


SCENARIOS = [
    Scenario("hello", "/hello", "/hello (13 B)", expect_size=13, expect_text=b"Hello, world\n"),
    Scenario("sleep", "/sleep", "/sleep (10 ms wait)", expect_size=6),
    Scenario("big", "/big", "/big (1 MiB)", expect_size=BIG_SIZE),
    Scenario("echo", "/echo", "/echo (64 KiB POST)", method="POST", body_size=ECHO_SIZE, expect_size=ECHO_SIZE),
    Scenario("flask", "/flask", "Flask page", expect_text=b"<h1>Flask page</h1>"),
    Scenario("static-13", "/static/small.txt", "static 13 B", expect_size=13, expect_text=SMALL_STATIC),
    Scenario("static-1m", "/static/big.bin", "static 1 MiB", expect_size=BIG_SIZE),
]
BY_NAME = {s.name: s for s in SCENARIOS}


def write_static_files(folder):
    """The static files, generated per run so that nothing large is committed."""
    os.makedirs(folder, exist_ok=True)
    with open(os.path.join(folder, "small.txt"), "wb") as f:
        f.write(SMALL_STATIC)
    with open(os.path.join(folder, "big.bin"), "wb") as f:
        f.write(bytes(range(256)) * (BIG_SIZE // 256))
    return folder
