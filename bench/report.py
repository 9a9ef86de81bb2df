#!/usr/bin/env python3
"""Parse load-generator output and report medians, ratios and a chart.

`report.py parse SCENARIO SERVER ROUND FILE USER_TICKS SYSTEM_TICKS TICKS_PER_SECOND`
    prints one TSV row for bench/run.sh's results file, from a wrk run
    (`--latency` output) or a bench_client download run.
`report.py report RESULTS.tsv OUTDIR HAVE_GNUPLOT`
    writes OUTDIR/table.md (printed too) and, with gnuplot, OUTDIR/chart.png.

Standard library only; the chart is drawn by gnuplot (Debian gnuplot-nox).
"""

import re
import statistics
import subprocess
import sys
from pathlib import Path

SCENARIOS = {
    # name: (label, unit)
    "small": ("small keep-alive (64 conns)", "req/s"),
    "browser": ("small, a browser's request fields", "req/s"),
    "css": ("4 KiB stylesheet", "req/s"),
    "browsercss": ("4 KiB stylesheet, a browser's fields", "req/s"),
    "conns1000": ("1,000 connections", "req/s"),
    "close": ("connection per request (64)", "req/s"),
    "file1m": ("1 MiB file (16 conns)", "MB/s"),
    "file100m": ("100 MiB file (4 conns)", "MB/s"),
    "files10k": ("10,000 small files, random", "req/s"),
    "notfound": ("404", "req/s"),
    "pipelined": ("pipelined, 16 per write", "req/s"),
    "echo": ("POST /echo, 96-byte JSON", "req/s"),
    "auth": ("small, with Authorization: Basic", "req/s"),
    "js64k": ("64 KiB script, compressed", "req/s"),
    "html16k": ("16 KiB page, compressed", "req/s"),
    "idle": ("idle memory, RSS (lower is better)", "MiB"),
    "tls_small": ("HTTPS small keep-alive (64 conns)", "req/s"),
    "tls_full": ("HTTPS new connection per request, full handshake", "req/s"),
    "tls_resumed": ("HTTPS new connection per request, resumed", "req/s"),
    "tls_file1m": ("HTTPS 1 MiB file (16 conns)", "MB/s"),
    "tls_file100m": ("HTTPS 100 MiB file (4 conns)", "MB/s"),
}
# httpauth: httpserver with --auth (its own column, in the auth scenario).
SERVERS = ["httpserver", "httpauth", "main", "nginx", "lighttpd", "h2o", "go", "caddy"]
PEERS = ["nginx", "lighttpd", "h2o", "go", "caddy"]
# wrk's "N requests in T, X read" units (powers of 1024).
BYTE_UNITS = {"B": 1, "KB": 1024, "MB": 1024**2, "GB": 1024**3}

UNITS = {"us": 1e-3, "ms": 1.0, "s": 1e3, "m": 60e3}


def duration_ms(text):
    match = re.fullmatch(r"([\d.]+)(us|ms|s|m)", text)
    return float(match.group(1)) * UNITS[match.group(2)] if match else float("nan")


def parse(scenario, server, round_, path, user_ticks, system_ticks, ticks_per_second):
    text = Path(path).read_text(errors="replace")
    unit = SCENARIOS[scenario][1]
    requests, value, p99, extra = 0, float("nan"), float("nan"), ""
    client = re.search(r"requests=(\d+) bytes=(\d+) seconds=([\d.]+) p99_ms=([\d.]+)", text)
    s_time = re.search(r"s_time connections=(\d+) seconds=([\d.]+)", text)
    if s_time:
        # openssl s_time: no latency histogram.
        requests = int(s_time.group(1))
        value = requests / float(s_time.group(2))
    elif client:
        requests = int(client.group(1))
        value = int(client.group(2)) / float(client.group(3)) / 1e6
        p99 = float(client.group(4))
    else:
        total = re.search(r"(\d+) requests in", text)
        rate = re.search(r"Requests/sec:\s*([\d.]+)", text)
        latency = re.search(r"^\s*99%\s+(\S+)", text, re.M)
        transfer = re.search(r"Transfer/sec:\s*([\d.]+)(B|KB|MB|GB)", text)
        if total and rate:
            requests = int(total.group(1))
            value = float(rate.group(1))
            if unit == "MB/s" and transfer:
                # wrk's units are powers of 1024; the table's MB are 10^6.
                scale = {"B": 1, "KB": 1024, "MB": 1024**2, "GB": 1024**3}[transfer.group(2)]
                value = float(transfer.group(1)) * scale / 1e6
        # wrk 4.1 prints a 99th percentile of 0 when its histogram walk
        # misses the rank (seen with pipelined requests); that round's p99
        # is unknown, not zero, and the median is taken over the others.
        if latency and duration_ms(latency.group(1)) > 0:
            p99 = duration_ms(latency.group(1))
        errors = re.search(r"Socket errors:.*", text)
        non2xx = re.search(r"Non-2xx or 3xx responses: (\d+)", text)
        if errors:
            extra += errors.group(0).replace("\t", " ") + " "
        if non2xx and scenario != "notfound":
            extra += f"non-2xx={non2xx.group(1)} "
        read = re.search(r"(\d+) requests in [^,]+, ([\d.]+)(B|KB|MB|GB) read", text)
        if read and int(read.group(1)):
            per_response = float(read.group(2)) * BYTE_UNITS[read.group(3)] / int(read.group(1))
            extra += f"bytes_per_response={per_response:.0f}"
    if requests == 0:
        extra += " FAILED: " + " ".join(text.split())[:200]
    def per_request_us(ticks):
        return ticks / int(ticks_per_second) * 1e6 / requests if requests else float("nan")

    cpu_us = per_request_us(int(user_ticks) + int(system_ticks))
    user_us = per_request_us(int(user_ticks))
    print(f"{scenario}\t{server}\t{round_}\t{value:.1f}\t{unit}\t{p99:.2f}\t{cpu_us:.2f}\t{user_us:.2f}\t{extra.strip()}")


