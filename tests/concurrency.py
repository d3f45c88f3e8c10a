"""Running test code in threads that start together, and measuring how many
were inside a section at once."""

from __future__ import annotations

import threading
import time
from collections import Counter
from collections.abc import Callable, Iterator
from contextlib import contextmanager

from coldcheck.domain.errors import ColdcheckError


def in_threads(n: int, fn: Callable[[int], None]) -> list[BaseException]:
    """Run fn(0..n-1) in n threads released at once; wait for all of them; return
    what they raised (a thread's exception would otherwise only be printed)."""
    start = threading.Barrier(n)
    errors: list[BaseException] = []

    def run(i: int) -> None:
        start.wait()
        try:
            fn(i)
        except BaseException as err:  # handed to the caller
            errors.append(err)

    threads = [threading.Thread(target=run, args=(i,)) for i in range(n)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return errors


def together(n: int, fn: Callable[[int], str]) -> Counter[str]:
    """Run fn(0..n-1) in n threads released at once; count what each answered
    (an answer, or the code of the ColdcheckError it raised)."""
    out: list[str] = []
    lock = threading.Lock()

    def run(i: int) -> None:
        try:
            answer = fn(i)
        except ColdcheckError as err:
            answer = err.code
        with lock:
            out.append(answer)

    errors = in_threads(n, run)
    if errors:
        raise errors[0]
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
