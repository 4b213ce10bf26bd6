"""Items per second through streamql's routes, against the tutorial's one-item Queue code.

Run: python bench/bench_routing.py [N]   (default 1,000,000 items)

Each route is timed in the same run as the tutorial's genqueue (a thread doing
``q.put(item)`` per item, the consumer ``q.get()`` per item), and reported as a
ratio to it. Targets: >= 5x the tutorial for bulk streams; >= 200k records/s
over loopback TCP; >= 300k small dict records/s with the sender in a process of
its own (msgpack where installed).
"""

from __future__ import annotations

import multiprocessing
import queue
import sys
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))  # this checkout's streamql

from streamql import Stream
from streamql.routing.coroutines import ConsumerThread
from streamql.routing.transport import available_codecs


# The tutorial's genqueue, as printed (StopIteration as the end marker).
def sendto_queue(source: Any, thequeue: queue.Queue[Any]) -> None:
    for item in source:
        thequeue.put(item)
    thequeue.put(StopIteration)


def genfrom_queue(thequeue: queue.Queue[Any]) -> Iterator[Any]:
    while True:
        item = thequeue.get()
        if item is StopIteration:
            break
        yield item


def tutorial_queue(n: int) -> int:
    q: queue.Queue[Any] = queue.Queue()
    t = threading.Thread(target=sendto_queue, args=(range(n), q))
    t.start()
    count = sum(1 for _ in genfrom_queue(q))
    t.join()
    return count


def background(n: int) -> int:
    return Stream(range(n)).background().count()


def multiplex4(n: int) -> int:
    k = n // 4
    return Stream.multiplex(*(Stream(range(i * k, (i + 1) * k)) for i in range(4))).count()


def broadcast3(n: int) -> int:
    consumers = [ConsumerThread(lambda s: s.count()) for _ in range(3)]
    Stream(range(n)).broadcast(*consumers)
    return sum(c.result for c in consumers) // 3


def tcp(n: int) -> int:
    bound: queue.Queue[tuple[str, int]] = queue.Queue()
    got: list[int] = []
    receiver = Stream.receive_from(0, senders=1, on_bind=bound.put)
    rx = threading.Thread(target=lambda: got.append(receiver.count()))
    rx.start()
    records = Stream(range(n)).map(lambda i: {"host": "10.0.0.1", "status": 200, "bytes": i})
    records.send_to(bound.get(timeout=10))
    rx.join(60)
    return got[0]


def _send_from_process(address: tuple[str, int], n: int, codec: str) -> None:
    records = Stream(range(n)).map(lambda i: {"host": "10.0.0.1", "status": 200, "bytes": i})
    records.send_to(address, codec=codec)


def tcp_process(n: int, codec: str = "json") -> int:
    """The sender in a process of its own (the receiver's figure is not shared with it)."""
    bound: queue.Queue[tuple[str, int]] = queue.Queue()
    got: list[int] = []
    receiver = Stream.receive_from(0, senders=1, on_bind=bound.put)
    rx = threading.Thread(target=lambda: got.append(receiver.count()))
    rx.start()
    sender = multiprocessing.get_context("fork").Process(
        target=_send_from_process, args=(bound.get(timeout=10), n, codec)
    )
    sender.start()
    sender.join(120)
    rx.join(60)
    assert sender.exitcode == 0, sender.exitcode
    return got[0]


def tcp_process_msgpack(n: int) -> int:
    return tcp_process(n, "msgpack")


def rate(func: Callable[[int], int], n: int) -> float:
    start = time.perf_counter()
    got = func(n)
    seconds = time.perf_counter() - start
    assert got == n, (func.__name__, got, n)
    return n / seconds


def main() -> None:
    n = int(sys.argv[1]) if len(sys.argv) > 1 else 1_000_000
    base = rate(tutorial_queue, n)
    print(f"{'route':<34}{'items/s':>14}{'vs tutorial':>13}")
    print(f"{'tutorial genqueue (per-item Queue)':<34}{base:>14,.0f}{1:>12.1f}x")
    routes: list[tuple[str, Callable[[int], int]]] = [
        ("background (thread + channel)", background),
        ("multiplex of 4 streams", multiplex4),
        ("broadcast to 3 consumer threads", broadcast3),
        ("TCP send_to/receive_from (dicts)", tcp),
        ("TCP, sender in its own process", tcp_process),
    ]
    if "msgpack" in available_codecs():
        routes.append(("TCP, own process, msgpack", tcp_process_msgpack))
    for label, func in routes:
        r = rate(func, n)
        print(f"{label:<34}{r:>14,.0f}{r / base:>12.1f}x")


if __name__ == "__main__":
    main()
