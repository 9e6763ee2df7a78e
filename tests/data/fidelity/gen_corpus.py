#!/usr/bin/env python3
"""gen_corpus.py - writes the fidelity corpora: tricky records, one type case
or CSV/text-format case per record, that PostgreSQL's own COPY accepts or
refuses; the integration tests compare edonu-ingest against COPY on them.

Usage:
  gen_corpus.py [--format csv|text] [--eol lf|crlf] [--bom] [-o FILE]
  gen_corpus.py ... --split DIR   # one file per record (header + record)

corpus.csv and corpus.txt in this directory are the default outputs
(`gen_corpus.py -o corpus.csv`, `gen_corpus.py --format text -o corpus.txt`);
the tests check that they are up to date.  Everything is deterministic.
"""

import argparse
import os
import random
import sys

TABLE_DDL = """CREATE TABLE fid (
    id integer, i2 smallint, i4 integer, i8 bigint, f4 real,
    f8 double precision, n numeric, n52 numeric(5,2), b boolean, t text,
    vc varchar(5), c4 char(4), d date, ts timestamp, tz timestamptz, u uuid,
    j json, jb jsonb, by bytea)"""

COLS = ["id", "i2", "i4", "i8", "f4", "f8", "n", "n52", "b", "t", "vc", "c4",
        "d", "ts", "tz", "u", "j", "jb", "by"]

# ---------------------------------------------------------------------------
# Values per column, as the text a user would put in the field before any
# CSV quoting (str, or bytes for invalid encodings).  Each becomes one record
# with that column set and all others NULL.

INT2 = ["0", "32767", "-32768", "32768", "-32769", " 42", "42 ", "  -12  ",
        "+7", "-0", "+0", "00012", "1.0", "1e2", "abc", "", "0x10", "1_000",
        "- 1", "+-1", "\t5", "99999999999999999999", "٣"]
INT4 = ["2147483647", "-2147483648", "2147483648", "-2147483649", " +5 ",
        "1e3", "0", "-0", "2147483647 ", "\t-2147483648\t", "12a", "٣",
        "0000000000000000000001", "0o17", "0b101", "1 2"]
INT8 = ["9223372036854775807", "-9223372036854775808",
        "9223372036854775808", "-9223372036854775809", " 1 ", "+0",
        "-9223372036854775807", "18446744073709551616", "1.5", "0x7f",
        "  +9223372036854775807"]
FLOAT4 = ["NaN", "nan", "NAN", "Infinity", "-Infinity", "inf", "-inf", "+inf",
          "infinity", "+Infinity", " Infinity ", "-0", "0", "-0.0", "1e-320",
          "1e-40", "1e-45", "1e-46", "1.4e-45", "3.4028235e38",
          "3.4028236e38", "3.40282357e38", "3.5e38", "1e39", "1e400", "-1e400",
          "0.1", "16777217", "1.17549435e-38", " 1.5 ", "1.5e", ".5", "5.",
          "-.5e-3", "1e+2", "0x1p3", "3.14159265358979323846264338327950288",
          "1.000000059604644775390625", "1.0000000596046448",
          "123456789012345678901234567890", "Inf", "infinit", "1,5", "",
          "- 1", "1e", "e1"]
FLOAT8 = ["NaN", "-Infinity", "Infinity", "-0", "  -0.0  ", "1e-320",
          "4.9e-324", "2.5e-324", "2e-324", "1e-400", "1e308",
          "1.7976931348623157e308", "1.7976931348623158e308",
          "1.7976931348623159e308", "1e400", "0.1", "1e23",
          "9007199254740993", "2.2250738585072011e-308",
          "2.2250738585072014e-308", "Infinityx", "0.30000000000000004",
          "3.141592653589793238462643383279502884197169399375105820974944",
          "1.00000000000000011102230246251565404236316680908203125",
          "00000000000000000000000000000000000000000000000001.5",
          "-1e-5", "1E5", "+.1", "nan ", "\t1", "0x10", "1e-",
          "1" + "0" * 400, "0." + "0" * 330 + "1"]
NUMERIC = ["0", "-0", "1e3", "1E-3", " 12.5 ", "+.5", "NaN", "nan", " NaN ",
           "Infinity", "-inf", "+Infinity", "1e1000", "1e131072",
           "1e-16383", "1e-16384",
           "0.000000000000000000000000000001",
           "123456789012345678901234567890.123456789",
           "1.", ".", "1e", "1,5", "0x1A", "1.50", "1.500000000000000000000",
           "-000012.3400", "1e+05", "1e-0", "12e", "1 2", "--1",
           "9" * 1000 + ".5", "1" * 131072, "1" * 131073]
