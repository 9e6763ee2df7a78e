/* test_encode.c - the binary COPY encoders produce exactly PostgreSQL 15's bytes and messages, and defer what they cannot decide. */
#include "../../core/ascii.h"
#include "../../stages/encode.h"

#include <CUnit/Basic.h>
#include <locale.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* One input and what PostgreSQL 15 does with it: the hex of what the type's
 * send function returns after its input function (typmod applied), or the
 * message its input function raises. ENC_DEFER rows are forms this encoder
 * leaves to the server on purpose. jsonb rows expect version 1 and the
 * input text. The trailing comment says whether the server accepts it. */
struct enc_case {
	enum enc_kind kind;
	int32_t typmod;
	bool tz_utc;
	const char *in;
	size_t len;
	enum enc_status status;
	const char *hex; /* payload after the int32 length, ENC_OK only */
	const char *msg; /* ENC_REJECT only */
};

static const struct enc_case cases[] = {
    {ENC_INT2, -1, true, "0", 1, ENC_OK, "0000", ""},      /* server: ok */
    {ENC_INT2, -1, true, "32767", 5, ENC_OK, "7fff", ""},  /* server: ok */
    {ENC_INT2, -1, true, "-32768", 6, ENC_OK, "8000", ""}, /* server: ok */
    {ENC_INT2, -1, true, "32768", 5, ENC_REJECT, "",
     "value \"32768\" is out of range for type smallint"}, /* server: error */
    {ENC_INT2, -1, true, "-32769", 6, ENC_REJECT, "",
     "value \"-32769\" is out of range for type smallint"},                                      /* server: error */
    {ENC_INT2, -1, true, " 12 ", 4, ENC_OK, "000c", ""},                                         /* server: ok */
    {ENC_INT2, -1, true, "+7", 2, ENC_OK, "0007", ""},                                           /* server: ok */
    {ENC_INT2, -1, true, "-0", 2, ENC_OK, "0000", ""},                                           /* server: ok */
    {ENC_INT2, -1, true, "", 0, ENC_REJECT, "", "invalid input syntax for type smallint: \"\""}, /* server: error */
    {ENC_INT2, -1, true, "   ", 3, ENC_REJECT, "",
     "invalid input syntax for type smallint: \"   \""}, /* server: error */
    {ENC_INT2, -1, true, "1 2", 3, ENC_REJECT, "",
     "invalid input syntax for type smallint: \"1 2\""}, /* server: error */
    {ENC_INT2, -1, true, "99999x", 6, ENC_REJECT, "",
     "value \"99999x\" is out of range for type smallint"}, /* server: error */
    {ENC_INT2, -1, true, "0x10", 4, ENC_REJECT, "",
     "invalid input syntax for type smallint: \"0x10\""}, /* server: error */
    {ENC_INT2, -1, true, "1.0", 3, ENC_REJECT, "",
     "invalid input syntax for type smallint: \"1.0\""},                                           /* server: error */
    {ENC_INT2, -1, true, "\011\01242\015\014\013", 7, ENC_OK, "002a", ""},                         /* server: ok */
    {ENC_INT2, -1, true, "-", 1, ENC_REJECT, "", "invalid input syntax for type smallint: \"-\""}, /* server: error */
    {ENC_INT2, -1, true, "+", 1, ENC_REJECT, "", "invalid input syntax for type smallint: \"+\""}, /* server: error */
    {ENC_INT2, -1, true, "000000000000000000000000001", 27, ENC_OK, "0001", ""},                   /* server: ok */
    {ENC_INT4, -1, true, "2147483647", 10, ENC_OK, "7fffffff", ""},                                /* server: ok */
    {ENC_INT4, -1, true, "-2147483648", 11, ENC_OK, "80000000", ""},                               /* server: ok */
    {ENC_INT4, -1, true, "2147483648", 10, ENC_REJECT, "",
     "value \"2147483648\" is out of range for type integer"}, /* server: error */
    {ENC_INT4, -1, true, "-2147483649", 11, ENC_REJECT, "",
     "value \"-2147483649\" is out of range for type integer"}, /* server: error */
    {ENC_INT4, -1, true, "99999999999", 11, ENC_REJECT, "",
     "value \"99999999999\" is out of range for type integer"}, /* server: error */
    {ENC_INT4, -1, true, "99999999999x", 12, ENC_REJECT, "",
     "value \"99999999999x\" is out of range for type integer"}, /* server: error */
    {ENC_INT4, -1, true, "12x", 3, ENC_REJECT, "",
     "invalid input syntax for type integer: \"12x\""}, /* server: error */
    {ENC_INT4, -1, true, "1_000", 5, ENC_REJECT, "",
     "invalid input syntax for type integer: \"1_000\""}, /* server: error */
    {ENC_INT4, -1, true, "1e3", 3, ENC_REJECT, "",
     "invalid input syntax for type integer: \"1e3\""},      /* server: error */
    {ENC_INT4, -1, true, " -17", 4, ENC_OK, "ffffffef", ""}, /* server: ok */
    {ENC_INT4, -1, true, "--1", 3, ENC_REJECT, "",
     "invalid input syntax for type integer: \"--1\""}, /* server: error */
    {ENC_INT4, -1, true, "+-1", 3, ENC_REJECT, "",
     "invalid input syntax for type integer: \"+-1\""}, /* server: error */
    {ENC_INT4, -1, true, "\331\241", 2, ENC_REJECT, "",
     "invalid input syntax for type integer: \"\331\241\""},                          /* server: error */
    {ENC_INT4, -1, true, "12 ", 3, ENC_OK, "0000000c", ""},                           /* server: ok */
    {ENC_INT4, -1, true, "0", 1, ENC_OK, "00000000", ""},                             /* server: ok */
    {ENC_INT8, -1, true, "9223372036854775807", 19, ENC_OK, "7fffffffffffffff", ""},  /* server: ok */
    {ENC_INT8, -1, true, "-9223372036854775808", 20, ENC_OK, "8000000000000000", ""}, /* server: ok */
    {ENC_INT8, -1, true, "9223372036854775808", 19, ENC_REJECT, "",
     "value \"9223372036854775808\" is out of range for type bigint"}, /* server: error */
    {ENC_INT8, -1, true, "-9223372036854775809", 20, ENC_REJECT, "",
     "value \"-9223372036854775809\" is out of range for type bigint"},       /* server: error */
    {ENC_INT8, -1, true, "123456789012", 12, ENC_OK, "0000001cbe991a14", ""}, /* server: ok */
    {ENC_INT8, -1, true, "99999999999999999999999", 23, ENC_REJECT, "",
     "value \"99999999999999999999999\" is out of range for type bigint"},                           /* server: error */
    {ENC_INT8, -1, true, "abc", 3, ENC_REJECT, "", "invalid input syntax for type bigint: \"abc\""}, /* server: error */
    {ENC_INT8, -1, true, "  -1  ", 6, ENC_OK, "ffffffffffffffff", ""},                               /* server: ok */
    {ENC_INT4, -1, true, "2147483648x", 11, ENC_REJECT, "",
     "invalid input syntax for type integer: \"2147483648x\""}, /* server: error */
    {ENC_INT4, -1, true, "-2147483648x", 12, ENC_REJECT, "",
     "invalid input syntax for type integer: \"-2147483648x\""}, /* server: error */
    {ENC_INT4, -1, true, "-2147483649x", 12, ENC_REJECT, "",
     "value \"-2147483649x\" is out of range for type integer"}, /* server: error */
    {ENC_INT4, -1, true, "2147483648 ", 11, ENC_REJECT, "",
     "value \"2147483648 \" is out of range for type integer"}, /* server: error */
    {ENC_INT2, -1, true, "32768x", 6, ENC_REJECT, "",
     "invalid input syntax for type smallint: \"32768x\""}, /* server: error */
    {ENC_INT2, -1, true, "32769x", 6, ENC_REJECT, "",
     "value \"32769x\" is out of range for type smallint"}, /* server: error */
    {ENC_INT8, -1, true, "9223372036854775808x", 20, ENC_REJECT, "",
     "invalid input syntax for type bigint: \"9223372036854775808x\""}, /* server: error */
    {ENC_INT8, -1, true, "9223372036854775809x", 20, ENC_REJECT, "",
     "value \"9223372036854775809x\" is out of range for type bigint"}, /* server: error */
    {ENC_INT8, -1, true, "-9223372036854775808x", 21, ENC_REJECT, "",
     "invalid input syntax for type bigint: \"-9223372036854775808x\""}, /* server: error */
    /* Around the nineteen digits read without an overflow check. */
    {ENC_INT8, -1, true, "1234567890123456789", 19, ENC_OK, "112210f47de98115", ""}, /* server: ok */
    {ENC_INT8, -1, true, "9999999999999999999", 19, ENC_REJECT, "",
     "value \"9999999999999999999\" is out of range for type bigint"}, /* server: error */
    {ENC_INT8, -1, true, "18446744073709551616", 20, ENC_REJECT, "",
     "value \"18446744073709551616\" is out of range for type bigint"}, /* server: error */
    {ENC_INT8, -1, true, "99999999999999999999x", 21, ENC_REJECT, "",
     "value \"99999999999999999999x\" is out of range for type bigint"}, /* server: error */
    {ENC_INT8, -1, true, "0000000000000000000009223372036854775807", 40, ENC_OK, "7fffffffffffffff",
     ""}, /* server: ok */
    {ENC_INT8, -1, true, "00000000000000000009223372036854775808", 38, ENC_REJECT, "",
     "value \"00000000000000000009223372036854775808\" is out of range for type bigint"}, /* server: error */
    {ENC_INT8, -1, true, "09223372036854775808x", 21, ENC_REJECT, "",
     "invalid input syntax for type bigint: \"09223372036854775808x\""}, /* server: error */
    {ENC_INT8, -1, true, "-0000000000000000000000000000009223372036854775808", 50, ENC_OK, "8000000000000000",
     ""},                                                                       /* server: ok */
    {ENC_INT4, -1, true, "0000000000002147483647", 22, ENC_OK, "7fffffff", ""}, /* server: ok */
    {ENC_INT4, -1, true, "00000000000000000002147483648", 29, ENC_REJECT, "",
     "value \"00000000000000000002147483648\" is out of range for type integer"}, /* server: error */
    {ENC_INT4, -1, true, "9999999999", 10, ENC_REJECT, "",
     "value \"9999999999\" is out of range for type integer"},              /* server: error */
    {ENC_FLOAT8, -1, true, "0", 1, ENC_OK, "0000000000000000", ""},         /* server: ok */
    {ENC_FLOAT8, -1, true, "-0", 2, ENC_OK, "8000000000000000", ""},        /* server: ok */
    {ENC_FLOAT8, -1, true, "1.5", 3, ENC_OK, "3ff8000000000000", ""},       /* server: ok */
    {ENC_FLOAT8, -1, true, " 3.14159 ", 9, ENC_OK, "400921f9f01b866e", ""}, /* server: ok */
    {ENC_FLOAT8, -1, true, "1e308", 5, ENC_OK, "7fe1ccf385ebc8a0", ""},     /* server: ok */
    {ENC_FLOAT8, -1, true, "1e309", 5, ENC_REJECT, "",
     "\"1e309\" is out of range for type double precision"}, /* server: error */
    {ENC_FLOAT8, -1, true, "  1e999 ", 8, ENC_REJECT, "",
     "\"1e999\" is out of range for type double precision"}, /* server: error */
    {ENC_FLOAT8, -1, true, "1e999x", 6, ENC_REJECT, "",
     "\"1e999\" is out of range for type double precision"}, /* server: error */
    {ENC_FLOAT8, -1, true, "-1e999", 6, ENC_REJECT, "",
     "\"-1e999\" is out of range for type double precision"}, /* server: error */
    {ENC_FLOAT8, -1, true, "1e-400", 6, ENC_REJECT, "",
     "\"1e-400\" is out of range for type double precision"},              /* server: error */
    {ENC_FLOAT8, -1, true, "1e-310", 6, ENC_OK, "000012688b70e62b", ""},   /* server: ok */
    {ENC_FLOAT8, -1, true, "4.9e-324", 8, ENC_OK, "0000000000000001", ""}, /* server: ok */
    {ENC_FLOAT8, -1, true, "2.4e-324", 8, ENC_REJECT, "",
     "\"2.4e-324\" is out of range for type double precision"},             /* server: error */
    {ENC_FLOAT8, -1, true, "NaN", 3, ENC_OK, "7ff8000000000000", ""},       /* server: ok */
    {ENC_FLOAT8, -1, true, "nan", 3, ENC_OK, "7ff8000000000000", ""},       /* server: ok */
    {ENC_FLOAT8, -1, true, "-nan", 4, ENC_OK, "fff8000000000000", ""},      /* server: ok */
    {ENC_FLOAT8, -1, true, "Infinity", 8, ENC_OK, "7ff0000000000000", ""},  /* server: ok */
    {ENC_FLOAT8, -1, true, "-Infinity", 9, ENC_OK, "fff0000000000000", ""}, /* server: ok */
    {ENC_FLOAT8, -1, true, "+inf", 4, ENC_OK, "7ff0000000000000", ""},      /* server: ok */
    {ENC_FLOAT8, -1, true, " iNf ", 5, ENC_OK, "7ff0000000000000", ""},     /* server: ok */
    {ENC_FLOAT8, -1, true, "infinityx", 9, ENC_REJECT, "",
     "invalid input syntax for type double precision: \"infinityx\""}, /* server: error */
    {ENC_FLOAT8, -1, true, "infinit", 7, ENC_REJECT, "",
     "invalid input syntax for type double precision: \"infinit\""}, /* server: error */
    {ENC_FLOAT8, -1, true, "", 0, ENC_REJECT, "",
     "invalid input syntax for type double precision: \"\""}, /* server: error */
    {ENC_FLOAT8, -1, true, " ", 1, ENC_REJECT, "",
     "invalid input syntax for type double precision: \" \""}, /* server: error */
    {ENC_FLOAT8, -1, true, "1.5 x", 5, ENC_REJECT, "",
     "invalid input syntax for type double precision: \"1.5 x\""}, /* server: error */
    {ENC_FLOAT8, -1, true, "abc", 3, ENC_REJECT, "",
     "invalid input syntax for type double precision: \"abc\""},     /* server: error */
    {ENC_FLOAT8, -1, true, ".5", 2, ENC_OK, "3fe0000000000000", ""}, /* server: ok */
    {ENC_FLOAT8, -1, true, "5.", 2, ENC_OK, "4014000000000000", ""}, /* server: ok */
    {ENC_FLOAT8, -1, true, ".", 1, ENC_REJECT, "",
     "invalid input syntax for type double precision: \".\""}, /* server: error */
    {ENC_FLOAT8, -1, true, "1e", 2, ENC_REJECT, "",
     "invalid input syntax for type double precision: \"1e\""},                                   /* server: error */
    {ENC_FLOAT8, -1, true, "1e+5", 4, ENC_OK, "40f86a0000000000", ""},                            /* server: ok */
    {ENC_FLOAT8, -1, true, "0.1", 3, ENC_OK, "3fb999999999999a", ""},                             /* server: ok */
    {ENC_FLOAT8, -1, true, "123456789012345678901234567890", 30, ENC_OK, "45f8ee90ff6c373e", ""}, /* server: ok */
    {ENC_FLOAT8, -1, true, "0x10", 4, ENC_DEFER, "", ""},                                         /* server: ok */
    {ENC_FLOAT8, -1, true, " -0X1p3", 7, ENC_DEFER, "", ""},                                      /* server: ok */
    {ENC_FLOAT8, -1, true, "NaN(1)", 6, ENC_DEFER, "", ""},                                       /* server: ok */
    {ENC_FLOAT8, -1, true, "nanx", 4, ENC_REJECT, "",
     "invalid input syntax for type double precision: \"nanx\""}, /* server: error */
    {ENC_FLOAT8, -1, true, "1.5x", 4, ENC_REJECT, "",
     "invalid input syntax for type double precision: \"1.5x\""}, /* server: error */
    {ENC_FLOAT8, -1, true, "e5", 2, ENC_REJECT, "",
     "invalid input syntax for type double precision: \"e5\""}, /* server: error */
    {ENC_FLOAT8, -1, true, "- 1", 3, ENC_REJECT, "",
     "invalid input syntax for type double precision: \"- 1\""}, /* server: error */
    {ENC_FLOAT8, -1, true, "1e-5000", 7, ENC_REJECT, "",
     "\"1e-5000\" is out of range for type double precision"}, /* server: error */
    {ENC_FLOAT8, -1, true, "nan(123)", 8, ENC_DEFER, "", ""},  /* server: ok */
    {ENC_FLOAT8, -1, true, "1,5", 3, ENC_REJECT, "",
     "invalid input syntax for type double precision: \"1,5\""}, /* server: error */
    {ENC_FLOAT8, -1, true, "1_0", 3, ENC_REJECT, "",
     "invalid input syntax for type double precision: \"1_0\""},         /* server: error */
    {ENC_FLOAT8, -1, true, "+.5e-3", 6, ENC_OK, "3f40624dd2f1a9fc", ""}, /* server: ok */
    {ENC_FLOAT4, -1, true, "0", 1, ENC_OK, "00000000", ""},              /* server: ok */
    {ENC_FLOAT4, -1, true, "1.5", 3, ENC_OK, "3fc00000", ""},            /* server: ok */
    {ENC_FLOAT4, -1, true, "0.1", 3, ENC_OK, "3dcccccd", ""},            /* server: ok */
    {ENC_FLOAT4, -1, true, "3.4028235e38", 12, ENC_OK, "7f7fffff", ""},  /* server: ok */
    {ENC_FLOAT4, -1, true, "3.40282357e38", 13, ENC_REJECT, "",
     "\"3.40282357e38\" is out of range for type real"},                                         /* server: error */
    {ENC_FLOAT4, -1, true, "1e39", 4, ENC_REJECT, "", "\"1e39\" is out of range for type real"}, /* server: error */
    {ENC_FLOAT4, -1, true, "  1e39 x", 8, ENC_REJECT, "",
     "\"  1e39 x\" is out of range for type real"}, /* server: error */
    {ENC_FLOAT4, -1, true, "  -1e-50z ", 10, ENC_REJECT, "",
     "\"  -1e-50z \" is out of range for type real"}, /* server: error */
    {ENC_FLOAT8, -1, true, "  -1e-400z ", 11, ENC_REJECT, "",
     "\"-1e-400\" is out of range for type double precision"},                                     /* server: error */
    {ENC_FLOAT4, -1, true, "1e-45", 5, ENC_OK, "00000001", ""},                                    /* server: ok */
    {ENC_FLOAT4, -1, true, "7e-46", 5, ENC_REJECT, "", "\"7e-46\" is out of range for type real"}, /* server: error */
    {ENC_FLOAT4, -1, true, "1e-40", 5, ENC_OK, "000116c2", ""},                                    /* server: ok */
    {ENC_FLOAT4, -1, true, "-nan", 4, ENC_OK, "ffc00000", ""},                                     /* server: ok */
    {ENC_FLOAT4, -1, true, "NaN", 3, ENC_OK, "7fc00000", ""},                                      /* server: ok */
    {ENC_FLOAT4, -1, true, "-inf", 4, ENC_OK, "ff800000", ""},                                     /* server: ok */
    {ENC_FLOAT4, -1, true, "16777217", 8, ENC_OK, "4b800000", ""},                                 /* server: ok */
    {ENC_FLOAT4, -1, true, "x", 1, ENC_REJECT, "", "invalid input syntax for type real: \"x\""},   /* server: error */
    {ENC_FLOAT4, -1, true, "1e999", 5, ENC_REJECT, "", "\"1e999\" is out of range for type real"}, /* server: error */
    {ENC_NUMERIC, -1, true, "0", 1, ENC_OK, "0000000000000000", ""},                               /* server: ok */
    {ENC_NUMERIC, -1, true, "-0", 2, ENC_OK, "0000000000000000", ""},                              /* server: ok */
    {ENC_NUMERIC, -1, true, "0.00", 4, ENC_OK, "0000000000000002", ""},                            /* server: ok */
    {ENC_NUMERIC, -1, true, "-0.00", 5, ENC_OK, "0000000000000002", ""},                           /* server: ok */
    {ENC_NUMERIC, -1, true, "1e3", 3, ENC_OK, "000100000000000003e8", ""},                         /* server: ok */
    {ENC_NUMERIC, -1, true, "123.4500", 8, ENC_OK, "0002000000000004007b1194", ""},                /* server: ok */
    {ENC_NUMERIC, -1, true, "-123.45", 7, ENC_OK, "0002000040000002007b1194", ""},                 /* server: ok */
    {ENC_NUMERIC, -1, true, " 42 ", 4, ENC_OK, "0001000000000000002a", ""},                        /* server: ok */
    {ENC_NUMERIC, -1, true, "+0.000012345", 12, ENC_OK, "0002fffe0000000904d21388", ""},           /* server: ok */
    {ENC_NUMERIC, -1, true, ".5", 2, ENC_OK, "0001ffff000000011388", ""},                          /* server: ok */
    {ENC_NUMERIC, -1, true, "5.", 2, ENC_OK, "00010000000000000005", ""},                          /* server: ok */
    {ENC_NUMERIC, -1, true, "1.50e1", 6, ENC_OK, "0001000000000001000f", ""},                      /* server: ok */
    {ENC_NUMERIC, -1, true, "1E-3", 4, ENC_OK, "0001ffff00000003000a", ""},                        /* server: ok */
    {ENC_NUMERIC, -1, true, "1e+2", 4, ENC_OK, "00010000000000000064", ""},                        /* server: ok */
    {ENC_NUMERIC, -1, true, "10000", 5, ENC_OK, "00010001000000000001", ""},                       /* server: ok */
    {ENC_NUMERIC, -1, true, "100000000", 9, ENC_OK, "00010002000000000001", ""},                   /* server: ok */
    {ENC_NUMERIC, -1, true, "0.0001", 6, ENC_OK, "0001ffff000000040001", ""},                      /* server: ok */
    {ENC_NUMERIC, -1, true, "12345678901234567890.123456789", 30, ENC_OK,
     "000800040000000904d2162e23340d801ed204d2162e2328", ""},                      /* server: ok */
    {ENC_NUMERIC, -1, true, "000123.000", 10, ENC_OK, "0001000000000003007b", ""}, /* server: ok */
    {ENC_NUMERIC, -1, true, "9999", 4, ENC_OK, "0001000000000000270f", ""},        /* server: ok */
    {ENC_NUMERIC, -1, true, "99999", 5, ENC_OK, "00020001000000000009270f", ""},   /* server: ok */
    {ENC_NUMERIC, -1, true, "0.00001", 7, ENC_OK, "0001fffe0000000503e8", ""},     /* server: ok */
    {ENC_NUMERIC, -1, true, "NaN", 3, ENC_OK, "00000000c0000000", ""},             /* server: ok */
    {ENC_NUMERIC, -1, true, "  nan  ", 7, ENC_OK, "00000000c0000000", ""},         /* server: ok */
    {ENC_NUMERIC, -1, true, "Infinity", 8, ENC_OK, "00000000d0000020", ""},        /* server: ok */
    {ENC_NUMERIC, -1, true, "-Infinity", 9, ENC_OK, "00000000f0000020", ""},       /* server: ok */
    {ENC_NUMERIC, -1, true, "+inf", 4, ENC_OK, "00000000d0000020", ""},            /* server: ok */
    {ENC_NUMERIC, -1, true, "-inf", 4, ENC_OK, "00000000f0000020", ""},            /* server: ok */
    {ENC_NUMERIC, -1, true, "inf", 3, ENC_OK, "00000000d0000020", ""},             /* server: ok */
    {ENC_NUMERIC, -1, true, "+Infinity", 9, ENC_OK, "00000000d0000020", ""},       /* server: ok */
    {ENC_NUMERIC, -1, true, "-NaN", 4, ENC_REJECT, "",
     "invalid input syntax for type numeric: \"-NaN\""}, /* server: error */
    {ENC_NUMERIC, -1, true, "nan x", 5, ENC_REJECT, "",
     "invalid input syntax for type numeric: \"nan x\""}, /* server: error */
    {ENC_NUMERIC, -1, true, "Infinityx", 9, ENC_REJECT, "",
     "invalid input syntax for type numeric: \"Infinityx\""}, /* server: error */
    {ENC_NUMERIC, -1, true, "infinit", 7, ENC_REJECT, "",
     "invalid input syntax for type numeric: \"infinit\""},                                          /* server: error */
    {ENC_NUMERIC, -1, true, ".", 1, ENC_REJECT, "", "invalid input syntax for type numeric: \".\""}, /* server: error */
    {ENC_NUMERIC, -1, true, "1e", 2, ENC_REJECT, "",
     "invalid input syntax for type numeric: \"1e\""}, /* server: error */
    {ENC_NUMERIC, -1, true, "1e+", 3, ENC_REJECT, "",
     "invalid input syntax for type numeric: \"1e+\""}, /* server: error */
    {ENC_NUMERIC, -1, true, "1.2.3", 5, ENC_REJECT, "",
     "invalid input syntax for type numeric: \"1.2.3\""}, /* server: error */
    {ENC_NUMERIC, -1, true, " 1 2", 4, ENC_REJECT, "",
     "invalid input syntax for type numeric: \" 1 2\""},                                           /* server: error */
    {ENC_NUMERIC, -1, true, "", 0, ENC_REJECT, "", "invalid input syntax for type numeric: \"\""}, /* server: error */
    {ENC_NUMERIC, -1, true, "abc", 3, ENC_REJECT, "",
     "invalid input syntax for type numeric: \"abc\""}, /* server: error */
    {ENC_NUMERIC, -1, true, "1,5", 3, ENC_REJECT, "",
     "invalid input syntax for type numeric: \"1,5\""}, /* server: error */
    {ENC_NUMERIC, -1, true, "--1", 3, ENC_REJECT, "",
     "invalid input syntax for type numeric: \"--1\""},                                            /* server: error */
    {ENC_NUMERIC, -1, true, "1e 5", 4, ENC_DEFER, "", ""},                                         /* server: ok */
    {ENC_NUMERIC, -1, true, "1e1000000000", 12, ENC_REJECT, "", "value overflows numeric format"}, /* server: error */
    {ENC_NUMERIC, -1, true, "1e1000000000x", 13, ENC_REJECT, "",
     "invalid input syntax for type numeric: \"1e1000000000x\""},                                   /* server: error */
    {ENC_NUMERIC, -1, true, "1e-20000", 8, ENC_REJECT, "", "value overflows numeric format"},       /* server: error */
    {ENC_NUMERIC, -1, true, "1e-5000", 7, ENC_OK, "0001fb1e000013880001", ""},                      /* server: ok */
    {ENC_NUMERIC, -1, true, "1e5000", 6, ENC_OK, "000104e2000000000001", ""},                       /* server: ok */
    {ENC_NUMERIC, -1, true, "1e131071", 8, ENC_OK, "00017fff0000000003e8", ""},                     /* server: ok */
    {ENC_NUMERIC, -1, true, "1e131072", 8, ENC_REJECT, "", "value overflows numeric format"},       /* server: error */
    {ENC_NUMERIC, -1, true, "9e131071", 8, ENC_OK, "00017fff000000002328", ""},                     /* server: ok */
    {ENC_NUMERIC, -1, true, "1e-16383", 8, ENC_OK, "0001f00000003fff000a", ""},                     /* server: ok */
    {ENC_NUMERIC, -1, true, "1e-16384", 8, ENC_REJECT, "", "value overflows numeric format"},       /* server: error */
    {ENC_NUMERIC, -1, true, "0e-16384", 8, ENC_REJECT, "", "value overflows numeric format"},       /* server: error */
    {ENC_NUMERIC, -1, true, "0.5e-16383", 10, ENC_REJECT, "", "value overflows numeric format"},    /* server: error */
    {ENC_NUMERIC, -1, true, "1e1073741822", 12, ENC_REJECT, "", "value overflows numeric format"},  /* server: error */
    {ENC_NUMERIC, -1, true, "1e1073741823", 12, ENC_REJECT, "", "value overflows numeric format"},  /* server: error */
    {ENC_NUMERIC, -1, true, "1e-1073741823", 13, ENC_REJECT, "", "value overflows numeric format"}, /* server: error */
    {ENC_NUMERIC, -1, true, "1e99999999999999999999", 22, ENC_REJECT, "",
     "value overflows numeric format"}, /* server: error */
    {ENC_NUMERIC, -1, true,
     "11111111111111111111111111111111111111111111111111111111111111111111111111111111111111111111111111111111111111111"
     "11111111111111111111111111111111111111111111111111111111111111111111111111111111111111111111111111111111111111111"
     "11111111111111111111111111111111111111111111111111111111111111111111111111111111111111111111111111111111111111111"
     "11111111111111111111111111111111111111111111111111111111111111111111111111111111111111111111111111111111111111111"
     "11111111111111111111111111111111111111111111111111111111111111111111111111111111111111111111111111111111111111111"
     "11111111111111111111111111111111111111111111111111111111111111111111111111111111111111111111111111111111111111111"
     "11111111111111111111111111111111111111111111111111111111111111111111111111111111111111111111111111111111111111111"
     "11111111111111111111111111111111111111111111111111111111111111111111111111111111111111111111111111111111111111111"
     "11111111111111111111111111111111111111111111111111111111111111111111111111111111111111111111111111111111111111111"
     "111111111111111111111111111111111111111111111111111111111111111111111111111111111111",
     1101, ENC_DEFER, "", ""}, /* server: ok */
    {ENC_NUMERIC, -1, true,
     "11111111111111111111111111111111111111111111111111111111111111111111111111111111111111111111111111111111111111111"
     "11111111111111111111111111111111111111111111111111111111111111111111111111111111111111111111111111111111111111111"
     "11111111111111111111111111111111111111111111111111111111111111111111111111111111111111111111111111111111111111111"
     "11111111111111111111111111111111111111111111111111111111111111111111111111111111111111111111111111111111111111111"
     "11111111111111111111111111111111111111111111111111111111111111111111111111111111111111111111111111111111111111111"
     "11111111111111111111111111111111111111111111111111111111111111111111111111111111111111111111111111111111111111111"
     "11111111111111111111111111111111111111111111111111111111111111111111111111111111111111111111111111111111111111111"
     "11111111111111111111111111111111111111111111111111111111111111111111111111111111111111111111111111111111111111111"
     "11111111111111111111111111111111111111111111111111111111111111111111111111111111111111111111111111111111111111111"
     "11111111111111111111111111111111111111111111111111111111111111111111111111111111111",
     1100, ENC_OK,
     "01130112000000000457045704570457045704570457045704570457045704570457045704570457045704570457045704570457045704570"
     "45704570457045704570457045704570457045704570457045704570457045704570457045704570457045704570457045704570457045704"
     "57045704570457045704570457045704570457045704570457045704570457045704570457045704570457045704570457045704570457045"
     "70457045704570457045704570457045704570457045704570457045704570457045704570457045704570457045704570457045704570457"
     "04570457045704570457045704570457045704570457045704570457045704570457045704570457045704570457045704570457045704570"
     "45704570457045704570457045704570457045704570457045704570457045704570457045704570457045704570457045704570457045704"
     "57045704570457045704570457045704570457045704570457045704570457045704570457045704570457045704570457045704570457045"
     "70457045704570457045704570457045704570457045704570457045704570457045704570457045704570457045704570457045704570457"
     "04570457045704570457045704570457045704570457045704570457045704570457045704570457045704570457045704570457045704570"
     "457045704570457045704570457045704570457045704570457045704570457045704570457045704570457045704570457",
     ""}, /* server: ok */
    {ENC_NUMERIC, -1, true,
     "0."
     "00000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000"
     "00000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000"
     "00000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000"
     "00000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000"
     "00000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000"
     "00000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000"
     "00000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000"
     "00000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000"
     "00000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000"
     "000000000000000000000000000000000000000000000000000000000000000000000000000000001",
     1100, ENC_OK, "0001feed0000044a0064", ""},                                /* server: ok */
    {ENC_NUMERIC, -1, true, "1e100", 5, ENC_OK, "00010019000000000001", ""},   /* server: ok */
    {ENC_NUMERIC, -1, true, "-1e-100", 7, ENC_OK, "0001ffe7400000640001", ""}, /* server: ok */
    {ENC_NUMERIC, -1, true, "0e-5", 4, ENC_OK, "0000000000000005", ""},        /* server: ok */
    {ENC_NUMERIC, -1, true, "1.5e-1", 6, ENC_OK, "0001ffff0000000205dc", ""},  /* server: ok */
    {ENC_NUMERIC, -1, true, "1_000", 5, ENC_REJECT, "",
     "invalid input syntax for type numeric: \"1_000\""},                                        /* server: error */
    {ENC_NUMERIC, 655366, true, "123.4500", 8, ENC_OK, "0002000000000002007b1194", ""},          /* server: ok */
    {ENC_NUMERIC, 655366, true, "123.455", 7, ENC_OK, "0002000000000002007b11f8", ""},           /* server: ok */
    {ENC_NUMERIC, 655366, true, "-123.455", 8, ENC_OK, "0002000040000002007b11f8", ""},          /* server: ok */
    {ENC_NUMERIC, 655366, true, "123.454", 7, ENC_OK, "0002000000000002007b1194", ""},           /* server: ok */
    {ENC_NUMERIC, 655366, true, "0", 1, ENC_OK, "0000000000000002", ""},                         /* server: ok */
    {ENC_NUMERIC, 655366, true, "-0.001", 6, ENC_OK, "0000000000000002", ""},                    /* server: ok */
    {ENC_NUMERIC, 655366, true, "-0.005", 6, ENC_OK, "0001ffff400000020064", ""},                /* server: ok */
    {ENC_NUMERIC, 655366, true, "12345678.99", 11, ENC_OK, "000300010000000204d2162e26ac", ""},  /* server: ok */
    {ENC_NUMERIC, 655366, true, "123456789.99", 12, ENC_REJECT, "", "numeric field overflow"},   /* server: error */
    {ENC_NUMERIC, 655366, true, "99999999.995", 12, ENC_REJECT, "", "numeric field overflow"},   /* server: error */
    {ENC_NUMERIC, 655366, true, "99999999.994", 12, ENC_OK, "0003000100000002270f270f26ac", ""}, /* server: ok */
    {ENC_NUMERIC, 655366, true, "NaN", 3, ENC_OK, "00000000c0000000", ""},                       /* server: ok */
    {ENC_NUMERIC, 655366, true, "Infinity", 8, ENC_REJECT, "", "numeric field overflow"},        /* server: error */
    {ENC_NUMERIC, 655366, true, "-inf", 4, ENC_REJECT, "", "numeric field overflow"},            /* server: error */
    {ENC_NUMERIC, 655366, true, "1e7", 3, ENC_OK, "000100010000000203e8", ""},                   /* server: ok */
    {ENC_NUMERIC, 655366, true, "1e8", 3, ENC_REJECT, "", "numeric field overflow"},             /* server: error */
    {ENC_NUMERIC, 655366, true, "1e-3", 4, ENC_OK, "0000000000000002", ""},                      /* server: ok */
    {ENC_NUMERIC, 655366, true, "5e-3", 4, ENC_OK, "0001ffff000000020064", ""},                  /* server: ok */
    {ENC_NUMERIC, 655366, true, "1e100", 5, ENC_REJECT, "", "numeric field overflow"},           /* server: error */
    {ENC_NUMERIC, 655366, true, "1e-100", 6, ENC_OK, "0000000000000002", ""},                    /* server: ok */
    {ENC_NUMERIC, 655366, true, "1e1000000000", 12, ENC_REJECT, "", "numeric field overflow"},   /* server: error */
    {ENC_NUMERIC, 655366, true, "abc", 3, ENC_REJECT, "",
     "invalid input syntax for type numeric: \"abc\""}, /* server: error */
    {ENC_NUMERIC, 655366, true, "12x", 3, ENC_REJECT, "",
     "invalid input syntax for type numeric: \"12x\""},                                   /* server: error */
    {ENC_NUMERIC, 262150, true, "99.995", 6, ENC_REJECT, "", "numeric field overflow"},   /* server: error */
    {ENC_NUMERIC, 262150, true, "99.994", 6, ENC_OK, "0002000000000002006326ac", ""},     /* server: ok */
    {ENC_NUMERIC, 262150, true, "0.005", 5, ENC_OK, "0001ffff000000020064", ""},          /* server: ok */
    {ENC_NUMERIC, 262150, true, "-99.99", 6, ENC_OK, "0002000040000002006326ac", ""},     /* server: ok */
    {ENC_NUMERIC, 327684, true, "12345.5", 7, ENC_OK, "00020001000000000001092a", ""},    /* server: ok */
    {ENC_NUMERIC, 327684, true, "99999.4", 7, ENC_OK, "00020001000000000009270f", ""},    /* server: ok */
    {ENC_NUMERIC, 327684, true, "99999.5", 7, ENC_REJECT, "", "numeric field overflow"},  /* server: error */
    {ENC_NUMERIC, 327684, true, "0.5", 3, ENC_OK, "00010000000000000001", ""},            /* server: ok */
    {ENC_NUMERIC, 327684, true, "0.49", 4, ENC_OK, "0000000000000000", ""},               /* server: ok */
    {ENC_NUMERIC, 327684, true, "-0.5", 4, ENC_OK, "00010000400000000001", ""},           /* server: ok */
    {ENC_NUMERIC, 65540, true, "9.5", 3, ENC_REJECT, "", "numeric field overflow"},       /* server: error */
    {ENC_NUMERIC, 65540, true, "9.4", 3, ENC_OK, "00010000000000000009", ""},             /* server: ok */
    {ENC_NUMERIC, 329730, true, "12345.678", 9, ENC_OK, "0002000100000000000108fc", ""},  /* server: ok */
    {ENC_NUMERIC, 329730, true, "9999949", 7, ENC_OK, "000200010000000003e726ac", ""},    /* server: ok */
    {ENC_NUMERIC, 329730, true, "9999950", 7, ENC_REJECT, "", "numeric field overflow"},  /* server: error */
    {ENC_NUMERIC, 329730, true, "49", 2, ENC_OK, "0000000000000000", ""},                 /* server: ok */
    {ENC_NUMERIC, 329730, true, "50", 2, ENC_OK, "00010000000000000064", ""},             /* server: ok */
    {ENC_NUMERIC, 196617, true, "0.00123", 7, ENC_OK, "0002ffff00000005000c0bb8", ""},    /* server: ok */
    {ENC_NUMERIC, 196617, true, "0.01234", 7, ENC_REJECT, "", "numeric field overflow"},  /* server: error */
    {ENC_NUMERIC, 196617, true, "0.000005", 8, ENC_OK, "0001fffe0000000503e8", ""},       /* server: ok */
    {ENC_NUMERIC, 196617, true, "0.009995", 8, ENC_REJECT, "", "numeric field overflow"}, /* server: error */
    {ENC_NUMERIC, 65536004, true,
     "10000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000"
     "00000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000"
     "00000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000"
     "00000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000"
     "00000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000"
     "00000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000"
     "00000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000"
     "00000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000"
     "000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000",
     1000, ENC_OK, "000100f90000000003e8", ""}, /* server: ok */
    {ENC_NUMERIC, 65536004, true,
     "10000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000"
     "00000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000"
     "00000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000"
     "00000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000"
     "00000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000"
     "00000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000"
     "00000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000"
     "00000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000"
     "0000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000",
     1001, ENC_REJECT, "", "numeric field overflow"}, /* server: error */
    {ENC_NUMERIC, 1310734, true, "3.14159265358979323846", 22, ENC_OK, "000400000000000a0003058724310e10",
     ""},                                                                                           /* server: ok */
    {ENC_NUMERIC, 1310734, true, "-0.00000000005", 14, ENC_OK, "0001fffd4000000a0064", ""},         /* server: ok */
    {ENC_NUMERIC, 1310734, true, "0.00000000004999", 16, ENC_OK, "000000000000000a", ""},           /* server: ok */
    {ENC_NUMERIC, 786440, true, "9999.99995", 10, ENC_OK, "00010001000000040001", ""},              /* server: ok */
    {ENC_NUMERIC, 786440, true, "99999999.99995", 14, ENC_REJECT, "", "numeric field overflow"},    /* server: error */
    {ENC_NUMERIC, 786440, true, "1.23e3", 6, ENC_OK, "000100000000000404ce", ""},                   /* server: ok */
    {ENC_BOOL, -1, true, "t", 1, ENC_OK, "01", ""},                                                 /* server: ok */
    {ENC_BOOL, -1, true, "true", 4, ENC_OK, "01", ""},                                              /* server: ok */
    {ENC_BOOL, -1, true, "TRUE", 4, ENC_OK, "01", ""},                                              /* server: ok */
    {ENC_BOOL, -1, true, " tR ", 4, ENC_OK, "01", ""},                                              /* server: ok */
    {ENC_BOOL, -1, true, "f", 1, ENC_OK, "00", ""},                                                 /* server: ok */
    {ENC_BOOL, -1, true, "false", 5, ENC_OK, "00", ""},                                             /* server: ok */
    {ENC_BOOL, -1, true, "fals", 4, ENC_OK, "00", ""},                                              /* server: ok */
    {ENC_BOOL, -1, true, "y", 1, ENC_OK, "01", ""},                                                 /* server: ok */
    {ENC_BOOL, -1, true, "yes", 3, ENC_OK, "01", ""},                                               /* server: ok */
    {ENC_BOOL, -1, true, "n", 1, ENC_OK, "00", ""},                                                 /* server: ok */
    {ENC_BOOL, -1, true, "no", 2, ENC_OK, "00", ""},                                                /* server: ok */
    {ENC_BOOL, -1, true, "on", 2, ENC_OK, "01", ""},                                                /* server: ok */
    {ENC_BOOL, -1, true, "ON", 2, ENC_OK, "01", ""},                                                /* server: ok */
    {ENC_BOOL, -1, true, "of", 2, ENC_OK, "00", ""},                                                /* server: ok */
    {ENC_BOOL, -1, true, "off", 3, ENC_OK, "00", ""},                                               /* server: ok */
    {ENC_BOOL, -1, true, "o", 1, ENC_REJECT, "", "invalid input syntax for type boolean: \"o\""},   /* server: error */
    {ENC_BOOL, -1, true, "O", 1, ENC_REJECT, "", "invalid input syntax for type boolean: \"O\""},   /* server: error */
    {ENC_BOOL, -1, true, "1", 1, ENC_OK, "01", ""},                                                 /* server: ok */
    {ENC_BOOL, -1, true, "0", 1, ENC_OK, "00", ""},                                                 /* server: ok */
    {ENC_BOOL, -1, true, "1 ", 2, ENC_OK, "01", ""},                                                /* server: ok */
    {ENC_BOOL, -1, true, "01", 2, ENC_REJECT, "", "invalid input syntax for type boolean: \"01\""}, /* server: error */
    {ENC_BOOL, -1, true, "10", 2, ENC_REJECT, "", "invalid input syntax for type boolean: \"10\""}, /* server: error */
    {ENC_BOOL, -1, true, "truex", 5, ENC_REJECT, "",
     "invalid input syntax for type boolean: \"truex\""}, /* server: error */
    {ENC_BOOL, -1, true, "yess", 4, ENC_REJECT, "",
     "invalid input syntax for type boolean: \"yess\""}, /* server: error */
    {ENC_BOOL, -1, true, "offf", 4, ENC_REJECT, "",
     "invalid input syntax for type boolean: \"offf\""},                                            /* server: error */
    {ENC_BOOL, -1, true, "", 0, ENC_REJECT, "", "invalid input syntax for type boolean: \"\""},     /* server: error */
    {ENC_BOOL, -1, true, "  ", 2, ENC_REJECT, "", "invalid input syntax for type boolean: \"  \""}, /* server: error */
    {ENC_BOOL, -1, true, "t r", 3, ENC_REJECT, "",
     "invalid input syntax for type boolean: \"t r\""},                                           /* server: error */
    {ENC_BOOL, -1, true, "2", 1, ENC_REJECT, "", "invalid input syntax for type boolean: \"2\""}, /* server: error */
    {ENC_BOOL, -1, true, "\011true\012", 6, ENC_OK, "01", ""},                                    /* server: ok */
    {ENC_BOOL, -1, true, "nO", 2, ENC_OK, "00", ""},                                              /* server: ok */
    {ENC_BOOL, -1, true, "x", 1, ENC_REJECT, "", "invalid input syntax for type boolean: \"x\""}, /* server: error */
    {ENC_TEXT, -1, true, "", 0, ENC_OK, "", ""},                                                  /* server: ok */
    {ENC_TEXT, -1, true, "hello", 5, ENC_OK, "68656c6c6f", ""},                                   /* server: ok */
    {ENC_TEXT, -1, true, " spaced ", 8, ENC_OK, "2073706163656420", ""},                          /* server: ok */
    {ENC_TEXT, -1, true, "h\303\251llo w\303\266rld \342\234\223", 17, ENC_OK, "68c3a96c6c6f2077c3b6726c6420e29c93",
     ""},                                                                                         /* server: ok */
    {ENC_TEXT, -1, true, "tab\011here", 8, ENC_OK, "7461620968657265", ""},                       /* server: ok */
    {ENC_VARCHAR, -1, true, "anything at all", 15, ENC_OK, "616e797468696e6720617420616c6c", ""}, /* server: ok */
    {ENC_VARCHAR, 7, true, "abc", 3, ENC_OK, "616263", ""},                                       /* server: ok */
    {ENC_VARCHAR, 7, true, "abcd", 4, ENC_REJECT, "",
     "value too long for type character varying(3)"},         /* server: error */
    {ENC_VARCHAR, 7, true, "abc ", 4, ENC_OK, "616263", ""},  /* server: ok */
    {ENC_VARCHAR, 7, true, "abc  ", 5, ENC_OK, "616263", ""}, /* server: ok */
    {ENC_VARCHAR, 7, true, "abcde", 5, ENC_REJECT, "",
     "value too long for type character varying(3)"}, /* server: error */
    {ENC_VARCHAR, 7, true, "ab c", 4, ENC_REJECT, "",
     "value too long for type character varying(3)"}, /* server: error */
    {ENC_VARCHAR, 7, true, "abc x", 5, ENC_REJECT, "",
     "value too long for type character varying(3)"},                         /* server: error */
    {ENC_VARCHAR, 7, true, "", 0, ENC_OK, "", ""},                            /* server: ok */
    {ENC_VARCHAR, 7, true, "h\303\251\303\251", 5, ENC_OK, "68c3a9c3a9", ""}, /* server: ok */
    {ENC_VARCHAR, 7, true, "h\303\251\303\251\303\251", 7, ENC_REJECT, "",
     "value too long for type character varying(3)"},               /* server: error */
    {ENC_VARCHAR, 6, true, "h\303\251  ", 5, ENC_OK, "68c3a9", ""}, /* server: ok */
    {ENC_VARCHAR, 6, true, "h\303\251 x", 5, ENC_REJECT, "",
     "value too long for type character varying(2)"},                                  /* server: error */
    {ENC_VARCHAR, 6, true, "\342\234\223\342\234\223", 6, ENC_OK, "e29c93e29c93", ""}, /* server: ok */
    {ENC_VARCHAR, 6, true, "\342\234\223\342\234\223\342\234\223", 9, ENC_REJECT, "",
     "value too long for type character varying(2)"},                                                /* server: error */
    {ENC_VARCHAR, 5, true, "a", 1, ENC_OK, "61", ""},                                                /* server: ok */
    {ENC_VARCHAR, 5, true, "ab", 2, ENC_REJECT, "", "value too long for type character varying(1)"}, /* server: error */
    {ENC_VARCHAR, 5, true, " ", 1, ENC_OK, "20", ""},                                                /* server: ok */
    {ENC_VARCHAR, 5, true, "  ", 2, ENC_OK, "20", ""},                                               /* server: ok */
    {ENC_VARCHAR, 5, true, "a\011", 2, ENC_REJECT, "",
     "value too long for type character varying(1)"},                       /* server: error */
    {ENC_VARCHAR, 5, true, "\360\237\231\202", 4, ENC_OK, "f09f9982", ""},  /* server: ok */
    {ENC_VARCHAR, 5, true, "\360\237\231\202 ", 5, ENC_OK, "f09f9982", ""}, /* server: ok */
    {ENC_VARCHAR, 5, true, "\360\237\231\202\360\237\231\202", 8, ENC_REJECT, "",
     "value too long for type character varying(1)"},                                           /* server: error */
    {ENC_BPCHAR, -1, true, "ab", 2, ENC_OK, "6162", ""},                                        /* server: ok */
    {ENC_BPCHAR, -1, true, "ab  ", 4, ENC_OK, "61622020", ""},                                  /* server: ok */
    {ENC_BPCHAR, -1, true, "", 0, ENC_OK, "", ""},                                              /* server: ok */
    {ENC_BPCHAR, 8, true, "ab", 2, ENC_OK, "61622020", ""},                                     /* server: ok */
    {ENC_BPCHAR, 8, true, "", 0, ENC_OK, "20202020", ""},                                       /* server: ok */
    {ENC_BPCHAR, 8, true, "abcd", 4, ENC_OK, "61626364", ""},                                   /* server: ok */
    {ENC_BPCHAR, 8, true, "abcd  ", 6, ENC_OK, "61626364", ""},                                 /* server: ok */
    {ENC_BPCHAR, 8, true, "abcde", 5, ENC_REJECT, "", "value too long for type character(4)"},  /* server: error */
    {ENC_BPCHAR, 8, true, "abcd e", 6, ENC_REJECT, "", "value too long for type character(4)"}, /* server: error */
    {ENC_BPCHAR, 8, true, "h\303\251", 3, ENC_OK, "68c3a92020", ""},                            /* server: ok */
    {ENC_BPCHAR, 8, true, "h\303\251llo", 6, ENC_REJECT, "",
     "value too long for type character(4)"},                                               /* server: error */
    {ENC_BPCHAR, 8, true, "h\303\251l  ", 6, ENC_OK, "68c3a96c20", ""},                     /* server: ok */
    {ENC_BPCHAR, 5, true, "x", 1, ENC_OK, "78", ""},                                        /* server: ok */
    {ENC_BPCHAR, 5, true, "xy", 2, ENC_REJECT, "", "value too long for type character(1)"}, /* server: error */
    {ENC_BPCHAR, 5, true, "\342\234\223", 3, ENC_OK, "e29c93", ""},                         /* server: ok */
    {ENC_BPCHAR, 5, true, "\342\234\223 ", 4, ENC_OK, "e29c93", ""},                        /* server: ok */
    {ENC_BPCHAR, 5, true, "\342\234\223\342\234\223", 6, ENC_REJECT, "",
     "value too long for type character(1)"},                       /* server: error */
    {ENC_BPCHAR, 5, true, " ", 1, ENC_OK, "20", ""},                /* server: ok */
    {ENC_DATE, -1, true, "2000-01-01", 10, ENC_OK, "00000000", ""}, /* server: ok */
    {ENC_DATE, -1, true, "2024-02-29", 10, ENC_OK, "00002279", ""}, /* server: ok */
    {ENC_DATE, -1, true, "2023-02-29", 10, ENC_REJECT, "",
     "date/time field value out of range: \"2023-02-29\""}, /* server: error */
    {ENC_DATE, -1, true, "2023-02-30", 10, ENC_REJECT, "",
     "date/time field value out of range: \"2023-02-30\""},         /* server: error */
    {ENC_DATE, -1, true, "1999-12-31", 10, ENC_OK, "ffffffff", ""}, /* server: ok */
    {ENC_DATE, -1, true, "0001-01-01", 10, ENC_OK, "fff4dbf9", ""}, /* server: ok */
    {ENC_DATE, -1, true, "9999-12-31", 10, ENC_OK, "002c95d3", ""}, /* server: ok */
    {ENC_DATE, -1, true, "0000-01-01", 10, ENC_REJECT, "",
     "date/time field value out of range: \"0000-01-01\""}, /* server: error */
    {ENC_DATE, -1, true, "2023-13-01", 10, ENC_REJECT, "",
     "date/time field value out of range: \"2023-13-01\""}, /* server: error */
    {ENC_DATE, -1, true, "2023-00-01", 10, ENC_REJECT, "",
     "date/time field value out of range: \"2023-00-01\""}, /* server: error */
    {ENC_DATE, -1, true, "2023-01-00", 10, ENC_REJECT, "",
     "date/time field value out of range: \"2023-01-00\""}, /* server: error */
    {ENC_DATE, -1, true, "2023-01-32", 10, ENC_REJECT, "",
     "date/time field value out of range: \"2023-01-32\""}, /* server: error */
    {ENC_DATE, -1, true, "2023-04-31", 10, ENC_REJECT, "",
     "date/time field value out of range: \"2023-04-31\""},           /* server: error */
    {ENC_DATE, -1, true, "2023-2-3", 8, ENC_OK, "000020f2", ""},      /* server: ok */
    {ENC_DATE, -1, true, " 2023-02-03 ", 12, ENC_OK, "000020f2", ""}, /* server: ok */
    {ENC_DATE, -1, true, "1900-02-29", 10, ENC_REJECT, "",
     "date/time field value out of range: \"1900-02-29\""},         /* server: error */
    {ENC_DATE, -1, true, "2000-02-29", 10, ENC_OK, "0000003b", ""}, /* server: ok */
    {ENC_DATE, -1, true, "2100-02-29", 10, ENC_REJECT, "",
     "date/time field value out of range: \"2100-02-29\""},                                      /* server: error */
    {ENC_DATE, -1, true, "1970-01-01", 10, ENC_OK, "ffffd533", ""},                              /* server: ok */
    {ENC_DATE, -1, true, "1582-10-10", 10, ENC_OK, "fffdacbb", ""},                              /* server: ok */
    {ENC_DATE, -1, true, "infinity", 8, ENC_OK, "7fffffff", ""},                                 /* server: ok */
    {ENC_DATE, -1, true, "-infinity", 9, ENC_OK, "80000000", ""},                                /* server: ok */
    {ENC_DATE, -1, true, "Infinity", 8, ENC_OK, "7fffffff", ""},                                 /* server: ok */
    {ENC_DATE, -1, true, " -INFINITY ", 11, ENC_OK, "80000000", ""},                             /* server: ok */
    {ENC_DATE, -1, true, "+infinity", 9, ENC_DEFER, "", ""},                                     /* server: error */
    {ENC_DATE, -1, true, "today", 5, ENC_DEFER, "", ""},                                         /* server: ok */
    {ENC_DATE, -1, true, "epoch", 5, ENC_DEFER, "", ""},                                         /* server: ok */
    {ENC_DATE, -1, true, "01/02/2023", 10, ENC_DEFER, "", ""},                                   /* server: ok */
    {ENC_DATE, -1, true, "20230102", 8, ENC_DEFER, "", ""},                                      /* server: ok */
    {ENC_DATE, -1, true, "2023-01-02 10:00", 16, ENC_DEFER, "", ""},                             /* server: ok */
    {ENC_DATE, -1, true, "2023-01-02 BC", 13, ENC_DEFER, "", ""},                                /* server: ok */
    {ENC_DATE, -1, true, "Jan 2 2023", 10, ENC_DEFER, "", ""},                                   /* server: ok */
    {ENC_DATE, -1, true, "23-01-02", 8, ENC_DEFER, "", ""},                                      /* server: error */
    {ENC_DATE, -1, true, "12023-01-02", 11, ENC_DEFER, "", ""},                                  /* server: ok */
    {ENC_DATE, -1, true, "2023-001-02", 11, ENC_DEFER, "", ""},                                  /* server: error */
    {ENC_DATE, -1, true, "", 0, ENC_DEFER, "", ""},                                              /* server: error */
    {ENC_DATE, -1, true, "2023/01/02", 10, ENC_DEFER, "", ""},                                   /* server: ok */
    {ENC_DATE, -1, true, "2023.01.02", 10, ENC_DEFER, "", ""},                                   /* server: ok */
    {ENC_DATE, -1, true, "2023-01-02T00:00:00", 19, ENC_DEFER, "", ""},                          /* server: ok */
    {ENC_DATE, -1, true, "2023-Jan-02", 11, ENC_DEFER, "", ""},                                  /* server: ok */
    {ENC_TIMESTAMP, -1, true, "2024-01-01 10:00:00", 19, ENC_OK, "0002b0de36ada800", ""},        /* server: ok */
    {ENC_TIMESTAMP, -1, true, "2024-01-01T10:00:00", 19, ENC_OK, "0002b0de36ada800", ""},        /* server: ok */
    {ENC_TIMESTAMP, -1, true, "2024-01-01t10:00:00", 19, ENC_OK, "0002b0de36ada800", ""},        /* server: ok */
    {ENC_TIMESTAMP, -1, true, "2024-01-01 10:00:00+02", 22, ENC_OK, "0002b0de36ada800", ""},     /* server: ok */
    {ENC_TIMESTAMP, -1, true, "2024-01-01 10:00:00Z", 20, ENC_OK, "0002b0de36ada800", ""},       /* server: ok */
    {ENC_TIMESTAMP, -1, true, "2024-01-01 10:00:00 -05:30", 26, ENC_OK, "0002b0de36ada800", ""}, /* server: ok */
    {ENC_TIMESTAMP, -1, true, "2024-01-01 10:00:00.5", 21, ENC_OK, "0002b0de36b54920", ""},      /* server: ok */
    {ENC_TIMESTAMP, -1, true, "2024-01-01 10:00:00.123456", 26, ENC_OK, "0002b0de36af8a40", ""}, /* server: ok */
    {ENC_TIMESTAMP, -1, true, "2024-01-01 10:00:00.000001", 26, ENC_OK, "0002b0de36ada801", ""}, /* server: ok */
    {ENC_TIMESTAMP, -1, true, "2024-01-01 10:00:00.1234565", 27, ENC_DEFER, "", ""},             /* server: ok */
    {ENC_TIMESTAMP, -1, true, "2024-01-01 10:00:00.", 20, ENC_DEFER, "", ""},                    /* server: ok */
    {ENC_TIMESTAMP, -1, true, "2024-01-01 10:00", 16, ENC_OK, "0002b0de36ada800", ""},           /* server: ok */
    {ENC_TIMESTAMP, -1, true, "2024-01-01 9:05:07", 18, ENC_OK, "0002b0dd726676c0", ""},         /* server: ok */
    {ENC_TIMESTAMP, -1, true, "2024-01-01", 10, ENC_OK, "0002b0d5d4e94000", ""},                 /* server: ok */
    {ENC_TIMESTAMP, -1, true, "  2024-01-01   10:00:00  ", 25, ENC_OK, "0002b0de36ada800", ""},  /* server: ok */
    {ENC_TIMESTAMP, -1, true, "2024-01-01 24:00:00", 19, ENC_OK, "0002b0e9f2c0a000", ""},        /* server: ok */
    {ENC_TIMESTAMP, -1, true, "2024-01-01 23:59:60", 19, ENC_OK, "0002b0e9f2c0a000", ""},        /* server: ok */
    {ENC_TIMESTAMP, -1, true, "2024-01-01 23:59:60.5", 21, ENC_REJECT, "",
     "date/time field value out of range: \"2024-01-01 23:59:60.5\""}, /* server: error */
    {ENC_TIMESTAMP, -1, true, "2024-01-01 24:00:00.000001", 26, ENC_REJECT, "",
     "date/time field value out of range: \"2024-01-01 24:00:00.000001\""}, /* server: error */
    {ENC_TIMESTAMP, -1, true, "2024-01-01 24:00:01", 19, ENC_REJECT, "",
     "date/time field value out of range: \"2024-01-01 24:00:01\""}, /* server: error */
    {ENC_TIMESTAMP, -1, true, "2024-01-01 25:00:00", 19, ENC_REJECT, "",
     "date/time field value out of range: \"2024-01-01 25:00:00\""}, /* server: error */
    {ENC_TIMESTAMP, -1, true, "2024-01-01 10:60:00", 19, ENC_REJECT, "",
     "date/time field value out of range: \"2024-01-01 10:60:00\""}, /* server: error */
    {ENC_TIMESTAMP, -1, true, "2024-01-01 10:00:61", 19, ENC_REJECT, "",
     "date/time field value out of range: \"2024-01-01 10:00:61\""},                      /* server: error */
    {ENC_TIMESTAMP, -1, true, "2024-01-01 10:00:60", 19, ENC_OK, "0002b0de3a412f00", ""}, /* server: ok */
    {ENC_TIMESTAMP, -1, true, "2024-01-01 10:00:00+16", 22, ENC_REJECT, "",
     "time zone displacement out of range: \"2024-01-01 10:00:00+16\""}, /* server: error */
    {ENC_TIMESTAMP, -1, true, "2024-02-30 10:00:00+16", 22, ENC_REJECT, "",
     "time zone displacement out of range: \"2024-02-30 10:00:00+16\""}, /* server: error */
    {ENC_TIMESTAMP, -1, true, "2024-02-30 25:00:00", 19, ENC_REJECT, "",
     "date/time field value out of range: \"2024-02-30 25:00:00\""}, /* server: error */
    {ENC_TIMESTAMP, -1, true, "2024-02-30 10:00:00", 19, ENC_REJECT, "",
     "date/time field value out of range: \"2024-02-30 10:00:00\""}, /* server: error */
    {ENC_TIMESTAMP, -1, true, "2024-01-01 10:00:00+10:60", 25, ENC_REJECT, "",
     "time zone displacement out of range: \"2024-01-01 10:00:00+10:60\""},                      /* server: error */
    {ENC_TIMESTAMP, -1, true, "1999-12-31 23:59:59.999999", 26, ENC_OK, "ffffffffffffffff", ""}, /* server: ok */
    {ENC_TIMESTAMP, -1, true, "0001-01-01 00:00:00", 19, ENC_OK, "ff1fe2ffc59c6000", ""},        /* server: ok */
    {ENC_TIMESTAMP, -1, true, "9999-12-31 23:59:59.999999", 26, ENC_OK, "0380e70b913b7fff", ""}, /* server: ok */
    {ENC_TIMESTAMP, -1, true, "infinity", 8, ENC_OK, "7fffffffffffffff", ""},                    /* server: ok */
    {ENC_TIMESTAMP, -1, true, "-infinity", 9, ENC_OK, "8000000000000000", ""},                   /* server: ok */
    {ENC_TIMESTAMP, -1, true, " -INFINITY ", 11, ENC_OK, "8000000000000000", ""},                /* server: ok */
    {ENC_TIMESTAMP, -1, true, "1970-01-01 00:00:00", 19, ENC_OK, "fffca2fec4c82000", ""},        /* server: ok */
    {ENC_TIMESTAMP, -1, true, "2024-01-01 10:00:00 UTC", 23, ENC_DEFER, "", ""},                 /* server: ok */
    {ENC_TIMESTAMP, -1, true, "2024-01-01 10:00:00 Europe/Paris", 32, ENC_DEFER, "", ""},        /* server: ok */
    {ENC_TIMESTAMP, -1, true, "now", 3, ENC_DEFER, "", ""},                                      /* server: ok */
    {ENC_TIMESTAMP, -1, true, "2024-01-01 10:00:00 BC", 22, ENC_DEFER, "", ""},                  /* server: ok */
    {ENC_TIMESTAMP, -1, true, "2024-01-01 10:00:00 PM", 22, ENC_DEFER, "", ""},                  /* server: ok */
    {ENC_TIMESTAMP, -1, true, "2024-01-01 10:00:00+5:30", 24, ENC_OK, "0002b0de36ada800", ""},   /* server: ok */
    {ENC_TIMESTAMP, -1, true, "2024-01-01 10:00:00+123", 23, ENC_DEFER, "", ""},                 /* server: ok */
    {ENC_TIMESTAMP, -1, true, "2024-01-01 10:00:00+05:30:00", 28, ENC_DEFER, "", ""},            /* server: ok */
    {ENC_TIMESTAMP, -1, true, "2024-01-01 10:0:00", 18, ENC_DEFER, "", ""},                      /* server: ok */
    {ENC_TIMESTAMP, -1, true, "2024-01-01 10", 13, ENC_DEFER, "", ""},                           /* server: error */
    {ENC_TIMESTAMP, -1, true, "epoch", 5, ENC_DEFER, "", ""},                                    /* server: ok */
    {ENC_TIMESTAMP, -1, true, "2024-01-01 10:00:00 Zulu", 24, ENC_DEFER, "", ""},                /* server: ok */
    {ENC_TIMESTAMP, -1, true, "2024-01-01T 10:00", 17, ENC_DEFER, "", ""},                       /* server: ok */
    {ENC_TIMESTAMP, -1, true, "Jan 1 2024 10:00", 16, ENC_DEFER, "", ""},                        /* server: ok */
    {ENC_TIMESTAMP, -1, true, "2024-01-01 100:00", 17, ENC_DEFER, "", ""},                       /* server: error */
    {ENC_TIMESTAMP, -1, true, "2024-01-01 10:00:00-", 20, ENC_DEFER, "", ""},                    /* server: error */
    {ENC_TIMESTAMP, -1, true, "2024-01-01+02", 13, ENC_DEFER, "", ""},                           /* server: ok */
    {ENC_TIMESTAMP, -1, true, "2024-01-01T10:00Z", 17, ENC_OK, "0002b0de36ada800", ""},          /* server: ok */
    {ENC_TIMESTAMP, -1, true, "2024-01-01 10:00+02", 19, ENC_OK, "0002b0de36ada800", ""},        /* server: ok */
    {ENC_TIMESTAMPTZ, -1, true, "2024-01-01T10:00-03", 19, ENC_OK, "0002b0e0ba689400", ""},      /* server: ok */
    {ENC_TIMESTAMPTZ, -1, true, "2024-01-01 10:00:00.999999-15:59", 32, ENC_OK, "0002b0eb9c63a33f",
     ""},                                                                                          /* server: ok */
    {ENC_TIMESTAMP, 0, true, "2024-01-01 10:00:00.5", 21, ENC_OK, "0002b0de36bcea40", ""},         /* server: ok */
    {ENC_TIMESTAMP, 0, true, "2024-01-01 10:00:00.4999", 24, ENC_OK, "0002b0de36ada800", ""},      /* server: ok */
    {ENC_TIMESTAMP, 0, true, "1999-12-31 23:59:59.5", 21, ENC_OK, "fffffffffff0bdc0", ""},         /* server: ok */
    {ENC_TIMESTAMP, 0, true, "1999-12-31 23:59:59.4", 21, ENC_OK, "fffffffffff0bdc0", ""},         /* server: ok */
    {ENC_TIMESTAMP, 3, true, "2024-01-01 10:00:00.1234565", 27, ENC_DEFER, "", ""},                /* server: ok */
    {ENC_TIMESTAMP, 3, true, "2024-01-01 10:00:00.123456", 26, ENC_OK, "0002b0de36af8878", ""},    /* server: ok */
    {ENC_TIMESTAMP, 3, true, "2024-01-01 10:00:00.9995", 24, ENC_OK, "0002b0de36bcea40", ""},      /* server: ok */
    {ENC_TIMESTAMP, 3, true, "1999-12-31 23:59:59.9995", 24, ENC_OK, "fffffffffffffc18", ""},      /* server: ok */
    {ENC_TIMESTAMP, 6, true, "2024-01-01 10:00:00.123456", 26, ENC_OK, "0002b0de36af8a40", ""},    /* server: ok */
    {ENC_TIMESTAMP, 2, true, "infinity", 8, ENC_OK, "7fffffffffffffff", ""},                       /* server: ok */
    {ENC_TIMESTAMPTZ, -1, true, "2024-01-01 10:00:00+02", 22, ENC_OK, "0002b0dc89866000", ""},     /* server: ok */
    {ENC_TIMESTAMPTZ, -1, true, "2024-01-01 10:00:00-02", 22, ENC_OK, "0002b0dfe3d4f000", ""},     /* server: ok */
    {ENC_TIMESTAMPTZ, -1, true, "2024-01-01T10:00:00Z", 20, ENC_OK, "0002b0de36ada800", ""},       /* server: ok */
    {ENC_TIMESTAMPTZ, -1, true, "2024-01-01T10:00:00z", 20, ENC_OK, "0002b0de36ada800", ""},       /* server: ok */
    {ENC_TIMESTAMPTZ, -1, true, "2024-01-01 10:00:00 Z", 21, ENC_OK, "0002b0de36ada800", ""},      /* server: ok */
    {ENC_TIMESTAMPTZ, -1, true, "2024-01-01 10:00:00+0530", 24, ENC_OK, "0002b0d99a81a200", ""},   /* server: ok */
    {ENC_TIMESTAMPTZ, -1, true, "2024-01-01 10:00:00-0530", 24, ENC_OK, "0002b0e2d2d9ae00", ""},   /* server: ok */
    {ENC_TIMESTAMPTZ, -1, true, "2024-01-01 10:00:00 +05:30", 26, ENC_OK, "0002b0d99a81a200", ""}, /* server: ok */
    {ENC_TIMESTAMPTZ, -1, true, "2024-01-01 10:00:00+5", 21, ENC_OK, "0002b0da05cb7400", ""},      /* server: ok */
    {ENC_TIMESTAMPTZ, -1, true, "2024-01-01 10:00:00+15:59", 25, ENC_OK, "0002b0d0d106ef00", ""},  /* server: ok */
    {ENC_TIMESTAMPTZ, -1, true, "2024-01-01 10:00:00-15", 22, ENC_OK, "0002b0eac9544400", ""},     /* server: ok */
    {ENC_TIMESTAMPTZ, -1, true, "2024-01-01 10:00:00+16", 22, ENC_REJECT, "",
     "time zone displacement out of range: \"2024-01-01 10:00:00+16\""}, /* server: error */
    {ENC_TIMESTAMPTZ, -1, true, "2024-01-01 10:00:00+1060", 24, ENC_REJECT, "",
     "time zone displacement out of range: \"2024-01-01 10:00:00+1060\""},                           /* server: error */
    {ENC_TIMESTAMPTZ, -1, true, "2024-01-01 10:00:00.25+01:00", 28, ENC_OK, "0002b0dd601dd490", ""}, /* server: ok */
    {ENC_TIMESTAMPTZ, -1, true, "2024-01-01 10:00", 16, ENC_OK, "0002b0de36ada800", ""},             /* server: ok */
    {ENC_TIMESTAMPTZ, -1, true, "2024-01-01 10:00:00", 19, ENC_OK, "0002b0de36ada800", ""},          /* server: ok */
    {ENC_TIMESTAMPTZ, -1, true, "2024-01-01", 10, ENC_OK, "0002b0d5d4e94000", ""},                   /* server: ok */
    {ENC_TIMESTAMPTZ, -1, true, "0001-01-01 00:00:00+05", 22, ENC_OK, "ff1fe2fb94ba2c00", ""},       /* server: ok */
    {ENC_TIMESTAMPTZ, -1, true, "2024-01-01 24:00:00+00", 22, ENC_OK, "0002b0e9f2c0a000", ""},       /* server: ok */
    {ENC_TIMESTAMPTZ, -1, true, "infinity", 8, ENC_OK, "7fffffffffffffff", ""},                      /* server: ok */
    {ENC_TIMESTAMPTZ, -1, true, "-infinity", 9, ENC_OK, "8000000000000000", ""},                     /* server: ok */
    {ENC_TIMESTAMPTZ, -1, false, "2024-01-01 10:00:00", 19, ENC_DEFER, "", ""},                      /* server: ok */
    {ENC_TIMESTAMPTZ, -1, false, "2024-01-01", 10, ENC_DEFER, "", ""},                               /* server: ok */
    {ENC_TIMESTAMPTZ, -1, false, "2024-01-01 10:00:00+02", 22, ENC_OK, "0002b0dc89866000", ""},      /* server: ok */
    {ENC_TIMESTAMPTZ, -1, false, "2024-07-01T10:00:00Z", 20, ENC_OK, "0002bf2b6dcbe800", ""},        /* server: ok */
    {ENC_TIMESTAMPTZ, -1, false, "2024-02-30 10:00:00", 19, ENC_REJECT, "",
     "date/time field value out of range: \"2024-02-30 10:00:00\""}, /* server: error */
    {ENC_TIMESTAMPTZ, -1, false, "2024-01-01 25:00:00", 19, ENC_REJECT, "",
     "date/time field value out of range: \"2024-01-01 25:00:00\""},                            /* server: error */
    {ENC_TIMESTAMPTZ, -1, false, "infinity", 8, ENC_OK, "7fffffffffffffff", ""},                /* server: ok */
    {ENC_TIMESTAMPTZ, -1, true, "2024-01-01 10:00:00 America/New_York", 36, ENC_DEFER, "", ""}, /* server: ok */
    {ENC_TIMESTAMPTZ, -1, true, "2024-01-01 10:00:00 CET", 23, ENC_DEFER, "", ""},              /* server: ok */
    {ENC_TIMESTAMPTZ, 0, true, "2024-01-01 10:00:00.5+02", 24, ENC_OK, "0002b0dc8995a240", ""}, /* server: ok */
    {ENC_TIMESTAMPTZ, 2, true, "2024-01-01 10:00:00.125Z", 24, ENC_OK, "0002b0de36afa3d0", ""}, /* server: ok */
    {ENC_TIMESTAMPTZ, 2, true, "2024-01-01 10:00:00.135Z", 24, ENC_OK, "0002b0de36afcae0", ""}, /* server: ok */
    {ENC_UUID, -1, true, "a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11", 36, ENC_OK, "a0eebc999c0b4ef8bb6d6bb9bd380a11",
     ""}, /* server: ok */
    {ENC_UUID, -1, true, "A0EEBC99-9C0B-4EF8-BB6D-6BB9BD380A11", 36, ENC_OK, "a0eebc999c0b4ef8bb6d6bb9bd380a11",
     ""}, /* server: ok */
    {ENC_UUID, -1, true, "{a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11}", 38, ENC_OK, "a0eebc999c0b4ef8bb6d6bb9bd380a11",
     ""}, /* server: ok */
    {ENC_UUID, -1, true, "a0eebc999c0b4ef8bb6d6bb9bd380a11", 32, ENC_OK, "a0eebc999c0b4ef8bb6d6bb9bd380a11",
     ""}, /* server: ok */
    {ENC_UUID, -1, true, "{a0eebc999c0b4ef8bb6d6bb9bd380a11}", 34, ENC_OK, "a0eebc999c0b4ef8bb6d6bb9bd380a11",
     ""}, /* server: ok */
    {ENC_UUID, -1, true, "a0ee-bc99-9c0b-4ef8-bb6d-6bb9-bd38-0a11", 39, ENC_OK, "a0eebc999c0b4ef8bb6d6bb9bd380a11",
     ""}, /* server: ok */
    {ENC_UUID, -1, true, "a0eebc99-9c0b4ef8-bb6d6bb9-bd380a11", 35, ENC_OK, "a0eebc999c0b4ef8bb6d6bb9bd380a11",
     ""}, /* server: ok */
    {ENC_UUID, -1, true, "00000000-0000-0000-0000-000000000000", 36, ENC_OK, "00000000000000000000000000000000",
     ""}, /* server: ok */
    {ENC_UUID, -1, true, "a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11-", 37, ENC_REJECT, "",
     "invalid input syntax for type uuid: \"a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11-\""}, /* server: error */
    {ENC_UUID, -1, true, " a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11", 37, ENC_REJECT, "",
     "invalid input syntax for type uuid: \" a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11\""}, /* server: error */
    {ENC_UUID, -1, true, "a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11 ", 37, ENC_REJECT, "",
     "invalid input syntax for type uuid: \"a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11 \""}, /* server: error */
    {ENC_UUID, -1, true, "a0eebc999c0b4ef8bb6d6bb9bd380a1-1", 33, ENC_REJECT, "",
     "invalid input syntax for type uuid: \"a0eebc999c0b4ef8bb6d6bb9bd380a1-1\""}, /* server: error */
    {ENC_UUID, -1, true, "{a0eebc999c0b4ef8bb6d6bb9bd380a11", 33, ENC_REJECT, "",
     "invalid input syntax for type uuid: \"{a0eebc999c0b4ef8bb6d6bb9bd380a11\""}, /* server: error */
    {ENC_UUID, -1, true, "a0eebc999c0b4ef8bb6d6bb9bd380a11}", 33, ENC_REJECT, "",
     "invalid input syntax for type uuid: \"a0eebc999c0b4ef8bb6d6bb9bd380a11}\""}, /* server: error */
    {ENC_UUID, -1, true, "a0eebc99--9c0b-4ef8-bb6d-6bb9bd380a11", 37, ENC_REJECT, "",
     "invalid input syntax for type uuid: \"a0eebc99--9c0b-4ef8-bb6d-6bb9bd380a11\""}, /* server: error */
    {ENC_UUID, -1, true, "-a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11", 37, ENC_REJECT, "",
     "invalid input syntax for type uuid: \"-a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11\""}, /* server: error */
    {ENC_UUID, -1, true, "a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a1", 35, ENC_REJECT, "",
     "invalid input syntax for type uuid: \"a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a1\""}, /* server: error */
    {ENC_UUID, -1, true, "a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a1g", 36, ENC_REJECT, "",
     "invalid input syntax for type uuid: \"a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a1g\""}, /* server: error */
    {ENC_UUID, -1, true, "a0eebc9-99c0b-4ef8-bb6d-6bb9bd380a11", 36, ENC_REJECT, "",
     "invalid input syntax for type uuid: \"a0eebc9-99c0b-4ef8-bb6d-6bb9bd380a11\""},            /* server: error */
    {ENC_UUID, -1, true, "", 0, ENC_REJECT, "", "invalid input syntax for type uuid: \"\""},     /* server: error */
    {ENC_UUID, -1, true, "{}", 2, ENC_REJECT, "", "invalid input syntax for type uuid: \"{}\""}, /* server: error */
    {ENC_UUID, -1, true, "a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a1100", 38, ENC_REJECT, "",
     "invalid input syntax for type uuid: \"a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a1100\""},          /* server: error */
    {ENC_JSON, -1, true, "{}", 2, ENC_OK, "7b7d", ""},                                           /* server: ok */
    {ENC_JSON, -1, true, "[]", 2, ENC_OK, "5b5d", ""},                                           /* server: ok */
    {ENC_JSON, -1, true, "[1, 2]", 6, ENC_OK, "5b312c20325d", ""},                               /* server: ok */
    {ENC_JSON, -1, true, " { \"a\" : 1e5 } ", 15, ENC_OK, "207b20226122203a20316535207d20", ""}, /* server: ok */
    {ENC_JSON, -1, true, "\"\\u0000\"", 8, ENC_OK, "225c753030303022", ""},                      /* server: ok */
    {ENC_JSON, -1, true, "[\"\\ud800\"]", 10, ENC_OK, "5b225c7564383030225d", ""},               /* server: ok */
    {ENC_JSON, -1, true, "\"\\udc00\\ud800\"", 14, ENC_OK, "225c75646330305c756438303022", ""},  /* server: ok */
    {ENC_JSON, -1, true, "  true  ", 8, ENC_OK, "2020747275652020", ""},                         /* server: ok */
    {ENC_JSON, -1, true, "null", 4, ENC_OK, "6e756c6c", ""},                                     /* server: ok */
    {ENC_JSON, -1, true, "false", 5, ENC_OK, "66616c7365", ""},                                  /* server: ok */
    {ENC_JSON, -1, true, "-0.0e-0", 7, ENC_OK, "2d302e30652d30", ""},                            /* server: ok */
    {ENC_JSON, -1, true, "1E+2", 4, ENC_OK, "31452b32", ""},                                     /* server: ok */
    {ENC_JSON, -1, true, "[1e1000000000]", 14, ENC_OK, "5b3165313030303030303030305d", ""},      /* server: ok */
    {ENC_JSON, -1, true, "{\"a\":{\"b\":[1,{\"c\":null}]},\"a\":2}", 32, ENC_OK,
     "7b2261223a7b2262223a5b312c7b2263223a6e756c6c7d5d7d2c2261223a327d", ""}, /* server: ok */
    {ENC_JSON, -1, true, "\"\303\251\342\234\223\360\237\231\202\"", 11, ENC_OK, "22c3a9e29c93f09f998222",
     ""}, /* server: ok */
    {ENC_JSON, -1, true, "\"\\\"\\\\\\/\\b\\f\\n\\r\\t\"", 18, ENC_OK, "225c225c5c5c2f5c625c665c6e5c725c7422",
     ""},                                                                                         /* server: ok */
    {ENC_JSON, -1, true, "\015\012\011[ ]\012", 7, ENC_OK, "0d0a095b205d0a", ""},                 /* server: ok */
    {ENC_JSON, -1, true, "0", 1, ENC_OK, "30", ""},                                               /* server: ok */
    {ENC_JSON, -1, true, "-1.5", 4, ENC_OK, "2d312e35", ""},                                      /* server: ok */
    {ENC_JSON, -1, true, "01", 2, ENC_REJECT, "", "invalid input syntax for type json"},          /* server: error */
    {ENC_JSON, -1, true, "1.", 2, ENC_REJECT, "", "invalid input syntax for type json"},          /* server: error */
    {ENC_JSON, -1, true, ".5", 2, ENC_REJECT, "", "invalid input syntax for type json"},          /* server: error */
    {ENC_JSON, -1, true, "+1", 2, ENC_REJECT, "", "invalid input syntax for type json"},          /* server: error */
    {ENC_JSON, -1, true, "-", 1, ENC_REJECT, "", "invalid input syntax for type json"},           /* server: error */
    {ENC_JSON, -1, true, "1e", 2, ENC_REJECT, "", "invalid input syntax for type json"},          /* server: error */
    {ENC_JSON, -1, true, "1e+", 3, ENC_REJECT, "", "invalid input syntax for type json"},         /* server: error */
    {ENC_JSON, -1, true, "1x", 2, ENC_REJECT, "", "invalid input syntax for type json"},          /* server: error */
    {ENC_JSON, -1, true, "tru", 3, ENC_REJECT, "", "invalid input syntax for type json"},         /* server: error */
    {ENC_JSON, -1, true, "True", 4, ENC_REJECT, "", "invalid input syntax for type json"},        /* server: error */
    {ENC_JSON, -1, true, "nul", 3, ENC_REJECT, "", "invalid input syntax for type json"},         /* server: error */
    {ENC_JSON, -1, true, "truex", 5, ENC_REJECT, "", "invalid input syntax for type json"},       /* server: error */
    {ENC_JSON, -1, true, "", 0, ENC_REJECT, "", "invalid input syntax for type json"},            /* server: error */
    {ENC_JSON, -1, true, "   ", 3, ENC_REJECT, "", "invalid input syntax for type json"},         /* server: error */
    {ENC_JSON, -1, true, "{\"a\":1,}", 8, ENC_REJECT, "", "invalid input syntax for type json"},  /* server: error */
    {ENC_JSON, -1, true, "[1,]", 4, ENC_REJECT, "", "invalid input syntax for type json"},        /* server: error */
    {ENC_JSON, -1, true, "[1,2", 4, ENC_REJECT, "", "invalid input syntax for type json"},        /* server: error */
    {ENC_JSON, -1, true, "{\"a\" 1}", 7, ENC_REJECT, "", "invalid input syntax for type json"},   /* server: error */
    {ENC_JSON, -1, true, "{a:1}", 5, ENC_REJECT, "", "invalid input syntax for type json"},       /* server: error */
    {ENC_JSON, -1, true, "{'a':1}", 7, ENC_REJECT, "", "invalid input syntax for type json"},     /* server: error */
    {ENC_JSON, -1, true, "\0141", 2, ENC_REJECT, "", "invalid input syntax for type json"},       /* server: error */
    {ENC_JSON, -1, true, "\"\\x\"", 4, ENC_REJECT, "", "invalid input syntax for type json"},     /* server: error */
    {ENC_JSON, -1, true, "\"\\u12g4\"", 8, ENC_REJECT, "", "invalid input syntax for type json"}, /* server: error */
    {ENC_JSON, -1, true, "\"\\u12\"", 6, ENC_REJECT, "", "invalid input syntax for type json"},   /* server: error */
    {ENC_JSON, -1, true, "\"a\011b\"", 5, ENC_REJECT, "", "invalid input syntax for type json"},  /* server: error */
    {ENC_JSON, -1, true, "\"abc", 4, ENC_REJECT, "", "invalid input syntax for type json"},       /* server: error */
    {ENC_JSON, -1, true, "1 2", 3, ENC_REJECT, "", "invalid input syntax for type json"},         /* server: error */
    {ENC_JSON, -1, true, "{} {}", 5, ENC_REJECT, "", "invalid input syntax for type json"},       /* server: error */
    {ENC_JSON, -1, true, "[}", 2, ENC_REJECT, "", "invalid input syntax for type json"},          /* server: error */
    {ENC_JSON, -1, true, "{]", 2, ENC_REJECT, "", "invalid input syntax for type json"},          /* server: error */
    {ENC_JSON, -1, true, "{\"a\":}", 6, ENC_REJECT, "", "invalid input syntax for type json"},    /* server: error */
    {ENC_JSON, -1, true, "{,}", 3, ENC_REJECT, "", "invalid input syntax for type json"},         /* server: error */
    {ENC_JSON, -1, true, "[,1]", 4, ENC_REJECT, "", "invalid input syntax for type json"},        /* server: error */
    {ENC_JSON, -1, true, "NaN", 3, ENC_REJECT, "", "invalid input syntax for type json"},         /* server: error */
    {ENC_JSON, -1, true, "Infinity", 8, ENC_REJECT, "", "invalid input syntax for type json"},    /* server: error */
    {ENC_JSON, -1, true, "\"\177\"", 3, ENC_OK, "227f22", ""},                                    /* server: ok */
    {ENC_JSON, -1, true, "[[[[[[[[[[]]]]]]]]]]", 20, ENC_OK, "5b5b5b5b5b5b5b5b5b5b5d5d5d5d5d5d5d5d5d5d",
     ""}, /* server: ok */
    {ENC_JSON, -1, true, "{\"a\":1 \"b\":2}", 13, ENC_REJECT, "",
     "invalid input syntax for type json"},                                                         /* server: error */
    {ENC_JSON, -1, true, "[1]]", 4, ENC_REJECT, "", "invalid input syntax for type json"},          /* server: error */
    {ENC_JSON, -1, true, "\"a\"\013", 4, ENC_REJECT, "", "invalid input syntax for type json"},     /* server: error */
    {ENC_JSON, -1, true, "{\"\\u0000\":1}", 12, ENC_OK, "7b225c7530303030223a317d", ""},            /* server: ok */
    {ENC_JSONB, -1, true, "{}", 2, ENC_OK, "017b7d", ""},                                           /* server: ok */
    {ENC_JSONB, -1, true, "{\"b\":1, \"a\":2}", 14, ENC_OK, "017b2262223a312c202261223a327d", ""},  /* server: ok */
    {ENC_JSONB, -1, true, "{\"a\":1,\"a\":2}", 13, ENC_OK, "017b2261223a312c2261223a327d", ""},     /* server: ok */
    {ENC_JSONB, -1, true, "\"\\u0000\"", 8, ENC_REJECT, "", "unsupported Unicode escape sequence"}, /* server: error */
    {ENC_JSONB, -1, true, "[\"\\ud800\"]", 10, ENC_REJECT, "",
     "invalid input syntax for type json"},                                                         /* server: error */
    {ENC_JSONB, -1, true, "\"\\udc00\"", 8, ENC_REJECT, "", "invalid input syntax for type json"},  /* server: error */
    {ENC_JSONB, -1, true, "\"\\ud800\\udc00\"", 14, ENC_OK, "01225c75643830305c756463303022", ""},  /* server: ok */
    {ENC_JSONB, -1, true, "\"\\ud800x\"", 9, ENC_REJECT, "", "invalid input syntax for type json"}, /* server: error */
    {ENC_JSONB, -1, true, "\"\\ud800\\u0000\"", 14, ENC_REJECT, "",
     "invalid input syntax for type json"}, /* server: error */
    {ENC_JSONB, -1, true, "\"\\ud800\\ud800\"", 14, ENC_REJECT, "",
     "invalid input syntax for type json"}, /* server: error */
    {ENC_JSONB, -1, true, "\"\\ud800\\n\"", 10, ENC_REJECT, "",
     "invalid input syntax for type json"}, /* server: error */
    {ENC_JSONB, -1, true, "[x, \"\\u0000\"]", 13, ENC_REJECT, "",
     "invalid input syntax for type json"}, /* server: error */
    {ENC_JSONB, -1, true, "[\"\\u0000\", x]", 13, ENC_REJECT, "",
     "unsupported Unicode escape sequence"},                                                        /* server: error */
    {ENC_JSONB, -1, true, "[1e1000000000]", 14, ENC_DEFER, "", ""},                                 /* server: error */
    {ENC_JSONB, -1, true, "[1e999]", 7, ENC_OK, "015b31653939395d", ""},                            /* server: ok */
    {ENC_JSONB, -1, true, "[1e-999]", 8, ENC_OK, "015b31652d3939395d", ""},                         /* server: ok */
    {ENC_JSONB, -1, true, "[1e0001]", 8, ENC_OK, "015b3165303030315d", ""},                         /* server: ok */
    {ENC_JSONB, -1, true, "1.5", 3, ENC_OK, "01312e35", ""},                                        /* server: ok */
    {ENC_JSONB, -1, true, "{\"k\":\"\\u00e9\"}", 14, ENC_OK, "017b226b223a225c7530306539227d", ""}, /* server: ok */
    {ENC_JSONB, -1, true, "01", 2, ENC_REJECT, "", "invalid input syntax for type json"},           /* server: error */
    {ENC_JSONB, -1, true, "{\"\\u0000\":1}", 12, ENC_REJECT, "",
     "unsupported Unicode escape sequence"},                                   /* server: error */
    {ENC_JSONB, -1, true, "\"\\u0041\"", 8, ENC_OK, "01225c753030343122", ""}, /* server: ok */
    {ENC_JSONB, -1, true, "[true,false,null]", 17, ENC_OK, "015b747275652c66616c73652c6e756c6c5d", ""}, /* server: ok */
    {ENC_JSONB, -1, true, "[1,", 3, ENC_REJECT, "", "invalid input syntax for type json"},  /* server: error */
    {ENC_BYTEA, -1, true, "\\x", 2, ENC_OK, "", ""},                                        /* server: ok */
    {ENC_BYTEA, -1, true, "\\x41", 4, ENC_OK, "41", ""},                                    /* server: ok */
    {ENC_BYTEA, -1, true, "\\xDEADbeef", 10, ENC_OK, "deadbeef", ""},                       /* server: ok */
    {ENC_BYTEA, -1, true, "\\x41 ", 5, ENC_OK, "41", ""},                                   /* server: ok */
    {ENC_BYTEA, -1, true, "\\x 41 42", 8, ENC_OK, "4142", ""},                              /* server: ok */
    {ENC_BYTEA, -1, true, "\\x41\01242\01143\015", 11, ENC_OK, "414243", ""},               /* server: ok */
    {ENC_BYTEA, -1, true, "\\x4 1", 5, ENC_REJECT, "", "invalid hexadecimal digit: \" \""}, /* server: error */
    {ENC_BYTEA, -1, true, "\\x414", 5, ENC_REJECT, "",
     "invalid hexadecimal data: odd number of digits"}, /* server: error */
    {ENC_BYTEA, -1, true, "\\x4", 3, ENC_REJECT, "",
     "invalid hexadecimal data: odd number of digits"},                                    /* server: error */
    {ENC_BYTEA, -1, true, "\\xg0", 4, ENC_REJECT, "", "invalid hexadecimal digit: \"g\""}, /* server: error */
    {ENC_BYTEA, -1, true, "\\x0g", 4, ENC_REJECT, "", "invalid hexadecimal digit: \"g\""}, /* server: error */
    {ENC_BYTEA, -1, true, "\\x\303\251", 4, ENC_REJECT, "",
     "invalid hexadecimal digit: \"\303\251\""}, /* server: error */
    {ENC_BYTEA, -1, true, "\\x4\303\251", 5, ENC_REJECT, "",
     "invalid hexadecimal digit: \"\303\251\""},                                              /* server: error */
    {ENC_BYTEA, -1, true, "\\X41", 4, ENC_REJECT, "", "invalid input syntax for type bytea"}, /* server: error */
    {ENC_BYTEA, -1, true, "\\", 1, ENC_REJECT, "", "invalid input syntax for type bytea"},    /* server: error */
    {ENC_BYTEA, -1, true, "", 0, ENC_OK, "", ""},                                             /* server: ok */
    {ENC_BYTEA, -1, true, "abc", 3, ENC_OK, "616263", ""},                                    /* server: ok */
    {ENC_BYTEA, -1, true, "a\\\\b", 4, ENC_OK, "615c62", ""},                                 /* server: ok */
    {ENC_BYTEA, -1, true, "\\000\\001\\377", 12, ENC_OK, "0001ff", ""},                       /* server: ok */
    {ENC_BYTEA, -1, true, "\\400", 4, ENC_REJECT, "", "invalid input syntax for type bytea"}, /* server: error */
    {ENC_BYTEA, -1, true, "\\38", 3, ENC_REJECT, "", "invalid input syntax for type bytea"},  /* server: error */
    {ENC_BYTEA, -1, true, "\\12", 3, ENC_REJECT, "", "invalid input syntax for type bytea"},  /* server: error */
    {ENC_BYTEA, -1, true, "ab\\", 3, ENC_REJECT, "", "invalid input syntax for type bytea"},  /* server: error */
    {ENC_BYTEA, -1, true, "\\\\x41", 5, ENC_OK, "5c783431", ""},                              /* server: ok */
    {ENC_BYTEA, -1, true, "\303\251", 2, ENC_OK, "c3a9", ""},                                 /* server: ok */
    {ENC_BYTEA, -1, true, "\\x\\x", 4, ENC_REJECT, "", "invalid hexadecimal digit: \"\\\""},  /* server: error */
    {ENC_BYTEA, -1, true, "x\\101y", 6, ENC_OK, "784179", ""},                                /* server: ok */
};

