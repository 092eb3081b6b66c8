"""Objects that one thread at a time may use: an estimator being fitted,
an EarlyStopping holding its fit's scores.  A claim is by id, for the
claiming thread, until its block ends; a second claim meanwhile raises
RuntimeError.  A forked child keeps only the forking thread's claims: the
parent's other threads do not exist there, and their claims would refuse
those objects for the child's whole life.
"""
import contextlib
import os
import threading


class Claims:
    """One kind of claim (see the module's docstring)."""

    def __init__(self):
        self._lock = threading.Lock()
        self._owners = {}  # id(obj) -> the claiming thread's ident
        if hasattr(os, "register_at_fork"):
            os.register_at_fork(after_in_child=self._after_fork_in_child)

    def _after_fork_in_child(self):
        # the lock too: another thread of the parent may have held it
        self._lock = threading.Lock()
        me = threading.get_ident()
        self._owners = {key: owner for key, owner in self._owners.items()
                        if owner == me}

    def __contains__(self, obj):
        """Whether a claim holds `obj` now."""
        return id(obj) in self._owners

    @contextlib.contextmanager
    def holding(self, obj, refusal):
        """Holds `obj` for the block; RuntimeError(refusal(same_thread))
        where a claim holds it already, same_thread telling whether that
        claim is this thread's own (a callback of the fit that holds it)."""
        # A Ctrl-C is raised as a call returns: claimed is set with no call
        # after the claim is stored, and the release makes one call, the
        # pop (a dict's pop is atomic: it needs no lock)
        key, claimed = id(obj), False
        try:
            with self._lock:
                owner = self._owners.get(key)
                if owner is not None:
                    raise RuntimeError(
                        refusal(owner == threading.get_ident()))
                self._owners[key] = threading.get_ident()
                claimed = True
            yield
        finally:
            if claimed:
                self._owners.pop(key, None)