NUM52 = ["1.005", "1.004", "-1.005", "2.675", "0.125", "-0.125", "0.005",
         "0.0049999", "0.0050000", "999.99", "999.994", "999.995",
         "-999.995", "-999.994", "1000", "999.9949999999", "1e2", "12.3e-1",
         "9.995e2", "NaN", "Infinity", "-Infinity", "  5  ", "-0.001",
         "-0.005", "0.015", "0.025", "123.455", "123.445", "5e-3", "5e-4",
         "1e3", "  +12.345  ", ".", "abc"]
BOOL = ["t", "f", "true", "false", "TRUE", "False", "tRuE", "yes", "no", "YES",
        "y", "n", "on", "off", "ON", "of", "o", "1", "0", "  true  ", " t",
        "tr", "ye", "2", "yess", "truee", "01", "-1", "offf", "", "nul"]
TEXT = ["hello", "a,b", 'say "hi"', "multi\nline", "crlf\r\ninside",
        "lone\rcr", "", "  leading", "trailing  ", "\\N", "NULL", "null",
        "日本語", "emoji 😀", "tab\there", "back\\slash", "\\.x",
        "quote\"mid", "é" * 50, "x" * 5000,
        b"bad \xff byte", b"overlong \xc0\xaf", b"surrogate \xed\xa0\x80",
        b"truncated \xe6\x97", b"cont \x80 only", b"max \xf4\x8f\xbf\xbf ok",
        b"beyond \xf4\x90\x80\x80", b"five \xf8\x88\x80\x80\x80"]
VARCHAR5 = ["abcde", "abcdef", "abc   ", "abcde ", "abcde      ",
            "abcdef ", "日本語日本", "日本語日本語", "日本語日本  ", "      ",
            "", "ab\u00e9cd ", "a\tb", "abcd\t", "éééééé", "ééééé "]
CHAR4 = ["a", "abcd", "abcde", "abcd  ", "abcde ", "日本", "日本語日本",
         "", " x", "x ", "    ", "     ", "ab  c", "\t"]
DATES = ["2024-02-29", "2023-02-29", "0001-01-01", "0001-01-01 BC",
         "4713-01-01 BC", "4714-11-24 BC", "4714-11-23 BC", "5874897-12-31",
         "5874898-01-01", "infinity", "-infinity", "Infinity", "01/02/2024",
         "2024/01/02", "20240102", "Jan 2 2024", "2 January 2024",
         "2024-13-01", " 2024-01-02 ", "2024-01-02 10:00", "epoch",
         "99-01-02", "2024-1-2", "J2451187", "1999.008", "2024-02-30",
         "2024-00-10", "10000-01-01", "0000-01-01", "2024-W01", "1/2/3",
         "Feb 29 2023", "2024-01-02T10:00:00Z", "", "not a date",
         "2024-01-02 BC", "january 8, 1999", "1999-Jan-08", "08-Jan-1999",
         "19990108", "990108"]
TIMESTAMPS = ["2024-01-02 03:04:05", "2024-01-02 03:04:05.1",
              "2024-01-02 03:04:05.12", "2024-01-02 03:04:05.123",
              "2024-01-02 03:04:05.1234", "2024-01-02 03:04:05.12345",
              "2024-01-02 03:04:05.123456", "2024-01-02 03:04:05.1234567",
              "2024-01-02 03:04:05.9999995", "2024-12-31 23:59:59.9999999",
              "2024-01-02T03:04:05", "2024-01-02T03:04:05Z",
              "2024-01-02 03:04:05+05:30", "2024-01-02 03:04:05-03",
              "2024-01-02 24:00:00", "2024-01-02 24:00:00.1",
              "2024-01-02 23:59:60", "2024-01-02 23:59:60.5",
              "2024-01-02 25:00:00", "2024-01-02 23:60:00", "infinity",
              "-infinity", "epoch", "2024-01-02 03:04:05 Europe/Paris",
              "Jan 2 2024 3:04pm", "2024-01-02 3:04 PM", "2024-01-02 12:00 AM",
              "294276-12-31 23:59:59.999999", "294277-01-01 00:00:00",
              "4713-11-24 00:00:00 BC", "4714-11-23 23:59:59 BC",
              "2024-01-02", "2024-01-02 03:04", "2024-01-02 3:4:5",
              "2024-01-02  03:04:05", " 2024-01-02 03:04:05 ",
              "2024-01-02T03:04:05.123456789", "01/02/2024 03:04:05",
              "2024-02-29 12:00:00", "2023-02-29 12:00:00", "allballs",
              "2024-01-02 03:04:05.", "2024-01-02T", "1999-01-08 04:05:06 -8:00",
              "2024-01-02 03:04:05 UTC", "2024-01-02 03:04:05 Mars/Olympus",
              "", "garbage"]