#define NCASES (sizeof cases / sizeof cases[0])

static void to_hex(const unsigned char *p, size_t n, char *out)
{
	static const char digits[] = "0123456789abcdef";
	for (size_t i = 0; i < n; i++) {
		out[2 * i] = digits[p[i] >> 4];
		out[2 * i + 1] = digits[p[i] & 15];
	}
	out[2 * n] = '\0';
}

/* Runs one case after some existing bytes, so that offsets other than 0 are
 * exercised; returns true when status, bytes and message all match. */
static bool run_case(const struct enc_case *c)
{
	struct enc_column col = {.kind = c->kind, .typmod = c->typmod};
	struct enc_session s = {.tz_utc = c->tz_utc};
	struct buf out;
	if (buf_init(&out, 16) != 0)
		return false;
	buf_put(&out, "pre", 3);
	char msg[512];
	strcpy(msg, "(untouched)");
	enum enc_status st = encode_binary(&col, &s, c->in, c->len, &out, msg, sizeof msg);
	bool ok = st == c->status;
	char *hex = malloc(2 * out.len + 1);
	hex[0] = '\0';
	if (ok && st == ENC_OK) {
		const unsigned char *f = (const unsigned char *)out.data + 3;
		uint32_t n = (uint32_t)f[0] << 24 | (uint32_t)f[1] << 16 | (uint32_t)f[2] << 8 | f[3];
		to_hex(f + 4, out.len - 7, hex);
		ok = out.len >= 7 && n == out.len - 7 && strcmp(hex, c->hex) == 0;
	} else if (ok) {
		ok = out.len == 3 && (st != ENC_REJECT || strcmp(msg, c->msg) == 0);
	}
	if (!ok)
		fprintf(stderr,
			"\n  kind %d typmod %d input \"%.*s\": status %d (want %d) bytes %s (want %s) msg \"%s\" (want "
			"\"%s\")",
			(int)c->kind, (int)c->typmod, (int)c->len, c->in, (int)st, (int)c->status, hex, c->hex,
			st == ENC_REJECT ? msg : "", c->msg);
	free(hex);
	buf_free(&out);
	return ok;
}

