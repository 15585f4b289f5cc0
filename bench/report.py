#!/usr/bin/python3
"""bench/report.py RESULTS - the one table `make bench` prints.

Reads the RESULT / FACT / FAILED lines bench/run.sh collected, takes the
median of every figure over the rounds, and prints the workloads next to
the baseline with the issue's targets marked PASS or FAIL.
"""
import shlex
import statistics
import sys

MiB = 1 << 20
# A 16 MiB process request on the wire: {"type":"process","ciphertext":""}
# around the hex of nonce(12) || ciphertext || tag(16).
W4_WIRE = len('{"type":"process","ciphertext":""}') + 2 * (16 * MiB + 28)

def workloads(other):
    """The table's rows: (label, baseline label, description). W1 and W2
    run again on a daemon with the other thread count, `other` (W1@N,
    W2@N)."""
    return [
        ("W1", "W1", "1 KiB, 4 conns, 1 req/conn"),
        ("W1@%d" % other, "W1", "W1 with --threads %d" % other),
        ("W2", "W2", "1 KiB, 4 persistent conns"),
        ("W2@%d" % other, "W2", "W2 with --threads %d" % other),
        ("W3", "W3", "1 MiB, 1 persistent conn"),
        ("W4", "W4", "16 MiB, 1 conn (fresh daemon)"),
        ("W5", "W5", "4 KiB, 64 persistent conns"),
    ]


def parse(path):
    results, facts, failed = {}, {}, []
    for line in open(path):
        words = shlex.split(line)
        if not words:
            continue
        kv = dict(w.split("=", 1) for w in words[1:] if "=" in w)
        if words[0] == "RESULT":
            results.setdefault((kv["server"], kv["label"]), []).append(kv)
        elif words[0] == "FACT":
            server = kv.pop("server")
            kv.pop("round", None)
            for k, v in kv.items():
                facts.setdefault((server, k), []).append(v)
        elif words[0] == "FAILED":
            failed.append("%s %s (round %s: %s)" % (
                kv["server"], kv["label"], kv["round"], kv.get("why", "?")))
    return results, facts, failed


def med(rows, key):
    vals = [float(r[key]) for r in rows]
    return statistics.median(vals) if vals else None


def cpu_per_req(results, server, label):
    """Server CPU per response, in us: a cost that contention for the
    cores changes much less than req/s. `total` counts every response of
    the run, warm-up included, as the CPU time covers the whole run."""
    vals = [float(r["server_cpu"]) / float(r["total"]) * 1e6
            for r in results.get((server, label), [])
            if float(r.get("total", 0)) > 0 and
            r.get("server_cpu", "nan") != "nan"]
    return statistics.median(vals) if vals else None


def fmt(v, nd=0):
    if v is None:
        return "-"
    if nd == 0:
        return "{:,.0f}".format(v)
    return "{:,.{}f}".format(v, nd)