TIMESTAMPTZ = ["2024-01-02 03:04:05", "2024-01-02 03:04:05Z",
               "2024-01-02T03:04:05Z", "2024-01-02 03:04:05+05:30",
               "2024-01-02 03:04:05-03", "2024-01-02 03:04:05+0530",
               "2024-01-02 03:04:05-03:00:00", "2024-01-02 03:04:05-03:00:30",
               "2024-01-02 03:04:05+14", "2024-01-02 03:04:05+15:59",
               "2024-01-02 03:04:05+16", "2024-01-02 03:04:05 UTC",
               "2024-01-02 03:04:05 Europe/Paris",
               "2024-01-02 03:04:05 America/New_York",
               "2024-01-02 03:04:05 EST", "2024-01-02 03:04:05 PST8PDT",
               "2024-01-02 03:04:05 BRT", "2024-01-02 03:04:05 CEST",
               "2024-01-02 03:04:05 Mars/Olympus",
               "2024-01-02 03:04:05.1234567+00",
               "2024-01-02T03:04:05.123456789Z",
               "2024-01-02 03:04:05.5+05:30", "2024-01-02 24:00:00+00",
               "2018-11-04 00:30:00", "2019-02-16 23:30:00",
               "2024-03-31 02:30:00 Europe/Paris",
               "2024-10-27 02:30:00 Europe/Paris",
               "1900-01-01 00:00:00", "1914-01-01 00:00:00",
               "1800-06-01 12:00:00 Europe/Paris", "0001-01-01 00:00:00+00",
               "0001-01-01 00:00:00 BC", "294276-12-31 23:59:59.999999+00",
               "294276-12-31 23:59:59.999999-01", "infinity", "-infinity",
               "epoch", "2024-01-02", "01/02/2024 03:04:05 -03",
               "2024-01-02 03:04:05 +05:30", "2024-01-02 03:04:05+5",
               "2024-01-02 03:04:05 GMT+2", "2024-01-02 03:04:05 UTC+2",
               "2024-01-02 03:04:05 Z", "2024-01-02 03:04:05z",
               "2024-01-02 03:04:05+05:30 Europe/Paris", "2024-01-02 03:04:05+",
               "2038-01-19 03:14:08+00", "2100-06-01 12:00:00",
               "", "nonsense"]
UUIDS = ["a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11",
         "A0EEBC99-9C0B-4EF8-BB6D-6BB9BD380A11",
         "{a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11}",
         "a0eebc999c0b4ef8bb6d6bb9bd380a11",
         "a0ee-bc99-9c0b-4ef8-bb6d-6bb9-bd38-0a11",
         "{a0eebc99-9c0b4ef8-bb6d6bb9-bd380a11}",
         "{a0eebc999c0b4ef8bb6d6bb9bd380a11}",
         "00000000-0000-0000-0000-000000000000",
         "ffffffff-ffff-ffff-ffff-ffffffffffff",
         "a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a1",
         "a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a111",
         "g0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11",
         "a0eebc9-99c0b-4ef8-bb6d-6bb9bd380a11",
         "{a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11",
         "a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11}",
         " a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11",
         "a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11 ",
         "urn:uuid:a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11",
         "a0eebc99--9c0b-4ef8-bb6d-6bb9bd380a11",
         "-a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11",
         "a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11-", "", "x"]