static void run_kinds(enum enc_kind a, enum enc_kind b)
{
	size_t n = 0;
	for (size_t i = 0; i < NCASES; i++) {
		if (cases[i].kind < a || cases[i].kind > b)
			continue;
		n++;
		CU_ASSERT_TRUE(run_case(&cases[i]));
	}
	CU_ASSERT_TRUE(n > 0);
}

/* int2/int4/int8 match pg_strtoint16/32/64: white space, sign, bounds, and out-of-range reported before trailing junk. */
static void test_integers(void)
{
	run_kinds(ENC_INT2, ENC_INT8);
}

/* float4/float8 match float4in/float8in: special spellings, denormals kept, overflow and underflow to zero refused. */
static void test_floats(void)
{
	run_kinds(ENC_FLOAT4, ENC_FLOAT8);
}

/* numeric matches numeric_in, apply_typmod (rounding, overflow, negative scale) and numeric_send's digits, weight, sign and dscale. */
static void test_numeric(void)
{
	run_kinds(ENC_NUMERIC, ENC_NUMERIC);
}

/* The short path of usual numerics (at most fifteen digits, no exponent,
 * no white space, scale >= 0) gives the general path's bytes and verdicts:
 * the same text with "e0" after it has the same value and display scale
 * but goes the general way. Random texts into columns of several typmods,
 * rounding and overflowing among them. */