def fmt(value, unit=""):
    if value != value:  # NaN
        return "—"
    if unit == "MiB":
        return f"{value:.1f}"
    return f"{value:,.0f}" if value >= 100 else f"{value:.2f}"


def report(results_path, outdir, have_gnuplot):
    rows = [line.rstrip("\n").split("\t") for line in open(results_path)][1:]
    data = {}  # (scenario, server) -> lists
    for scenario, server, round_, value, _unit, p99, cpu, user, _extra in rows:
        entry = data.setdefault((scenario, server), {"value": [], "p99": [], "cpu": [], "user": [], "by_round": {}})
        entry["value"].append(float(value))
        entry["by_round"][round_] = float(value)
        entry["p99"].append(float(p99) if p99 else float("nan"))
        entry["cpu"].append(float(cpu) if cpu else float("nan"))
        entry["user"].append(float(user) if user else float("nan"))

    def median(scenario, server, key):
        values = [v for v in data.get((scenario, server), {}).get(key, []) if v == v]
        return statistics.median(values) if values else float("nan")

    def paired_ratio(scenario, server, peer):
        # Each round ran the two servers minutes apart at most, so the
        # round's own ratio cancels the machine's drift between rounds.
        ours = data.get((scenario, server), {}).get("by_round", {})
        theirs = data.get((scenario, peer), {}).get("by_round", {})
        ratios = [ours[r] / theirs[r] for r in ours if r in theirs and theirs[r] and ours[r] == ours[r]]
        return statistics.median(ratios) if ratios else float("nan")

    present = [s for s in SERVERS if any(k[1] == s for k in data)]
    lines = []
    head = ["scenario", "unit"] + present + ["÷ nginx", "÷ best peer", "paired"]
    lines.append("| " + " | ".join(head) + " |")
    lines.append("|" + "---|" * len(head))
    for scenario, (label, unit) in SCENARIOS.items():
        if not any(k[0] == scenario for k in data):
            continue
        values = {s: median(scenario, s, "value") for s in present}
        ours = values.get("httpserver", float("nan"))
        peers = {s: v for s, v in values.items() if s in PEERS and v == v}
        lower_is_better = scenario == "idle"
        best_name = None
        if peers:
            best_name = (min if lower_is_better else max)(peers, key=peers.get)
        nginx = values.get("nginx", float("nan"))
        ratio_nginx = ours / nginx if nginx == nginx and nginx else float("nan")
        ratio_best = ours / peers[best_name] if best_name and peers[best_name] else float("nan")
        cells = [label, unit] + [fmt(values[s], unit) for s in present]
        if scenario == "auth":
            # The same requests with --auth on (a cached credential) and off.
            on, off = values.get("httpauth", float("nan")), ours
            ratio = on / off if on == on and off == off and off else float("nan")
            paired = paired_ratio(scenario, "httpauth", "httpserver")
            cells.append("—")
            cells.append(f"{ratio:.2f} (auth on ÷ off)" if ratio == ratio else "—")
            cells.append(f"{paired:.2f}" if paired == paired else "—")
            lines.append("| " + " | ".join(cells) + " |")
            continue
        cells.append(f"{ratio_nginx:.2f}" if ratio_nginx == ratio_nginx else "—")
        cells.append(f"{ratio_best:.2f} ({best_name})" if best_name else "—")
        paired = paired_ratio(scenario, "httpserver", best_name) if best_name else float("nan")
        cells.append(f"{paired:.2f}" if paired == paired else "—")
        lines.append("| " + " | ".join(cells) + " |")
    lines.append("")
    lines.append("÷ columns: ratios of the medians; paired: the median of the per-round ratios to the best peer.")
    lines.append("")
    lines.append("p99 latency in ms / server CPU time per request in µs (of which user space) (medians):")
    lines.append("")
    head = ["scenario"] + present
    lines.append("| " + " | ".join(head) + " |")
    lines.append("|" + "---|" * len(head))
    for scenario, (label, unit) in SCENARIOS.items():
        if scenario == "idle" or not any(k[0] == scenario for k in data):
            continue
        cells = [label]
        for s in present:
            p99, cpu, user = (median(scenario, s, key) for key in ("p99", "cpu", "user"))
            cells.append("—" if p99 != p99 else f"{p99:.2f} / {cpu:.1f} ({user:.1f})")
        lines.append("| " + " | ".join(cells) + " |")
    compressed = [sc for sc in ("js64k", "html16k") if any(k[0] == sc for k in data)]
    if compressed:
        lines.append("")
        lines.append("bytes per response, head included (median; from wrk's bytes read ÷ requests):")
        lines.append("")
        head = ["scenario"] + present
        lines.append("| " + " | ".join(head) + " |")
        lines.append("|" + "---|" * len(head))
        for scenario in compressed:
            cells = [SCENARIOS[scenario][0]]
            for s in present:
                sizes = [float(m.group(1)) for r in rows if r[0] == scenario and r[1] == s
                         for m in [re.search(r"bytes_per_response=(\d+)", r[-1])] if m]
                cells.append(f"{statistics.median(sizes):,.0f}" if sizes else "—")
            lines.append("| " + " | ".join(cells) + " |")
    idle_notes = [r for r in rows if r[0] == "idle"]
    if idle_notes:
        lines.append("")
        lines.append("idle: " + "; ".join(f"{r[1]} {r[-1]}" for r in idle_notes))
    table = "\n".join(lines) + "\n"
    out = Path(outdir)
    (out / "table.md").write_text(table)
    print(table)
    if have_gnuplot == "1":
        chart(out, data, present, median)


