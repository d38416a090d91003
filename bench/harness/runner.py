"""One configuration in one round: start, check, load, measure, stop."""

import http.client
import os
import re
import time

from . import procs, wrk
from .configs import StartError, tail
from .scenarios import BY_NAME as SCENARIOS

READY_LINE = re.compile(r"worker (\d+) ready after (\d+)(ms|s|m|h)\b")
_MS = {"ms": 1, "s": 1000, "m": 60000, "h": 3600000}
WARMUP_REQUESTS = 4  # per scenario, so that both workers have served each path


def http_status(port, path, timeout=5.0):
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=timeout)
    try:
        conn.request("GET", path)
        response = conn.getresponse()
        response.read()
        return response.status
    except (OSError, http.client.HTTPException):
        return None
    finally:
        conn.close()


def wait_http(running, path, limit=60.0):
    """Until GET path answers 200 (bounded); fails at once if a server exits."""
    deadline = time.monotonic() + limit
    while True:
        for server in running.servers:
            if not server.running():
                raise StartError(f"{server.name} exited while starting:\n{tail(server.log_path)}")
        if http_status(running.port, path) == 200:
            return
        if time.monotonic() > deadline:
            logs = "\n".join(f"--- {s.name}:\n{tail(s.log_path)}" for s in running.servers)
            raise StartError(f"GET {path} on port {running.port} not 200 within {limit:.0f}s\n{logs}")
        time.sleep(0.05)


def ready_times_ms(log_path):
    """Spawn-to-ready times from pyfpm's log: "worker N ready after Xms".

    The daemon measures them from the spawn of the worker to the worker's
    ready message on its notify descriptor, sent once the application is
    imported and just before the first accept(); millisecond resolution.
    """
    try:
        with open(log_path, errors="replace") as f:
            text = f.read()
    except OSError:
        return []
    return [int(n) * _MS[unit] for _, n, unit in READY_LINE.findall(text)]


def wait_pyfpm_workers(log_path, count, running, limit=30.0):
    deadline = time.monotonic() + limit
    while len(ready_times_ms(log_path)) < count:
        if time.monotonic() > deadline:
            raise StartError(f"pyfpm: fewer than {count} workers ready within {limit:.0f}s:\n{tail(log_path)}")
        for server in running.servers:
            if not server.running():
                raise StartError(f"{server.name} exited while starting:\n{tail(server.log_path)}")
        time.sleep(0.02)


def worker_memory(running, record, when):
    """Records VmRSS and PSS (KiB) of each worker, per server, as worker_rss_<when>_kib / worker_pss_<when>_kib."""
    table = procs.process_table()
    rss, pss = {}, {}
    for server in running.servers:
        pids = server.workers(table)
        if pids:
            rss[server.name] = [procs.rss_kib(pid) for pid in pids]
            pss[server.name] = [procs.pss_kib(pid) for pid in pids]
    record[f"worker_rss_{when}_kib"] = rss
    record[f"worker_pss_{when}_kib"] = pss


def start(config, ctx, run_dir, attempts=3):
    """Start and wait until ready; a fresh folder and port per attempt."""
    last = None
    for attempt in range(1, attempts + 1):
        folder = run_dir if attempt == 1 else f"{run_dir}-retry{attempt}"
        os.makedirs(folder, exist_ok=True)
        running = None
        try:
            running = config.start(ctx, folder)
            wait_http(running, config.probe)
            if running.pyfpm_log:
                wait_pyfpm_workers(running.pyfpm_log, 2, running)
            procs.wait_quiescent(running.servers)
            return running
        except StartError as e:
            last = e
            if running:
                running.stop()
            # Another process may have taken the port between free_port()
            # and bind(); anything else will fail again, so stop here.
            if "in use" not in str(e):
                break
    raise last


def measure(config, running, scenario, connections, duration, scripts):
    """One wrk run with RSS sampling and CPU accounting of the servers' trees."""
    procs.wait_quiescent(running.servers, limit=10.0)
    roots = [s.pid for s in running.servers]
    cpu_before = procs.tree_cpu_seconds(roots)
    url = f"http://127.0.0.1:{running.port}{scenario.path}"
    with procs.TreeSampler(running.servers) as sampler:
        result = wrk.run(url, connections, duration, scripts.get(scenario.name))
    cpu = procs.tree_cpu_seconds(roots) - cpu_before
    result["cpu_s"] = cpu
    result["cpu_us_per_req"] = cpu * 1e6 / result["requests"] if result["requests"] else None
    result["rss_peak_kib"] = sampler.peak_total_kib
    result["root_rss_peak_kib"] = dict(sampler.peak_root_kib)
    result["rss_samples"] = sampler.samples
    errors = result["errors"]
    counted = sum(errors.values()) - (errors["read"] if config.read_errors_benign else 0)
    result["failures"] = counted + result["non_2xx"]
    dead = [s.name for s in running.servers if not s.running()]
    if dead:
        raise StartError(f"{', '.join(dead)} exited during {scenario.path} -c{connections}")
    return result