static void test_numeric_short_path(void)
{
	static const int32_t typmods[] = {-1,
					  (12 << 16 | 2) + 4,
					  (5 << 16 | 0) + 4,
					  (1 << 16 | 0) + 4,
					  (2 << 16 | 1) + 4,
					  (3 << 16 | 5) + 4,
					  (15 << 16 | 15) + 4,
					  (20 << 16 | 18) + 4,
					  (9 << 16 | 3) + 4,
					  (1000 << 16 | 7) + 4};
	struct buf a, b;
	CU_ASSERT_EQUAL_FATAL(buf_init(&a, 64), 0);
	CU_ASSERT_EQUAL_FATAL(buf_init(&b, 64), 0);
	uint64_t x = 88172645463325252ULL;
	int ok = 0, rejected = 0;
	for (int iter = 0; iter < 200000; iter++) {
		x ^= x << 13;
		x ^= x >> 7;
		x ^= x << 17;
		char in[40];
		size_t n = 0;
		uint64_t r = x;
		if (r % 4 == 0)
			in[n++] = r % 8 == 0 ? '-' : '+';
		r /= 8;
		int digits = 1 + (int)(r % 16), point = (int)((r / 16) % (unsigned)(digits + 2)) - 1;
		r /= 16 * 18;
		for (int k = 0; k < digits; k++) {
			if (k == point)
				in[n++] = '.';
			/* Runs of 9s and 0s make carries and trailing zeros,
			 * 5s ties in rounding. */
			uint64_t c = r % 16;
			in[n++] = c < 3 ? '9' : c < 6 ? '0' : c < 8 ? '5' : (char)('0' + (c * 7 + (x >> 33)) % 10);
			r = r / 16 ^ (x >> 40);
		}
		if (point == digits)
			in[n++] = '.';
		in[n] = '\0';
		int32_t typmod = typmods[(x >> 56) % (sizeof typmods / sizeof typmods[0])];
		char ma[128] = "", mb[128] = "";
		a.len = b.len = 0;
		enum enc_status sa = encode_numeric(in, n, typmod, &a, ma, sizeof ma);
		memcpy(in + n, "e0", 3);
		enum enc_status sb = encode_numeric(in, n + 2, typmod, &b, mb, sizeof mb);
		in[n] = '\0';
		CU_ASSERT_EQUAL(sa, sb);
		CU_ASSERT_STRING_EQUAL(ma, mb);
		CU_ASSERT(a.len == b.len && memcmp(a.data, b.data, a.len) == 0);
		if (sa != sb || a.len != b.len || memcmp(a.data, b.data, a.len) != 0)
			fprintf(stderr, "\n  numeric \"%s\" typmod %d: status %d vs %d\n", in, typmod, sa, sb);
		ok += sa == ENC_OK;
		rejected += sa == ENC_REJECT;
	}
	/* Both verdicts occurred, so both were compared. */
	CU_ASSERT(ok > 10000 && rejected > 10000);
	buf_free(&a);
	buf_free(&b);
}

