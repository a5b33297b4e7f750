"""Run an iterator in a background thread, so that its work (decoding frames, running a model)
overlaps with the consumer's (drawing, writing files). Torch, ONNX Runtime, OpenCV's codecs and
large NumPy operations release the GIL, so the threads use the cores side by side."""
import queue
import threading
from typing import Generic, Iterable, Iterator, TypeVar

T = TypeVar('T')
_DONE = object()


class _Failure:
    """An exception raised by the producer, re-raised in the consumer."""

    def __init__(self, error: BaseException) -> None:
        self.error = error


class BackgroundIterator(Generic[T]):
    """Iterate over ``items`` in a daemon thread, at most ``depth`` items ahead of the consumer.

    Items arrive in order. An exception of the producer is raised in the consumer at the point
    it reached. :meth:`close` (also on leaving a ``with`` block, or when the consumer stops
    early) stops the producer after its current item, closes ``items`` in the producer's
    thread when it is a generator (so that a video capture is released where it is read) and
    waits for the thread.

    Args:
        items (Iterable): what to iterate over (e.g. a :class:`FrameSource`, a generator).
        depth (int): the queue length (items produced ahead). Default 2.
        name (str): the thread's name (shown in tracebacks and profilers).
    """

    def __init__(self, items: Iterable[T], depth: int = 2, name: str = 'background') -> None:
        if depth < 1:
            raise ValueError(f'depth must be >= 1, got {depth}')
        self._queue: queue.Queue = queue.Queue(maxsize=depth)
        self._stop = threading.Event()
        self._finished = False
        self._thread = threading.Thread(target=self._produce, args=(iter(items), ), name=name,
                                        daemon=True)
        self._thread.start()

    def _put(self, item) -> bool:
        """Queue ``item`` unless stopped; returns whether it was queued."""
        while not self._stop.is_set():
            try:
                self._queue.put(item, timeout=0.1)
                return True
            except queue.Full:
                continue
        return False

    def _produce(self, items: Iterator[T]) -> None:
        try:
            for item in items:
                if not self._put(item):
                    break
            else:
                self._put(_DONE)
        except BaseException as error:  # noqa: B902 (handed to the consumer, never lost)
            self._put(_Failure(error))
        finally:
            close = getattr(items, 'close', None)
            if callable(close):
                close()

    def __iter__(self) -> Iterator[T]:
        return self

    def __next__(self) -> T:
        if self._finished:
            raise StopIteration
        item = self._queue.get()
        if item is _DONE:
            self._finished = True
            self._thread.join()
            raise StopIteration
        if isinstance(item, _Failure):
            self._finished = True
            self._thread.join()
            raise item.error
        return item

    def close(self) -> None:
        """Stop the producer and wait for its thread (its current item finishes first)."""
        self._finished = True
        self._stop.set()
        while self._thread.is_alive():
            try:  # unblock a producer waiting on a full queue
                self._queue.get(timeout=0.1)
            except queue.Empty:
                pass
        self._thread.join()

    def __enter__(self) -> 'BackgroundIterator[T]':
        return self

    def __exit__(self, *exc_info) -> None:
        self.close()