JSONS = ['{"a":1}', '{"a":[1,{"b":null}],"c":"x"}',
         '"\\n\\t\\"\\\\\\/\\b\\f\\r"', '"\\u0000"', '{"k":"a\\u0000b"}',
         '{"a":1,"a":2}', '{"b":1,"a":2,"a":[3]}', "{a:1}", "[1,2",
         "nul", '  {"a" : 1}  ', "1e400", "-0", "1.0", "1.0e+2", "0.1e-5",
         '"\\ud83d\\ude00"', '"\\ud83d"', '"\\ude00"', '"\\u00e9"', '"é"',
         "true", "false", "null", '"str"', "[]", "{}", "[[[[[[[[[[1]]]]]]]]]]",
         "[" * 100 + "]" * 100, '{"a":1}x', "01", "+1", ".5", "1.", "NaN",
         '"\\x41"', '"\\u12"', "'single'", '{"a":1,}', "[1,]", '"tab\tin"',
         '{"a":"é","b":"日本"}', '{"nested":{"deeper":{"deepest":[1,2,{"x":"y"}]}}}',
         '"\\uD83D\\uDE00"', '"\\u0041"', " ", '{"":0}', '123456789012345678901234567890',
         '{"a": 1, "b": [true, false, null]}']
BYTEA = ["\\x", "\\xDEADbeef", "\\xdea", "\\x de ad", "\\xzz", "\\x00",
         "abc\\000def", "a\\\\b", "\\101", "\\400", "\\18", "plain text",
         "trailing\\", "\\\\x41", "\\X41", "\\x4 1", "\\xDE\tAD", "é",
         "\\377\\000", "\\x0102030405060708090a0b0c0d0e0f", "", "\\xDEADBEEF "]

TYPE_CASES = [("i2", INT2), ("i4", INT4), ("i8", INT8), ("f4", FLOAT4),
              ("f8", FLOAT8), ("n", NUMERIC), ("n52", NUM52), ("b", BOOL),
              ("t", TEXT), ("vc", VARCHAR5), ("c4", CHAR4), ("d", DATES),
              ("ts", TIMESTAMPS), ("tz", TIMESTAMPTZ), ("u", UUIDS),
              ("j", JSONS), ("jb", JSONS), ("by", BYTEA)]


def b(v):
    return v if isinstance(v, bytes) else v.encode("utf-8")


# ---------------------------------------------------------------------------
# CSV (PostgreSQL's dialect: "," delimiter, '"' quote, unquoted empty = NULL).

def csv_field(v):
    """Quotes a value when CSV needs it (or when it is the empty string,
    which unquoted would be NULL); None is NULL."""
    if v is None:
        return b""
    v = b(v)
    if v == b"" or any(c in v for c in (b",", b'"', b"\n", b"\r")) \
            or v.startswith(b" ") or v.endswith(b" ") or v == b"\\.":
        return b'"' + v.replace(b'"', b'""') + b'"'
    return v


def csv_row(values):
    return b",".join(csv_field(v) for v in values)


def csv_record(rid, col, val):
    row = [None] * len(COLS)
    row[0] = str(rid)
    row[COLS.index(col)] = val
    return csv_row(row)


def full_rows(rng, n):
    """Valid records with every column set, some fields quoted."""
    out = []
    for _ in range(n):
        y, mo, d = rng.randint(1990, 2030), rng.randint(1, 12), rng.randint(1, 28)
        hh, mi, ss = rng.randint(0, 23), rng.randint(0, 59), rng.randint(0, 59)
        us = rng.randint(0, 999999)
        txt = rng.choice(["plain", "with, comma", 'with "quotes"', "line\nbreak",
                          "ünïcödé", "", None, "  spaced  "])
        out.append([
            None,  # id, filled by the caller
            str(rng.randint(-32768, 32767)),
            str(rng.randint(-2**31, 2**31 - 1)),
            str(rng.randint(-2**63, 2**63 - 1)),
            repr(rng.uniform(-1e6, 1e6)),
            repr(rng.uniform(-1e300, 1e300) * rng.choice([1, 1e-300])),
            "%d.%0*d" % (rng.randint(-10**12, 10**12), rng.randint(0, 8), 7)
            if rng.random() < 0.9 else "NaN",
            "%.3f" % rng.uniform(-999.99, 999.99),
            rng.choice(["t", "f", "true", "false", "yes", "no", "1", "0"]),
            txt,
            rng.choice(["", "a", "abcde", "ñandú", "xy   "]),
            rng.choice(["a", "ab", "abcd", "日本"]),
            "%04d-%02d-%02d" % (y, mo, d),
            "%04d-%02d-%02d %02d:%02d:%02d.%06d" % (y, mo, d, hh, mi, ss, us),
            "%04d-%02d-%02dT%02d:%02d:%02d.%03d%s" % (
                y, mo, d, hh, mi, ss, us // 1000,
                rng.choice(["Z", "+05:30", "-03", "", "+00:00"])),
            "%08x-%04x-%04x-%04x-%012x" % (
                rng.getrandbits(32), rng.getrandbits(16), rng.getrandbits(16),
                rng.getrandbits(16), rng.getrandbits(48)),
            '{"n":%d,"s":"v%d","a":[1,2]}' % (rng.randint(0, 99), rng.randint(0, 9)),
            '{"k":"v","n":%d}' % rng.randint(0, 99),
            "\\x%08x" % rng.getrandbits(32),
        ])
    return out