/* Appends the decimal digits of v, at least width of them, to s at *n. */
static void put_num(char *s, size_t *n, unsigned v, int width)
{
	*n += (size_t)sprintf(s + *n, "%0*u", width, v);
}

/* Timestamps read at fixed places (the head "YYYY-MM-DDTHH:MM:SS", and
 * the usual whole form read_usual takes) give what the general reading
 * gives: the same text with two spaces between date and time goes the
 * general way. Random heads (out-of-range fields among them) with random
 * fractions, offsets and junk after them, under every precision and both
 * session zones; the bytes, the verdict and the message's words agree. */
static void test_timestamp_fixed_head(void)
{
	static const char *const tails[] = {"",        "Z",   "z",     " Z",    "+05:30", "-0800", "+5",
					    "-15:59",  "+16", "+1060", "+05:3", "+",      "x",     " ",
					    "+05:30x", "-00", "+123",  "Zz",    " +02",   "-1:00"};
	struct buf a, b;
	CU_ASSERT_EQUAL_FATAL(buf_init(&a, 64), 0);
	CU_ASSERT_EQUAL_FATAL(buf_init(&b, 64), 0);
	uint64_t x = 0x2545f4914f6cdd1dULL;
	int ok = 0, rejected = 0, deferred = 0;
	for (int iter = 0; iter < 100000; iter++) {
		x ^= x << 13;
		x ^= x >> 7;
		x ^= x << 17;
		char in[64], alt[64];
		size_t n = 0;
		uint64_t r = x;
		put_num(in, &n, (unsigned)(r % 10000), 4);
		in[n++] = '-';
		put_num(in, &n, (unsigned)((r >> 14) % 14), 2);
		in[n++] = '-';
		put_num(in, &n, (unsigned)((r >> 18) % 33), 2);
		size_t sep = n;
		in[n++] = "Tt "[(r >> 24) % 3];
		put_num(in, &n, (unsigned)((r >> 26) % 26), 2);
		in[n++] = ':';
		put_num(in, &n, (unsigned)((r >> 31) % 62), 2);
		in[n++] = ':';
		put_num(in, &n, (unsigned)((r >> 37) % 62), 2);
		unsigned fd = (unsigned)((r >> 43) % 10); /* 0: none, 1: a bare point, else 1 to 8 digits */
		if (fd > 0) {
			in[n++] = '.';
			for (unsigned k = 1; k < fd; k++)
				in[n++] = (char)('0' + (r >> (47 + k)) % 10);
		}
		n += (size_t)sprintf(in + n, "%s", tails[(r >> 56) % (sizeof tails / sizeof tails[0])]);
		/* The same text with the separator as two spaces. */
		memcpy(alt, in, sep);
		memcpy(alt + sep, "  ", 2);
		memcpy(alt + sep + 2, in + sep + 1, n - sep);
		bool tz = (r >> 62) & 1;
		/* Precision -1 (none) to 6, and the session zone UTC or not. */
		uint64_t r2 = r * 0x9e3779b97f4a7c15ULL;
		int32_t typmod = (int32_t)((r2 >> 40) % 8) - 1;
		bool tz_utc = (r2 >> 50) & 1;
		char ma[256] = "", mb[256] = "";
		a.len = b.len = 0;
		enum enc_status sa = encode_timestamp(in, n, typmod, tz, tz_utc, &a, ma, sizeof ma);
		enum enc_status sb = encode_timestamp(alt, n + 1, typmod, tz, tz_utc, &b, mb, sizeof mb);
		CU_ASSERT_EQUAL(sa, sb);
		CU_ASSERT(a.len == b.len && memcmp(a.data, b.data, a.len) == 0);
		/* Messages quote the input: compare the words before it. */
		CU_ASSERT_EQUAL(strcspn(ma, "\""), strcspn(mb, "\""));
		CU_ASSERT(strncmp(ma, mb, strcspn(ma, "\"")) == 0);
		if (sa != sb)
			fprintf(stderr, "\n  timestamp \"%.*s\": status %d vs %d\n", (int)n, in, sa, sb);
		ok += sa == ENC_OK;
		rejected += sa == ENC_REJECT;
		deferred += sa == ENC_DEFER;
	}
	CU_ASSERT(ok > 5000 && rejected > 5000 && deferred > 5000);
	buf_free(&a);
	buf_free(&b);
}