def chart(out, data, present, median):
    scenarios = [s for s in SCENARIOS if s != "idle" and any(k[0] == s for k in data)]
    dat = out / "chart.dat"
    with open(dat, "w") as f:
        for key in ("value", "p99"):
            for scenario in scenarios:
                label = scenario + ("\\n(MB/s)" if SCENARIOS[scenario][1] == "MB/s" else "")
                cells = []
                for s in present:
                    v = median(scenario, s, key)
                    cells.append("NaN" if v != v else f"{v:.3f}")
                f.write(f'"{label}" ' + " ".join(cells) + "\n")
            f.write("\n\n")
    colors = {"httpserver": "#d62728", "httpauth": "#e377c2", "main": "#9467bd", "nginx": "#2ca02c",
              "lighttpd": "#1f77b4", "h2o": "#ff7f0e", "go": "#7f7f7f", "caddy": "#17becf"}
    plots = ", ".join(
        f"'{dat}' index IDX using {i + 2}:xtic(1) title '{s}' lc rgb '{colors[s]}'"
        for i, s in enumerate(present)
    )
    script = f"""
set terminal pngcairo size 1400,900 font ',10' noenhanced
set output '{out / "chart.png"}'
set multiplot layout 2,1
set style data histograms
set style histogram clustered gap 1
set style fill solid 0.9 border -1
set logscale y
set grid ytics
set key top right horizontal
set xrange [-0.6:*]
set ylabel 'requests/s (MB/s for files), log scale'
set title 'Throughput per scenario (median of rounds; server on 1 core, wrk on the other)'
plot {plots.replace('IDX', '0')}
set ylabel 'p99 latency, ms, log scale'
set title 'p99 latency per scenario'
plot {plots.replace('IDX', '1')}
unset multiplot
"""
    result = subprocess.run(["gnuplot"], input=script, text=True, capture_output=True)
    if result.returncode != 0:
        # The png terminal without cairo, for a gnuplot built without it.
        script = script.replace("pngcairo size 1400,900 font ',10'", "png size 1400,900")
        result = subprocess.run(["gnuplot"], input=script, text=True, capture_output=True)
    if result.returncode != 0:
        print("chart: gnuplot failed:", result.stderr.strip(), file=sys.stderr)
    else:
        print(f"chart: {out / 'chart.png'}")


if __name__ == "__main__":
    if sys.argv[1] == "parse":
        parse(*sys.argv[2:9])
    elif sys.argv[1] == "report":
        report(*sys.argv[2:5])
    else:
        sys.exit(__doc__)