def csv_records():
    """The CSV corpus: a list of record bodies (bytes, without terminator)."""
    rng = random.Random(20240229)
    recs = []

    def nid():
        return len(recs) + 1

    for i, row in enumerate(full_rows(rng, 40)):
        row[0] = str(nid())
        recs.append(csv_row(row))
    for col, values in TYPE_CASES:
        for v in values:
            recs.append(csv_record(nid(), col, v))
        # Quoted empty is the empty string, which most types refuse.
        if "" not in values:
            recs.append(csv_record(nid(), col, ""))
    # Unquoted empty is NULL: a record of NULLs.
    recs.append(csv_row([str(nid())] + [None] * (len(COLS) - 1)))

    # CSV-level cases, written raw (bytes exactly as in the file).  Every
    # record but the last has an even number of quotes: an unbalanced quote
    # swallows the following lines in a whole-file load, which a
    # per-record oracle cannot reproduce, so it comes only at the very end.
    def raw(body):
        recs.append(("%d," % nid()).encode() + body)

    def raw_t(tfield):
        """A record whose t field is the given raw CSV text."""
        fields = [str(nid()).encode()] + [b""] * (len(COLS) - 1)
        fields[COLS.index("t")] = tfield
        recs.append(b",".join(fields))

    rest = len(COLS) - 1  # fields after id
    for tfield in [b'"a,b,c"', b'"say ""hi"""', b'""""', b'""""""',
                   b'"embedded\nLF"', b'"embedded\r\nCRLF"',
                   b'"two\n\nblank\n\nlines"', b'"\n"', b'"\r\n"',
                   b'ab"c,d"e', b'"ab"cd', b'ab"c""d"', b'"a""b"c"d"',
                   b'x"",y', b'  "lead"', b'"trail"  ', b'trailing   ',
                   b'"quoted, with ""all"" of it\nacross lines\r\nand CRLF"',
                   b'""', b'', b'"\\N"', b'\\N', b'"abc"def"ghi"',
                   b'"closes"x"reopens,comma"', b'" "', b' ',
                   b'a\rb', b'"a\rb"', b'\xef\xbb\xbfbom-inside',
                   b'nul\x00byte', b'"quoted nul\x00"', b'bad\xffutf8',
                   b'"bad\xc3(utf8 quoted"', b'"\\."']:
        raw_t(tfield)
    # Not here: a quoted field holding a line of just \. -- psql's \copy
    # takes that line for the end of the data, and a per-record oracle
    # cannot stand for a whole-file load there.
    # A CR before the LF terminator: COPY saw LF line ends in the header,
    # so a CR is data it refuses unquoted.
    raw(b"," * (rest - 1) + b"\r")
    # Field counts.
    raw(b"," * (rest - 2))           # one field short
    raw(b"," * rest)                 # one field too many
    raw(b"," * (rest + 5))           # many too many
    raw(b"")                         # just the id
    recs.append(b"")                 # blank line
    recs.append(b",,,")              # short, no id
    raw(b"," * (rest - 1) + b'"\\x41"')
    raw(b"," * (rest - 1) + b'"\\x41",')
    # A field-count error inside quotes does not count commas.
    raw_t(b'"1,2,3,4,5,6,7,8,9,10"')
    # Quote opening mid-record and spanning fields.
    raw(b'1,2,3' + b"," * (rest - 3))
    raw(b'"1",2' + b"," * (rest - 2))
    raw(b'"1"' + b"," * (rest - 1))
    # Whole-row checks again after all that, to see the parser recover.
    for row in full_rows(rng, 10):
        row[0] = str(nid())
        recs.append(csv_row(row))
    # Last: a quote that never closes, at the very end of the input.
    raw(b"," * (rest - 1) + b'"never closed, ends the file\n')
    assert all(r.count(b'"') % 2 == 0 for r in recs[:-1])
    return recs


def csv_header():
    return ",".join(COLS).encode()


