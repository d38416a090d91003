"""The configurations under test: which servers to start, and with what files.

Each configuration renders its templates from bench/configs/ into its own
temp folder (@-delimited placeholders), starts its servers as children of the
harness and says which scenarios it serves. All Python servers run the same
file, bench/app/benchapp.py (copied into the run's temp dir), with exactly 2
worker processes.

kind: "pyfpm" (measured), "peer" (compared against), "ceiling" (nginx
answering by itself: shows the machine's limit, not a peer).
"""

import os
import re
import socket
import time
from dataclasses import dataclass, field

from . import procs

APP_SCENARIOS = ("hello", "sleep", "big", "echo", "flask")
STATIC_SCENARIOS = ("static-13", "static-1m")

NGINX = "/usr/sbin/nginx"
UWSGI = "/usr/bin/uwsgi"
GUNICORN = "/usr/bin/gunicorn"
PHP_FPM = "/usr/sbin/php-fpm8.2"


class StartError(Exception):
    pass


@dataclass
class Context:
    """What every configuration needs to know about the run."""
    configs_dir: str     # bench/configs
    app_dir: str         # the run's copy of bench/app
    static_dir: str      # the run's generated static files
    pyfpm: str           # build-bench/pyfpm (pyfpm-worker lies beside it)
    env: dict            # environment for the servers
    is_root: bool = field(default_factory=lambda: os.geteuid() == 0)


@dataclass
class Running:
    """A started configuration: its servers (front first) and its HTTP port."""
    port: int
    servers: list
    pyfpm_log: str = None  # the pyfpm daemon's error_log, when there is one

    def stop(self):
        # Front first, so no new request reaches a stopping backend.
        for server in self.servers:
            server.stop()


