"""Throughput of OpenAICompatibleClient against a server that answers after a fixed delay.

    python benchmarks/client_throughput.py [--requests 1000] [--delay 0.05] [--in-flight 64]
                                           [--runs 5] [--replicas 1] [--cache] [--server thread|process]

With a server that takes `delay` seconds per request and `in_flight` requests open at once, the
best possible rate is in_flight / delay; whatever the client costs on top shows as the ratio
(target >= 90 %) and as the per-request overhead: (wall - requests / ideal rate) / requests.
Client CPU per request (process time of this process / requests) is printed too: unlike the
wall-clock figures it does not depend on what else the machine is running.

By default the fake server runs in a separate process (`--server process`), as a real vLLM
server would: the figures then measure the client, not the two sharing one interpreter lock.
Prints every run and the medians.
"""

from __future__ import annotations

import argparse
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO / "tests"))
sys.path.insert(0, str(REPO))

from fake_openai_server import FakeOpenAIServer, delayed

from funcdex_assets.llm.cache import ResponseCache
from funcdex_assets.llm.client import OpenAICompatibleClient
from funcdex_assets.llm.types import ChatRequest, Sampling


def serve_forever(delay: float) -> None:
    """Child process: serve, print the URL, stop when stdin closes."""
    with FakeOpenAIServer(delayed(delay)) as server:
        print(server.url, flush=True)
        sys.stdin.read()


@contextmanager
def server_url(delay: float, where: str) -> Iterator[str]:
    if where == "thread":
        with FakeOpenAIServer(delayed(delay)) as server:
            yield server.url
        return
    child = subprocess.Popen(
        [sys.executable, __file__, "--serve", str(delay)], stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True
    )
    try:
        assert child.stdout is not None
        yield child.stdout.readline().strip()
    finally:
        assert child.stdin is not None
        child.stdin.close()
        child.wait(timeout=10)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--requests", type=int, default=1000)
    parser.add_argument("--delay", type=float, default=0.05, help="server seconds per request")
    parser.add_argument("--in-flight", type=int, default=64)
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--replicas", type=int, default=1, help="fake servers, requests spread round robin")
    parser.add_argument("--cache", action="store_true", help="store every answer in a fresh SQLite cache")
    parser.add_argument("--server", choices=["process", "thread"], default="process")
    parser.add_argument("--serve", type=float, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.serve is not None:
        return serve_forever(args.serve)

    n, delay, in_flight = args.requests, args.delay, args.in_flight
    ideal_rps = in_flight / delay
    print(
        f"{n} requests, server delay {delay * 1000:g} ms, max_in_flight {in_flight}, {args.replicas} replica(s), "
        f"server in a {args.server}, cache {'on' if args.cache else 'off'}; ideal {ideal_rps:,.0f} req/s"
    )
    rates, overheads, cpus = [], [], []
    with ExitStack() as stack, tempfile.TemporaryDirectory() as tmp:
        urls = [stack.enter_context(server_url(delay, args.server)) for _ in range(args.replicas)]
        for run in range(args.runs):
            cache = ResponseCache(Path(tmp) / f"run{run}.sqlite") if args.cache else None
            client = OpenAICompatibleClient(urls, "bench-model", max_in_flight=in_flight, cache=cache)
            requests = [
                ChatRequest("bench", ({"role": "user", "content": f"run {run} request {i}"},), Sampling(seed=i))
                for i in range(n)
            ]
            start, cpu_start = time.perf_counter(), time.process_time()
            results = client.complete_many(requests)
            wall, cpu = time.perf_counter() - start, time.process_time() - cpu_start
            failed = [r for r in results if r.error is not None]
            if failed:
                raise SystemExit(f"{len(failed)} requests failed, e.g. {failed[0].error}")
            if cache is not None:
                assert len(cache) == n
                cache.close()
            rps = n / wall
            overhead_ms = (wall - n / ideal_rps) / n * 1000
            cpu_ms = cpu / n * 1000
            rates.append(rps)
            overheads.append(overhead_ms)
            cpus.append(cpu_ms)
            print(
                f"run {run + 1}: {wall:.3f} s, {rps:,.0f} req/s, {rps / ideal_rps:.1%} of ideal, "
                f"overhead {overhead_ms:.3f} ms/request, client CPU {cpu_ms:.3f} ms/request"
            )
    rps = statistics.median(rates)
    verdict = "meets" if rps / ideal_rps >= 0.9 else "MISSES"
    print(
        f"median: {rps:,.0f} req/s of ideal {ideal_rps:,.0f} req/s = {rps / ideal_rps:.1%} "
        f"({verdict} the >= 90% target); overhead {statistics.median(overheads):.3f} ms/request; "
        f"client CPU {statistics.median(cpus):.3f} ms/request"
        + (" (includes the server thread)" if args.server == "thread" else "")
    )


if __name__ == "__main__":
    main()
