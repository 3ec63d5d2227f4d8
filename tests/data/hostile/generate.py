#!/usr/bin/env python3
"""Hostile inputs too large to commit, generated at test time (tests/integration/test_hostile.py).

    generate.py OUTDIR            writes big_field.csv, wide.csv and empty_lines.csv into OUTDIR
    generate.py --pipe BYTES      writes a valid payments CSV of about BYTES bytes to stdout
                                  (rows padded with an unknown 10 KB column), for `run` on "-"

The functions are imported by the tests so that sizes can be scaled down (valgrind runs).
"""
import os
import sys

HEADER = ("ID,TIMESTAMP,PAYMENT_AMOUNT,PAYMENT_CURRENCY,TRANSACTION_TYPE,CUSTOMER_ID,METER_ID,"
          "CUSTOMER_NAME,CUSTOMER_CATEGORY,CUSTOMER_PHONE")


def row(i, name="Amina Bello"):
    return ("P%07d,2024-03-05T14:16:01.350Z,1500.50,NGN,FULL_PAYMENT,C%d,00042,%s,Residential,"
            "+2348031234567" % (i, i, name))


def big_field(path, size=20 * 1024 * 1024):
    """A header, one row whose CUSTOMER_NAME holds `size` bytes, then a normal row."""
    with open(path, "w") as f:
        f.write(HEADER + "\n")
        f.write(row(1, '"' + "x" * size + '"') + "\n")
        f.write(row(2) + "\n")
    return path


def wide(path, columns=100000):
    """The model header followed by enough extra columns to reach `columns`, and one row."""
    with open(path, "w") as f:
        extra = columns - len(HEADER.split(","))
        f.write(HEADER + "," + ",".join("X%d" % i for i in range(extra)) + "\n")
        f.write(row(1) + "," * extra + "\n")
    return path


def empty_lines(path, lines=10000000):
    """A header, `lines` empty lines (CRLF and LF mixed), then one payment row."""
    with open(path, "w", newline="") as f:
        f.write(HEADER + "\n")
        chunk = "\n\r\n" * 50000  # 100,000 lines
        left = lines
        while left >= 100000:
            f.write(chunk)
            left -= 100000
        f.write("\n" * left)
        f.write(row(1) + "\n")
    return path


def pipe_csv(out, nbytes, pad=10000):
    """Writes a valid CSV of about nbytes to the binary stream out; returns the row count.
    Every row carries an unknown SCRATCH_PAD column of `pad` bytes that the core ignores, so
    the input is large while the outputs stay small."""
    out.write((HEADER + ",SCRATCH_PAD\n").encode())
    filler = "p" * pad
    rowlen = len(row(0)) + 1 + pad + 1
    nrows = max(1, nbytes // rowlen)
    i = 0
    while i < nrows:
        n = min(256, nrows - i)
        out.write("".join(row(i + k) + "," + filler + "\n" for k in range(n)).encode())
        i += n
    return nrows


def main(argv):
    if len(argv) == 3 and argv[1] == "--pipe":
        try:
            pipe_csv(sys.stdout.buffer, int(argv[2]))
        except BrokenPipeError:
            pass
        return 0
    if len(argv) != 2:
        print(__doc__, file=sys.stderr)
        return 2
    os.makedirs(argv[1], exist_ok=True)
    big_field(os.path.join(argv[1], "big_field.csv"))
    wide(os.path.join(argv[1], "wide.csv"))
    empty_lines(os.path.join(argv[1], "empty_lines.csv"))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
