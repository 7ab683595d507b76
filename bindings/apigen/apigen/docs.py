"""The one parser of a C header's documentation comments.

flatuv.h documents its API in plain C comments (not /** */, so SWIG's
-doxygen cannot read them). Every binding reads them here, so the Python
docstrings and the Nim doc comments say the same thing. The rules:

  - A comment documents the declarations that follow it without a blank
    line in between, so one comment covers a group (a getter and its
    setter); a blank line ends its reach.
  - Inside braces (an enum body) a comment documents the next item only,
    and a comment above `typedef enum {` documents the enum's name, which C
    gives only at the closing `}`. A comment at the end of a line documents
    what the line declares when nothing above does.
  - A comment standing alone (a blank line after it) that is prose (more
    than one line, or a sentence ending in ".") is a note of its section: it
    covers every function declared after it, up to the next section banner
    (a divider comment such as /* ---- */) or the next such note. One-line
    titles without a full stop (the banners' names) are not notes.
  - A function that takes a callback typedef also gets the typedef's note,
    after its own text and its section's note.
  - The header's first comment, before any code, documents the module.
  - Enum items of an X-macro table, which never appear literally, take the
    string of their row: XX(EOF, -4095, "end of file") documents FUV_EOF.

A declaration is found by the first time its name occurs outside comments,
since C declares before it uses. Names come from the caller (nimgen passes
every name SWIG reported) or, when not given, are the functions and
callback typedefs the header declares.
"""

import re

_IDENT = re.compile(r"[A-Za-z_]\w*")
# A brace that opens the body of a type, as opposed to extern "C" {.
_OPENS_TYPE_BODY = re.compile(r"\b(enum|struct|union)\b")
_XMACRO_ROW = re.compile(r'^\s*\w+\(\s*(\w+)\s*,.*"((?:[^"\\]|\\.)*)"\s*\)', re.M)
_CALLBACK_DECL = re.compile(r"^typedef\b[^;]*?\(\s*\*\s*(\w+)\s*\)\s*\(")
_FUNCTION_DECL = re.compile(r"^(?!typedef\b)[\w\s*]*?\b(\w+)\s*\(")
# The export macro (FUV_EXTERN, MINI_EXTERN) or `extern` that a prototype
# shown to users leaves out.
_EXTERN = re.compile(r"^(?:[A-Z][A-Z0-9_]*EXTERN|extern)\s+")
# extern "C" {, as the scanner leaves it (string contents removed).
_EXTERN_C = re.compile(r'^extern\s*""\s*\{$')


def _scan_lines(text):
    """Splits C text into lines of (code, comments, inside_comment).

    code has comments and string contents removed; comments holds the text
    of each comment that starts on the line; inside_comment is true for a
    line that begins inside a comment started on an earlier line.
    """
    lines = []
    code, comments = [], []
    i, n = 0, len(text)
    continuation = False
    while i < n:
        ch = text[i]
        if text.startswith("/*", i):
            end = text.find("*/", i + 2)
            end = n if end < 0 else end
            comments.append(text[i + 2:end])
            # A comment spanning lines: the lines after its first are
            # comment-only; flush them as such.
            for _ in range(text.count("\n", i, end)):
                lines.append(("".join(code), comments, continuation))
                code, comments, continuation = [], [], True
            i = end + 2
            continue
        if text.startswith("//", i):
            end = text.find("\n", i)
            end = n if end < 0 else end
            comments.append(text[i + 2:end])
            i = end
            continue
        if ch == '"':
            j = i + 1
            while j < n and text[j] != '"':
                j += 2 if text[j] == "\\" else 1
            code.append('""')
            i = j + 1
            continue
        if ch == "\n":
            lines.append(("".join(code), comments, continuation))
            code, comments, continuation = [], [], False
            i += 1
            continue
        code.append(ch)
        i += 1
    lines.append(("".join(code), comments, continuation))
    return lines


def clean_comment(raw):
    """Turns the inside of a /* */ comment into plain text lines, or None
    for a divider (a banner line with no prose)."""
    lines = raw.split("\n")
    lines[0] = lines[0].lstrip()  # the text after "/*" on the first line
    out = []
    for line in lines:
        line = line.rstrip()
        stripped = line.lstrip()
        if stripped.startswith("*"):
            stripped = stripped[1:]
            if stripped.startswith(" "):
                stripped = stripped[1:]
            line = stripped
        out.append(line)
    # Dedent what is left, then trim blank lines at both ends.
    indents = [len(l) - len(l.lstrip()) for l in out if l.strip()]
    cut = min(indents) if indents else 0
    out = [l[cut:] for l in out]
    while out and not out[0].strip():
        out.pop(0)
    while out and not out[-1].strip():
        out.pop()
    text = "\n".join(out)
    if re.fullmatch(r"[\s\-=*#/]*", text):
        return None
    return text


def _is_section_note(text):
    """Whether a stand-alone comment is a section's note rather than a
    title: titles are one short line without a full stop."""
    return "\n" in text or text.endswith(".")


def header_names(text):
    """The functions and callback typedefs a header declares, in order."""
    names = []
    for stmt in _statements(_scan_lines(text)):
        match = _CALLBACK_DECL.match(stmt) or _FUNCTION_DECL.match(stmt)
        if match and match.group(1) not in names:
            names.append(match.group(1))
    return names


def _statements(lines):
    """Yields the header's top-level statements (code up to a `;`, with
    whitespace normalized), leaving out preprocessor lines."""
    stmt = []
    macro = False  # inside a #define continued with backslashes
    for code, _, _ in lines:
        stripped = code.strip()
        if macro or stripped.startswith("#"):
            macro = code.rstrip().endswith("\\")
            continue
        if not stripped:
            continue
        if not stmt and (stripped == "}" or _EXTERN_C.match(stripped)):
            continue  # extern "C" { ... } wraps declarations, is none
        stmt.append(stripped)
        if ";" in stripped and stripped.count("{") <= stripped.count("}"):
            joined = " ".join(" ".join(stmt).split())
            if joined.count("{") == joined.count("}"):
                yield joined
                stmt = []


