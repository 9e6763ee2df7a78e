#!/usr/bin/env python3
"""encoding_corpus.py - the inputs of encoding_fidelity.sh and its check of a
rejects file against psql's errors.

gen: writes a CSV or text-format input in a single-byte encoding (every byte
the encoding maps, in text, varchar, char and jsonb columns, the characters
ERP exports carry, quoted and escaped fields, values the types refuse, and a
record for each byte the encoding leaves without a character), the same
records one per file for psql's \\copy, and each record's bytes.

check: compares the records a rejects file holds, with their messages and raw
bytes, with the records psql's \\copy refused (one \\copy per record, so the
script's line number is the record number).
"""
import argparse
import json
import os
import re
import sys

# PostgreSQL's names of the encodings the corpus is written in, and Python's.
CODECS = {"LATIN1": "latin_1", "LATIN9": "iso8859_15", "WIN1252": "cp1252", "WIN1250": "cp1250"}


class Raw(bytes):
    """A text-format field written as it is: its escapes are the test."""


def mapped(codec, b):
    try:
        bytes([b]).decode(codec)
        return True
    except UnicodeDecodeError:
        return False


def records(enc, fmt):
    """The records' fields after the id: name, note varchar(20), city
    char(6), amount numeric(10,2), j jsonb; None is NULL."""
    codec = CODECS[enc]

    def s(text):
        return text.encode(codec)

    out = []
    # ü, é, €, Œ and their neighbours, where the encoding has them.
    for name, note, city in [("Müller", "José", "Köln"), ("€ 5", "Œuvre", "Zürich"), ("Ærø", "Straße", "Århus"),
                             ("Łódź", "Příliš", "Brno"), ("œuf", "Šťastný", "Ÿ")]:
        try:
            f = [s(name), s(note), s(city)]
        except UnicodeEncodeError:
            continue
        out.append(f + [b"12.50", b'{"k": "' + f[0] + b'", "' + f[1] + b'": [1]}'])
    # Every byte with a character, in every kind of column.
    for b in range(0x80, 0x100):
        if mapped(codec, b):
            c = bytes([b])
            out.append([b"x" + c + b"y", c * 3, c, b"0.5", b'{"b": "' + c + b'"}'])
    # Quotes, delimiters and a line break around converted characters;
    # lengths counted in characters, not bytes.
    out.append([s('a, "ü" é') + b"\n" + s("zweite Zeile"), s("é") * 20, None, None, b"[1, 2]"])
    out.append([s("Ümlaut\tTab"), s("ü"), s("ÜÜÜÜÜÜ"), None, None])
    out.append([s("lang"), s("é") * 21, None, None, None])
    out.append([s("breit"), None, s("Ü") * 7, None, None])
    out.append([s("betrag"), None, None, b"1" + s("é"), None])
    out.append([s("json"), None, None, None, b'{"' + s("é") + b'": ' + s("ü") + b"}"])
    # Text-format escapes make bytes of the server's encoding (UTF-8).
    if fmt == "text":
        out.append([Raw(rb"\303\251 und \x41"), Raw(b"\\" + s("é")), None, None, None])
        out.append([s("esc"), Raw(rb"\xe9"), None, None, None])
    # Bytes the encoding leaves without a character.
    for b in range(0x80, 0x100):
        if not mapped(codec, b):
            out.append([b"bad" + bytes([b]), s("é"), None, None, None])
    return out


def csv_field(f):
    if f is None:
        return b""
    if f == b"" or any(ch in f for ch in (b",", b'"', b"\n", b"\r")):
        return b'"' + f.replace(b'"', b'""') + b'"'
    return f


def text_field(f):
    if f is None:
        return b"\\N"
    if isinstance(f, Raw):
        return bytes(f)
    return f.replace(b"\\", b"\\\\").replace(b"\t", b"\\t").replace(b"\n", b"\\n").replace(b"\r", b"\\r")


def gen(args):
    codec = CODECS[args.encoding]
    header = b"id," + "größe".encode(codec) + b",note,city,amount,j\n"
    os.makedirs(os.path.join(args.out, "split"), exist_ok=True)
    raws = {}
    with open(os.path.join(args.out, "input." + args.format), "wb") as whole:
        if args.format == "csv":
            whole.write(header)
        for k, fields in enumerate(records(args.encoding, args.format), 1):
            if args.format == "csv":
                rec = b",".join([str(k).encode()] + [csv_field(f) for f in fields])
            else:
                rec = b"\t".join([str(k).encode()] + [text_field(f) for f in fields])
            raws[k] = rec.hex()
            whole.write(rec + b"\n")
            with open(os.path.join(args.out, "split", "r%04d" % k), "wb") as one:
                if args.format == "csv":
                    one.write(header)
                one.write(rec + b"\n")
    with open(os.path.join(args.out, "raw.json"), "w") as f:
        json.dump(raws, f)
    print(len(raws))


def raw_bytes(line):
    """The bytes of a reject line's "raw": \\u00XX is the byte XX (what
    io/rejects.c writes for control and invalid bytes), others as written."""
    i = line.index(b'"raw":"') + 7
    simple = {ord('"'): 0x22, ord("\\"): 0x5C, ord("/"): 0x2F, ord("b"): 8, ord("f"): 12, ord("n"): 10,
              ord("r"): 13, ord("t"): 9}
    out = bytearray()
    while line[i] != 0x22:
        if line[i] == 0x5C:
            if line[i + 1] == ord("u"):
                out.append(int(line[i + 2:i + 6], 16))
                i += 6
            else:
                out.append(simple[line[i + 1]])
                i += 2
        else:
            out.append(line[i])
            i += 1
    return bytes(out)


def check(args):
    codec = CODECS[args.encoding]
    expected = {}
    with open(args.oracle_err, "rb") as f:
        for line in f:
            m = re.match(rb"^psql:.*?:(\d+): ERROR:  (.*)$", line.rstrip(b"\n"))
            if m:
                # psql prints the server's message in the client encoding.
                expected[int(m.group(1))] = m.group(2).decode(codec)
    with open(args.raw) as f:
        raws = {int(k): bytes.fromhex(v) for k, v in json.load(f).items()}
    got, problems = {}, []
    if os.path.exists(args.rejects):
        with open(args.rejects, "rb") as f:
            for line in f:
                obj = json.loads(line)
                got[obj["record"]] = obj["message"]
                if raw_bytes(line) != raws.get(obj["record"]):
                    problems.append("record %d: raw %r, input %r" % (obj["record"], raw_bytes(line),
                                                                     raws.get(obj["record"])))
    for k in sorted(set(expected) | set(got)):
        if expected.get(k) != got.get(k):
            problems.append("record %d: psql: %r, edonu-ingest: %r" % (k, expected.get(k), got.get(k)))
    for p in problems[:20]:
        print(p, file=sys.stderr)
    if problems:
        sys.exit(1)
    print(len(got))


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    sub = ap.add_subparsers(dest="cmd", required=True)
    g = sub.add_parser("gen")
    g.add_argument("--encoding", required=True, choices=sorted(CODECS))
    g.add_argument("--format", required=True, choices=["csv", "text"])
    g.add_argument("--out", required=True)
    c = sub.add_parser("check")
    c.add_argument("--encoding", required=True, choices=sorted(CODECS))
    c.add_argument("--rejects", required=True)
    c.add_argument("--oracle-err", required=True)
    c.add_argument("--raw", required=True)
    args = ap.parse_args()
    gen(args) if args.cmd == "gen" else check(args)


if __name__ == "__main__":
    main()
