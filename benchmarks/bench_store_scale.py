"""Embedded-store cost against store size, beside plain FireWorks on mongomock in the same run.

For each N in --sizes (default 0, 500, 2000, 5000) the store holds N paused one-firework
workflows (filled cumulatively: the N = 2000 store is the N = 500 one plus 1,500 more), then:

* chain: per-firework cost (best of --repeats, interleaved with the same chain on an empty store) of submitting and running a 50-firework PyTask chain in-process
  (``launch_rocket`` until none is ready), i.e. checkout, launch, completion and the workflow
  refresh of every firework;
* submit: the cost of adding one one-firework workflow (best of 5 x --repeats, interleaved with the
  same on an empty store).

The anchor is plain FireWorks 2.1.4 on an in-memory mongomock client holding the same documents
(copied from phasefire's store, so both see identical data), measured the same way.
Targets: at N = 5000, phasefire <= 1.5x its own N = 0 cost and below the anchor.

Then 10,000 task documents (realistic shape: input and output structures, lattice summaries,
100 formulas) go into the ``tasks`` collection and ``ResultsDB.query(formula=...)`` (what
``phasefire db query --formula F`` runs) is timed; target <= 50 ms.

Run: python benchmarks/bench_store_scale.py [--sizes 0 500 2000 5000] [--chain 50]
Figures from a loaded shared machine vary by tens of percent between runs; compare ratios.
"""

from __future__ import annotations

import argparse
import copy
import gc
import os
import statistics
import tempfile
import threading
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]


def chain_workflow(n: int):
    from fireworks import Firework, PyTask, Workflow

    fws = [Firework(PyTask(func="time.sleep", args=[0]), name=f"fw{k}") for k in range(n)]
    return Workflow(fws, {fws[k]: [fws[k + 1]] for k in range(n - 1)}, name="chain")


def paused_workflow(k: int):
    from fireworks import Firework, PyTask, Workflow

    fw = Firework(PyTask(func="time.sleep", args=[0]), name=f"prefill-{k}", spec={"k": k})
    return Workflow([fw], name=f"prefill-{k}")


def add_paused(launchpad, wf) -> None:
    """add_wf makes a root READY whatever its state; pause it after (add_wf alone is what is timed)."""
    for fw_id in launchpad.add_wf(wf).values():
        launchpad.pause_fw(fw_id)


def run_chain(launchpad, n: int) -> float:
    """Seconds per firework to add and run an n-firework chain in this process."""
    from fireworks import FWorker
    from fireworks.core.rocket_launcher import launch_rocket

    cwd = os.getcwd()
    with tempfile.TemporaryDirectory() as folder:
        os.chdir(folder)
        try:
            start = time.perf_counter()
            launchpad.add_wf(chain_workflow(n))
            ran = 0
            while launch_rocket(launchpad, FWorker(), strm_lvl="CRITICAL"):
                ran += 1
            elapsed = time.perf_counter() - start
        finally:
            os.chdir(cwd)
    assert ran == n, f"ran {ran} of {n} fireworks"
    return elapsed / n


def submit_cost(launchpad, repeats: int = 5) -> float:
    """Best of ``repeats`` additions of a one-firework workflow (each paused after, untimed)."""
    from fireworks import Firework, PyTask, Workflow

    times = []
    for _ in range(repeats):
        wf = Workflow([Firework(PyTask(func="time.sleep", args=[0]))], name="one")
        start = time.perf_counter()
        ids = launchpad.add_wf(wf)
        times.append(time.perf_counter() - start)
        for fw_id in ids.values():
            launchpad.pause_fw(fw_id)
    return min(times)


