"""What every language's generator shares: the seeded choices, the slots
operations fill, and the shape of a program (make things, then misuse
them), so that gen_python and gen_lua differ only in the operations they
write."""

import random

from .program import Program


class Generator:
    """Draws one program's operations from a seed. A subclass sets LANG,
    PRELUDE and EPILOGUE and supplies op_callback, op_server, op_create,
    op_connect and the weighted list of every operation kind."""

    LANG = None
    PRELUDE = EPILOGUE = ""
    weighted = []

    def __init__(self, seed):
        self.seed = seed
        self.r = random.Random(seed)
        self.made = set()  # the slots an operation so far fills

    def pick(self, seq):
        return self.r.choice(seq)

    def slot(self, pool):
        """A slot of a pool: mostly one an earlier operation filled."""
        made = [s for s in pool if s in self.made]
        if made and self.r.random() < 0.85:
            return self.pick(made)
        return self.pick(pool)

    def generate(self):
        """The program of this seed."""
        ops = []
        # Most programs first make the things they misuse, so that the
        # misuse reaches live handles rather than only empty slots.
        for _ in range(self.r.randint(1, 4)):
            ops.append(self.op_callback())
        if self.r.random() < 0.8:
            ops.append(self.op_server())
        for _ in range(self.r.randint(2, 6)):
            ops.append(self.op_create(valid=True))
        for _ in range(self.r.randint(0, 3)):
            ops.append(self.op_connect())
        for _ in range(self.r.randint(8, 34)):
            ops.append(self.pick(self.weighted)(self))
        # A few soak programs repeat enough for the RSS verdict (see runner).
        repeat = 30 if self.r.random() < 0.12 else self.r.randint(2, 5)
        program = Program(self.LANG, self.PRELUDE, tuple(ops), self.EPILOGUE,
                          ("progfuzz program: lang %s, seed %d" % (self.LANG, self.seed),))
        return program.with_repeat(repeat)
