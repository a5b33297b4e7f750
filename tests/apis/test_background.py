"""BackgroundIterator: order, bounded read-ahead, errors raised in the consumer, early stop
closing the producer's generator in its own thread."""
import threading
import time

import pytest

from postometro_mm.apis.background import BackgroundIterator


def test_items_arrive_in_order_and_at_most_depth_ahead():
    produced = []

    def items():
        for i in range(20):
            produced.append(i)
            yield i

    seen = []
    with BackgroundIterator(items(), depth=3) as background:
        for item in background:
            time.sleep(0.005)
            # the queue holds 3 items; the producer may hold one more it is trying to put
            assert len(produced) - len(seen) <= 3 + 2
            seen.append(item)
    assert seen == list(range(20))


def test_a_producer_error_is_raised_in_the_consumer_after_the_items_before_it():
    def items():
        yield 1
        yield 2
        raise KeyError('frame 3 is broken')

    background = BackgroundIterator(items())
    assert next(background) == 1 and next(background) == 2
    with pytest.raises(KeyError, match='frame 3 is broken'):
        next(background)
    with pytest.raises(StopIteration):
        next(background)


def test_closing_early_stops_the_producer_and_closes_its_generator_in_its_thread():
    closed_in = []
    produced = []

    def endless():
        try:
            while True:
                produced.append(1)
                yield len(produced)
        finally:
            closed_in.append(threading.current_thread().name)

    background = BackgroundIterator(endless(), depth=2, name='reader under test')
    assert next(background) == 1
    background.close()
    count = len(produced)
    time.sleep(0.05)
    assert len(produced) == count  # stopped
    assert closed_in == ['reader under test']
    assert not any(t.name == 'reader under test' for t in threading.enumerate())


def test_depth_below_one_is_refused():
    with pytest.raises(ValueError, match='depth must be >= 1, got 0'):
        BackgroundIterator([], depth=0)