def mongomock_anchor(source):
    """Plain FireWorks LaunchPad on a fresh in-memory mongomock client holding ``source``'s documents."""
    import mongomock
    from fireworks import LaunchPad

    from phasefire.workflows.store import _launchpad_client

    with _launchpad_client(mongomock.MongoClient()):
        anchor = LaunchPad(name="bench", strm_lvl="ERROR")
    anchor.reset("", require_password=False)
    for name in ("fireworks", "launches", "workflows", "fw_id_assigner"):
        documents = [copy.deepcopy(doc) for doc in getattr(source, name).find({})]
        getattr(anchor, name).delete_many({})
        if documents:
            getattr(anchor, name).insert_many(documents)
    return anchor


def task_documents(n: int, formulas: int = 100) -> list[dict]:
    from pymatgen.core import Composition, Lattice, Structure

    structure = Structure(Lattice.cubic(5.9), ["Cs", "Pb", "Br", "Br", "Br"], [[0, 0, 0], [0.5] * 3, [0.5, 0.5, 0], [0.5, 0, 0.5], [0, 0.5, 0.5]]).as_dict()  # fmt: skip
    lattice = {key: 1.0 for key in ("a_A", "b_A", "c_A", "alpha_deg", "beta_deg", "gamma_deg", "volume_A3")}
    return [
        {
            "task_label": f"relax-{k}",
            "workflow": f"wf-{k % 500}",
            "formula_pretty": Composition(f"Cs{k % formulas + 1}PbBr3").reduced_formula,
            "chemsys": "Br-Cs-Pb",
            "nsites": 5,
            "input": {"structure": structure, "lattice": lattice, "settings": {"fmax": 0.01}},
            "output": {
                "structure": structure,
                "lattice": lattice,
                "energy_eV": -k * 1e-3,
                "stress_GPa": [[0.0] * 3] * 3,
            },
            "converged": True,
            "run_dir": f"/runs/wf-{k % 500}/relax-{k}",
            "files": {"trajectory": "relax.traj"},
        }
        for k in range(n)
    ]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[0, 500, 2000, 5000])
    parser.add_argument("--chain", type=int, default=50)
    parser.add_argument("--tasks", type=int, default=10_000)
    parser.add_argument("--repeats", type=int, default=3, help="chains per size (best is kept)")
    args = parser.parse_args()

    import fireworks.core.rocket
    from pymatgen.core import Composition

    from phasefire.workflows.database import ResultsDB
    from phasefire.workflows.store import EmbeddedLaunchPad

    fireworks.core.rocket.ROCKET_STREAM_LOGLEVEL = "CRITICAL"  # no per-firework log lines
    ping_errors = []  # FireWorks' ping thread vs the main thread on plain mongomock (not thread-safe)
    threading.excepthook = lambda hook: ping_errors.append(f"{hook.exc_type.__name__}: {hook.exc_value}")
    folder = Path(tempfile.mkdtemp(prefix="bench-store-"))
    launchpad = EmbeddedLaunchPad(folder / "launchpad.db")
    launchpad.reset("", require_password=False)
    run_chain(launchpad, 5)  # warm-up: imports, first launch folders
    run_chain(mongomock_anchor(launchpad), 5)

    def empty_store() -> EmbeddedLaunchPad:
        empty = EmbeddedLaunchPad(folder / f"empty-{time.monotonic_ns()}.db")
        empty.reset("", require_password=False)
        return empty

    rows = []
    filled = 0
    for size in sorted(args.sizes):
        with launchpad.transaction():  # pre-fill in one transaction (one SQLite write)
            for k in range(filled, size):
                add_paused(launchpad, paused_workflow(k))
        filled = max(filled, size)
        start = time.perf_counter()
        EmbeddedLaunchPad(folder / "launchpad.db")  # a new process's first open: loads the store
        load_s = time.perf_counter() - start
        chains, empties, submits, empty_submits = [], [], [], []
        for _ in range(args.repeats):  # interleaved with an empty store: load on a shared machine drifts
            chains.append(run_chain(launchpad, args.chain))
            empties.append(run_chain(empty_store(), args.chain))
            submits.append(submit_cost(launchpad))
            empty_submits.append(submit_cost(empty_store()))
        chain, empty, submit, empty_submit = min(chains), min(empties), min(submits), min(empty_submits)
        anchor = mongomock_anchor(launchpad)
        anchor_chain = run_chain(anchor, args.chain)
        anchor_submit = submit_cost(anchor)
        del anchor
        gc.collect()  # the anchor's copy of the store goes before the next size
        rows.append((size, chain, empty, submit, anchor_chain, anchor_submit, load_s, empty_submit))
        print(
            f"N={size:5d}: phasefire {chain * 1e3:6.1f} ms/fw (empty store now {empty * 1e3:5.1f}), submit "
            f"{submit * 1e3:5.2f} ms (empty store now {empty_submit * 1e3:5.2f}) | mongomock {anchor_chain * 1e3:7.1f} ms/fw, submit {anchor_submit * 1e3:6.1f} ms "
            f"| first open {load_s:.2f} s",
            flush=True,
        )
    base_chain, base_submit = rows[0][1], rows[0][3]
    print(
        "\n    N  phasefire ms/fw  x N=0  x empty-now  submit ms  x N=0  mongomock ms/fw  mongomock submit ms"
        "  phasefire/mongomock"
    )
    for size, chain, empty, submit, anchor_chain, anchor_submit, _, _ in rows:
        print(
            f"{size:5d}  {chain * 1e3:15.1f}  {chain / base_chain:5.2f}  {chain / empty:10.2f}  {submit * 1e3:9.1f}  "
            f"{submit / base_submit:5.2f}  {anchor_chain * 1e3:15.1f}  {anchor_submit * 1e3:19.1f}  "
            f"{chain / anchor_chain:19.2f}"
        )
    size, chain, empty, submit, anchor_chain, anchor_submit, _, empty_submit = rows[-1]
    print(
        f"targets at N={size}: chain {chain / base_chain:.2f}x N=0 and {chain / empty:.2f}x an empty store measured "
        f"alongside (<= 1.5); submit {submit / base_submit:.2f}x N=0 and {submit / empty_submit:.2f}x an empty store "
        f"alongside (<= 1.5); chain {chain / anchor_chain:.2f}x and "
        f"submit {submit / anchor_submit:.2f}x plain FireWorks on mongomock (< 1)"
    )

    if ping_errors:
        print(f"({len(ping_errors)} rocket ping threads failed, e.g. {ping_errors[0]})")

    results = ResultsDB(launchpad)
    documents = task_documents(args.tasks)
    with launchpad.transaction():
        for document in documents:
            results.insert(document)
    results.query(formula="Cs1PbBr3")  # warm-up: pymatgen's Composition parses its first formula slowly
    times = []
    for k in range(7):
        start = time.perf_counter()
        found = results.query(formula=f"Cs{k + 1}PbBr3")
        times.append(time.perf_counter() - start)
    assert len(found) == args.tasks // 100
    anchor = mongomock_anchor(launchpad)
    anchor_tasks = anchor.db["tasks"]
    anchor_tasks.insert_many([copy.deepcopy(d) for d in launchpad.db["tasks"].find({})])
    anchor_times = []
    for k in range(3):
        start = time.perf_counter()
        formula = Composition(f"Cs{k + 1}PbBr3").reduced_formula
        list(anchor_tasks.find({"formula_pretty": formula}, {"_id": 0}).sort("task_id", -1))
        anchor_times.append(time.perf_counter() - start)
    query, anchor_query = statistics.median(times), statistics.median(anchor_times)
    print(
        f"\ndb query --formula over {args.tasks} task documents ({len(found)} hits): {query * 1e3:.1f} ms "
        f"(target <= 50 ms); plain mongomock {anchor_query * 1e3:.1f} ms (ratio {query / anchor_query:.2f})"
    )


if __name__ == "__main__":
    main()