/* bool matches boolin: trimmed prefixes of true/false/yes/no, on/off with two letters at least, 1 and 0. */
static void test_bool(void)
{
	run_kinds(ENC_BOOL, ENC_BOOL);
}

/* text, varchar(n) and char(n) count characters, cut only trailing spaces, and char(n) is padded as bpcharsend returns it. */
static void test_strings(void)
{
	run_kinds(ENC_TEXT, ENC_BPCHAR);
}

/* date, timestamp and timestamptz decide ISO forms exactly and defer every form whose meaning depends on the session. */
static void test_datetime(void)
{
	run_kinds(ENC_DATE, ENC_TIMESTAMPTZ);
}

/* uuid matches string_to_uuid: braces, hyphens after groups of four, no white space. */
static void test_uuid(void)
{
	run_kinds(ENC_UUID, ENC_UUID);
}

/* json and jsonb accept and refuse what PostgreSQL's lexer and parser do, with jsonb's stricter escapes. */
static void test_json(void)
{
	run_kinds(ENC_JSON, ENC_JSONB);
}

/* bytea decodes the hex and escape formats and refuses what byteain refuses, with its messages. */
static void test_bytea(void)
{
	run_kinds(ENC_BYTEA, ENC_BYTEA);
}

/* The framing is the binary COPY signature, zero flags and extension, int16 field counts, int32 -1 NULLs and an int16 -1 trailer. */
static void test_framing(void)
{
	struct buf b;
	CU_ASSERT_EQUAL_FATAL(buf_init(&b, 4), 0);
	encode_copy_header(&b);
	encode_tuple_begin(&b, 3);
	encode_null(&b);
	encode_copy_trailer(&b);
	static const unsigned char want[] = {'P', 'G', 'C', 'O', 'P', 'Y', '\n', 0xff, '\r', '\n', 0,    0,    0,   0,
					     0,   0,   0,   0,   0,   0,   3,    0xff, 0xff, 0xff, 0xff, 0xff, 0xff};
	CU_ASSERT_EQUAL(b.len, sizeof want);
	CU_ASSERT_EQUAL(memcmp(b.data, want, sizeof want), 0);
	buf_free(&b);
}

