#!/usr/bin/env python3
"""The reference "hand-written script": what a user would otherwise write with Python's
standard library to validate a payment CSV and write JSON Lines. It applies paysync's rules
(docs/data-model.md) for the standard profile with no time zone configured:

    reference_validate.py IN.csv OUT.jsonl [--dataset NAME] [--phone-country-code 234]

Header normalisation; UTF-8 and NUL check; trimming (ASCII whitespace, U+00A0); blank rows
skipped; required fields; ISO 8601 timestamps (naive = UTC) to canonical UTC milliseconds;
exact decimal amounts with thousands separators and an optional currency code token; ISO 4217
codes and currency names; the six transaction types; phones; coordinates; battery counts;
derived IDs (SHA-256); duplicates and conflicts by ID within the run. Problems in optional
fields clear the field with a warning. Counts are printed to stderr as JSON.
Symbols next to amounts (like "N5") and strptime-style formats are not implemented; the
benchmark's generated data does not use them. Phones: only the shape (`+`/`00`/trunk `0` with
the calling code, 8-15 digits); paysync checks numbering plans with libphonenumber, which a
standard-library script cannot. The generated phones are real NG/KE/GH mobile numbers (or
"call me"), on which both give the same result, so the outputs stay byte-identical.
"""
import argparse
import calendar
import csv
import hashlib
import json
import re
import sys

FIELDS = ["ID", "TIMESTAMP", "PAYMENT_AMOUNT", "PAYMENT_CURRENCY", "TRANSACTION_TYPE",
          "TRANSACTION_CHARGES", "REFERENCE_ID", "CUSTOMER_ID", "METER_ID", "CUSTOMER_NAME",
          "CUSTOMER_PHONE", "CUSTOMER_CATEGORY", "FINANCING_ID", "AGENT_ID", "LATITUDE",
          "LONGITUDE", "UTILITY_ID", "FAILED_BATTERY_CAPACITY_COUNT", "ACCOUNT_TYPE", "STATUS",
          "NOTES"]
REQUIRED = {"TIMESTAMP", "PAYMENT_AMOUNT", "PAYMENT_CURRENCY", "TRANSACTION_TYPE", "CUSTOMER_ID",
            "METER_ID", "CUSTOMER_NAME", "CUSTOMER_CATEGORY"}
NUMERIC = {"PAYMENT_AMOUNT", "TRANSACTION_CHARGES", "LATITUDE", "LONGITUDE",
           "FAILED_BATTERY_CAPACITY_COUNT"}
TX_TYPES = {"FULL_PAYMENT", "INSTALLMENT_PAYMENT", "NON_CONTRACT_PAYMENT", "DISCOUNT", "REVERSAL",
            "ENERGY_CREDIT"}
