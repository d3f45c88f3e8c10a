"""Running test code in threads that start together, and measuring how many
were inside a section at once."""

from __future__ import annotations

import threading
import time
from collections import Counter
from collections.abc import Callable, Iterator
from contextlib import contextmanager

from coldcheck.domain.errors import ColdcheckError


def together(n: int, fn: Callable[[int], str]) -> Counter[str]:
    """Run fn(0..n-1) in n threads released at once; count what each answered
    (an answer, or the code of the ColdcheckError it raised)."""
    start = threading.Barrier(n)
    out: list[str] = []
    lock = threading.Lock()

    def run(i: int) -> None:
        start.wait()
        try:
            answer = fn(i)
        except ColdcheckError as err:
            answer = err.code
        with lock:
            out.append(answer)

    threads = [threading.Thread(target=run, args=(i,)) for i in range(n)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return Counter(out)


class Gauge:
    """How many threads were inside :meth:`inside` at once, at most."""

    def __init__(self) -> None:
        self.running = self.peak = 0
        self._lock = threading.Lock()

    @contextmanager
    def inside(self, seconds: float = 0.03) -> Iterator[None]:
        with self._lock:
            self.running += 1
            self.peak = max(self.peak, self.running)
        try:
            time.sleep(seconds)  # long enough for the others to arrive
            yield
        finally:
            with self._lock:
                self.running -= 1