/* Each supported type OID maps to its encoder and any other OID to none. */
static void test_kind_for(void)
{
	static const struct {
		uint32_t oid;
		enum enc_kind kind;
	} map[] = {{21, ENC_INT2},          {23, ENC_INT4},      {20, ENC_INT8},   {700, ENC_FLOAT4},
		   {701, ENC_FLOAT8},       {1700, ENC_NUMERIC}, {16, ENC_BOOL},   {25, ENC_TEXT},
		   {1043, ENC_VARCHAR},     {1042, ENC_BPCHAR},  {1082, ENC_DATE}, {1114, ENC_TIMESTAMP},
		   {1184, ENC_TIMESTAMPTZ}, {2950, ENC_UUID},    {114, ENC_JSON},  {3802, ENC_JSONB},
		   {17, ENC_BYTEA},         {0, ENC_NONE},       {19, ENC_NONE},   {1083, ENC_NONE},
		   {1186, ENC_NONE},        {869, ENC_NONE},     {1007, ENC_NONE}};
	for (size_t i = 0; i < sizeof map / sizeof map[0]; i++)
		CU_ASSERT_EQUAL(encode_kind_for(map[i].oid), map[i].kind);
}

/* A column kind without an encoder defers instead of guessing. */
static void test_none_defers(void)
{
	struct enc_column col = {.kind = ENC_NONE, .typmod = -1};
	struct enc_session s = {.tz_utc = true};
	struct buf b;
	CU_ASSERT_EQUAL_FATAL(buf_init(&b, 4), 0);
	char msg[64];
	CU_ASSERT_EQUAL(encode_binary(&col, &s, "1", 1, &b, msg, sizeof msg), ENC_DEFER);
	CU_ASSERT_EQUAL(b.len, 0);
	buf_free(&b);
}