def main():
    results, facts, failed = parse(sys.argv[1])

    def m(server, label, key):
        rows = results.get((server, label))
        return med(rows, key) if rows else None

    def fact(server, key, conv=float):
        vals = facts.get((server, key))
        if not vals:
            return None
        try:
            return statistics.median(conv(v) for v in vals)
        except ValueError:
            return vals[0]

    limit_mbps = fact("openssl", "aes_gcm_kbps")
    limit_mbps = limit_mbps / 1000 if limit_mbps else None
    runs = len(results.get(("enclaved", "W1"), [])) or 1
    machine = {k[1]: v[0] for k, v in facts.items() if k[0] == "machine"}

    head = ("workload", "req/s", "MB/s", "p50 us", "p99 us", "cpu us/req",
            "base req/s", "base MB/s", "base p50", "base p99",
            "base cpu us/req", "x base", "x base cpu")
    rows = []
    threads = int(machine.get("threads", 1))
    other = 2 if threads == 1 else 1
    for label, base_label, desc in workloads(other):
        e = lambda k: m("enclaved", label, k)
        b = lambda k: m("baseline", base_label, k)
        cores = cpu_per_req(results, "enclaved", label)
        bcpu = cpu_per_req(results, "baseline", base_label)
        ref_cpu = cpu_per_req(results, "baseline",
                              "W1" if label.startswith("W2") else base_label)
        cpu_ratio = ref_cpu / cores if ref_cpu and cores else None
        # The issue measures W2 against the baseline's W1 (its only mode).
        ref = m("baseline", "W1", "mbps") if label.startswith("W2") \
            else b("mbps")
        ratio = e("mbps") / ref if e("mbps") and ref else None
        rps = e("rps")
        rows.append(("%-4s %s" % (label, desc),
                     fmt(rps, 1 if rps is not None and rps < 100 else 0),
                     fmt(e("mbps"), 1), fmt(e("p50_us")), fmt(e("p99_us")),
                     fmt(cores),
                     fmt(b("rps"), 1 if (b("rps") or 0) < 100 else 0)
                     if "@" not in label else "",
                     fmt(b("mbps"), 1) if "@" not in label else "",
                     fmt(b("p50_us")) if "@" not in label else "",
                     fmt(b("p99_us")) if "@" not in label else "",
                     fmt(bcpu) if "@" not in label else "",
                     (fmt(ratio, 1) + ("*" if label.startswith("W2") else ""))
                     if ratio else "-",
                     (fmt(cpu_ratio, 1) + ("*" if label.startswith("W2")
                                           else "")) if cpu_ratio else "-"))
    idle = fact("enclaved", "idle_rss_kb")
    kids = fact("enclaved", "idle_children_rss_kb")
    peak = fact("enclaved", "peak_rss_kb")
    b_idle = fact("baseline", "idle_rss_kb")
    b_peak = fact("baseline", "peak_rss_kb")
    extra = [
        ("idle RSS (configured, before load)",
         fmt(idle / 1024, 1) + " MiB" if idle else "-",
         "(+%s MiB KMS helper)" % fmt(kids / 1024, 1) if kids else "",
         "", "", "", "", fmt(b_idle / 1024, 1) + " MiB" if b_idle else "-",
         "", "", "", "", ""),
        ("peak RSS on W4 (VmHWM)",
         fmt(peak / 1024, 1) + " MiB" if peak else "-",
         "%.2fx wire" % (peak * 1024 / W4_WIRE) if peak else "",
         "", "", "", "", fmt(b_peak / 1024, 1) + " MiB" if b_peak else "-",
         "%.2fx wire" % (b_peak * 1024 / W4_WIRE) if b_peak else "",
         "", "", "", ""),
        ("limit: 1-core AES-256-GCM (openssl)", "",
         fmt(limit_mbps, 0) if limit_mbps else "-", "", "", "", "", "", "",
         "", "", "", ""),
        ("  W4 share of limit/2 (dec+enc)", "",
         "%.1f%%" % (100 * m("enclaved", "W4", "mbps") / (limit_mbps / 2))
         if limit_mbps and m("enclaved", "W4", "mbps") else "-",
         "", "", "", "", "", "", "", "", "", ""),
    ]
    table = [head] + rows + extra
    widths = [max(len(r[i]) for r in table) for i in range(len(head))]
    line = "+".join("-" * (w + 2) for w in widths)
    print()
    print("enclaved vs the original design (Python baseline), medians of %d "
          "round(s), %ss per workload; machine: %s cores, %s"
          % (runs, machine.get("duration", "?"), machine.get("nproc", "?"),
             machine.get("cpu", "?")))
    print("load average at start %s, at end %s (client and servers share "
          "these cores with anything else running)"
          % (machine.get("loadavg_start", "?"), machine.get("loadavg_end", "?")))
    print(line)
    for i, r in enumerate(table):
        print(" " + " | ".join(
            c.ljust(widths[j]) if j == 0 else c.rjust(widths[j])
            for j, c in enumerate(r)))
        if i == 0 or i == len(rows):
            print(line)
    print(line)
    print("MB/s = 10^6 plaintext bytes/s; latency from send (W1: from "
          "connect) to the whole response; cpu us/req = server CPU time per "
          "request (the server's cost, steadier than req/s on shared cores).")
    print("x base = MB/s over the baseline's MB/s for the same workload; the "
          "baseline serves one request per connection, so it runs every "
          "workload that way; * W2 is compared with the baseline's W1.\n"
          "x base cpu = the baseline's CPU per request over enclaved's: "
          "the ratio a machine with cores to spare would show.")

    def ratio(label, key, base_label=None):
        e = m("enclaved", label, key)
        b = m("baseline", base_label or label, key)
        return e / b if e and b else None

    checks = []

    def check(name, ok, detail):
        checks.append((name, ok, detail))

    def cpu_ratio(label, base_label=None):
        e = cpu_per_req(results, "enclaved", label)
        b = cpu_per_req(results, "baseline", base_label or label)
        return " (by CPU per request: %sx)" % fmt(b / e, 1) if e and b else ""

    r = ratio("W1", "mbps")
    r1 = m("enclaved", "W1@%d" % other, "mbps")
    b1 = m("baseline", "W1", "mbps")
    check("W1 >= 3x baseline", r is not None and r >= 3,
          "%sx" % fmt(r, 1) + cpu_ratio("W1") +
          ("; with --threads %d: %sx" % (other, fmt(r1 / b1, 1))
           if r1 and b1 else ""))
    r = ratio("W2", "mbps", "W1")
    check("W2 >= 8x baseline W1", r is not None and r >= 8,
          "%sx" % fmt(r, 1) + cpu_ratio("W2", "W1"))
    p99 = m("enclaved", "W2", "p99_us")
    check("W2 p99 < 250 us", p99 is not None and p99 < 250,
          "%s us" % fmt(p99))
    for w in ("W3", "W4"):
        r = ratio(w, "mbps")
        check("%s >= 25x baseline" % w, r is not None and r >= 25,
              "%sx" % fmt(r, 1) + cpu_ratio(w))
    w4 = m("enclaved", "W4", "mbps")
    need = limit_mbps / 2 * 0.25 if limit_mbps else None
    check("W4 >= 25% of AES-GCM limit/2", w4 is not None and need is not None
          and w4 >= need, "%s MB/s, need %s" % (fmt(w4, 0), fmt(need, 0)))
    check("idle RSS < 4 MiB", idle is not None and idle < 4096,
          "%s MiB" % fmt(idle / 1024 if idle else None, 2))
    check("peak RSS (16 MiB) < 2.5x wire", peak is not None and
          peak * 1024 < 2.5 * W4_WIRE,
          "%s MiB, limit %s MiB" % (fmt(peak / 1024 if peak else None, 1),
                                    fmt(2.5 * W4_WIRE / MiB, 1)))
    t1 = m("enclaved", "W2" if threads == 1 else "W2@1", "rps")
    t2 = m("enclaved", "W2" if threads == 2 else "W2@2", "rps")
    # "Beats" by more than the run-to-run noise (a few percent here).
    check("W2: 2 threads beat 1 (by >5%)", t1 is not None and
          t2 is not None and t2 > 1.05 * t1,
          "%s vs %s req/s" % (fmt(t2), fmt(t1)))
    print()
    print("targets (issue 3):")
    for name, ok, detail in checks:
        print("  %-4s %-32s %s" % ("PASS" if ok else "FAIL", name, detail))
    if failed:
        print()
        print("runs that failed verification or had errors: " +
              ", ".join(failed))
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