CODES = set("""AED AFN ALL AMD ANG AOA ARS AUD AWG AZN BAM BBD BDT BGN BHD BIF BMD BND BOB BOV BRL
BSD BTN BWP BYN BZD CAD CDF CHE CHF CHW CLF CLP CNY COP COU CRC CUC CUP CVE CZK DJF DKK DOP DZD
EGP ERN ETB EUR FJD FKP GBP GEL GHS GIP GMD GNF GTQ GYD HKD HNL HTG HUF IDR ILS INR IQD IRR ISK
JMD JOD JPY KES KGS KHR KMF KPW KRW KWD KYD KZT LAK LBP LKR LRD LSL LYD MAD MDL MGA MKD MMK MNT
MOP MRU MUR MVR MWK MXN MXV MYR MZN NAD NGN NIO NOK NPR NZD OMR PAB PEN PGK PHP PKR PLN PYG QAR
RON RSD RUB RWF SAR SBD SCR SDG SEK SGD SHP SLE SLL SOS SRD SSP STN SVC SYP SZL THB TJS TMT TND
TOP TRY TTD TWD TZS UAH UGX USD USN UYI UYU UYW UZS VED VES VND VUV WST XAF XAG XAU XBA XBB XBC
XBD XCD XCG XDR XOF XPD XPF XPT XSU XTS XUA XXX YER ZAR ZMW ZWG ZWL""".split())
NAMES = {"naira": "NGN", "nigerian naira": "NGN", "cedi": "GHS", "cedis": "GHS",
         "ghana cedi": "GHS", "ghanaian cedi": "GHS", "rand": "ZAR", "south african rand": "ZAR",
         "leone": "SLE", "sierra leonean leone": "SLE", "birr": "ETB", "ethiopian birr": "ETB",
         "dalasi": "GMD", "ariary": "MGA", "kwanza": "AOA", "pula": "BWP", "loti": "LSL",
         "lilangeni": "SZL", "metical": "MZN", "nakfa": "ERN", "ouguiya": "MRU", "dobra": "STN",
         "kenyan shilling": "KES", "kenya shilling": "KES", "ugandan shilling": "UGX",
         "uganda shilling": "UGX", "tanzanian shilling": "TZS", "tanzania shilling": "TZS",
         "somali shilling": "SOS", "zambian kwacha": "ZMW", "malawian kwacha": "MWK",
         "malawi kwacha": "MWK", "rwandan franc": "RWF", "rwanda franc": "RWF",
         "burundian franc": "BIF", "congolese franc": "CDF", "guinean franc": "GNF",
         "euro": "EUR", "us dollar": "USD", "u.s. dollar": "USD", "united states dollar": "USD",
         "liberian dollar": "LRD", "pound sterling": "GBP", "sterling": "GBP",
         "egyptian pound": "EGP", "indian rupee": "INR", "pakistani rupee": "PKR",
         "nepalese rupee": "NPR", "taka": "BDT", "rupiah": "IDR", "kyat": "MMK", "kip": "LAK",
         "riel": "KHR", "yen": "JPY", "yuan": "CNY", "renminbi": "CNY", "quetzal": "GTQ",
         "gourde": "HTG"}

ORDER = ["PAYMENT_CURRENCY"] + [f for f in FIELDS if f != "PAYMENT_CURRENCY"]
WS = " \t\r\n\v\f\u00a0"
SEP_RUN = re.compile(r"[\s\-_]+")
ISO = re.compile(r"(\d{4})-(\d{2})-(\d{2})(?:[Tt ](\d{2}):(\d{2})(?::(\d{2})(?:[.,](\d{1,9}))?)?)?"
                 r"(Z|z|[+-]\d{2}(?::?\d{2})?)?$")
AMOUNT = re.compile(r"([+-]?)(\d{1,3}(?:,\d{3})+|\d+|)(?:\.(\d{0,4}))?$")
COORD = re.compile(r"([+-]?)(\d*)(?:\.(\d*))?$")
COUNT = re.compile(r"\+?(\d+)(?:\.0*)?$")


class Problem(Exception):
    def __init__(self, code, message):
        super().__init__(message)
        self.code = code


def norm_key(s):
    return SEP_RUN.sub("_", s.strip(WS).upper()).strip("_")


def parse_timestamp(s):
    m = ISO.match(s)
    if not m:
        raise Problem("bad_timestamp", "TIMESTAMP '%s' is not a date/time in ISO 8601 form" % s)
    y, mo, d = int(m.group(1)), int(m.group(2)), int(m.group(3))
    hh = int(m.group(4) or 0)
    mi = int(m.group(5) or 0)
    ss = int(m.group(6) or 0)
    ms = int((m.group(7) or "0")[:3].ljust(3, "0"))
    if not (1 <= mo <= 12 and 1 <= d <= calendar.monthrange(y, mo)[1] and hh < 24 and mi < 60
            and ss < 60):
        raise Problem("bad_timestamp", "TIMESTAMP '%s' is an impossible date or time" % s)
    off = 0
    z = m.group(8)
    if z and z not in "Zz":
        sign = -1 if z[0] == "-" else 1
        digits = z[1:].replace(":", "")
        oh, om = int(digits[:2]), int(digits[2:4] or 0)
        if oh > 18 or om > 59:
            raise Problem("bad_timestamp", "TIMESTAMP '%s' has a bad offset" % s)
        off = sign * (oh * 3600 + om * 60)
    t = calendar.timegm((y, mo, d, hh, mi, ss)) - off
    days, sod = divmod(t, 86400)
    yy, mm, dd = civil(days)
    return "%04d-%02d-%02dT%02d:%02d:%02d.%03dZ" % (yy, mm, dd, sod // 3600, sod // 60 % 60,
                                                    sod % 60, ms)