class Declaration:
    """What the header says about one name.

    kind is "function", "callback" or "other"; text is the comment written
    for it; section the note of the section it is declared in (functions
    only); prototype, for functions and callbacks, the C declaration as
    users read it (no export macro); callbacks the callback typedefs a
    function takes.
    """

    def __init__(self, name):
        self.name = name
        self.kind = "other"
        self.text = None
        self.section = None
        self.prototype = None
        self.callbacks = []


class DocIndex:
    """The documentation of every declaration of one or more headers."""

    def __init__(self, prefix=""):
        self.decls = {}
        self.module_doc = None
        self.prefix = prefix.upper()

    # -- reading ----------------------------------------------------------

    def add_header(self, path, names=None):
        with open(path, encoding="utf-8") as f:
            self.add_text(f.read(), names)
        return self

    def add_text(self, text, names=None):
        lines = _scan_lines(text)
        if names is None:
            names = header_names(text)
        names = set(names)
        seen = set()
        pending = brace_doc = section = None
        standing = False  # pending is on lines of its own, no code since
        depth = 0  # brace nesting: inside an enum a comment documents one item
        saw_code = False
        for code, comments, inside_comment in lines:
            if inside_comment and not code.strip():
                continue  # a line of a comment that started above
            texts = [clean_comment(c) for c in comments]
            if not code.strip():
                if not comments:
                    # A blank line ends a comment's reach; a comment that
                    # stood alone before it is its section's note.
                    if standing and depth == 0 and _is_section_note(pending):
                        section = pending
                    pending, standing = None, False
                elif None in texts and not any(texts):
                    section = pending = None  # a banner starts a section
                    standing = False
                else:
                    texts = [t for t in texts if t]
                    if not saw_code and self.module_doc is None:
                        self.module_doc = texts[0]
                        texts = texts[1:]
                    if texts:
                        pending, standing = texts[-1], True
                continue
            saw_code = True
            standing = False
            texts = [t for t in texts if t]
            trailing = texts[-1] if texts else None
            declared = [tok for tok in _IDENT.findall(code)
                        if tok in names and tok not in seen]
            if "}" in code and depth > 0:
                # The name after the closing brace belongs to the comment
                # above the opening one, not to the last item's.
                for tok in declared:
                    self._set(tok, brace_doc or trailing, None)
                brace_doc = pending = None
                depth = max(0, depth - code.count("}"))
                seen.update(declared)
                continue
            for tok in declared:
                self._set(tok, pending or trailing, section if depth == 0 else None)
            seen.update(declared)
            if "{" in code and _OPENS_TYPE_BODY.search(code):
                brace_doc, pending = pending, None
                depth += code.count("{")
            elif depth > 0 and declared:
                pending = None
        self._classify(lines)
        self._document_xmacro_items(text, names)

    def _classify(self, lines):
        """Marks functions and callback typedefs, with their prototypes and
        the callbacks each function takes."""
        callbacks = []
        for stmt in _statements(lines):
            match = _CALLBACK_DECL.match(stmt)
            kind = "callback"
            if not match:
                match, kind = _FUNCTION_DECL.match(stmt), "function"
            if not match or match.group(1) not in self.decls:
                continue
            decl = self.decls[match.group(1)]
            if decl.prototype is not None:
                continue
            decl.kind = kind
            if kind == "callback":
                decl.prototype = stmt
                callbacks.append(decl.name)
            else:
                # As C programmers write it: "const char *f(void)".
                decl.prototype = _EXTERN.sub("", stmt).rstrip(";").strip()
                decl.prototype = decl.prototype.replace("* ", "*")
        for decl in self.decls.values():
            if decl.kind == "function":
                decl.callbacks = [cb for cb in callbacks
                                  if re.search(r"\b%s\b" % cb, decl.prototype)]
            else:
                decl.section = None  # section notes are about functions

    def _document_xmacro_items(self, text, names):
        xmacro_rows = {}
        for match in _XMACRO_ROW.finditer(text):
            xmacro_rows[match.group(1)] = match.group(2)
        for name in names:
            if name in self.decls and self.decls[name].text:
                continue
            row = name[len(self.prefix):] if name.startswith(self.prefix) else None
            if row in xmacro_rows:
                self._set(name, xmacro_rows[row], None)

    def _set(self, name, text, section):
        decl = self.decls.get(name)
        if decl is None:
            decl = self.decls[name] = Declaration(name)
        elif decl.text or decl.section:
            return  # the first declaration documents a name
        decl.text, decl.section = text, section

    # -- asking -----------------------------------------------------------

    def functions(self):
        """The documented and undocumented functions, in header order."""
        return [d for d in self.decls.values() if d.kind == "function"]

    def parts(self, name):
        """The paragraphs documenting name: its own text, its section's
        note, and for each callback typedef it takes "Callback <typedef>"
        with the typedef's note."""
        decl = self.decls.get(name)
        if decl is None:
            return []
        out = [p for p in (decl.text, decl.section) if p]
        for cb in decl.callbacks:
            cdecl = self.decls[cb]
            note = "Callback " + cdecl.prototype
            if cdecl.text:
                note += "\n" + cdecl.text
            out.append(note)
        return out

    def get(self, name):
        """The whole documentation of name, or None."""
        return "\n\n".join(self.parts(name)) or None


def parse_header(path, names=None, prefix=""):
    """The DocIndex of one header."""
    return DocIndex(prefix).add_header(path, names)
