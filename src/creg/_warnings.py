"""The warnings creg gives about training that runs but fails quietly.

Every warning creg gives is a `CregWarning` (a ``UserWarning``), so one
filter silences or escalates all of them; those about training (input
scale, training that goes nowhere, early stopping's restored weights)
also have their own subclass.  `TrainingWatch` looks at a fit's history
after every epoch for a cost that explodes or an epoch stuck at chance
level.
"""
import contextlib
import math
import os
import sys
import threading
import warnings

_PACKAGE = os.path.dirname(os.path.abspath(__file__)) + os.sep

# Why 10: a cost ten times what it was before training is past any noise
# of the running or exact epoch costs; 3: a cost that has fallen and then
# tripled, by more than a tenth of where it started, is climbing away, not
# fluctuating near zero.
_EXPLODED = 10.0
_CLIMBED = 3.0
_CLIMB_FLOOR = 0.1
# Why 4: creg's initial weights give a unit an input z about as spread as
# one input column; sigmoid and tanh are flat beyond |z| ~ 4, and the SGD
# step of a ReLU network's first layer grows with the inputs' square.
# Data scaled to [0, 1] or standardized stays at or below 1.
INPUT_SCALE_LIMIT = 4.0
# An accuracy this close to the most frequent class's share, making at
# least this share of the errors of predicting that class, is chance
# level: a network that predicts one class scores that share exactly (the
# errors: where one class is 98% of the rows, the margin alone takes in
# every accuracy a good network reaches).
_CHANCE_MARGIN = 0.02
_CHANCE_ERRORS = 0.9
# A cost that fell by less than this fraction has not fallen: a network
# stuck at chance still creeps towards the entropy of the class shares.
_FELL = 0.01
# A first epoch whose cost fell by more than this moved: a network stuck
# after it collapsed there (dead ReLUs, saturated units), its step was
# too large, not too small.
_FIRST_FALL = 0.1


class CregWarning(UserWarning):
    """Base class of every warning creg gives.

    Examples
    --------
    >>> import warnings, creg
    >>> warnings.simplefilter("error", creg.CregWarning)  # doctest: +SKIP
    """


class InputScaleWarning(CregWarning):
    """The inputs are on a scale that saturates sigmoid and tanh units or
    makes ReLU networks blow up; scale them (StandardScaler, X / 255).

    Examples
    --------
    >>> import warnings, creg
    >>> X, y = creg.datasets.load_digits()
    >>> net = creg.Network([64, 10, 10])
    >>> with warnings.catch_warnings(record=True) as caught:
    ...     warnings.simplefilter("always")
    ...     _ = net.fit(16 * X, y, epochs=1)
    >>> caught[0].category is creg.InputScaleWarning
    True
    """


class TrainingWarning(CregWarning):
    """The training cost exploded, or an epoch ended at chance level (a
    linear output: no better than the targets' mean) while the cost did
    not fall: usually a learning rate that is too large (too small where
    the cost creeps down every epoch), or a penalty too strong.

    Examples
    --------
    >>> import warnings, creg
    >>> X, y = creg.datasets.load_digits()
    >>> net = creg.Network([64, 30, 10], hidden="sigmoid",
    ...                    output="sigmoid", init="normalized")
    >>> with warnings.catch_warnings(record=True) as caught:
    ...     warnings.simplefilter("always")
    ...     _ = net.fit(X, y, epochs=2, lr=1000.0)
    >>> any(w.category is creg.TrainingWarning for w in caught)
    True
    """


class EarlyStoppingWarning(CregWarning):
    """Early stopping ended the fit and put back the weights of an earlier
    epoch, which the message names (``history.best_epoch``).

    Examples
    --------
    >>> import warnings, creg
    >>> warnings.simplefilter("ignore", creg.EarlyStoppingWarning)
    """


_collecting = threading.local()


@contextlib.contextmanager
def collected(into):
    """Inside the block, this thread's creg warnings are appended to the
    list `into` as (message, category) instead of shown: a sweep's worker
    thread has no user's line to point at, so the sweep shows them from
    the caller's thread, naming the run."""
    _collecting.into = into
    try:
        yield
    finally:
        _collecting.into = None


def warn(message, category=CregWarning):
    """warnings.warn, attributed to the first caller outside creg (the
    user's line, however deep inside creg the check ran)."""
    into = getattr(_collecting, "into", None)
    if into is not None:
        into.append((message, category))
        return
    frame, level = sys._getframe(0), 1
    while frame is not None and \
            frame.f_code.co_filename.startswith(_PACKAGE):
        frame, level = frame.f_back, level + 1
    warnings.warn(message, category, stacklevel=level)


def rounded(x):
    """A scale for a message: 2 significant digits, no exponent below
    10**6 (the same data then gives the same message, which Python's
    warning filters show once)."""
    return f"{x:.2g}" if x < 10 or x >= 1e6 else f"{x:.0f}"


def unscaled_inputs(scale):
    """Inputs whose widest column has root-mean-square `scale`, as a cause
    of a fit gone wrong, where they are far from unit scale; else None."""
    if not scale > INPUT_SCALE_LIMIT:
        return None
    return (f"inputs far from unit scale (a column of X has a "
            f"root-mean-square of {rounded(scale)}; scale it with "
            "StandardScaler)")


