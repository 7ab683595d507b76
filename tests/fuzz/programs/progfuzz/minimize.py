"""Shrinks a failing program to the few operations that still fail.

ddmin (Zeller and Hildebrandt's delta debugging) over the program's
operations, then over its count of repeats. A candidate "still fails" when
the test given says so; the CLI's test runs the candidate and compares its
verdict with the original's (and, with same_signature, the signature too).
Some failures are racy (threads), so a candidate that passes is run again
up to `tries` times before it is judged passing.
"""

from . import runner


def ddmin(items, fails):
    """A 1-minimal sublist of items for which fails(sublist) is true.

    fails(items) must be true. Tries removing chunks of halves, quarters, ...
    down to single items, keeping every removal after which it still fails.
    """
    items = list(items)
    n = 2
    while len(items) >= 2:
        chunk = max(1, len(items) // n)
        subsets = [items[i:i + chunk] for i in range(0, len(items), chunk)]
        reduced = False
        # First a subset alone, then each complement.
        for i, subset in enumerate(subsets):
            if len(subsets) > 2 and fails(subset):
                items, n, reduced = subset, 2, True
                break
            complement = [x for j, s in enumerate(subsets) if j != i for x in s]
            if fails(complement):
                items, n, reduced = complement, max(n - 1, 2), True
                break
        if not reduced:
            if n >= len(items):
                break
            n = min(len(items), n * 2)
    if len(items) == 1 and fails([]):
        return []
    return items


def make_test(original, timeout, tries=2, same_signature=False, log=None):
    """The predicate "this Program fails as original did"."""
    def still_fails(program):
        for _ in range(tries):
            result = runner.run_program(program, timeout=timeout)
            same = result.verdict == original.verdict and (
                not same_signature or result.signature == original.signature)
            if same:
                if log:
                    log("  %d ops, repeat %d: %s" % (len(program.ops), program.repeat,
                                                    result.verdict))
                return True
        return False
    return still_fails


def minimize(program, still_fails):
    """The smallest program ddmin finds that still fails: fewest
    operations, then fewest repeats."""
    ops = ddmin(program.ops, lambda ops: still_fails(program.with_ops(ops)))
    program = program.with_ops(ops)
    for repeat in (1, 2, 3, 5, 10):
        if repeat >= program.repeat:
            break
        candidate = program.with_repeat(repeat)
        if still_fails(candidate):
            program = candidate
            break
    return program
