"""Ferry's classes have distinct names: none shadows a builtin, no two modules share one.

A second ``RowRejected`` (an exception beside the event) or an event called ``Warning``
makes every ``import`` and ``isinstance`` a question of which one is meant.
"""

from __future__ import annotations

import builtins
import importlib
import inspect
import pkgutil
from collections import defaultdict

import ferry


def _classes() -> dict[str, list[str]]:
    """Each class name defined in ferry (the demo app aside), with the modules defining it."""
    found: dict[str, list[str]] = defaultdict(list)
    for info in pkgutil.walk_packages(ferry.__path__, "ferry."):
        if info.name.startswith("ferry.demo") or info.name.endswith("__main__"):
            continue
        module = importlib.import_module(info.name)
        for name, value in vars(module).items():
            if inspect.isclass(value) and value.__module__ == module.__name__:
                found[name].append(module.__name__)
    return found


def test_no_ferry_class_shadows_a_builtin() -> None:
    shadowing = {name: homes for name, homes in _classes().items() if hasattr(builtins, name)}

    assert shadowing == {}


def test_no_two_ferry_modules_define_a_class_of_the_same_name() -> None:
    shared = {name: homes for name, homes in _classes().items() if len(homes) > 1}

    assert shared == {}
