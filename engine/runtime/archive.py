"""Keeping finished history out of the live workflow state (a ticket reopened 200 times).

SpiffWorkflow keeps every task it ever ran in the workflow's task tree, and a loop
in a diagram makes the tree deeper with every pass: a reopened ticket added ~29
tasks and 10 levels a loop, every step walked and serialized all of them (25×
the cost after 100 loops), and at ~97 loops ``Join._find_tasks`` →
``Task.is_descendant_of`` ran out of recursion for good.

Nothing ahead of the workflow needs what lies wholly behind it. After a step,
``compact`` finds the deepest task every unfinished task descends from (their
common ancestor: a pending parallel join, a boundary event's split, the call
activity running now all sit at or below it), and when the finished chain above
it is long enough it cuts that chain off: the root adopts the cut point, and the
finished tasks above it, with the called processes they ran, leave the state.
What the ticket page draws from them (the elements completed and the step into
each) is returned as ``Step`` rows for the ``path_step`` table, which
``paths.visited`` reads together with the live tree.
"""

from __future__ import annotations

from dataclasses import dataclass

from SpiffWorkflow.util.task import TaskState

# Cut only when at least this many finished levels lie above the common ancestor:
# about one loop of the desk's diagram, so a ticket that never loops is never touched
# and one that does carries at most one loop's history.
MIN_DEPTH = 30


@dataclass(frozen=True)
class Step:
    """A completed element of a (sub)process and the element it was reached from ('' at a start)."""

    process: str
    element: str
    came_from: str


def _came_from(task) -> str:
    parent = task.parent
    while parent is not None and parent.task_spec.bpmn_id is None:
        parent = parent.parent
    return parent.task_spec.bpmn_id if parent is not None else ""


def _steps(tasks) -> set[Step]:
    return {
        Step(t.workflow.spec.name, t.task_spec.bpmn_id, _came_from(t))
        for t in tasks
        if t.task_spec.bpmn_id is not None and t.state == TaskState.COMPLETED
    }


def _common_ancestor(tasks: list):
    """The deepest task that all ``tasks`` are (or descend from); iterative, the tree may be deep."""
    chain = []
    task = tasks[0]
    while task is not None:
        chain.append(task)
        task = task.parent
    position = {t.id: i for i, t in enumerate(chain)}
    lowest = 0
    for task in tasks[1:]:
        while task.id not in position:
            task = task.parent
        lowest = max(lowest, position[task.id])
    return chain[lowest], chain[lowest:]


def compact(workflow, *, min_depth: int | None = None) -> list[Step]:
    """Cut the finished history off the top workflow's tree; returns the steps it held, [] when untouched."""
    min_depth = MIN_DEPTH if min_depth is None else min_depth
    unfinished = [t for t in workflow.tasks.values() if not t.has_state(TaskState.FINISHED_MASK)]
    if not unfinished:
        return []  # a finished workflow is kept whole: nothing runs it again
    ancestor, above = _common_ancestor(unfinished)  # above: ancestor, its parent, …, the root
    # the cut point: the deepest completed task at or above the common ancestor, below the root
    cut = next((t for t in above[:-1] if t.state == TaskState.COMPLETED), None)
    if cut is None:
        return []
    chain = above[above.index(cut) + 1 : -1]  # finished tasks between the root and the cut point
    if len(chain) < min_depth:
        return []
    root = workflow.task_tree
    removed, stack = [], [c for c in root.children if c is not None]
    while stack:  # everything under the root except the cut point's subtree
        task = stack.pop()
        if task.id == cut.id:
            continue
        removed.append(task)
        stack.extend(c for c in task.children if c is not None)
    steps = _steps([*removed, cut])  # the cut point's step in comes from a task about to go
    removed_ids = {t.id for t in removed}
    for task_id, sub in list(workflow.subprocesses.items()):  # the processes those tasks called
        if task_id in removed_ids:
            steps |= _steps(sub.tasks.values())
            removed_ids.update(sub.tasks)
            del workflow.subprocesses[task_id]
    for task_id in removed_ids & set(workflow.tasks):
        del workflow.tasks[task_id]
        workflow.event_manager.tasks.pop(task_id, None)
    root._children = [cut.id]
    cut._parent = root.id
    if workflow.last_task is not None and workflow.last_task.id in removed_ids:
        workflow.last_task = cut
    return sorted(steps, key=lambda s: (s.process, s.element, s.came_from))
