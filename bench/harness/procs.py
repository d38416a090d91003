"""Server processes: start them as children, watch their process trees, stop them by PID.

Every server of the benchmark is a child of the harness. The harness makes
itself a child subreaper (prctl PR_SET_CHILD_SUBREAPER), so a worker whose
master died is reparented to the harness rather than to init: the harness
can still find it by walking /proc and stop it by PID.

Figures come from /proc (proc(5)):
  * RSS: VmRSS of /proc/PID/status, summed over the whole tree.
  * CPU: utime + stime + cutime + cstime of /proc/PID/stat, in clock ticks,
    summed over the tree. cutime/cstime hold the time of children already
    reaped, so a worker that exits during a run still counts; the time of a
    live process is never in its parent's cutime, so nothing counts twice.
"""

import ctypes
import os
import signal
import subprocess
import threading
import time

CLOCK_TICKS = os.sysconf("SC_CLK_TCK")
PR_SET_CHILD_SUBREAPER = 36


def enable_subreaper():
    """Make orphaned descendants children of this process (Linux >= 3.4)."""
    libc = ctypes.CDLL(None, use_errno=True)
    if libc.prctl(PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0) != 0:
        raise OSError(ctypes.get_errno(), "prctl(PR_SET_CHILD_SUBREAPER)")


def _read(path):
    try:
        with open(path, "rb") as f:
            return f.read()
    except (FileNotFoundError, ProcessLookupError, PermissionError):
        return None


def _stat_fields(pid):
    """The fields of /proc/PID/stat after `comm`, which may hold spaces."""
    raw = _read(f"/proc/{pid}/stat")
    if raw is None:
        return None
    text = raw.decode("ascii", "replace")
    close = text.rfind(")")
    comm = text[text.find("(") + 1:close]
    return comm, text[close + 2:].split()


def process_table():
    """{pid: (ppid, comm)} for every process on the machine."""
    table = {}
    for name in os.listdir("/proc"):
        if not name.isdigit():
            continue
        fields = _stat_fields(int(name))
        if fields is not None:
            comm, rest = fields
            table[int(name)] = (int(rest[1]), comm)
    return table


def descendants(roots, table=None):
    """The roots that still exist and all their descendants."""
    table = process_table() if table is None else table
    children = {}
    for pid, (ppid, _) in table.items():
        children.setdefault(ppid, []).append(pid)
    found = set()
    stack = [pid for pid in roots if pid in table]
    while stack:
        pid = stack.pop()
        if pid in found:
            continue
        found.add(pid)
        stack.extend(children.get(pid, ()))
    return found


def rss_kib(pid):
    raw = _read(f"/proc/{pid}/status")
    if raw is None:
        return 0
    for line in raw.decode("ascii", "replace").splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1])
    return 0  # a zombie or a kernel thread has no VmRSS


def pss_kib(pid):
    """Proportional set size: shared pages divided among their sharers.

    Workers forked from a master that imported the app (uWSGI, gunicorn
    with preload) share many pages with it; RSS counts them in full in
    every process, PSS only once over all of them.
    """
    raw = _read(f"/proc/{pid}/smaps_rollup")
    if raw is None:
        return 0
    for line in raw.decode("ascii", "replace").splitlines():
        if line.startswith("Pss:"):
            return int(line.split()[1])
    return 0


def cpu_ticks(pid):
    fields = _stat_fields(pid)
    if fields is None:
        return 0
    rest = fields[1]
    # stat(5) fields 14-17, counted from 1 with pid and comm as 1 and 2.
    return sum(int(v) for v in rest[11:15])


def cmdline(pid):
    raw = _read(f"/proc/{pid}/cmdline")
    if not raw:
        return ""
    return raw.replace(b"\0", b" ").decode("utf-8", "replace").strip()


_started = []  # every Server started, for stop_all()


def stop_all():
    """Stops every server still running: the last line of defence on Ctrl-C or failure."""
    for server in reversed(_started):
        if server.running():
            server.stop()


def tree_cpu_seconds(roots):
    return sum(cpu_ticks(pid) for pid in descendants(roots)) / CLOCK_TICKS


