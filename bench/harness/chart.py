"""The PNG chart: requests/s per scenario, one bar per configuration, one panel per concurrency.

matplotlib when the interpreter has it (python3-matplotlib), else gnuplot
(gnuplot-nox); the y axis is logarithmic because /sleep and nginx's ceiling
are three orders of magnitude apart.
"""

import os
import shutil
import subprocess


# One colour per configuration, the same in every chart (gnuplot's default
# cycle repeats after eight).
COLOURS = ["#7b2cbf", "#2a9d8f", "#56b4e9", "#e69f00", "#f0e442", "#0072b2", "#d55e00", "#222222",
           "#cc79a7", "#8c8c8c"]


def _matrix(summary, config_names, scenario_names, key):
    rows = []
    for scenario in scenario_names:
        rows.append([summary.get(n, {}).get(scenario, {}).get(key, {}).get("rps") for n in config_names])
    return rows


def draw(summary, config_names, scenario_names, connections, path, title):
    """Writes `path`; returns the tool used, or None with the reason."""
    used = [n for n in config_names if n in summary]
    try:
        import matplotlib
        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:
        plt = None
    if plt is not None:
        _matplotlib(plt, summary, used, scenario_names, connections, path, title)
        return "matplotlib", None
    if shutil.which("gnuplot"):
        return _gnuplot(summary, used, scenario_names, connections, path, title)
    return None, "neither python3-matplotlib nor gnuplot is installed"


def _matplotlib(plt, summary, config_names, scenario_names, connections, path, title):
    fig, axes = plt.subplots(len(connections), 1, figsize=(14, 4.5 * len(connections)), squeeze=False)
    width = 0.8 / max(len(config_names), 1)
    for ax, c in zip(axes[:, 0], connections):
        rows = _matrix(summary, config_names, scenario_names, f"c{c}")
        for i, name in enumerate(config_names):
            xs = [s + i * width for s in range(len(scenario_names)) if rows[s][i]]
            ys = [rows[s][i] for s in range(len(scenario_names)) if rows[s][i]]
            ax.bar(xs, ys, width, label=name, color=COLOURS[i % len(COLOURS)])
        ax.set_yscale("log")
        ax.set_ylabel("requests/s (median)")
        ax.set_title(f"{title}: wrk -t1 -c{c}")
        ax.set_xticks([s + 0.4 - width / 2 for s in range(len(scenario_names))])
        ax.set_xticklabels(scenario_names)
        ax.grid(axis="y", which="both", alpha=0.3)
    axes[0, 0].legend(ncol=5, fontsize="small")
    fig.tight_layout()
    fig.savefig(path, dpi=100)
    plt.close(fig)


def _gnuplot(summary, config_names, scenario_names, connections, path, title):
    base = os.path.splitext(path)[0]
    script = [
        f"set terminal pngcairo size 1400,{450 * len(connections)} font 'sans,9'",
        f"set output '{path}'",
        f"set multiplot layout {len(connections)},1",
        "set style data histogram",
        "set style histogram cluster gap 1",
        "set style fill solid 0.9 border -1",
        "set logscale y",
        "set yrange [10:*]",
        "set grid ytics mytics",
        "set ylabel 'requests/s (median)'",
        "set key outside bottom center horizontal maxrows 2 font ',8'",
        "colours = '" + " ".join(COLOURS[i % len(COLOURS)] for i in range(len(config_names))) + "'",
        "set datafile missing '-'",
    ]
    data_files = []
    for c in connections:
        data = f"{base}.c{c}.dat"
        data_files.append(data)
        rows = _matrix(summary, config_names, scenario_names, f"c{c}")
        with open(data, "w") as f:
            f.write("scenario " + " ".join(config_names) + "\n")
            for scenario, row in zip(scenario_names, rows):
                f.write(scenario + " " + " ".join("-" if v is None else f"{v:.1f}" for v in row) + "\n")
        script += [f"set title '{title}: wrk -t1 -c{c}'",
                   f"plot for [i=2:{len(config_names) + 1}] '{data}' using i:xtic(1) title columnheader(i) "
                   "lc rgb word(colours, i - 1)"]
    script.append("unset multiplot")
    try:
        done = subprocess.run(["gnuplot"], input="\n".join(script) + "\n", capture_output=True, text=True,
                              timeout=60)
    finally:
        for data in data_files:
            try:
                os.unlink(data)
            except OSError:
                pass
    if done.returncode != 0 or not os.path.exists(path):
        return None, f"gnuplot failed: {done.stderr.strip()}"
    return "gnuplot", None