/* Values are read only within their length: the byte after a field is never looked at. */
static void test_not_nul_terminated(void)
{
	static const char text[] = "12345|2024-01-01 10:00:00|{\"a\":1}x|\\x41";
	struct enc_session s = {.tz_utc = true};
	struct buf b;
	CU_ASSERT_EQUAL_FATAL(buf_init(&b, 4), 0);
	char msg[64];
	struct enc_column i4 = {.kind = ENC_INT4, .typmod = -1};
	CU_ASSERT_EQUAL(encode_binary(&i4, &s, text, 3, &b, msg, sizeof msg), ENC_OK);
	CU_ASSERT_EQUAL(memcmp(b.data, "\0\0\0\4\0\0\0\173", 8), 0);
	struct enc_column ts = {.kind = ENC_TIMESTAMP, .typmod = -1};
	CU_ASSERT_EQUAL(encode_binary(&ts, &s, text + 6, 16, &b, msg, sizeof msg), ENC_OK); /* "... 10:00" */
	struct enc_column js = {.kind = ENC_JSON, .typmod = -1};
	CU_ASSERT_EQUAL(encode_binary(&js, &s, text + 26, 7, &b, msg, sizeof msg), ENC_OK);
	struct enc_column f8 = {.kind = ENC_FLOAT8, .typmod = -1};
	CU_ASSERT_EQUAL(encode_binary(&f8, &s, text, 2, &b, msg, sizeof msg), ENC_OK);
	struct enc_column by = {.kind = ENC_BYTEA, .typmod = -1};
	CU_ASSERT_EQUAL(encode_binary(&by, &s, text + 35, 3, &b, msg, sizeof msg), ENC_REJECT); /* "\x4": odd */
	CU_ASSERT_STRING_EQUAL(msg, "invalid hexadecimal data: odd number of digits");
	buf_free(&b);
}

/* copy_short copies exactly n bytes for every n from 0 to 100: the bytes
 * before and after the destination stay as they were, and the source is a
 * buffer of exactly n bytes, so that ASan sees any read past it. */
static void test_copy_short(void)
{
	for (size_t n = 0; n <= 100; n++) {
		unsigned char *src = malloc(n > 0 ? n : 1);
		unsigned char dst[100 + 32];
		CU_ASSERT_PTR_NOT_NULL_FATAL(src);
		for (size_t i = 0; i < n; i++)
			src[i] = (unsigned char)(i * 37 + n + 1);
		memset(dst, 0xa5, sizeof dst);
		copy_short(dst + 16, src, n);
		CU_ASSERT(memcmp(dst + 16, src, n) == 0);
		for (size_t i = 0; i < sizeof dst; i++)
			if (i < 16 || i >= 16 + n)
				CU_ASSERT_EQUAL(dst[i], 0xa5);
		free(src);
	}
}

/* ascii_digits_u64, the eight-at-a-time digit reader the integer encoders
 * try first: the value of 1 to 16 digits, read from a buffer of exactly
 * that size (ASan sees any byte read past it); false for any non-digit at
 * any place, and for lengths it leaves to the byte loop. */
static void test_digits_swar(void)
{
	static const char bad[] = {'/', ':',  ' ',        '+',        '-',        '.',
				   'a', '\0', (char)0x80, (char)0xff, (char)0xb0, (char)0x39 + 0x80};
	unsigned seed = 7;
	for (size_t n = 0; n <= 20; n++) {
		for (int round = 0; round < 50; round++) {
			char *p = malloc(n ? n : 1);
			CU_ASSERT_PTR_NOT_NULL_FATAL(p);
			uint64_t want = 0;
			for (size_t i = 0; i < n; i++) {
				seed = seed * 1103515245u + 12345u;
				p[i] = (char)('0' + (seed >> 16) % 10);
				want = want * 10 + (uint64_t)(p[i] - '0');
			}
			uint64_t v = 0;
			bool ok = ascii_digits_u64(p, n, &v);
			CU_ASSERT_EQUAL(ok, n >= 1 && n <= 16);
			if (ok)
				CU_ASSERT_EQUAL(v, want);
			for (size_t i = 0; i < n && n <= 16; i++) {
				char keep = p[i];
				for (size_t k = 0; k < sizeof bad; k++) {
					p[i] = bad[k];
					CU_ASSERT_FALSE(ascii_digits_u64(p, n, &v));
				}
				p[i] = keep;
			}
			free(p);
		}
	}
	uint64_t v;
	CU_ASSERT_TRUE(ascii_digits_u64("9999999999999999", 16, &v));
	CU_ASSERT_EQUAL(v, UINT64_C(9999999999999999));
	CU_ASSERT_TRUE(ascii_digits_u64("0000000000000000", 16, &v));
	CU_ASSERT_EQUAL(v, 0);
	CU_ASSERT_TRUE(ascii_digits_u64("00012", 5, &v));
	CU_ASSERT_EQUAL(v, 12);
}

/* A message longer than the caller's buffer is cut, NUL-terminated, never overrun. */
static void test_msg_truncated(void)
{
	struct enc_column col = {.kind = ENC_INT4, .typmod = -1};
	struct enc_session s = {.tz_utc = true};
	struct buf b;
	CU_ASSERT_EQUAL_FATAL(buf_init(&b, 4), 0);
	char msg[16];
	memset(msg, 'z', sizeof msg);
	CU_ASSERT_EQUAL(encode_binary(&col, &s, "12x", 3, &b, msg, 12), ENC_REJECT);
	CU_ASSERT_STRING_EQUAL(msg, "invalid inp");
	CU_ASSERT_EQUAL(msg[12], 'z');
	buf_free(&b);
}

/* The JSON validator defers nesting deeper than it checks and decides everything up to that depth. */
static void test_json_depth(void)
{
	char doc[2 * 1001 + 1];
	char msg[64];
	for (int depth = 1000; depth <= 1001; depth++) {
		for (int i = 0; i < depth; i++) {
			doc[i] = '[';
			doc[depth + i] = ']';
		}
		CU_ASSERT_EQUAL(json_validate(doc, (size_t)(2 * depth), false, msg, sizeof msg),
				depth == 1000 ? ENC_OK : ENC_DEFER);
		doc[2 * depth - 1] = '}';
		CU_ASSERT_EQUAL(json_validate(doc, (size_t)(2 * depth), true, msg, sizeof msg),
				depth == 1000 ? ENC_REJECT : ENC_DEFER);
	}
}

/* Floats are read with the C locale even when the process locale uses a decimal comma. */
static void test_float_locale(void)
{
	const char *names[] = {"de_DE.UTF-8", "de_DE.utf8", "fr_FR.UTF-8", NULL};
	const char *set = NULL;
	for (int i = 0; names[i] && !set; i++)
		set = setlocale(LC_NUMERIC, names[i]);
	struct enc_column col = {.kind = ENC_FLOAT8, .typmod = -1};
	struct enc_session s = {.tz_utc = true};
	struct buf b;
	CU_ASSERT_EQUAL_FATAL(buf_init(&b, 4), 0);
	char msg[64];
	CU_ASSERT_EQUAL(encode_binary(&col, &s, "1.5", 3, &b, msg, sizeof msg), ENC_OK);
	CU_ASSERT_EQUAL(memcmp(b.data, "\0\0\0\10\x3f\xf8\0\0\0\0\0\0", 12), 0);
	CU_ASSERT_EQUAL(encode_binary(&col, &s, "1,5", 3, &b, msg, sizeof msg), ENC_REJECT);
	setlocale(LC_NUMERIC, "C");
	buf_free(&b);
}

/* encode_binary_head agrees with encode_binary on every case: the same status and message, and on ENC_OK its header
 * followed by the first *tail bytes of the input is encode_binary's field; only text, varchar, json and jsonb leave
 * a tail. */
static void test_head_matches(void)
{
	size_t checked = 0, tails = 0;
	for (size_t i = 0; i < NCASES; i++) {
		const struct enc_case *c = &cases[i];
		struct enc_column col = {.kind = c->kind, .typmod = c->typmod};
		struct enc_session s = {.tz_utc = c->tz_utc};
		struct buf whole, head;
		CU_ASSERT_FATAL(buf_init(&whole, 16) == 0 && buf_init(&head, 16) == 0);
		char m1[512], m2[512];
		strcpy(m1, "");
		strcpy(m2, "");
		size_t tail = 99;
		enum enc_status st = encode_binary(&col, &s, c->in, c->len, &whole, m1, sizeof m1);
		enum enc_status sh = encode_binary_head(&col, &s, c->in, c->len, &head, &tail, m2, sizeof m2);
		bool spliced =
		    c->kind == ENC_TEXT || c->kind == ENC_VARCHAR || c->kind == ENC_JSON || c->kind == ENC_JSONB;
		bool ok = st == sh && (st != ENC_REJECT || strcmp(m1, m2) == 0);
		if (ok && st == ENC_OK) {
			ok = tail <= c->len && (tail > 0 || !spliced || c->len == 0) && (tail == 0 || spliced);
			buf_put(&head, c->in, ok ? tail : 0);
			ok = ok && head.len == whole.len && memcmp(head.data, whole.data, whole.len) == 0;
			tails += tail > 0;
		} else if (ok) {
			ok = head.len == 0;
		}
		if (!ok)
			fprintf(stderr, "\n  kind %d input \"%.*s\": status %d/%d tail %zu", (int)c->kind, (int)c->len,
				c->in, (int)st, (int)sh, tail);
		CU_ASSERT_TRUE(ok);
		checked++;
		buf_free(&whole);
		buf_free(&head);
	}
	CU_ASSERT_TRUE(checked > 100 && tails > 10);
}

int main(void)
{
	if (CU_initialize_registry() != CUE_SUCCESS)
		return 1;
	CU_pSuite suite = CU_add_suite("encode", NULL, NULL);
	if (suite == NULL) {
		CU_cleanup_registry();
		return 1;
	}
	CU_add_test(suite, "integers", test_integers);
	CU_add_test(suite, "digits swar", test_digits_swar);
	CU_add_test(suite, "copy short", test_copy_short);
	CU_add_test(suite, "floats", test_floats);
	CU_add_test(suite, "numeric", test_numeric);
	CU_add_test(suite, "numeric short path", test_numeric_short_path);
	CU_add_test(suite, "timestamp fixed head", test_timestamp_fixed_head);
	CU_add_test(suite, "bool", test_bool);
	CU_add_test(suite, "strings", test_strings);
	CU_add_test(suite, "datetime", test_datetime);
	CU_add_test(suite, "uuid", test_uuid);
	CU_add_test(suite, "json", test_json);
	CU_add_test(suite, "bytea", test_bytea);
	CU_add_test(suite, "framing", test_framing);
	CU_add_test(suite, "kind_for", test_kind_for);
	CU_add_test(suite, "none_defers", test_none_defers);
	CU_add_test(suite, "not_nul_terminated", test_not_nul_terminated);
	CU_add_test(suite, "msg_truncated", test_msg_truncated);
	CU_add_test(suite, "json_depth", test_json_depth);
	CU_add_test(suite, "float_locale", test_float_locale);
	CU_add_test(suite, "head_matches", test_head_matches);
	CU_basic_set_mode(CU_BRM_VERBOSE);
	CU_basic_run_tests();
	unsigned failed = CU_get_number_of_failures();
	CU_cleanup_registry();
	return failed ? 1 : 0;
}