class Server:
    """One server process (nginx, a pyfpm daemon, a uWSGI master, ...).

    `worker_match(pid, ppid, comm, cmdline)` says which of its descendants
    are application workers, for the idle-worker RSS figure.
    """

    def __init__(self, name, argv, run_dir, env=None, cwd=None, worker_match=None):
        self.name = name
        self.argv = argv
        self.run_dir = run_dir
        self.env = env
        self.cwd = cwd or run_dir
        self.worker_match = worker_match
        self.process = None
        self.log_path = os.path.join(run_dir, f"{name}.out")

    @property
    def pid(self):
        return self.process.pid if self.process else None

    def start(self):
        with open(self.log_path, "ab") as out:
            self.process = subprocess.Popen(
                self.argv, cwd=self.cwd, env=self.env, stdin=subprocess.DEVNULL,
                stdout=out, stderr=subprocess.STDOUT,
                # Its own session: a Ctrl-C in the terminal reaches only the
                # harness, which then stops every server in order.
                start_new_session=True)
        _started.append(self)

    def running(self):
        return self.process is not None and self.process.poll() is None

    def workers(self, table=None):
        """PIDs of its application workers, by worker_match."""
        if self.worker_match is None or not self.running():
            return []
        table = process_table() if table is None else table
        found = []
        for pid in sorted(descendants([self.pid], table)):
            ppid, comm = table[pid]
            if pid != self.pid and self.worker_match(pid, ppid, comm, cmdline(pid)):
                found.append(pid)
        return found

    def stop(self, grace=10.0):
        """SIGTERM, then SIGKILL after `grace` seconds; then any descendant left."""
        if self.process is None:
            return
        tree = descendants([self.process.pid])
        if self.process.poll() is None:
            _signal(self.process.pid, signal.SIGTERM)
            try:
                self.process.wait(timeout=grace)
            except subprocess.TimeoutExpired:
                _signal(self.process.pid, signal.SIGKILL)
                self.process.wait(timeout=5)
        # Descendants that outlived their parent were reparented to us
        # (subreaper): kill and reap them by PID.
        tree.discard(self.process.pid)
        _kill_and_reap(tree)


def _signal(pid, sig):
    try:
        os.kill(pid, sig)
    except ProcessLookupError:
        pass


def _kill_and_reap(pids):
    deadline = time.monotonic() + 5
    left = set(pids)
    while left and time.monotonic() < deadline:
        for pid in sorted(left):
            if not os.path.exists(f"/proc/{pid}"):
                left.discard(pid)
                continue
            _signal(pid, signal.SIGKILL)
            try:
                if os.waitpid(pid, os.WNOHANG)[0] == pid:
                    left.discard(pid)
            except ChildProcessError:
                pass  # not our child (yet): it will vanish or be reparented
        if left:
            time.sleep(0.05)


class TreeSampler:
    """Samples the RSS of process trees in a thread while a load runs.

    Records the peak of the summed VmRSS of all trees, and the peak VmRSS of
    each root process on its own (the pyfpm daemon, the nginx master ...).
    """

    def __init__(self, servers, interval=0.1):
        self.servers = servers
        self.interval = interval
        self.peak_total_kib = 0
        self.peak_root_kib = {s.name: 0 for s in servers}
        self.samples = 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def __enter__(self):
        self._sample()
        self._thread.start()
        return self

    def __exit__(self, *exc):
        self._stop.set()
        self._thread.join()
        self._sample()

    def _run(self):
        while not self._stop.wait(self.interval):
            self._sample()

    def _sample(self):
        table = process_table()
        roots = [s.pid for s in self.servers if s.pid]
        total = sum(rss_kib(pid) for pid in descendants(roots, table))
        self.peak_total_kib = max(self.peak_total_kib, total)
        for server in self.servers:
            if server.pid:
                self.peak_root_kib[server.name] = max(self.peak_root_kib[server.name], rss_kib(server.pid))
        self.samples += 1


def wait_quiescent(servers, quiet=0.3, limit=30.0):
    """Wait until the trees use no CPU for `quiet` seconds (bounded by `limit`).

    Used as "the server has finished starting" (imports done, workers
    forked) and "the last load has drained" before the next measurement.
    Returns True when quiet, False when the limit passed first.
    """
    roots = [s.pid for s in servers if s.pid]
    deadline = time.monotonic() + limit
    last = tree_cpu_seconds(roots)
    quiet_since = time.monotonic()
    while time.monotonic() < deadline:
        time.sleep(0.05)
        now_cpu = tree_cpu_seconds(roots)
        if now_cpu != last:
            last = now_cpu
            quiet_since = time.monotonic()
        elif time.monotonic() - quiet_since >= quiet:
            return True
    return False