# ---------------------------------------------------------------------------
# PostgreSQL's text format: tab delimiter, \N is NULL, backslash escapes.

def text_field(v):
    if v is None:
        return b"\\N"
    v = b(v)
    return (v.replace(b"\\", b"\\\\").replace(b"\t", b"\\t")
            .replace(b"\n", b"\\n").replace(b"\r", b"\\r"))


def text_row(values):
    return b"\t".join(text_field(v) for v in values)


def text_records():
    """A smaller text-format corpus: type cases (every tenth value per type)
    plus text-format escapes and errors."""
    rng = random.Random(19990108)
    recs = []

    def nid():
        return len(recs) + 1

    for row in full_rows(rng, 20):
        row[0] = str(nid())
        recs.append(text_row(row))
    for col, values in TYPE_CASES:
        for v in values[::3]:
            row = [str(nid())] + [None] * (len(COLS) - 1)
            row[COLS.index(col)] = v
            recs.append(text_row(row))

    t_at = COLS.index("t")

    def raw_t(tfield):
        fields = [str(nid()).encode()] + [b"\\N"] * (len(COLS) - 1)
        fields[t_at] = tfield
        recs.append(b"\t".join(fields))

    for tf in [b"a\\tb", b"a\\nb", b"a\\rb", b"back\\\\slash", b"\\N",
               b"\\\\N", b"x\\Ny", b"", b"\\b\\f\\v", b"\\101\\102",
               b"\\x41\\x4a", b"\\x4", b"\\xZZ", b"\\8", b"\\0", b"\\000",
               b"\\q", b"trailing\\", b"\\\xc3\xa9", b"\\377\\376",
               b"\\303\\251", b"\\303", b"\\x00", b"plain \xff byte",
               b"nul\x00byte", b"\\.", b"a\\.b", b"\\u00e9", b"  spaced  ",
               b"\xe6\x97\xa5\\346\\234\\254"]:
        raw_t(tf)
    # Field counts, blank line.  Not here: a CR before the line end.
    # Without a header, the first line sets the line-end style, and in a
    # one-record file that record is the first line, so a per-record
    # oracle would judge it differently from a whole-file load.
    recs.append(b"\t".join([str(nid()).encode()] + [b"\\N"] * (len(COLS) - 2)))
    recs.append(b"\t".join([str(nid()).encode()] + [b"\\N"] * len(COLS)))
    recs.append(b"")
    # An escaped delimiter is data; an escaped newline is data too.
    raw_t(b"tab\\\there")
    raw_t(b"newline\\\nhere")
    for row in full_rows(rng, 5):
        row[0] = str(nid())
        recs.append(text_row(row))
    return recs


# ---------------------------------------------------------------------------

def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--format", choices=["csv", "text"], default="csv")
    ap.add_argument("--eol", choices=["lf", "crlf"], default="lf")
    ap.add_argument("--bom", action="store_true", help="start with a UTF-8 BOM")
    ap.add_argument("-o", "--output", default="-")
    ap.add_argument("--split", metavar="DIR",
                    help="write one file per record (header + record) into DIR")
    ap.add_argument("--ddl", action="store_true", help="print CREATE TABLE fid")
    ap.add_argument("--count", action="store_true", help="print the number of records")
    args = ap.parse_args()

    if args.ddl:
        print(TABLE_DDL + ";")
        return 0
    eol = b"\r\n" if args.eol == "crlf" else b"\n"
    if args.format == "csv":
        recs, header = csv_records(), csv_header() + eol
    else:
        recs, header = text_records(), b""
    if args.bom:
        header = b"\xef\xbb\xbf" + header
    if args.count:
        print(len(recs))
        return 0

    def body(i):
        # The last CSV record is an unterminated quote: nothing follows it.
        if args.format == "csv" and i == len(recs) - 1:
            return recs[i]
        return recs[i] + eol

    if args.split:
        os.makedirs(args.split, exist_ok=True)
        width = len(str(len(recs)))
        for i in range(len(recs)):
            path = os.path.join(args.split, "r%0*d" % (width, i + 1))
            with open(path, "wb") as f:
                f.write(header + body(i))
        print(len(recs))
        return 0

    data = header + b"".join(body(i) for i in range(len(recs)))
    if args.output == "-":
        sys.stdout.buffer.write(data)
    else:
        with open(args.output, "wb") as f:
            f.write(data)
    return 0


if __name__ == "__main__":
    sys.exit(main())
