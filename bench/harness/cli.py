"""bench/run: options and the whole run, round by round."""

import argparse
import datetime
import json
import os
import shutil
import signal
import sys
import tempfile

from . import chart, configs, procs, provision, report, runner, wrk
from .scenarios import BY_NAME as SCENARIO_BY_NAME, SCENARIOS, ECHO_SIZE, write_static_files

BENCH_DIR = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
ROOT = os.path.dirname(BENCH_DIR)


def say(text):
    print(text, flush=True)


def _names(value, known, what):
    names = [n.strip() for n in value.split(",") if n.strip()]
    unknown = [n for n in names if n not in known]
    if unknown:
        raise argparse.ArgumentTypeError(f"unknown {what}: {', '.join(unknown)}; known: {', '.join(known)}")
    return names


def parse_args(argv):
    p = argparse.ArgumentParser(
        prog="bench/run",
        description="Build pyfpm optimised, install the peers from Debian when missing, and benchmark pyfpm "
                    "against them on this machine (bench/README.md).")
    p.add_argument("--quick", action="store_true",
                   help="check the harness: 1 round, -d2s, -c32 only; results go to bench/results-quick/")
    p.add_argument("--only", metavar="CONFIG,...", type=lambda v: _names(v, list(configs.BY_NAME), "configuration"),
                   help="only these configurations: " + ", ".join(configs.BY_NAME))
    p.add_argument("--scenarios", metavar="NAME,...", type=lambda v: _names(v, list(SCENARIO_BY_NAME), "scenario"),
                   help="only these scenarios: " + ", ".join(SCENARIO_BY_NAME))
    p.add_argument("--rounds", type=int, help="rounds, each running every configuration once (default 3)")
    p.add_argument("--duration", type=int, metavar="S", help="seconds per wrk run (default 10)")
    p.add_argument("--connections", metavar="N,...", help="wrk -c values (default 32,256)")
    p.add_argument("--results", metavar="DIR", help="where the JSON and PNG go (default bench/results)")
    p.add_argument("--no-install", action="store_true", help="do not apt-get install missing packages")
    p.add_argument("--no-build", action="store_true", help="use build-bench/ as it is")
    p.add_argument("--no-ondemand", action="store_true", help="skip pyfpm's ondemand 0-to-first-answer figure")
    p.add_argument("--keep-tmp", action="store_true", help="keep the temp dir (configs, logs) after the run")
    args = p.parse_args(argv)
    rounds, duration, conns = (1, 2, "32") if args.quick else (3, 10, "32,256")
    args.rounds = args.rounds or rounds
    args.duration = args.duration or duration
    args.connections = [int(c) for c in (args.connections or conns).split(",")]
    if args.rounds < 1 or args.duration < 1 or min(args.connections) < 1:
        p.error("--rounds, --duration and --connections must be positive")
    args.only = args.only or list(configs.BY_NAME)
    args.scenarios = args.scenarios or [s.name for s in SCENARIOS]
    args.results = args.results or os.path.join(BENCH_DIR, "results-quick" if args.quick else "results")
    return args


class Interrupted(Exception):
    pass


def _on_sigterm(signum, frame):
    raise Interrupted(f"signal {signum}")


def prepare_tmp():
    tmp = tempfile.mkdtemp(prefix="pyfpm-bench-")
    app_dir = os.path.join(tmp, "app")
    # A copy, so that the servers' __pycache__ lands in the temp dir.
    shutil.copytree(os.path.join(BENCH_DIR, "app"), app_dir,
                    ignore=shutil.ignore_patterns("__pycache__"))
    static_dir = write_static_files(os.path.join(tmp, "static"))
    scripts = {"echo": wrk.write_echo_script(os.path.join(tmp, "echo.lua"), ECHO_SIZE)}
    return tmp, app_dir, static_dir, scripts


def server_env():
    """The servers' environment: the harness's, minus what would change which Python they use."""
    env = {k: v for k, v in os.environ.items()
           if k not in ("PYTHONPATH", "PYTHONHOME", "VIRTUAL_ENV", "PYTHONSTARTUP")}
    env["PATH"] = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"
    return env


def main(argv=None):
    args = parse_args(sys.argv[1:] if argv is None else argv)
    started = datetime.datetime.now()
    if not args.no_install:
        provision.install_missing(say)
    pyfpm = provision.binaries(ROOT) if args.no_build else provision.build(ROOT, say)
    procs.enable_subreaper()
    signal.signal(signal.SIGTERM, _on_sigterm)
    tmp, app_dir, static_dir, scripts = prepare_tmp()
    ctx = configs.Context(configs_dir=os.path.join(BENCH_DIR, "configs"), app_dir=app_dir, static_dir=static_dir,
                          pyfpm=pyfpm, env=server_env())
    scenario_names = [s.name for s in SCENARIOS if s.name in args.scenarios]
    # A configuration that serves none of the chosen scenarios is not started.
    selected = [c for c in configs.BY_NAME
                if c in args.only and set(configs.BY_NAME[c].scenarios) & set(scenario_names)]
    if not selected:
        shutil.rmtree(tmp, ignore_errors=True)
        raise SystemExit("no selected configuration serves the selected scenarios")
    try:
        return _run(args, ctx, tmp, scripts, selected, scenario_names, argv, started, pyfpm)
    finally:
        if args.keep_tmp:
            say(f"kept {tmp}")
        else:
            shutil.rmtree(tmp, ignore_errors=True)


