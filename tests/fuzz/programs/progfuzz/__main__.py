"""The fuzzer's command line.

  python -m progfuzz fuzz --lang python|lua --seconds N [--jobs 2] [--out DIR] [--seed-start S]
  python -m progfuzz replay [--lang python|lua]
  python -m progfuzz minimize FILE [--out FILE] [--timeout S] [--same-signature]
  python -m progfuzz show --lang python|lua SEED
  python -m progfuzz show --file FILE

fuzz runs generated programs from --seed-start on until the time is up,
keeps every failing one in OUT/<verdict>/ with its output, and prints
seeds run, counts per verdict, the distinct causes, and last a line
"progfuzz-<lang>: N passed, N failed" (passed: verdict ok). replay runs the
kept regressions (regressions/<lang>/: cases, see cases.py), every one of
which must pass; it ends with "progfuzz-replay-<lang>: N passed, N failed"
per language. minimize writes a case, ready to keep as a regression.
Exit status: 0 if nothing failed, 1 otherwise.
"""

import argparse
import collections
import concurrent.futures
import os
import sys
import time

from . import LANGS, cases, gen_lua, gen_python, minimize, runner
from .program import SUFFIX

HERE = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
REGRESSIONS = os.path.join(HERE, "regressions")
GENERATORS = {"python": gen_python.generate, "lua": gen_lua.generate}


def lang_of(path):
    for lang, suffix in SUFFIX.items():
        if path.endswith(suffix):
            return lang
    raise SystemExit("progfuzz: cannot tell the language of %s" % path)


def cmd_fuzz(args):
    generate = GENERATORS[args.lang]
    seed = args.seed_start if args.seed_start is not None else int(time.time()) % 1000000 * 1000
    first = seed
    deadline = time.monotonic() + args.seconds
    counts = collections.Counter()
    causes = collections.OrderedDict()
    os.makedirs(args.out, exist_ok=True)

    def one(s):
        program = generate(s)
        return s, program, runner.run_program(program, timeout=args.timeout)

    with concurrent.futures.ThreadPoolExecutor(args.jobs) as pool:
        pending = set()
        while True:
            while len(pending) < args.jobs and time.monotonic() < deadline:
                pending.add(pool.submit(one, seed))
                seed += 1
            if not pending:
                break
            done, pending = concurrent.futures.wait(
                pending, return_when=concurrent.futures.FIRST_COMPLETED)
            for future in done:
                s, program, result = future.result()
                counts[result.verdict] += 1
                if result.failed:
                    keep(args.out, args.lang, s, program, result)
                    key = (result.verdict, result.signature)
                    causes.setdefault(key, []).append(s)
                    print("seed %d: %s %s" % (s, result.verdict, result.signature), flush=True)
    ran = sum(counts.values())
    print("progfuzz-%s: seeds %d..%d, %d programs in %ds" % (
        args.lang, first, first + ran - 1, ran, args.seconds))
    print("progfuzz-%s: verdicts %s" % (args.lang, ", ".join(
        "%s %d" % (v, counts[v]) for v in runner.VERDICTS if counts[v])))
    for (verdict, signature), seeds in causes.items():
        print("  %s x%d (seeds %s): %s" % (verdict, len(seeds),
                                            " ".join(map(str, seeds[:5])), signature))
    failed = ran - counts["ok"]
    print("progfuzz-%s: %d passed, %d failed" % (args.lang, counts["ok"], failed))
    return 1 if failed else 0


def keep(out, lang, seed, program, result):
    """Writes a failing program and its output under out/<verdict>/."""
    d = os.path.join(out, result.verdict)
    os.makedirs(d, exist_ok=True)
    base = os.path.join(d, "%s-%d" % (lang, seed))
    header = list(program.header) + ["verdict: %s: %s" % (result.verdict, result.signature)]
    with open(base + SUFFIX[lang], "w") as f:
        f.write(program.with_header(header).render())
    with open(base + ".out", "w") as f:
        f.write("exit %d, %.1fs\n---- stdout\n%s\n---- stderr\n%s" % (
            result.returncode, result.seconds, result.stdout[-20000:], result.stderr[-60000:]))


