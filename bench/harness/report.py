"""Medians over rounds, ratios to the best peer, the issue's targets, the stdout tables."""

import statistics

from .configs import BY_NAME as CONFIGS
from .scenarios import BY_NAME as SCENARIOS


def _median(values):
    values = [v for v in values if v is not None]
    return statistics.median(values) if values else None


def summarize(runs, config_names, scenario_names, connections):
    """{config: {scenario: {"c32": figures}}}: medians over the rounds that ran.

    Errors and non-2xx are summed over rounds (one failing round is worth
    seeing); every other figure is the median of the rounds.
    """
    summary = {}
    for name in config_names:
        config = CONFIGS[name]
        per_config = summary.setdefault(name, {})
        for scenario in scenario_names:
            if scenario not in config.scenarios:
                continue
            for c in connections:
                key = f"c{c}"
                cells = [r["cells"].get(scenario, {}).get(key) for r in runs if r.get("config") == name]
                good = [cell for cell in cells if cell and "error" not in cell]
                problems = [cell["error"] for cell in cells if cell and "error" in cell]
                problems += [r["checks"][scenario] for r in runs
                             if r.get("config") == name and r.get("checks", {}).get(scenario)]
                problems += [r["error"] for r in runs if r.get("config") == name and r.get("error")]
                entry = {"rounds": len(good), "problems": problems}
                if not good and not problems:
                    entry["not_run"] = True  # interrupted before it
                if good:
                    errors = {k: sum(cell["errors"][k] for cell in good) for k in good[0]["errors"]}
                    entry.update({
                        "rps": _median(cell["rps"] for cell in good),
                        "p50_us": _median(cell["p50_us"] for cell in good),
                        "p99_us": _median(cell["p99_us"] for cell in good),
                        "cpu_us_per_req": _median(cell["cpu_us_per_req"] for cell in good),
                        "rss_peak_kib": _median(cell["rss_peak_kib"] for cell in good),
                        "root_rss_peak_kib": {
                            server: _median(cell["root_rss_peak_kib"].get(server) for cell in good)
                            for server in good[0]["root_rss_peak_kib"]},
                        "errors": errors,
                        "non_2xx": sum(cell["non_2xx"] for cell in good),
                        "failures": sum(cell["failures"] for cell in good),
                        "read_errors_benign": config.read_errors_benign,
                        "rps_rounds": [cell["rps"] for cell in good],
                    })
                per_config.setdefault(scenario, {})[key] = entry
    _add_ratios(summary, scenario_names, connections)
    return summary


def _add_ratios(summary, scenario_names, connections):
    for scenario in scenario_names:
        for c in connections:
            key = f"c{c}"
            best, best_rps = None, 0.0
            for name, per_config in summary.items():
                entry = per_config.get(scenario, {}).get(key)
                if CONFIGS[name].kind == "peer" and entry and entry.get("rps") and entry["rps"] > best_rps:
                    best, best_rps = name, entry["rps"]
            for name, per_config in summary.items():
                entry = per_config.get(scenario, {}).get(key)
                if entry is not None:
                    entry["best_peer"] = best
                    entry["ratio_to_best_peer"] = entry["rps"] / best_rps if best and entry.get("rps") else None


def worker_figures(runs, config_names):
    """Per configuration: the largest worker's idle RSS (median over rounds)."""
    figures = {}
    for name in config_names:
        rounds = [r for r in runs if r.get("config") == name and not (r.get("error") or "").startswith("start")]
        entry = {}
        for kind in ("rss", "pss"):
            for when in ("started", "idle", "after_load"):
                field = f"worker_{kind}_{when}_kib"
                largest = [max((kib for workers in r.get(field, {}).values() for kib in workers), default=None)
                           for r in rounds]
                entry[f"worker_{kind}_max_{when}_kib"] = _median(largest)
        counts = [sum(len(w) for w in r.get("worker_rss_idle_kib", {}).values()) for r in rounds]
        entry["workers_seen"] = max(counts, default=0)
        root_idle = {}
        for r in rounds:
            for server, kib in r.get("root_rss_idle_kib", {}).items():
                root_idle.setdefault(server, []).append(kib)
        entry["root_rss_idle_kib"] = {server: _median(v) for server, v in root_idle.items()}
        figures[name] = entry
    return figures