def _run(args, ctx, tmp, scripts, selected, scenario_names, argv, started, pyfpm):
    runs, ondemand = [], []
    say(f"{len(selected)} configurations x {len(scenario_names)} scenarios x -c {args.connections}, "
        f"{args.rounds} round(s) of {args.duration}s runs; temp dir {tmp}")
    interrupted = None
    try:
        for round_index in range(args.rounds):
            # Rotate the order each round, so that no configuration always
            # runs first (or last) when the machine drifts.
            shift = round_index % len(selected)
            order = selected[shift:] + selected[:shift]
            say(f"round {round_index + 1}/{args.rounds}: {', '.join(order)}")
            for name in order:
                run_dir = os.path.join(tmp, f"r{round_index + 1}-{name}")
                record = {"round": round_index + 1}
                runs.append(record)
                runner.run_config(configs.BY_NAME[name], ctx, run_dir, scenario_names, args.connections,
                                  args.duration, scripts, say, record)
            if "pyfpm" in selected and not args.no_ondemand:
                record = runner.run_ondemand(ctx, os.path.join(tmp, f"r{round_index + 1}-pyfpm-ondemand"), say)
                record["round"] = round_index + 1
                ondemand.append(record)
    except (KeyboardInterrupt, Interrupted) as e:
        interrupted = str(e) or "Ctrl-C"
        say(f"interrupted ({interrupted}): servers stopped; reporting what was measured")
    finally:
        procs.stop_all()
        signal.signal(signal.SIGTERM, signal.SIG_DFL)
    finished = datetime.datetime.now()

    summary = report.summarize(runs, selected, scenario_names, args.connections)
    workers = report.worker_figures(runs, selected)
    pyfpm_fig = report.pyfpm_figures(runs, ondemand, summary)
    targets = report.evaluate_targets(summary, workers, pyfpm_fig, args.connections)

    os.makedirs(args.results, exist_ok=True)
    stamp = started.strftime("%Y%m%d-%H%M%S")
    json_path = os.path.join(args.results, f"{stamp}.json")
    png_path = os.path.join(args.results, f"{stamp}.png")
    document = {
        "harness": {
            "command": "bench/run " + " ".join(sys.argv[1:] if argv is None else argv),
            "started": started.isoformat(timespec="seconds"), "finished": finished.isoformat(timespec="seconds"),
            "quick": args.quick, "rounds": args.rounds, "duration_s": args.duration,
            "connections": args.connections, "wrk": wrk.command("URL", "N", args.duration),
            "interrupted": interrupted,
            "notes": [
                "figures are medians over rounds; errors, non_2xx and failures are sums over rounds",
                "errors are wrk's socket errors (connect/read/write/timeout); non_2xx is wrk's "
                "'Non-2xx or 3xx responses' (status > 399)",
                "uwsgi-http read errors are uWSGI closing after an HTTP/1.1 answer without Connection: close; "
                "they are reported and not counted as failures",
                "rss_peak_kib: peak of the summed VmRSS of every process of the configuration (daemon, "
                "workers, nginx), sampled every 100 ms during the wrk run",
                "cpu_us_per_req: utime+stime(+cutime+cstime) of those processes over the run, / requests",
            ],
        },
        "machine": provision.describe_machine(ROOT, pyfpm),
        "configs": [{"name": n, "title": configs.BY_NAME[n].title, "kind": configs.BY_NAME[n].kind,
                     "scenarios": list(configs.BY_NAME[n].scenarios)} for n in selected],
        "scenarios": [{"name": s.name, "title": s.title, "method": s.method, "path": s.path}
                      for s in SCENARIOS if s.name in scenario_names],
        "summary": summary,
        "workers": workers,
        "pyfpm": pyfpm_fig,
        "targets": targets,
        "runs": runs,
    }
    with open(json_path, "w") as f:
        json.dump(document, f, indent=1, sort_keys=False)
        f.write("\n")
    shutil.copyfile(json_path, os.path.join(args.results, "latest.json"))
    tool, problem = chart.draw(summary, selected, scenario_names, args.connections, png_path,
                               f"pyfpm bench {stamp}")
    if tool:
        shutil.copyfile(png_path, os.path.join(args.results, "latest.png"))
    report.print_tables(summary, selected, scenario_names, args.connections, workers, pyfpm_fig, targets, say)
    say(f"\nwrote {json_path}" + (f" and {png_path} ({tool})" if tool else f"; no chart: {problem}"))
    return 130 if interrupted else 0