def run_config(config, ctx, run_dir, scenario_names, connections, duration, scripts, say, record):
    """Fills `record` with everything one configuration gives in one round (JSON-ready).

    The caller owns `record`, so what was measured survives a Ctrl-C.
    """
    record.update({"config": config.name, "error": None, "cells": {}, "checks": {}})
    wanted = [n for n in scenario_names if n in config.scenarios]
    t0 = time.monotonic()
    try:
        running = start(config, ctx, run_dir)
    except StartError as e:
        record["error"] = f"start: {e}"
        say(f"  {config.name}: could not start: {e}")
        return record
    try:
        record["start_s"] = round(time.monotonic() - t0, 3)
        if running.pyfpm_log:
            record["spawn_to_ready_ms"] = ready_times_ms(running.pyfpm_log)
        worker_memory(running, record, "started")
        # Check every answer once, and warm up: imports, caches, both workers.
        for name in wanted:
            problem = None
            for _ in range(WARMUP_REQUESTS):
                problem = problem or SCENARIOS[name].check("127.0.0.1", running.port)
            record["checks"][name] = problem
            if problem:
                say(f"  {config.name}: check failed: {problem}")
        procs.wait_quiescent(running.servers, limit=10.0)
        worker_memory(running, record, "idle")
        record["root_rss_idle_kib"] = {s.name: procs.rss_kib(s.pid) for s in running.servers}
        for name in wanted:
            record["cells"][name] = {}
            if record["checks"][name]:
                continue
            for c in connections:
                try:
                    result = measure(config, running, SCENARIOS[name], c, duration, scripts)
                except (wrk.WrkError, StartError) as e:
                    record["cells"][name][f"c{c}"] = {"error": str(e)}
                    say(f"  {config.name} {name} -c{c}: {e}")
                    if isinstance(e, StartError):
                        raise
                    continue
                record["cells"][name][f"c{c}"] = result
                say(f"  {config.name:<17} {name:<10} -c{c:<4} {result['rps']:>10.0f} req/s  "
                    f"p50 {result['p50_us'] / 1000:7.2f} ms  p99 {result['p99_us'] / 1000:7.2f} ms  "
                    f"cpu {result['cpu_us_per_req'] or 0:6.1f} us/req  rss {result['rss_peak_kib'] / 1024:6.1f} MiB"
                    + (f"  failures {result['failures']}" if result["failures"] else ""))
        procs.wait_quiescent(running.servers, limit=10.0)
        worker_memory(running, record, "after_load")
    except StartError as e:
        record["error"] = str(e)
    finally:
        running.stop()
    return record


def run_ondemand(ctx, run_dir, say, limit=30.0):
    """pyfpm pm=ondemand: from 0 workers to the first answered GET /hello."""
    from .configs import ONDEMAND_TEMPLATE, Running, free_port, start_pyfpm
    os.makedirs(run_dir, exist_ok=True)
    port = free_port()
    _, server, log = start_pyfpm(ctx, run_dir, ONDEMAND_TEMPLATE, port)
    running = Running(port, [server], pyfpm_log=log)
    record = {"error": None}
    try:
        # The daemon answers its ping path itself, with no worker at all.
        wait_http(running, "/pyfpm-ping")
        procs.wait_quiescent(running.servers, limit=10.0)
        record["workers_before"] = len(server.workers())
        statuses = []
        t0 = time.monotonic()
        deadline = t0 + limit
        while time.monotonic() < deadline:
            status = http_status(port, "/hello", timeout=limit)
            if status == 200:
                record["first_response_ms"] = round((time.monotonic() - t0) * 1000, 1)
                break
            statuses.append(status)
            time.sleep(0.01)
        else:
            record["error"] = f"no 200 for /hello within {limit:.0f}s; got {statuses[-5:]}"
        record["non_200_before"] = statuses
        record["spawn_to_ready_ms"] = ready_times_ms(log)
        if record["workers_before"]:
            record["error"] = f"{record['workers_before']} workers ran before the first request"
    except StartError as e:
        record["error"] = str(e)
    finally:
        running.stop()
    if record["error"]:
        say(f"  pyfpm-ondemand: {record['error']}")
    else:
        say(f"  pyfpm-ondemand     0 -> first answer in {record['first_response_ms']:.0f} ms "
            f"(worker spawn-to-ready {record['spawn_to_ready_ms']} ms)")
    return record