def pyfpm_figures(runs, ondemand, summary):
    spawn = [ms for r in runs if r.get("config") in ("pyfpm", "nginx-pyfpm") for ms in r.get("spawn_to_ready_ms", [])]
    first = [o["first_response_ms"] for o in ondemand if o.get("first_response_ms") is not None]
    daemon_peaks = {}
    for scenario, per_c in summary.get("pyfpm", {}).items():
        for key, entry in per_c.items():
            peak = entry.get("root_rss_peak_kib", {}).get("pyfpm")
            if peak is not None:
                daemon_peaks[f"{scenario} {key}"] = peak
    return {
        "spawn_to_ready_ms": {
            "how": "pyfpm's log line 'worker N ready after Xms': the daemon's clock from the worker's spawn "
                   "to its ready message (sent after the app is imported, before the first accept); "
                   "every worker started in the pyfpm and nginx-pyfpm runs",
            "median": _median(spawn), "min": min(spawn, default=None), "max": max(spawn, default=None),
            "values": spawn},
        "ondemand_first_response_ms": {
            "how": "pm=ondemand, max_children 2, started with no worker (checked in /proc); the harness's "
                   "time from sending GET /hello to pyfpm standalone until the 200 answer",
            "median": _median(first), "values": first,
            "runs": ondemand},
        "daemon_rss_peak_kib": daemon_peaks,
        "daemon_rss_peak_max_kib": max(daemon_peaks.values(), default=None),
    }


# --- targets of the issue ----------------------------------------------


def _rps(summary, config, scenario, key):
    entry = summary.get(config, {}).get(scenario, {}).get(key)
    return entry.get("rps") if entry else None


def _best_of(summary, configs, scenario, key):
    values = [(_rps(summary, c, scenario, key), c) for c in configs]
    values = [v for v in values if v[0]]
    return max(values) if values else (None, None)


def _ratio_target(out, tid, kind, text, summary, key, ours, theirs, scenario, threshold):
    mine = _rps(summary, ours, scenario, key)
    other, other_name = _best_of(summary, theirs, scenario, key)
    ratio = mine / other if mine and other else None
    out.append({"id": tid, "kind": kind, "text": text, "concurrency": key, "ratio": ratio,
                "threshold": threshold, "compared_with": other_name,
                "met": None if ratio is None else ratio >= threshold,
                "measured": f"{mine:.0f} vs {other:.0f} req/s" if ratio else "not measured"})


def _first_figure(workers, names, field):
    for name in names:
        value = workers.get(name, {}).get(field)
        if value:
            return name, value
    return None, None


