#!/usr/bin/env python3
"""gen_ndjson.py - writes the NDJSON fidelity corpus: tricky lines, one type
case or NDJSON rule per line, for the table fid of gen_corpus.py, that
PostgreSQL's json_populate_record(null::fid, line) maps or refuses; the
integration test compares edonu-ingest against it.

Usage:
  gen_ndjson.py [-o FILE]        # the corpus (corpus.ndjson in this directory)
  gen_ndjson.py --oracle FILE    # SQL: one INSERT ... json_populate_record per record
  gen_ndjson.py --count          # records (lines that are not blank)

Everything is deterministic.
"""

import argparse
import json
import os
import random
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import gen_corpus  # noqa: E402  (the values per type and the fid table)

COLS = gen_corpus.COLS
BLANK = b" \t\r\n"


def jstr(v, ascii_only=False):
    """A JSON string for a value: str through json.dumps, bytes (invalid
    UTF-8 on purpose) with only what JSON must escape escaped."""
    if isinstance(v, bytes):
        out = b'"'
        for c in v:
            if c == 0x22 or c == 0x5C:
                out += b"\\" + bytes([c])
            elif c < 0x20:
                out += b"\\u%04x" % c
            else:
                out += bytes([c])
        return out + b'"'
    return json.dumps(v, ensure_ascii=ascii_only).encode("utf-8")


def obj(pairs):
    """An object from (key, raw JSON bytes) pairs, in order, duplicates kept."""
    return b"{" + b",".join(jstr(k) + b":" + v for k, v in pairs) + b"}"


def is_json_number(v):
    if not isinstance(v, str):
        return False
    import re
    return re.fullmatch(r"-?(0|[1-9][0-9]*)(\.[0-9]+)?([eE][+-]?[0-9]+)?", v) is not None


