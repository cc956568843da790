#!/usr/bin/python3
"""getVersion() throughput through python3-libvirt, the way a real management client calls.

P processes each open their own connection to URI, warm up, start together on a barrier and
call conn.getVersion() in a loop for S seconds.  Prints one line:
    calls_per_sec=<float> calls=<n> seconds=<float> procs=<P>
where calls_per_sec is the sum of each process's own calls / its own measured time.
"""

import argparse
import multiprocessing as mp
import sys
import time

import libvirt

WARMUP_CALLS = 200


def worker(uri, seconds, barrier, results):
    try:
        libvirt.registerErrorHandler(lambda _ctx, _err: None, None)
        conn = libvirt.open(uri)
        for _ in range(WARMUP_CALLS):
            conn.getVersion()
        barrier.wait(timeout=120)
        calls = 0
        start = time.perf_counter()
        deadline = start + seconds
        get_version = conn.getVersion
        now = start
        while now < deadline:
            get_version()
            calls += 1
            now = time.perf_counter()
        conn.close()
        results.put(("ok", calls, now - start))
    except Exception as e:  # report any failure to the parent instead of hanging it
        barrier.abort()
        results.put(("error", f"{type(e).__name__}: {e}", 0.0))


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--uri", required=True)
    ap.add_argument("--seconds", type=float, default=5.0)
    ap.add_argument("--procs", type=int, default=1)
    args = ap.parse_args()

    ctx = mp.get_context("fork")
    barrier = ctx.Barrier(args.procs)
    results = ctx.Queue()
    procs = [ctx.Process(target=worker, args=(args.uri, args.seconds, barrier, results))
             for _ in range(args.procs)]
    for p in procs:
        p.start()
    outcomes = [results.get(timeout=args.seconds + 300) for _ in procs]
    for p in procs:
        p.join()

    errors = [o[1] for o in outcomes if o[0] != "ok"]
    if errors:
        print(f"getversion.py: {errors[0]}", file=sys.stderr)
        return 1
    rate = sum(calls / secs for _, calls, secs in outcomes)
    calls = sum(o[1] for o in outcomes)
    secs = max(o[2] for o in outcomes)
    print(f"calls_per_sec={rate:.1f} calls={calls} seconds={secs:.3f} procs={args.procs}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
