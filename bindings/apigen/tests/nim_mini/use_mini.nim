# Uses the module nimgen generates from mini.i (found on the path), against
# mini.c: the types, constants, callbacks and keyword-named parameters of
# the generated code must work, not only compile.

import mini

when not defined(miniDynlib):
  {.compile: "mini.c".}

proc onText(counter: ptr Counter; text: ConstCstring; len: Ssize;
            arg: pointer) {.cdecl.} =
  cast[ptr seq[string]](arg)[].add($text & "/" & $len)

var seen: seq[string]
var counter: ptr Counter
doAssert init(addr counter, 5) == 0
doAssert init(nil, 5) == MINI_EINVAL
doAssert counter.get() == 5
doAssert counter.set(7) == 0 and counter.get() == 7
var texts = [ConstCstring("ab"), ConstCstring("cde")]
doAssert counter.addTexts(addr texts[0], 2, onText, addr seen) == 0
doAssert seen == @["ab/2", "cde/3"]
doAssert counter.get() == 12
doAssert $colorName(MINI_BLUE) == "blue" and MINI_BLUE == 5
var buf = newString(MINI_NAME_MAX)
doAssert name(cstring(buf), csize_t(buf.len), 0) == 0
doAssert $cstring(buf) == MINI_NAME
doAssert name(cstring(buf), csize_t(buf.len), `type` = 1) == MINI_EINVAL
doAssert MINI_ELAST == MINI_EOF - 1 and MINI_EINVAL == -22
close(counter)
echo "mini ok"