def epoch_name(epoch, before):
    """'epoch 3', or where the network had trained `before` epochs before
    this fit (the number its verbose table and epochs_trained give),
    'epoch 3 of this fit (the network's epoch 8)'."""
    if not before:
        return f"epoch {epoch}"
    return f"epoch {epoch} of this fit (the network's epoch {before + epoch})"


def warn_restored(best_epoch, epochs, what, before=0):
    """Early stopping put back the weights after epoch `best_epoch`
    (0-based) of a fit that ran `epochs` epochs, after `before` of
    earlier fits; `what` says which score was best."""
    if best_epoch < epochs - 1:
        after = best_epoch + 1
        overall = (f" of this fit (the network's epoch {before + after})"
                   if before else "")
        warn(f"early stopping restored the weights after epoch {after} of "
             f"{epochs}{overall} (history.best_epoch = {best_epoch}, "
             f"{what}); the {epochs - after} epochs after it did not "
             "improve on it", EarlyStoppingWarning)


class TrainingWatch:
    """Watches one fit's history and warns, at most once, when training
    runs but goes nowhere.

    Parameters
    ----------
    initial_cost : float
        The training cost (data + penalty) before the first step, measured
        on a sample of the training rows.
    chance : float or None
        The accuracy of always predicting the most frequent class; None
        where accuracy has no chance level (a linear output, multi-label
        targets).
    scale : float
        The largest root-mean-square of a column of X, for the message.
    constant_cost : float, default 0
        The cost of the best constant prediction of the targets (their
        mean): a cost below it has not exploded, nor has a rise by less
        than a tenth of it climbed, however far below it the training
        started (a fit that goes on from a cost near 0).
    before : int, default 0
        The epochs the network trained before this fit (epoch_name).
    exact_chance : callable, optional
        The chance level over all the rows, called once, when the cost
        first stops falling (a sample of rows in a stride that cycles
        with the classes misreads the shares).
    l2, l1 : float, default 0
        The per-step penalty strengths l2' and l1': a penalty is named as
        a cause beside the learning rate, instead of it where it zeroes
        the weights.
    initial_eval_cost : float, optional
        The validation cost before the first step (on a sample of its
        rows), which the validation costs are compared with: validation
        rows scaled unlike X, or a network that goes on from an overfit,
        start far above the training cost.
    """

    def __init__(self, initial_cost, chance, scale, constant_cost=0.0,
                 before=0, exact_chance=None, l2=0.0, l1=0.0,
                 initial_eval_cost=None):
        self.initial_cost, self.chance, self.scale = \
            initial_cost, chance, scale
        self.constant_cost, self.before = constant_cost, before
        self.exact_chance, self.l2, self.l1 = exact_chance, l2, l1
        self.initial_eval_cost = initial_eval_cost
        self.warned = False
        self._seen = _Seen()

    def epoch_ended(self, history):
        """Check the epoch just recorded in `history`."""
        costs = history.train_cost
        if self.warned or not costs:
            return
        seen = self._seen
        if seen.epochs != len(costs) - 1:  # handed a history, not an epoch
            seen = self._seen = _Seen()
            for past in zip(costs[:-1], history.lr[:-1]):
                seen.add(*past)
        try:
            self._check(history, seen)
        finally:
            seen.add(costs[-1], history.lr[-1])

    def _check(self, history, before):
        """Warn, where the last epoch of `history` shows a fit going
        nowhere; `before`: what the epochs before it showed."""
        cost, epoch = history.train_cost[-1], len(history.train_cost)
        lr = history.lr[-1]
        # a schedule that raised the lr back to one it ran at (a warm
        # restart) raises the cost for a while
        restarted = before.lr < lr <= before.largest_lr
        smaller = f"lr={lr / 10:g}, a tenth of {lr:g}"
        unscaled = unscaled_inputs(self.scale)
        exploded = self._exploded(cost, before, epoch, self.initial_cost,
                                  climbing=not restarted)
        if exploded is None and history.eval_cost:
            exploded = self._exploded(history.eval_cost[-1], _Seen(), epoch,
                                      self.initial_eval_cost, "validation")
        if exploded is not None:
            message = f"{exploded}. Lower lr (e.g. {smaller})" + (
                f", and mind the {unscaled}" if unscaled else "")
        else:
            stuck = self._stuck(cost, before, epoch,
                                history.train_accuracy[-1])
            if stuck is None:
                return
            stuck, creeping = stuck
            zeroing = self._penalty_zeroing(lr, history.zero_fraction)
            step = (f"a learning rate too small (try lr={lr * 10:g}, ten "
                    f"times {lr:g})" if creeping
                    else f"a learning rate too large (try {smaller})")
            causes = ([zeroing] if zeroing else [self._penalty(), step]) + [
                unscaled, "labels that do not belong to the rows of X"]
            message = (f"{stuck}. Usual causes: "
                       + "; ".join(c for c in causes if c))
        self.warned = True
        warn(message, TrainingWarning)

    def _exploded(self, cost, before, epoch, start, which="training",
                  climbing=True):
        if start is None or not start > 0 or not math.isfinite(start):
            return None
        if cost > _EXPLODED * start and cost > self.constant_cost:
            return (f"the {which} cost reached {cost:.4g} in "
                    f"{epoch_name(epoch, self.before)}, over {_EXPLODED:g} "
                    f"times the {which} cost's {start:.4g} before this "
                    "fit: training is diverging")
        best = before.best
        if climbing and cost > _CLIMBED * best and \
                cost - best > _CLIMB_FLOOR * max(start, self.constant_cost):
            return (f"the training cost climbed to {cost:.4g} in "
                    f"{epoch_name(epoch, self.before)}, from {best:.4g} in "
                    f"epoch {before.best_epoch}: training is diverging")
        return None

    def _penalty(self):
        """A penalty on, as a cause of a fit that does not learn."""
        on = [f"{name}'={value:.3g}" for name, value
              in (("l2", self.l2), ("l1", self.l1)) if value > 0]
        return (f"a penalty too strong ({', '.join(on)} a step: try a "
                "smaller one)" if on else None)

    def _penalty_zeroing(self, lr, zero_fraction):
        """The penalty that keeps the weights at 0, where one does (a
        larger lr would only zero them harder), else None."""
        factor = 1 - lr * self.l2
        if factor <= 0:
            return (f"an l2 so strong that each step multiplies the weights "
                    f"by 1 - lr*l2' = {factor:.3g} (lr={lr:g}, l2'="
                    f"{self.l2:.3g}): lower l2")
        if self.l1 > 0 and zero_fraction and zero_fraction[-1] == 1:
            return (f"an l1 that has set every weight to exactly 0 (a "
                    f"threshold of lr*l1' = {lr * self.l1:.3g} a step): "
                    "lower l1")
        return None

    def _near_chance(self, accuracy):
        return not (accuracy > self.chance + _CHANCE_MARGIN
                    or 1 - accuracy < _CHANCE_ERRORS * (1 - self.chance))

    def _stuck(self, cost, before, epoch, accuracy):
        """(what says the fit is not learning, whether it creeps) where
        its cost stopped falling at chance level, or no lower than the
        best constant prediction's (where accuracy has no chance level),
        else None."""
        # Not before a fit's second epoch: the first one's running metrics
        # average batches that met weights from the start onwards (with
        # one batch an epoch, only the starting weights)
        if not before.epochs:
            return None
        best = min(self.initial_cost, before.best)
        # still falling, or below what predicting the class shares (or the
        # targets' mean) costs: a converged network, on data where the
        # majority class is as good as it gets
        if cost < best * (1 - _FELL) or \
                cost < self.constant_cost * (1 - _FELL):
            return None
        if self.chance is not None:
            if self.exact_chance is not None:  # once: the sample's is rough
                self.chance, self.exact_chance = self.exact_chance(), None
            if self.chance is None or math.isnan(accuracy) or \
                    not self._near_chance(accuracy):
                return None
            level = (f"at chance level (training accuracy {accuracy:.4f}; "
                     f"the most frequent class is {self.chance:.4f} of the "
                     "rows) with a training cost of")
        elif self.constant_cost > 0:
            level = ("no better than predicting the targets' mean (whose "
                     f"cost is {self.constant_cost:.4g}): a training cost of")
        else:
            return None
        # fell at every epoch: a step too small; a step too large jumps up
        # and down.  The first epoch's running cost averages its batches:
        # it may sit above the cost measured before the fit while it
        # falls, by less than _FELL (a step too large jumps further)
        creeping = self.initial_cost * (1 - _FIRST_FALL) < before.first < \
            self.initial_cost * (1 + _FELL) and before.falling and \
            cost < before.last
        source = ("before this fit" if best == self.initial_cost else
                  f"after epoch {before.best_epoch}")
        where = (f"less than {_FELL:.0%} below" if cost < best
                 else "not below") + f" the {best:.4g} {source}: " + (
                     "the network is barely learning" if creeping
                     else "the network is not learning")
        return (f"{epoch_name(epoch, self.before)} ended {level} "
                f"{cost:.4g}, {where}", creeping)


class _Seen:
    """What a fit's epochs so far showed, kept as they end: a watch that
    rescanned the history each epoch made a long fit quadratic (16,000
    epochs of 50 rows took 8 times their training)."""

    def __init__(self):
        self.epochs = 0
        self.first = self.last = math.nan
        self.best, self.best_epoch = math.inf, 0  # the first lowest cost
        self.falling = True  # every cost below the one before
        self.lr = self.largest_lr = -math.inf

    def add(self, cost, lr):
        """Take in one more epoch's training cost and lr."""
        self.epochs += 1
        if self.epochs == 1:
            self.first = cost
        else:
            self.falling = self.falling and cost < self.last
        if cost < self.best:
            self.best, self.best_epoch = cost, self.epochs
        self.last = cost
        self.lr, self.largest_lr = lr, max(self.largest_lr, lr)