def free_port():
    """An ephemeral port that was free a moment ago (the server binds it next)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def render_file(template_path, out_path, **values):
    """Fill @-delimited placeholders; a placeholder left unfilled is an error."""
    with open(template_path) as f:
        text = f.read()
    for key, value in values.items():
        text = text.replace(f"@{key}@", str(value))
    left = re.findall(r"@[A-Z_]+@", text)
    if left:
        raise StartError(f"{template_path}: placeholders left unfilled: {', '.join(sorted(set(left)))}")
    with open(out_path, "w") as f:
        f.write(text)
    return out_path


def render(ctx, template, out_path, **values):
    return render_file(os.path.join(ctx.configs_dir, template), out_path, **values)


def wait_for_path(path, servers, limit=30.0):
    """Wait until a backend has created its unix socket (bounded)."""
    deadline = time.monotonic() + limit
    while not os.path.exists(path):
        for server in servers:
            if not server.running():
                raise StartError(f"{server.name} exited while starting:\n{tail(server.log_path)}")
        if time.monotonic() > deadline:
            raise StartError(f"{path} did not appear within {limit:.0f}s")
        time.sleep(0.02)


def tail(path, lines=20):
    try:
        with open(path, errors="replace") as f:
            return "".join(f.readlines()[-lines:])
    except OSError:
        return "(no log)"


# --- the servers --------------------------------------------------------


def start_nginx(ctx, run_dir, locations_template, **values):
    port = free_port()
    with open(os.path.join(ctx.configs_dir, "nginx", locations_template)) as f:
        locations = f.read()
    conf = os.path.join(run_dir, "nginx.conf")
    # As root, nginx would hand its worker to `nobody`/`www-data`, who may
    # not enter the temp dir or connect to the backends' sockets.
    user_line = "user root;" if ctx.is_root else "# (not root: nginx runs as this user)"
    with open(os.path.join(ctx.configs_dir, "nginx", "nginx.conf.in")) as f:
        template = f.read().replace("@LOCATIONS@", locations.rstrip("\n"))
    tmp_template = os.path.join(run_dir, "nginx.conf.in")
    with open(tmp_template, "w") as f:
        f.write(template)
    render_file(tmp_template, conf, DIR=run_dir, PORT=port, USER_LINE=user_line, APPDIR=ctx.app_dir,
               STATIC=ctx.static_dir, **values)
    server = procs.Server("nginx", [NGINX, "-p", run_dir, "-e", os.path.join(run_dir, "nginx-error.log"),
                                    "-c", conf, "-g", "daemon off;"], run_dir, env=ctx.env)
    server.start()
    return port, server


def is_pyfpm_worker(pid, ppid, comm, cmd):
    return comm == "pyfpm-worker"


def start_pyfpm(ctx, run_dir, template, port=None):
    sock = os.path.join(run_dir, "pyfpm-bench.sock")
    conf = render(ctx, template, os.path.join(run_dir, "pyfpm.yaml"), DIR=run_dir, PORT=port or 0,
                  APPDIR=ctx.app_dir, STATIC=ctx.static_dir, SOCKET=sock)
    server = procs.Server("pyfpm", [ctx.pyfpm, "-c", conf], run_dir, env=ctx.env, worker_match=is_pyfpm_worker)
    server.start()
    return sock, server, os.path.join(run_dir, "pyfpm.log")


def start_uwsgi(ctx, run_dir, plugins, listen_line):
    conf = render(ctx, "uwsgi.ini.in", os.path.join(run_dir, "uwsgi.ini"), DIR=run_dir, APPDIR=ctx.app_dir,
                  PLUGINS=plugins, LISTEN=listen_line)
    server = procs.Server("uwsgi", [UWSGI, "--ini", conf], run_dir, env=ctx.env,
                          worker_match=lambda pid, ppid, comm, cmd: cmd.startswith("uWSGI worker"))
    server.start()
    return server


def start_gunicorn(ctx, run_dir, bind):
    conf = render(ctx, "gunicorn.conf.py.in", os.path.join(run_dir, "gunicorn.conf.py"), DIR=run_dir,
                  APPDIR=ctx.app_dir, BIND=bind)
    server = procs.Server("gunicorn", [GUNICORN, "-c", conf], run_dir, env=ctx.env)
    # gunicorn's workers are the master's direct children.
    server.worker_match = lambda pid, ppid, comm, cmd: ppid == server.pid
    server.start()
    return server


# --- the configurations -------------------------------------------------


@dataclass(frozen=True)
class Config:
    name: str
    title: str
    kind: str
    scenarios: tuple
    starter: object  # function(ctx, run_dir) -> Running
    probe: str = "/hello"
    # uWSGI's HTTP router answers HTTP/1.1 without "Connection: close" and
    # then closes, which wrk counts as read errors: reported, not failures.
    read_errors_benign: bool = False

    def start(self, ctx, run_dir):
        return self.starter(ctx, run_dir)


def _pyfpm(ctx, run_dir):
    port = free_port()
    _, server, log = start_pyfpm(ctx, run_dir, "pyfpm.yaml.in", port)
    return Running(port, [server], pyfpm_log=log)


def _nginx_pyfpm(ctx, run_dir):
    sock, backend, log = start_pyfpm(ctx, run_dir, "pyfpm-pool.yaml.in")
    wait_for_path(sock, [backend])
    port, nginx = start_nginx(ctx, run_dir, "fastcgi-pyfpm.conf.in", SOCKET=sock)
    return Running(port, [nginx, backend], pyfpm_log=log)


def _gunicorn(ctx, run_dir):
    port = free_port()
    return Running(port, [start_gunicorn(ctx, run_dir, f"127.0.0.1:{port}")])


def _nginx_gunicorn(ctx, run_dir):
    sock = os.path.join(run_dir, "gunicorn.sock")
    backend = start_gunicorn(ctx, run_dir, f"unix:{sock}")
    wait_for_path(sock, [backend])
    port, nginx = start_nginx(ctx, run_dir, "proxy-gunicorn.conf.in", SOCKET=sock)
    return Running(port, [nginx, backend])


def _uwsgi_http(ctx, run_dir):
    port = free_port()
    return Running(port, [start_uwsgi(ctx, run_dir, "python3,http", f"http = 127.0.0.1:{port}")])


def _nginx_uwsgi(ctx, run_dir):
    sock = os.path.join(run_dir, "uwsgi.sock")
    backend = start_uwsgi(ctx, run_dir, "python3", f"socket = {sock}")
    wait_for_path(sock, [backend])
    port, nginx = start_nginx(ctx, run_dir, "uwsgi.conf.in", SOCKET=sock)
    return Running(port, [nginx, backend])


def _nginx_uwsgi_fastcgi(ctx, run_dir):
    sock = os.path.join(run_dir, "uwsgi-fcgi.sock")
    backend = start_uwsgi(ctx, run_dir, "python3", f"fastcgi-socket = {sock}")
    wait_for_path(sock, [backend])
    port, nginx = start_nginx(ctx, run_dir, "fastcgi-uwsgi.conf.in", SOCKET=sock)
    return Running(port, [nginx, backend])


def _nginx_php(ctx, run_dir):
    sock = os.path.join(run_dir, "php-fpm.sock")
    user_lines = "user = root\ngroup = root" if ctx.is_root else "; (not root: the children run as this user)"
    conf = render(ctx, "php-fpm.conf.in", os.path.join(run_dir, "php-fpm.conf"), DIR=run_dir, SOCKET=sock,
                  USER_LINES=user_lines)
    argv = [PHP_FPM, "--nodaemonize", "--fpm-config", conf]
    if ctx.is_root:
        argv.insert(1, "--allow-to-run-as-root")
    backend = procs.Server("php-fpm", argv, run_dir, env=ctx.env,
                           worker_match=lambda pid, ppid, comm, cmd: cmd.startswith("php-fpm: pool"))
    backend.start()
    wait_for_path(sock, [backend])
    port, nginx = start_nginx(ctx, run_dir, "fastcgi-php.conf.in", SOCKET=sock)
    return Running(port, [nginx, backend])


def _nginx_return(ctx, run_dir):
    port, nginx = start_nginx(ctx, run_dir, "return.conf.in")
    return Running(port, [nginx])


def _nginx_static(ctx, run_dir):
    port, nginx = start_nginx(ctx, run_dir, "static.conf.in")
    return Running(port, [nginx])


CONFIGS = [
    Config("pyfpm", "pyfpm standalone (HTTP listener)", "pyfpm", APP_SCENARIOS + STATIC_SCENARIOS, _pyfpm),
    Config("nginx-pyfpm", "nginx fastcgi_pass -> pyfpm pool", "pyfpm", APP_SCENARIOS, _nginx_pyfpm),
    Config("gunicorn", "gunicorn sync", "peer", APP_SCENARIOS, _gunicorn),
    Config("nginx-gunicorn", "nginx proxy_pass -> gunicorn sync", "peer", APP_SCENARIOS, _nginx_gunicorn),
    Config("uwsgi-http", "uWSGI --http", "peer", APP_SCENARIOS, _uwsgi_http, read_errors_benign=True),
    Config("nginx-uwsgi", "nginx uwsgi_pass -> uWSGI", "peer", APP_SCENARIOS, _nginx_uwsgi),
    Config("nginx-uwsgi-fcgi", "nginx fastcgi_pass -> uWSGI --fastcgi-socket", "peer", APP_SCENARIOS,
           _nginx_uwsgi_fastcgi),
    Config("nginx-php", "nginx fastcgi_pass -> php-fpm (PHP hello)", "peer", ("hello",), _nginx_php),
    Config("nginx-return", "nginx return 200 (ceiling)", "ceiling", ("hello",), _nginx_return),
    # nginx's static files are both the ceiling and the one peer pyfpm's
    # static files are compared with.
    Config("nginx-static", "nginx static files (ceiling)", "peer", STATIC_SCENARIOS, _nginx_static,
           probe="/static/small.txt"),
]
BY_NAME = {c.name: c for c in CONFIGS}

# The ondemand measurement (pyfpm only): not a row of the table.
ONDEMAND_TEMPLATE = "pyfpm-ondemand.yaml.in"