def evaluate_targets(summary, workers, pyfpm, connections):
    out = []
    peers = [n for n, c in CONFIGS.items() if c.kind == "peer"]
    for c in connections:
        key = f"c{c}"
        _ratio_target(out, "hello-standalone-vs-uwsgi", "target",
                      "/hello: pyfpm standalone >= 1.0x nginx->uWSGI (uwsgi protocol)",
                      summary, key, "pyfpm", ["nginx-uwsgi"], "hello", 1.0)
        _ratio_target(out, "hello-standalone-vs-uwsgi-aim", "aim",
                      "/hello: pyfpm standalone >= 1.2x nginx->uWSGI (aim)",
                      summary, key, "pyfpm", ["nginx-uwsgi"], "hello", 1.2)
        cpu = summary.get("pyfpm", {}).get("hello", {}).get(key, {}).get("cpu_us_per_req")
        out.append({"id": "hello-standalone-cpu-aim", "kind": "aim", "concurrency": key,
                    "text": "/hello: pyfpm standalone <= 25 us server CPU per request (aim)",
                    "ratio": None, "threshold": 25.0, "compared_with": None,
                    "met": None if cpu is None else cpu <= 25.0,
                    "measured": f"{cpu:.1f} us/req" if cpu is not None else "not measured"})
        _ratio_target(out, "hello-standalone-vs-gunicorn", "target",
                      "/hello: pyfpm standalone >= 2x gunicorn (the faster of direct and behind nginx)",
                      summary, key, "pyfpm", ["gunicorn", "nginx-gunicorn"], "hello", 2.0)
        _ratio_target(out, "hello-nginx-pyfpm-vs-uwsgi-fcgi", "target",
                      "/hello: nginx->pyfpm >= 1.2x nginx->uWSGI FastCGI",
                      summary, key, "nginx-pyfpm", ["nginx-uwsgi-fcgi"], "hello", 1.2)
        _ratio_target(out, "hello-nginx-pyfpm-vs-php", "target",
                      "/hello: nginx->pyfpm >= 1.3x nginx->php-fpm",
                      summary, key, "nginx-pyfpm", ["nginx-php"], "hello", 1.3)
        for scenario in ("big", "echo", "flask"):
            _ratio_target(out, f"{scenario}-standalone-vs-best", "target",
                          f"{SCENARIOS[scenario].title}: pyfpm standalone >= the best peer",
                          summary, key, "pyfpm", peers, scenario, 1.0)
        _ratio_target(out, "static-13-vs-nginx", "target", "static 13 B: pyfpm standalone >= 0.6x nginx",
                      summary, key, "pyfpm", ["nginx-static"], "static-13", 0.6)
        _ratio_target(out, "static-1m-vs-nginx", "target", "static 1 MiB: pyfpm standalone >= 0.8x nginx",
                      summary, key, "pyfpm", ["nginx-static"], "static-1m", 0.8)
    ours_name, ours = _first_figure(workers, ("pyfpm", "nginx-pyfpm"), "worker_rss_max_idle_kib")
    theirs_name, theirs = _first_figure(workers, ("nginx-uwsgi", "nginx-uwsgi-fcgi", "uwsgi-http"),
                                        "worker_rss_max_idle_kib")
    out.append({"id": "idle-worker-rss", "kind": "target", "concurrency": None,
                "text": "idle worker RSS: pyfpm <= uWSGI (same app, after warm-up, largest worker)",
                "ratio": ours / theirs if ours and theirs else None, "threshold": 1.0,
                "compared_with": f"{ours_name} vs {theirs_name}",
                "met": None if not (ours and theirs) else ours <= theirs,
                "measured": f"{ours / 1024:.1f} vs {theirs / 1024:.1f} MiB" if ours and theirs else "not measured"})
    peak = pyfpm.get("daemon_rss_peak_max_kib")
    out.append({"id": "daemon-rss", "kind": "target", "concurrency": None,
                "text": "pyfpm daemon RSS under load <= 16 MiB (peak, worst scenario)",
                "ratio": None, "threshold": 16 * 1024, "compared_with": None,
                "met": None if peak is None else peak <= 16 * 1024,
                "measured": f"{peak / 1024:.1f} MiB" if peak is not None else "not measured"})
    failures, measured_cells = 0, 0
    for name in ("pyfpm", "nginx-pyfpm"):
        for per_c in summary.get(name, {}).values():
            for entry in per_c.values():
                measured_cells += entry.get("rounds", 0)
                failures += entry.get("failures", 0) + len(entry.get("problems", []))
    out.append({"id": "pyfpm-no-errors", "kind": "target", "concurrency": None,
                "text": "no errors or non-2xx in any pyfpm run",
                "ratio": None, "threshold": 0, "compared_with": None,
                "met": None if not measured_cells else failures == 0,
                "measured": f"{failures} failures in {measured_cells} runs" if measured_cells else "not measured"})
    return out


# --- stdout ---------------------------------------------------------------


def _k(rps):
    if rps is None:
        return "-"
    return f"{rps / 1000:.1f}k" if rps >= 1000 else f"{rps:.0f}"


def _ms(us):
    return "-" if us is None else f"{us / 1000:.2f}"


