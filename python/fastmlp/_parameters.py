"""Checks of estimator hyperparameters, with scikit-learn's error messages.

Each parameter has a list of constraints; a value is valid when it satisfies
one of them. An invalid value raises ``InvalidParameterError`` with the message
scikit-learn gives for the same mistake, for example "The 'alpha' parameter of
MLPClassifier must be a float in the range [0.0, inf). Got -1 instead."
"""

import math
from numbers import Integral, Real

import numpy as np


class InvalidParameterError(ValueError, TypeError):
    """Hyperparameter of the wrong type or out of range.

    It derives from both ValueError and TypeError, as scikit-learn's error of
    the same name does, so code that catches either keeps working.
    """


def _is_integer(value):
    """Return True for Python and NumPy integers, but not for bools."""
    return isinstance(value, Integral) and not isinstance(value, (bool, np.bool_))


def _is_real(value):
    """Return True for Python and NumPy real numbers, but not for bools."""
    return isinstance(value, Real) and not isinstance(value, (bool, np.bool_))


class Interval:
    """Numbers of one kind (Integral or Real) between two bounds.

    ``low`` or ``high`` None means unbounded on that side; ``closed`` is one of
    "left", "right", "both" or "neither".
    """

    def __init__(self, kind, low, high, closed):
        self.kind, self.low, self.high, self.closed = kind, low, high, closed

    def accepts(self, value):
        """Return True when value has the right kind and lies in the interval."""
        is_kind = _is_integer if self.kind is Integral else _is_real
        if not is_kind(value) or math.isnan(value):
            return False
        closed_left = self.closed in ("left", "both")
        closed_right = self.closed in ("right", "both")
        above_low = (
            self.low is None or value > self.low or (closed_left and value == self.low)
        )
        below_high = (
            self.high is None
            or value < self.high
            or (closed_right and value == self.high)
        )
        return above_low and below_high

    def __str__(self):
        as_bound = int if self.kind is Integral else float
        low = "-inf" if self.low is None else as_bound(self.low)
        high = "inf" if self.high is None else as_bound(self.high)
        left = "[" if self.closed in ("left", "both") else "("
        right = "]" if self.closed in ("right", "both") else ")"
        kind = "an int" if self.kind is Integral else "a float"
        return f"{kind} in the range {left}{low}, {high}{right}"


class StrOptions:
    """One string out of a fixed set."""

    def __init__(self, *options):
        self.options = options

    def accepts(self, value):
        """Return True when value is one of the options."""
        return isinstance(value, str) and value in self.options

    def __str__(self):
        return "a str among {" + ", ".join(repr(o) for o in self.options) + "}"


class Infinity:
    """The float ``inf``, accepted where it means "never"."""

    def accepts(self, value):
        """Return True for positive infinity."""
        return _is_real(value) and value == math.inf

    def __str__(self):
        return "a float among {inf}"


class InstanceOf:
    """Instances of one type."""

    def __init__(self, kind, name):
        self.kind, self.name = kind, name

    def accepts(self, value):
        """Return True when value is an instance of the type."""
        return isinstance(value, self.kind)

    def __str__(self):
        return f"an instance of {self.name!r}"


class NoneValue:
    """The value None."""

    def accepts(self, value):
        """Return True for None."""
        return value is None

    def __str__(self):
        return "None"


class CallableValue:
    """Any callable object."""

    def accepts(self, value):
        """Return True for a callable."""
        return callable(value)

    def __str__(self):
        return "a callable"


class PositiveIntSequence:
    """A non-string sequence of integers >= 1 (it may be empty)."""

    def accepts(self, value):
        """Return True for a list, tuple or 1-D array of positive integers."""
        if isinstance(value, (str, bytes)) or not hasattr(value, "__iter__"):
            return False
        items = list(value)
        return all(_is_integer(item) and item >= 1 for item in items)

    def __str__(self):
        return "an array-like of ints in the range [1, inf)"


BOOLEAN = [InstanceOf((bool, np.bool_), "bool")]


def check_parameter(estimator_name, name, value, constraints):
    """Raise InvalidParameterError unless value satisfies one of constraints."""
    if any(constraint.accepts(value) for constraint in constraints):
        return
    described = [str(constraint) for constraint in constraints]
    if len(described) == 1:
        allowed = described[0]
    else:
        allowed = ", ".join(described[:-1]) + " or " + described[-1]
    raise InvalidParameterError(
        f"The {name!r} parameter of {estimator_name} must be {allowed}. "
        f"Got {value!r} instead."
    )