def regression_files(lang):
    d = os.path.join(REGRESSIONS, lang)
    if not os.path.isdir(d):
        return []
    return sorted(os.path.join(d, f) for f in os.listdir(d) if f.endswith(SUFFIX[lang]))


def cmd_replay(args):
    status = 0
    for lang in ([args.lang] if args.lang else LANGS):
        passed = failed = 0
        for path in regression_files(lang):
            with open(path) as f:
                program = cases.load(f.read(), lang)
            result = runner.run_program(program, timeout=args.timeout)
            name = os.path.relpath(path, HERE)
            if result.failed:
                failed += 1
                print("FAIL %s: %s %s" % (name, result.verdict, result.signature), flush=True)
                if args.verbose:
                    print(result.stderr[-4000:])
            else:
                passed += 1
                print("ok   %s (%.1fs)" % (name, result.seconds), flush=True)
        print("progfuzz-replay-%s: %d passed, %d failed" % (lang, passed, failed))
        status |= 1 if failed else 0
    return status


def cmd_minimize(args):
    lang = lang_of(args.file)
    with open(args.file) as f:
        program = cases.load(f.read(), lang)
    original = runner.run_program(program, timeout=args.timeout)
    print("original: %d ops, repeat %d: %s %s" % (len(program.ops), program.repeat,
                                                  original.verdict, original.signature))
    if not original.failed:
        print("progfuzz: the program passes; nothing to minimize")
        return 1
    test = minimize.make_test(original, args.timeout, args.tries, args.same_signature,
                              log=print)
    small = minimize.minimize(program, test)
    final = runner.run_program(small, timeout=args.timeout)
    header = list(program.header) + [
        "minimized from %d ops: %s %s" % (len(program.ops), final.verdict, final.signature)]
    out = args.out or args.file.replace(SUFFIX[lang], ".min" + SUFFIX[lang])
    with open(out, "w") as f:
        f.write(cases.render_case(small.with_header(header)))
    print("minimized: %d ops, repeat %d: %s %s -> %s" % (
        len(small.ops), small.repeat, final.verdict, final.signature, out))
    return 0


def cmd_show(args):
    if args.file is not None:
        with open(args.file) as f:
            sys.stdout.write(cases.load(f.read(), lang_of(args.file)).render())
    else:
        sys.stdout.write(GENERATORS[args.lang](args.seed).render())
    return 0


def main(argv=None):
    parser = argparse.ArgumentParser(prog="progfuzz", description=__doc__.split("\n")[0])
    sub = parser.add_subparsers(dest="command", required=True)
    p = sub.add_parser("fuzz", help="run generated programs for a time")
    p.add_argument("--lang", choices=LANGS, required=True)
    p.add_argument("--seconds", type=int, default=60)
    p.add_argument("--jobs", type=int, default=2)
    p.add_argument("--out", default=os.path.join(HERE, "..", "..", "..", "_build", "progfuzz", "out"))
    p.add_argument("--seed-start", type=int)
    p.add_argument("--timeout", type=float, default=20.0, help="per program (s)")
    p.set_defaults(func=cmd_fuzz)
    p = sub.add_parser("replay", help="run every kept regression")
    p.add_argument("--lang", choices=LANGS)
    p.add_argument("--timeout", type=float, default=30.0)
    p.add_argument("-v", "--verbose", action="store_true")
    p.set_defaults(func=cmd_replay)
    p = sub.add_parser("minimize", help="shrink a failing program")
    p.add_argument("file")
    p.add_argument("--out")
    p.add_argument("--timeout", type=float, default=10.0)
    p.add_argument("--tries", type=int, default=2)
    p.add_argument("--same-signature", action="store_true")
    p.set_defaults(func=cmd_minimize)
    p = sub.add_parser("show", help="print the program of a seed, or of a case file")
    p.add_argument("--lang", choices=LANGS)
    p.add_argument("seed", type=int, nargs="?")
    p.add_argument("--file")
    p.set_defaults(func=cmd_show)
    args = parser.parse_args(argv)
    return args.func(args)


if __name__ == "__main__":
    sys.exit(main())