def civil(z):
    z += 719468
    era = z // 146097
    doe = z - era * 146097
    yoe = (doe - doe // 1460 + doe // 36524 - doe // 146096) // 365
    doy = doe - (365 * yoe + yoe // 4 - yoe // 100)
    mp = (5 * doy + 2) // 153
    d = doy - (153 * mp + 2) // 5 + 1
    m = mp + 3 if mp < 10 else mp - 9
    return yoe + era * 400 + (m <= 2), m, d


def parse_currency(s):
    if len(s) == 3 and s.upper() in CODES:
        return s.upper()
    code = NAMES.get(SEP_RUN.sub(" ", s.lower()))
    if code:
        return code
    raise Problem("unknown_currency", "PAYMENT_CURRENCY '%s' is not an ISO 4217 code" % s)


def parse_amount(field, s, currency):
    t = s.replace("\u202f", " ").strip(WS)
    # an optional ISO code or currency name before or after the number
    m = re.match(r"([A-Za-z][A-Za-z .]*?)\s*([+-]?[\d.,]+)$", t) or \
        re.match(r"([+-]?[\d.,]+)\s*([A-Za-z][A-Za-z .]*)$", t)
    if m:
        tok, num = (m.group(1), m.group(2)) if t[0].isalpha() else (m.group(2), m.group(1))
        tok = tok.strip()
        code = tok.upper() if tok.upper() in CODES else NAMES.get(SEP_RUN.sub(" ", tok.lower()))
        if not code:
            raise Problem("bad_amount", "%s '%s' is not an amount" % (field, s))
        if currency and code != currency:
            raise Problem("currency_mismatch", "%s '%s' is not in %s" % (field, s, currency))
        t = num
    m = AMOUNT.match(t)
    if not m or (not m.group(2) and not m.group(3)):
        raise Problem("bad_amount", "%s '%s' is not an amount" % (field, s))
    intpart = (m.group(2) or "0").replace(",", "").lstrip("0") or "0"
    frac = m.group(3)
    if len(intpart) + len(frac or "") > 18:
        raise Problem("bad_amount", "%s '%s' is too large" % (field, s))
    sign = "-" if m.group(1) == "-" and (intpart != "0" or (frac or "").strip("0")) else ""
    return sign + intpart + ("." + frac if frac else "")


def parse_phone(s, cc):
    t = re.sub(r"[\s\-.()]", "", s)
    if t.startswith("+"):
        digits = t[1:]
    elif t.startswith("00"):
        digits = t[2:]
    elif t.startswith("0"):
        if not cc:
            raise Problem("bad_phone", "CUSTOMER_PHONE '%s' is a local number" % s)
        digits = cc + t[1:]
    else:
        digits = t
    if not digits.isdigit() or not digits.isascii() or not 8 <= len(digits) <= 15:
        raise Problem("bad_phone", "CUSTOMER_PHONE '%s' is not a phone number" % s)
    return "+" + digits


def parse_coord(field, s, limit):
    m = COORD.match(s)
    if not m or not (m.group(2) or m.group(3)):
        raise Problem("bad_" + field.lower(), "%s '%s' is not decimal degrees" % (field, s))
    ip = m.group(2).lstrip("0") or "0"
    fr = m.group(3) or ""
    if int(ip) > limit or (int(ip) == limit and fr.strip("0")):
        raise Problem("bad_" + field.lower(), "%s '%s' is out of range" % (field, s))
    return ("-" if m.group(1) == "-" else "") + ip + ("." + fr if fr else "")


def parse_count(s):
    m = COUNT.match(s)
    if not m or len(m.group(1).lstrip("0")) > 18:
        raise Problem("bad_count", "FAILED_BATTERY_CAPACITY_COUNT '%s' is not a count" % s)
    return m.group(1).lstrip("0") or "0"


def derive_id(dataset, rec):
    h = hashlib.sha256()
    for part in (dataset, rec.get("METER_ID"), rec.get("CUSTOMER_ID"), rec.get("TIMESTAMP"),
                 rec.get("PAYMENT_AMOUNT"), rec.get("PAYMENT_CURRENCY"),
                 rec.get("TRANSACTION_TYPE"), rec.get("REFERENCE_ID")):
        b = (part or "").encode()
        h.update(len(b).to_bytes(4, "big") + b)
    return "ps-" + h.hexdigest()[:32]


def validate(cells, dataset, cc):
    """cells: {field: raw text}. Returns (record, warnings) or raises Problem (first error)."""
    rec, warnings, errors = {}, [], []
    for f, raw in cells.items():
        if "\x00" in raw or any("\udc80" <= ch <= "\udcff" for ch in raw):
            errors.append(("bad_utf8", "%s is not valid UTF-8" % f))
    if errors:
        raise Problem(*errors[0])
    vals = {f: v.strip(WS) for f, v in cells.items()}
    for f in REQUIRED:
        if not vals.get(f):
            errors.append(("missing_required", "required field %s is empty or missing" % f))
    currency = None
    for f in ORDER:
        v = vals.get(f)
        if not v:
            continue
        try:
            if f == "TIMESTAMP":
                rec[f] = parse_timestamp(v)
            elif f == "PAYMENT_CURRENCY":
                currency = rec[f] = parse_currency(v)
            elif f in ("PAYMENT_AMOUNT", "TRANSACTION_CHARGES"):
                rec[f] = parse_amount(f, v, currency)
            elif f == "TRANSACTION_TYPE":
                k = norm_key(v)
                if k not in TX_TYPES:
                    raise Problem("unknown_transaction_type",
                                  "TRANSACTION_TYPE '%s' is not a known type" % v)
                rec[f] = k
            elif f == "CUSTOMER_PHONE":
                rec[f] = parse_phone(v, cc)
            elif f == "LATITUDE":
                rec[f] = parse_coord(f, v, 90)
            elif f == "LONGITUDE":
                rec[f] = parse_coord(f, v, 180)
            elif f == "FAILED_BATTERY_CAPACITY_COUNT":
                rec[f] = parse_count(v)
            else:
                rec[f] = v
        except Problem as p:
            if f in REQUIRED:
                errors.append((p.code, str(p)))
            else:
                warnings.append((p.code, str(p)))
    if errors:
        raise Problem(*errors[0])
    if "ID" not in rec:
        rec["ID"] = derive_id(dataset, rec)
    return rec, warnings


def to_json(rec, dataset):
    parts = []
    for f in FIELDS:
        v = rec.get(f)
        if v is None:
            continue
        parts.append('"%s":%s' % (f, v if f in NUMERIC else json.dumps(v, ensure_ascii=False)))
    parts.append('"DATASET":%s' % json.dumps(dataset, ensure_ascii=False))
    return "{" + ",".join(parts) + "}\n"


def main():
    ap = argparse.ArgumentParser(description=__doc__,
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("input")
    ap.add_argument("output")
    ap.add_argument("--dataset", default="bench")
    ap.add_argument("--phone-country-code", default="")
    args = ap.parse_args()
    counts = {"read": 0, "accepted": 0, "rejected": 0, "blank": 0, "duplicates": 0,
              "warnings": 0}
    seen = {}  # ID -> (content, first row)
    with open(args.input, newline="", encoding="utf-8", errors="surrogateescape") as fin, \
            open(args.output, "w", encoding="utf-8", errors="surrogateescape") as fout:
        reader = csv.reader(fin)
        header = next(reader)
        if header and header[0].startswith("\ufeff"):
            header[0] = header[0][1:]
        known = {norm_key(f): f for f in FIELDS}
        cols = [(i, known[norm_key(h)]) for i, h in enumerate(header) if norm_key(h) in known]
        for rowno, row in enumerate(reader, start=2):
            counts["read"] += 1
            if not any(c.strip(WS) for c in row):
                counts["blank"] += 1
                continue
            cells = {f: row[i] for i, f in cols if i < len(row) and row[i]}
            try:
                rec, warnings = validate(cells, args.dataset, args.phone_country_code)
            except Problem:
                counts["rejected"] += 1
                continue
            content = tuple(rec.get(f) for f in FIELDS[1:])
            prev = seen.get(rec["ID"])
            if prev is not None:
                if prev[0] == content:
                    counts["duplicates"] += 1
                else:
                    counts["rejected"] += 1  # duplicate_id_conflict
                continue
            seen[rec["ID"]] = (content, rowno)
            counts["accepted"] += 1
            counts["warnings"] += bool(warnings)
            fout.write(to_json(rec, args.dataset))
    print(json.dumps(counts), file=sys.stderr)


if __name__ == "__main__":
    main()
