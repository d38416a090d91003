"""Install the peers from Debian when missing, build pyfpm optimised, describe the machine."""

import os
import platform
import re
import shutil
import subprocess

# Debian 12 packages: the peers, the load generator, the app's framework.
PACKAGES = ["nginx", "wrk", "gunicorn", "uwsgi", "uwsgi-plugin-python3", "php-fpm", "python3-flask"]
CHART_PACKAGE = "gnuplot-nox"  # unless python3-matplotlib is already there
POLICY_RC_D = "/usr/sbin/policy-rc.d"

BUILD_DIR = "build-bench"
MESON_SETUP = ["meson", "setup", BUILD_DIR, "--buildtype=release", "-Db_lto=true", "-Db_ndebug=if-release",
               # The harness needs the programs only; the test suite is
               # built and run by .ci/test.
               "-Dtests=false"]


def installed(package):
    done = subprocess.run(["dpkg-query", "-W", "-f=${Status}", package], capture_output=True, text=True)
    return done.returncode == 0 and done.stdout.strip() == "install ok installed"


def has_matplotlib():
    return subprocess.run(["/usr/bin/python3", "-c", "import matplotlib"], capture_output=True).returncode == 0


def install_missing(say):
    wanted = list(PACKAGES)
    if not has_matplotlib():
        wanted.append(CHART_PACKAGE)
    missing = [p for p in wanted if not installed(p)]
    if not missing:
        return
    say(f"installing from Debian: {' '.join(missing)}")
    sudo = [] if os.geteuid() == 0 else ["sudo"]
    env = dict(os.environ, DEBIAN_FRONTEND="noninteractive")
    # nginx, php-fpm and uwsgi would start their system services on
    # installation; the benchmark starts its own, so keep those from starting.
    created_policy = False
    if not os.path.exists(POLICY_RC_D):
        subprocess.run(sudo + ["sh", "-c", f"printf '#!/bin/sh\\nexit 101\\n' > {POLICY_RC_D}; chmod 755 {POLICY_RC_D}"],
                       check=True)
        created_policy = True
    try:
        subprocess.run(sudo + ["apt-get", "update", "-qq"], check=True, env=env)
        subprocess.run(sudo + ["apt-get", "install", "-y", "-qq", "--no-install-recommends"] + missing,
                       check=True, env=env, stdout=subprocess.DEVNULL)
    finally:
        if created_policy:
            subprocess.run(sudo + ["rm", "-f", POLICY_RC_D], check=True)


def build(root, say):
    """meson setup (once) and ninja; returns the path of the pyfpm binary."""
    build_dir = os.path.join(root, BUILD_DIR)
    if not os.path.exists(os.path.join(build_dir, "build.ninja")):
        _step(say, MESON_SETUP, root)
    _step(say, ["ninja", "-C", BUILD_DIR], root)
    return binaries(root)


def _step(say, argv, root):
    say(" ".join(argv))
    done = subprocess.run(argv, cwd=root, capture_output=True, text=True)
    if done.returncode != 0:
        output = (done.stdout + done.stderr).strip().splitlines()
        raise SystemExit("\n".join(output[-40:]) + f"\n{' '.join(argv)}: exit {done.returncode}")


def binaries(root):
    pyfpm = os.path.join(root, BUILD_DIR, "pyfpm")
    worker = os.path.join(root, BUILD_DIR, "pyfpm-worker")
    for path in (pyfpm, worker):
        if not os.access(path, os.X_OK):
            raise SystemExit(f"{path}: missing; run bench/run without --no-build")
    return pyfpm


def _first_line(argv, pattern=None):
    try:
        done = subprocess.run(argv, capture_output=True, text=True, timeout=20)
    except (OSError, subprocess.TimeoutExpired) as e:
        return f"unavailable ({e})"
    text = (done.stdout + done.stderr).strip()
    if pattern:
        m = re.search(pattern, text)
        return m.group(1) if m else text.splitlines()[0] if text else ""
    return text.splitlines()[0] if text else ""


def _cpu_model():
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                if line.startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "unknown"


def _mem_total_mib():
    with open("/proc/meminfo") as f:
        for line in f:
            if line.startswith("MemTotal:"):
                return int(line.split()[1]) // 1024
    return None


def _os_release():
    try:
        with open("/etc/os-release") as f:
            for line in f:
                if line.startswith("PRETTY_NAME="):
                    return line.split("=", 1)[1].strip().strip('"')
    except OSError:
        pass
    return platform.platform()


def _build_options(root):
    path = os.path.join(root, BUILD_DIR, "meson-info", "intro-buildoptions.json")
    try:
        import json
        with open(path) as f:
            options = {o["name"]: o["value"] for o in json.load(f)}
        return {k: options.get(k) for k in ("buildtype", "b_lto", "b_ndebug", "optimization", "debug")}
    except (OSError, ValueError, KeyError):
        return None


def describe_machine(root, pyfpm):
    """CPU, cores, kernel, memory and the version of every server, for the JSON."""
    return {
        "cpu_model": _cpu_model(),
        "cores": os.cpu_count(),
        "kernel": platform.release(),
        "os": _os_release(),
        "memory_mib": _mem_total_mib(),
        "versions": {
            "pyfpm": _first_line([pyfpm, "--version"]),
            "pyfpm_build": _build_options(root),
            "compiler": _first_line(["c++", "--version"]),
            "nginx": _first_line(["/usr/sbin/nginx", "-v"], r"nginx/(\S+)"),
            "uwsgi": _first_line(["/usr/bin/uwsgi", "--version"]),
            "gunicorn": _first_line(["/usr/bin/gunicorn", "--version"], r"version (\S+)\)"),
            "php-fpm": _first_line(["/usr/sbin/php-fpm8.2", "-v"], r"PHP (\S+)"),
            "wrk": _first_line(["wrk", "-v"], r"wrk (\S+)"),
            "python": _first_line(["/usr/bin/python3", "--version"], r"Python (\S+)"),
            "flask": _first_line(["/usr/bin/python3", "-c", "import importlib.metadata as m; print(m.version('flask'))"]),
            "libevent": _dpkg_version("libevent-2.1-7"),
            "gnuplot": _first_line(["gnuplot", "--version"]) if shutil.which("gnuplot") else None,
        },
    }


def _dpkg_version(package):
    done = subprocess.run(["dpkg-query", "-W", "-f=${Version}", package], capture_output=True, text=True)
    return done.stdout.strip() if done.returncode == 0 else None
