"""Progress inside an epoch, for ``fit(verbose=True)``.

An epoch that has run for SHOW_AFTER seconds shows how far it is: through
tqdm when it is installed (``pip install "creg[progress]"``), else on one
line of stderr rewritten in place.  Shorter epochs draw nothing, so a fast
fit prints its epoch lines only.  Drawing happens between fit's calls into
C (about every 50 ms); the running cost is asked for at most every
REDRAW_EVERY seconds, since it sums the penalty over every weight.
"""
import math
import sys
import time

SHOW_AFTER = 1.0    # seconds into an epoch before its progress appears
REDRAW_EVERY = 0.5  # seconds between two computations of the cost shown


def _stderr():
    """sys.stderr where a display can draw, else None: pythonw and a
    closed descriptor 2 (``2>&-``) leave it None, and training must not
    fail for want of a display."""
    stream = sys.stderr
    return stream if callable(getattr(stream, "write", None)) else None


def _tqdm_bar(epoch, n_batches, done, postfix):
    """A tqdm bar for the epoch's batches, drawn with `postfix`, or None
    without tqdm or stderr."""
    try:
        from tqdm import tqdm
    except ImportError:
        return None
    stream = _stderr()
    return None if stream is None else tqdm(
        total=n_batches, initial=done, desc=f"epoch {epoch}", unit="batch",
        leave=False, dynamic_ncols=True, postfix=postfix, file=stream)


class _Drawing:
    """What a progress display has drawn: a tqdm bar (`bar`), or
    `width` characters of a stderr line that it rewrites in place."""

    bar = None
    width = 0

    def _write_line(self, line):
        if _write("\r" + line.ljust(self.width)):
            self.width = len(line)

    def close(self):
        """Removes what was drawn (before the epoch's own line)."""
        if self.bar is not None:
            self.bar.close()
        elif self.width:
            _write("\r" + " " * self.width + "\r")
        self.bar, self.width = None, 0


def _write(text):
    """Writes `text` to stderr, flushed where it can be; whether it was
    written (not without stderr, nor to a closed or broken one)."""
    stream = _stderr()
    if stream is None:
        return False
    try:
        stream.write(text)
        flush(stream)
    except (OSError, ValueError):
        return False
    return True


def flush(stream):
    """stream.flush() where it has one: print's file needs only write()."""
    method = getattr(stream, "flush", None)
    if callable(method):
        method()


class EpochProgress(_Drawing):
    """The progress of epoch `epoch` (1-based), n_batches mini-batches
    begun at `start` (a time.perf_counter() value)."""

    def __init__(self, epoch, n_batches, start):
        self.epoch, self.n_batches, self.start = epoch, n_batches, start
        self.shown = False
        self.bar = None      # the tqdm bar, when tqdm draws
        self.width = 0       # characters of the plain line last drawn
        self.costed_at = -math.inf
        self.cost = math.nan

    def update(self, done, running_cost):
        """`done` batches have run; running_cost(done) gives the running
        train_cost so far (NaN when there is none)."""
        now = time.perf_counter()
        if not self.shown and (now - self.start < SHOW_AFTER
                               or done >= self.n_batches):
            return
        fresh = now - self.costed_at >= REDRAW_EVERY
        if fresh:
            self.cost, self.costed_at = running_cost(done), now
        postfix = "" if math.isnan(self.cost) else f"cost {self.cost:.4f}"
        if not self.shown:
            self.shown = True
            self.bar = _tqdm_bar(self.epoch, self.n_batches, done, postfix)
            if self.bar is not None:
                return
        if self.bar is not None:
            if fresh:
                self.bar.set_postfix_str(postfix, refresh=False)
            self.bar.update(done - self.bar.n)  # draws, at most 10 per s
        elif fresh:
            self._draw_line(done, now, postfix)

    def _draw_line(self, done, now, postfix):
        elapsed = now - self.start
        left = elapsed * (self.n_batches - done) / done
        line = (f"epoch {self.epoch}: {done}/{self.n_batches} batches "
                f"({100 * done / self.n_batches:.0f}%)")
        if postfix:
            line += "  " + postfix
        line += f"  {elapsed:.0f}s, ~{left:.0f}s left"
        self._write_line(line)


class RunsProgress(_Drawing):
    """How many of a sweep's `total` runs have ended, for
    ``creg.sweep(verbose=True)``: a tqdm bar when tqdm is installed, else
    one line of stderr rewritten in place."""

    def __init__(self, total):
        self.total, self.done = total, 0
        try:
            from tqdm import tqdm
        except ImportError:
            self._draw_line()
        else:
            stream = _stderr()
            if stream is not None:
                self.bar = tqdm(total=total, desc="sweep", unit="run",
                                leave=False, dynamic_ncols=True, file=stream)

    def update(self, done):
        """`done` runs have ended."""
        if done == self.done:
            return
        self.done = done
        if self.bar is not None:
            self.bar.update(done - self.bar.n)
        else:
            self._draw_line()

    def _draw_line(self):
        self._write_line(f"sweep: {self.done}/{self.total} runs")
