"""Running wrk and reading its --latency report.

wrk 4.1 prints, among other lines:

      Latency Distribution
         50%  213.00us
         99%    1.20ms
      123456 requests in 10.00s, 15.00MB read
      Socket errors: connect 0, read 12, write 0, timeout 0
      Non-2xx or 3xx responses: 5
    Requests/sec:  12345.67

"Socket errors" and "Non-2xx or 3xx" appear only when not zero. wrk's
"Non-2xx or 3xx" line counts responses with a status above 399 (wrk's
`status > 399` test), so 3xx answers are not in it despite the wording.
"""

import re
import subprocess

_UNITS_US = {"us": 1.0, "ms": 1e3, "s": 1e6, "m": 60e6, "h": 3600e6}
_TIME = r"([0-9.]+)(us|ms|s|m|h)"


class WrkError(Exception):
    pass


def command(url, connections, duration, script=None, threads=1):
    argv = ["wrk", f"-t{threads}", f"-c{connections}", f"-d{duration}s", "--latency"]
    if script:
        argv += ["-s", script]
    return argv + [url]


def run(url, connections, duration, script=None):
    argv = command(url, connections, duration, script)
    try:
        done = subprocess.run(argv, capture_output=True, text=True, timeout=duration + 60)
    except subprocess.TimeoutExpired as e:
        raise WrkError(f"{' '.join(argv)}: no result after {duration + 60}s") from e
    if done.returncode != 0:
        raise WrkError(f"{' '.join(argv)}: exit {done.returncode}: {done.stderr.strip() or done.stdout.strip()}")
    result = parse(done.stdout)
    result["command"] = " ".join(argv)
    return result


def _time_us(number, unit):
    return float(number) * _UNITS_US[unit]


def parse(text):
    """The figures of one wrk --latency report; raises WrkError when incomplete."""
    result = {
        "requests": None, "duration_s": None, "rps": None, "p50_us": None, "p99_us": None,
        "errors": {"connect": 0, "read": 0, "write": 0, "timeout": 0}, "non_2xx": 0,
    }
    for line in text.splitlines():
        line = line.strip()
        m = re.match(r"(50|99)(?:\.0+)?%\s+" + _TIME + r"$", line)
        if m:
            result[f"p{m.group(1)}_us"] = _time_us(m.group(2), m.group(3))
            continue
        m = re.match(r"(\d+) requests in " + _TIME + ",", line)
        if m:
            result["requests"] = int(m.group(1))
            result["duration_s"] = _time_us(m.group(2), m.group(3)) / 1e6
            continue
        m = re.match(r"Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)", line)
        if m:
            result["errors"] = dict(zip(("connect", "read", "write", "timeout"), map(int, m.groups())))
            continue
        m = re.match(r"Non-2xx or 3xx responses: (\d+)", line)
        if m:
            result["non_2xx"] = int(m.group(1))
            continue
        m = re.match(r"Requests/sec:\s+([0-9.]+)", line)
        if m:
            result["rps"] = float(m.group(1))
    missing = [k for k in ("requests", "rps", "p50_us", "p99_us") if result[k] is None]
    if missing:
        raise WrkError(f"wrk output lacks {', '.join(missing)}:\n{text}")
    return result


ECHO_SCRIPT = """-- /echo: every request POSTs the same {size}-byte body (written by bench/run).
wrk.method = "POST"
wrk.body = string.rep("x", {size})
wrk.headers["Content-Type"] = "application/octet-stream"
wrk.headers["Content-Length"] = "{size}"
"""


def write_echo_script(path, size):
    with open(path, "w") as f:
        f.write(ECHO_SCRIPT.format(size=size))
    return path