def records():
    rng = random.Random(20240301)
    recs = []

    def nid():
        return str(len([r for r in recs if r.strip(BLANK)]) + 1).encode()

    def rec(pairs):
        recs.append(obj([("id", nid())] + pairs))

    # Whole rows: every column set, numbers sometimes as JSON numbers,
    # strings sometimes with \u escapes, NULLs as null or a missing key.
    for row in gen_corpus.full_rows(rng, 40):
        pairs = []
        for col, v in zip(COLS[1:], row[1:]):
            if v is None:
                if rng.random() < 0.5:
                    pairs.append((col, b"null"))
                continue
            if col in ("j", "jb") and rng.random() < 0.5:
                pairs.append((col, v.encode()))  # nested, not a string
            elif is_json_number(v) and rng.random() < 0.5:
                pairs.append((col, v.encode()))
            else:
                pairs.append((col, jstr(v, rng.random() < 0.3)))
        rng.shuffle(pairs)
        rec(pairs)

    # Every type case as a JSON string, and as a raw JSON value where it is
    # one (numbers; json values nested as they are).
    for col, values in gen_corpus.TYPE_CASES:
        for i, v in enumerate(values):
            rec([(col, jstr(v, i % 2 == 1))])
            if col in ("j", "jb") and isinstance(v, str) and v.strip():
                try:
                    json.loads(v)
                    rec([(col, v.encode())])
                except ValueError:
                    pass
            elif is_json_number(v):
                rec([(col, v.encode())])
    # true and false into every column: text input of "true"/"false".
    for col in COLS[1:]:
        rec([(col, b"true")])
        rec([(col, b"false")])
    # Nested values into every column: their JSON text as written.
    for col in COLS[1:]:
        rec([(col, b'[1, 2,"x"]')])
        rec([(col, b'{"k" : {"n":[true,null]}}')])
    # null and missing keys.
    for col in COLS[1:]:
        rec([(col, b"null")])
    rec([])
    recs.append(b"{}")  # no id either: a row of NULLs

    # Keys: exact and case-sensitive, escaped, unknown, duplicated, long.
    rec([("T", b'"upper key is unknown"'), ("Id", b"5")])
    recs.append(b'{"\\u0069d":' + nid() + b',"\\u0074":"escaped keys"}')
    rec([("t", b'"first"'), ("t", b'"second wins"')])
    rec([("t", b'"first"'), ("t", b"null")])
    rec([("t", b"null"), ("t", b'"after null"')])
    rec([("i4", b"1"), ("i4", b'"x"')])
    rec([("i4", b'"x"'), ("i4", b"2")])
    rec([("unknown", b"1"), ("other", b'{"t":"nested key"}'), ("t", b'"known"')])
    rec([("k" * 63, b"1"), ("k" * 64, b"2"), ("t", b'"long keys"')])
    rec([("", b"0"), ("t", b'"empty key"')])
    rec([(" t", b'"spaced key"')])
    # Strings and escapes.
    for s in [b'"\\n\\t\\"\\\\\\/\\b\\f\\r"', b'"\\u00e9\\u00E9"', b'"\\ud83d\\ude00"',
              b'"\\uD83D\\uDE00 upper"', b'"\\u0041\\u007f\\u0080\\uffff"', b'"\\u001f ctl"',
              b'"\\u0000"', b'"a\\u0000b"', b'"\\ud83d"', b'"\\ude00"', b'"\\ud83d\\u0041"',
              b'"\\ud83dx"', b'"\\ud83d\\ud83d"', b'"\\u12"', b'"\\x41"', b'"\\q"',
              b'"raw\ttab"', b'"\xc3\xa9 raw"', b'"bad \xff byte"', b'"\xed\xa0\x80"']:
        rec([("t", s)])
        rec([("j", s)])
        rec([("jb", s)])
    # Errors outside the mapped columns still count.
    rec([("unknown", b'"\\u0000"')])
    rec([("unknown", b'["\\ud83d"]')])
    recs.append(b'{"\\u0000":1}')
    # Not an object, or not JSON.
    for line in [b"1", b"-0", b"null", b"true", b'"string"', b"[]", b'[{"id":1}]', b'[1,"\\u0000"]',
                 b'"\\u0000"', b'{"id":1}x', b'{"id":1}{"id":2}', b'{"id":1,}', b"{id:1}",
                 b"{'id':1}", b'{"id":01}', b'{"id":1', b'{"id":[1}', b'{"id" 1}', b"{,}",
                 b'{"id":NaN}', b'{"id":tru}', b'{"id":1} // comment', b"\xef\xbb\xbf{}",
                 b'{"id":"\\u0000", "t":[}', b'{"t":"nul\x00byte"}', b"\x0c{}"]:
        recs.append(line)
    # White space: blank lines are not records; JSON white space around
    # tokens is fine, CR before the LF too.
    recs.append(b"")
    recs.append(b"   \t ")
    recs.append(b"\r")
    recs.append(b" { \"id\" :\t" + nid() + b" , \"t\" : \"spaced\" } \t")
    recs.append(b'{"id":' + nid() + b',"t":"crlf"}\r')
    recs.append(b"")
    # Deep nesting, within what the server takes.
    rec([("j", b"[" * 200 + b"]" * 200), ("t", b'{"a":' * 100 + b"1" + b"}" * 100)])
    # Whole rows again after all that.
    for row in gen_corpus.full_rows(rng, 10):
        pairs = [(col, jstr(v)) for col, v in zip(COLS[1:], row[1:]) if v is not None]
        rec(pairs)
    recs.append(b"   ")  # a blank last line
    return recs


def sql_literal(line):
    """An E'' literal holding the line's bytes: the server checks their
    encoding as it checks a record's."""
    out = "E'"
    for c in line:
        if c == 0x27 or c == 0x5C or c < 0x20 or c >= 0x80:
            out += "\\x%02x" % c
        else:
            out += chr(c)
    return out + "'"


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("-o", "--output", default="-")
    ap.add_argument("--oracle", metavar="FILE", help="write the oracle's SQL script")
    ap.add_argument("--count", action="store_true", help="print the number of records")
    args = ap.parse_args()
    recs = records()
    real = [r for r in recs if r.strip(BLANK)]
    if args.count:
        print(len(real))
        return 0
    if args.oracle:
        with open(args.oracle, "w") as f:
            for r in real:
                f.write("INSERT INTO fid_pg SELECT * FROM json_populate_record(null::fid, %s::json);\n"
                        % sql_literal(r))
        return 0
    data = b"".join(r + b"\n" for r in recs)
    if args.output == "-":
        sys.stdout.buffer.write(data)
    else:
        with open(args.output, "wb") as f:
            f.write(data)
    return 0


if __name__ == "__main__":
    sys.exit(main())
