"""Decision trees from a ``.skops`` file: trusted only once their structure is checked.

``sklearn.tree._tree.Tree`` (the nodes of decision trees, random forests and extra
trees) stores child and feature indices that scikit-learn's compiled code follows
without bounds checks, so skops does not trust it by default.  A file's trees are
trusted here when, after loading and before any prediction, each one is:

* a proper tree: node 0 is the root, every other node has exactly one parent, each
  child comes after its parent (so every walk ends), a leaf has no children;
* indexing only features that exist: ``0 <= feature < n_features`` at every split,
  where ``n_features`` is the owning estimator's ``n_features_in_`` (which its
  ``predict`` checks the input against) and, under a random forest, the forest's too
  (a forest checks the input and calls its trees without checking it again);
* no deeper than its recorded ``max_depth`` (``decision_path`` sizes a buffer by it);
* the ``tree_`` of a decision tree whose direct parent estimator is not one that calls
  its trees on arrays it sizes itself: gradient boosting (``predict_stages``) and
  isolation forests (feature subsets) are refused.

In scikit-learn 1.9, only forests, gradient boosting and isolation forests call trees
with ``check_input=False``; any other parent (a pipeline, bagging, AdaBoost, a
calibrated classifier) calls the tree's own ``predict``, which checks the input.
"""

from __future__ import annotations

from typing import Any

import numpy as np

__all__ = ["TREE_TYPE", "tree_problem"]

TREE_TYPE = "sklearn.tree._tree.Tree"
_MAX_VISITS = 2_000_000
_LEAF = -1


def tree_problem(model: Any) -> str | None:
    """Why a tree in ``model`` cannot be trusted, or ``None`` when every one checks out."""
    from sklearn.ensemble import IsolationForest
    from sklearn.ensemble._forest import BaseForest
    from sklearn.ensemble._gb import BaseGradientBoosting
    from sklearn.tree import BaseDecisionTree
    from sklearn.tree._tree import Tree

    visits = 0

    def visit(obj: Any, parents: tuple[Any, ...], path: frozenset[int]) -> str | None:
        nonlocal visits
        visits += 1
        if visits > _MAX_VISITS:
            return "the model is too large to check"
        if id(obj) in path or isinstance(obj, str | bytes | int | float | type | None):
            return None
        if isinstance(obj, Tree):
            return _check(obj, parents)
        if isinstance(obj, np.ndarray):
            children: Any = obj.flat if obj.dtype == object else ()
        elif isinstance(obj, dict):
            children = list(obj.values())
        elif isinstance(obj, list | tuple | set | frozenset):
            children = obj
        else:
            children = list(vars(obj).values()) if hasattr(obj, "__dict__") else ()
        here = path | {id(obj)}
        below = (*parents, obj) if hasattr(obj, "get_params") else parents
        for child in children:
            problem = visit(child, below, here)
            if problem is not None:
                return problem
        return None

    def _check(tree: Any, parents: tuple[Any, ...]) -> str | None:
        owner = parents[-1] if parents else None
        if not isinstance(owner, BaseDecisionTree) or owner.tree_ is not tree:
            return "a tree that is not the tree_ of a decision tree"
        parent = parents[-2] if len(parents) > 1 else None
        if isinstance(parent, BaseGradientBoosting | IsolationForest):
            return f"trees under {type(parent).__name__}, which calls them unchecked"
        widths = {getattr(owner, "n_features_in_", None), tree.n_features}
        if isinstance(parent, BaseForest):
            widths.add(getattr(parent, "n_features_in_", None))
        if len(widths) != 1:
            return f"a tree whose feature count disagrees with its estimator's ({widths})"
        return structure_problem(tree)

    return visit(model, (), frozenset())


def structure_problem(tree: Any) -> str | None:
    """Why ``tree``'s nodes do not form a proper tree over its features, or ``None``."""
    n = int(tree.node_count)
    left = np.asarray(tree.children_left, dtype=np.int64)
    right = np.asarray(tree.children_right, dtype=np.int64)
    feature = np.asarray(tree.feature, dtype=np.int64)
    if n < 1 or not left.shape == right.shape == feature.shape == (n,):
        return "a tree whose node arrays do not match its node count"
    leaf = left == _LEAF
    if np.any(right[leaf] != _LEAF):
        return "a tree with a leaf that has a child"
    index = np.flatnonzero(~leaf)
    kids_left, kids_right = left[index], right[index]
    if np.any(kids_left >= n) or np.any(kids_right >= n):
        return "a tree with a child index out of range"
    if np.any(kids_left <= index) or np.any(kids_right <= index):
        return "a tree with a child before its parent (a cycle)"
    children = np.sort(np.concatenate([kids_left, kids_right]))
    if not np.array_equal(children, np.arange(1, n)):
        return "a tree whose nodes do not each have exactly one parent"
    split = feature[index]
    if np.any(split < 0) or np.any(split >= int(tree.n_features)):
        return "a tree that splits on a feature that does not exist"
    depth = np.zeros(n, dtype=np.int64)
    for node in index.tolist():  # parents come first, so each depth is final when read
        depth[left[node]] = depth[right[node]] = depth[node] + 1
    if int(depth.max()) > int(tree.max_depth):
        return "a tree deeper than its recorded max_depth"
    return None