def print_tables(summary, config_names, scenario_names, connections, workers, pyfpm, targets, out):
    for c in connections:
        key = f"c{c}"
        out(f"\nrequests/s, median; (x) = ratio to the best peer of the column; wrk -t1 -c{c}")
        header = f"{'configuration':<18}" + "".join(f"{s:>15}" for s in scenario_names)
        out(header)
        for name in config_names:
            row = f"{name:<18}"
            for scenario in scenario_names:
                entry = summary.get(name, {}).get(scenario, {}).get(key)
                if entry is None:
                    cell = "-"
                elif entry.get("not_run"):
                    cell = "not run"
                elif entry.get("rps") is None:
                    cell = "FAILED"
                else:
                    ratio = entry.get("ratio_to_best_peer")
                    cell = _k(entry["rps"]) + (f" ({ratio:.2f}x)" if ratio is not None else "")
                row += f"{cell:>15}"
            out(row)
    for scenario in scenario_names:
        for c in connections:
            key = f"c{c}"
            rows = [(n, summary.get(n, {}).get(scenario, {}).get(key)) for n in config_names]
            rows = [(n, e) for n, e in rows if e is not None and not e.get("not_run")]
            if not rows:
                continue
            out(f"\n{SCENARIOS[scenario].title}, -c{c}")
            out(f"  {'configuration':<18}{'req/s':>10}{'ratio':>7}{'p50 ms':>9}{'p99 ms':>9}{'cpu us/req':>11}"
                f"{'RSS MiB':>9}  errors c/r/w/t  non-2xx")
            for name, e in rows:
                if e.get("rps") is None:
                    out(f"  {name:<18}FAILED: {'; '.join(p.splitlines()[0] for p in e['problems'][:2])}")
                    continue
                ratio = e.get("ratio_to_best_peer")
                err = e["errors"]
                errs = f"{err['connect']}/{err['read']}/{err['write']}/{err['timeout']}"
                if e["read_errors_benign"] and err["read"]:
                    errs += " (read: benign)"
                cpu = e.get("cpu_us_per_req")
                out(f"  {name:<18}{e['rps']:>10.0f}{(f'{ratio:.2f}' if ratio else '-'):>7}{_ms(e['p50_us']):>9}"
                    f"{_ms(e['p99_us']):>9}{(f'{cpu:.1f}' if cpu is not None else '-'):>11}"
                    f"{e['rss_peak_kib'] / 1024:>9.1f}  {errs:<15}{e['non_2xx']:>8}")
    out("\nworkers at rest, largest worker, MiB, median of rounds: started / after warm-up / after load")
    out(f"  {'configuration':<18}{'VmRSS':<24}PSS")
    for name in config_names:
        w = workers.get(name, {})
        if not w.get("workers_seen"):
            continue
        line = f"  {name:<18}"
        for kind in ("rss", "pss"):
            cells = [w.get(f"worker_{kind}_max_{when}_kib") for when in ("started", "idle", "after_load")]
            line += f"{' / '.join('-' if v is None else f'{v / 1024:.1f}' for v in cells):<24}"
        out(line.rstrip())
    spawn = pyfpm["spawn_to_ready_ms"]
    first = pyfpm["ondemand_first_response_ms"]
    out("\npyfpm")
    if spawn["values"]:
        out(f"  worker spawn-to-ready: median {spawn['median']:.0f} ms (min {spawn['min']}, max {spawn['max']}, "
            f"{len(spawn['values'])} workers; the daemon's log)")
    else:
        out("  worker spawn-to-ready: not measured")
    if first["values"]:
        out(f"  ondemand, 0 workers -> first answer: median {first['median']:.0f} ms (rounds: "
            f"{', '.join(f'{v:.0f}' for v in first['values'])} ms)")
    else:
        problems = [o["error"] for o in first["runs"] if o.get("error")]
        out("  ondemand, 0 workers -> first answer: not measured" + (f": {problems[0]}" if problems else ""))
    peak = pyfpm.get("daemon_rss_peak_max_kib")
    out(f"  daemon RSS peak under load: {'-' if peak is None else f'{peak / 1024:.1f} MiB'} (worst scenario)")
    out("\ntargets (issue 7)")
    for t in targets:
        state = {True: "met", False: "NOT MET", None: "not evaluated"}[t["met"]]
        ratio = f" ratio {t['ratio']:.2f}" if t.get("ratio") is not None else ""
        conc = f" [-{t['concurrency']}]" if t.get("concurrency") else ""
        out(f"  {state:<13} {t['text']}{conc}: {t['measured']}{ratio}")
