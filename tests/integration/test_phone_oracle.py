"""CUSTOMER_PHONE against an oracle: python3-phonenumbers (the Python port of libphonenumber,
same release as Debian's libphonenumber-dev) must give the same validity verdict and the same
E.164 text as paysync for every one of 10,000+ generated numbers.

The numbers go through the real binary: one CSV and one dataset per region (mapping.country),
plus one dataset without a country, all in one `paysync run`; the JSONL output and the
warnings file are compared with what phonenumbers says for the same input after paysync's own
documented input rules (docs/data-model.md, CUSTOMER_PHONE): separators removed, a leading
"00" is "+", and without a country a number without "+" is international (a leading 0 is a
warning). Regions: every region libphonenumber has a numbering plan for (245), which includes
every country whose currency is in paysync's ISO 4217 table (core/src/model/currency.c).

Numbers per region: example numbers of every type in E.164, "00" and national forms (with the
formatting's spaces, dashes and brackets), national numbers without the trunk prefix (the
lost-leading-zero of a sheet storing numbers as numbers), the country code without "+",
mutated digits, digits dropped and added (too short, too long), and random digit strings.

Also the issue 12 reproductions (phone_country_code "234"): `8031239999` -> `+2348031239999`
and `0805 123 45` -> a bad_phone warning naming NG, field cleared.

Skips (exit 77) when python3-phonenumbers is not installed (apt-get install
python3-phonenumbers; scripts/install-test-deps.sh installs it)."""
import json
import os
import random
import re
import sys

if os.environ.get("PS_ORACLE_REEXEC") != "1":
    try:
        import phonenumbers  # noqa: F401
    except ImportError:
        # python3 on PATH may be another interpreter than Debian's, which has the package.
        if os.path.exists("/usr/bin/python3") and os.path.realpath(sys.executable) != \
                os.path.realpath("/usr/bin/python3"):
            os.environ["PS_ORACLE_REEXEC"] = "1"
            os.execv("/usr/bin/python3", ["/usr/bin/python3"] + sys.argv)
try:
    import phonenumbers
    from phonenumbers import NumberParseException, PhoneNumberFormat, PhoneNumberType
except ImportError:
    print("SKIP: python3-phonenumbers is not installed (apt-get install python3-phonenumbers)",
          file=sys.stderr)
    sys.exit(77)

sys.path.insert(0, os.path.dirname(__file__))
import pslib  # noqa: E402

HEADER = ("ID,TIMESTAMP,PAYMENT_AMOUNT,PAYMENT_CURRENCY,TRANSACTION_TYPE,CUSTOMER_ID,METER_ID,"
          "CUSTOMER_NAME,CUSTOMER_CATEGORY,CUSTOMER_PHONE")
ALLOWED = re.compile(r"^[0-9+ \t\-.()]*$")
# Countries of the currency table's names (currency.c): all must be among the regions tested.
CURRENCY_COUNTRIES = ["NG", "GH", "ZA", "SL", "ET", "GM", "MG", "AO", "BW", "LS", "SZ", "MZ",
                      "ER", "MR", "ST", "KE", "UG", "TZ", "SO", "ZM", "MW", "RW", "BI", "CD",
                      "GN", "US", "LR", "GB", "EG", "IN", "PK", "NP", "BD", "ID", "MM", "LA",
                      "KH", "JP", "CN", "GT", "HT", "DE", "FR", "CM", "SN", "CI"]


def expected(raw, region):
    """(valid, e164) by paysync's documented input rules and phonenumbers' plans."""
    if not ALLOWED.match(raw):
        return False, None
    digits = re.sub(r"[^0-9]", "", raw)
    plus = "+" in raw
    if plus and (raw.count("+") > 1 or re.search(r"[0-9]", raw[:raw.index("+")])):
        return False, None
    if not plus and digits.startswith("00"):
        s = "+" + digits[2:]
    elif plus or region is None:
        if not plus and digits.startswith("0"):
            return False, None  # national number, no country configured
        s = "+" + digits
    else:
        s = digits
    if len(digits) > 40:
        return False, None
    try:
        n = phonenumbers.parse(s, region)
    except NumberParseException:
        return False, None
    if not phonenumbers.is_valid_number(n):
        return False, None
    return True, phonenumbers.format_number(n, PhoneNumberFormat.E164)


def separators(rnd, s):
    """s with random spaces, dashes or dots between digits (never before a '+')."""
    out = []
    for i, c in enumerate(s):
        out.append(c)
        if c.isdigit() and i + 1 < len(s) and rnd.random() < 0.15:
            out.append(rnd.choice([" ", "-", " ", ".", "  "]))
    return "".join(out)


def clean_format(s):
    """A formatted number with characters paysync does not accept ('/') made spaces."""
    return "".join(c if ALLOWED.match(c) else " " for c in s).strip()


def mutate(rnd, digits):
    d = list(digits)
    op = rnd.randrange(4)
    if op == 0 and d:
        i = rnd.randrange(len(d))
        d[i] = str((int(d[i]) + rnd.randrange(1, 10)) % 10)
    elif op == 1 and len(d) > 1:
        del d[rnd.randrange(len(d))]
    elif op == 2:
        d.insert(rnd.randrange(len(d) + 1), str(rnd.randrange(10)))
    else:
        d = d + [str(rnd.randrange(10)) for _ in range(rnd.randrange(1, 4))]
    return "".join(d)


def numbers_for(rnd, region):
    """[(raw, region)] for one region (region None: the dataset without a country)."""
    cc = phonenumbers.country_code_for_region(region)
    out = []
    examples = []
    for t in (PhoneNumberType.MOBILE, PhoneNumberType.FIXED_LINE, PhoneNumberType.TOLL_FREE,
              PhoneNumberType.PREMIUM_RATE, PhoneNumberType.VOIP, PhoneNumberType.UAN,
              PhoneNumberType.PERSONAL_NUMBER, PhoneNumberType.PAGER,
              PhoneNumberType.SHARED_COST, PhoneNumberType.VOICEMAIL):
        n = phonenumbers.example_number_for_type(region, t)
        if n is not None:
            examples.append(n)
    if not examples:
        examples.append(phonenumbers.parse("+%d%s" % (cc, "1234567"), None))
    for n in examples[:6]:
        nsn = phonenumbers.national_significant_number(n)
        e164 = phonenumbers.format_number(n, PhoneNumberFormat.E164)
        national = clean_format(phonenumbers.format_number(n, PhoneNumberFormat.NATIONAL))
        intl = clean_format(phonenumbers.format_number(n, PhoneNumberFormat.INTERNATIONAL))
        out += [e164, intl, "00" + e164[1:], national, separators(rnd, nsn),
                "%d%s" % (cc, nsn), separators(rnd, "+" + mutate(rnd, e164[1:])),
                mutate(rnd, nsn), "0" + mutate(rnd, nsn)]
    nsn = phonenumbers.national_significant_number(examples[0])
    e164 = "+%d%s" % (cc, nsn)
    out += [
        e164[:-3], e164[:max(len(e164) - 6, 2)], e164 + "123", e164 + "4567890",  # short, long
        nsn[:max(len(nsn) - 2, 1)], nsn + "99", "0" + nsn[:3],
        "00%d%s" % (cc, nsn[:-2]), "00%d%s" % (cc, mutate(rnd, nsn)),
        "(%s) %s" % (nsn[:3], nsn[3:]), "+%d (%s) %s-%s" % (cc, nsn[:2], nsn[2:5], nsn[5:]),
    ]
    for _ in range(12):  # random digits, with and without prefixes
        k = rnd.randrange(3, 19)
        r = "".join(str(rnd.randrange(10)) for _ in range(k))
        out.append(rnd.choice([r, "+" + r, "00" + r, "0" + r, "+%d%s" % (cc, r),
                               separators(rnd, "%d%s" % (cc, r))]))
    return [(o, region) for o in out if o.strip()]


def generate(seed=20261202):
    rnd = random.Random(seed)
    regions = sorted(phonenumbers.SUPPORTED_REGIONS)
    cases = []
    for region in regions:
        cases += numbers_for(rnd, region)
    # the dataset without a country: every form again, read internationally
    extra = []
    for region in regions:
        extra += [(raw, None) for raw, _ in numbers_for(rnd, region)[::3]]
    return regions, cases + extra


class PhoneOracle(pslib.Case):
    def run_cases(self, cases, mapping_for, env=None):
        """Runs every case through paysync, one dataset per region key; returns
        {index: (phone or None, warning message or None)}; self.stderr = paysync's."""
        by_ds = {}
        for i, (raw, region) in enumerate(cases):
            by_ds.setdefault(region, []).append((i, raw))
        sinks, datasets = [], []
        for region, items in by_ds.items():
            name = "r_%s" % (region or "none")
            lines = [HEADER]
            for i, raw in items:
                lines.append("P%06d,2024-03-05T14:16:01Z,100,NGN,FULL_PAYMENT,C1,M1,Ada,Public,%s"
                             % (i, '"%s"' % raw if "," in raw else raw))
            csv = self.write("in/%s.csv" % name, "\n".join(lines) + "\n")
            sinks.append("  %s: {plugin: jsonl, path: out/%s.jsonl}" % (name, name))
            datasets.append("""  - name: %s
    target: {level: project, id: site-1}
    source: {plugin: csvfile, path: %s}
    mapping: %s
    sinks: [%s]
    warnings: out/%s.warnings.jsonl""" % (name, pslib.yaml_str(csv), mapping_for(region), name,
                                          name))
        cfg = self.config("sinks:\n%s\ndatasets:\n%s\n" % ("\n".join(sinks), "\n".join(datasets)))
        res = pslib.run("run", cfg, "--report", self.path("report.json"), timeout=600, env=env)
        self.assertEqual(res.rc, 0, res)
        self.stderr = res.err
        with open(self.path("report.json")) as f:
            reps = json.load(f)["datasets"]
        got = {}
        for rep in reps:
            self.assertEqual(rep["rejected"], 0, rep)
            self.assertEqual(rep["read"], rep["accepted"] + rep["rejected"] + rep["blank"] +
                             rep["duplicates"] + rep.get("filtered", 0), rep)
            name = rep["dataset"] if "dataset" in rep else rep["name"]
            for r in pslib.read_jsonl(self.path("out", "%s.jsonl" % name)):
                got[int(r["ID"][1:])] = [r.get("CUSTOMER_PHONE"), None]
            wpath = self.path("out", "%s.warnings.jsonl" % name)
            for w in (pslib.read_jsonl(wpath) if os.path.exists(wpath) else []):
                for p in w["warnings"]:
                    self.assertEqual(p["code"], "bad_phone", w)
                    got[int(w["id"][1:])][1] = p["message"]
        self.assertEqual(len(got), len(cases))
        return got

    def test_oracle(self):
        regions, cases = generate()
        self.assertEqual(len(regions), 245)
        for c in CURRENCY_COUNTRIES:
            self.assertIn(c, regions)
        self.assertGreaterEqual(len(cases), 10000)
        # PS_PHONE_FASTPATH=verify: every number the exact pre-check (model/phonefast.h)
        # decides is parsed by libphonenumber as well, and a disagreement aborts the run
        got = self.run_cases(cases, lambda r: "{country: %s}" % r if r else "{}",
                             env={"PS_PHONE_FASTPATH": "verify"})
        counts = re.findall(r"phone pre-check: (\d+) number\(s\) decided, all as "
                            r"libphonenumber decides them; (\d+) left to libphonenumber",
                            self.stderr)
        self.assertEqual(len(counts), len(regions) + 1, self.stderr[-2000:])  # one per dataset
        decided = sum(int(d) for d, _ in counts)
        mismatches, valid = [], 0
        for i, (raw, region) in enumerate(cases):
            ok, e164 = expected(raw, region)
            phone, warning = got[i]
            valid += ok
            if (phone is not None) != ok or phone != e164 or (warning is None) == (phone is None):
                mismatches.append("%-8s %-28r paysync %r (%s) phonenumbers %r" % (
                    region, raw, phone, warning, e164 if ok else "invalid"))
        print("phone oracle: %d numbers, %d regions, %d valid, %d invalid, %d mismatches; "
              "%d decided by the pre-check" % (len(cases), len(regions), valid,
                                               len(cases) - valid, len(mismatches), decided),
              file=sys.stderr)
        # the pre-check must decide a good share of the valid numbers for this to test it
        self.assertGreater(decided, valid // 2)
        # Both verdicts must be well represented for the comparison to mean something.
        self.assertGreater(valid, len(cases) // 5)
        self.assertGreater(len(cases) - valid, len(cases) // 5)
        self.assertEqual(mismatches, [], "\n" + "\n".join(mismatches[:50]))

    def test_issue_12_reproductions(self):
        cases = [("8031239999", "234"), ("0805 123 45", "234"), ("08031239999", "234"),
                 ("+44 7400 123456", "234"), ("0805 123 45", None)]
        got = self.run_cases(cases, lambda r: '{phone_country_code: "%s"}' % r if r else "{}")
        self.assertEqual(got[0], ["+2348031239999", None])  # was "+8031239999", silently
        self.assertIsNone(got[1][0])  # was accepted
        self.assertEqual(got[1][1], "CUSTOMER_PHONE '0805 123 45' is not a valid number for NG "
                         "(+234) (a mobile number there looks like +234 802 123 4567)")
        self.assertEqual(got[2], ["+2348031239999", None])
        self.assertEqual(got[3], ["+447400123456", None])
        self.assertIsNone(got[4][0])
        self.assertIn("is a national number and the dataset sets no country", got[4][1])

    def test_sample_job_phones(self):
        # the table in docs/data-model.md, CUSTOMER_PHONE
        import shutil
        shutil.copytree(os.path.join(pslib.SOURCE_DIR, "config"), self.path("config"))
        res = pslib.run("run", self.path("config", "example.yaml"), env={
            "PAYSYNC_PLUGIN_PATH": pslib.PLUGIN_DIR} if pslib.PLUGIN_DIR else None)
        self.assertEqual(res.rc, 0, res)
        recs = {r["ID"]: r for r in pslib.read_jsonl(self.path("out", "payments.jsonl"))}
        self.assertEqual(recs["PAY-100001"]["CUSTOMER_PHONE"], "+2348034461491")
        self.assertEqual(recs["PAY-100110"]["CUSTOMER_PHONE"], "+2348031239999")
        self.assertNotIn("CUSTOMER_PHONE", recs["PAY-100098"])
        warns = {w["id"]: w for w in pslib.read_jsonl(self.path("out", "warnings.jsonl"))}
        w = warns["PAY-100098"]
        self.assertEqual(w["row"], 102)
        self.assertEqual(w["warnings"], [{
            "field": "CUSTOMER_PHONE", "code": "bad_phone", "raw": "0805 123 45",
            "message": "CUSTOMER_PHONE '0805 123 45' is not a valid number for NG (+234) (a "
                       "mobile number there looks like +234 802 123 4567)"}])


if __name__ == "__main__":
    import unittest
    unittest.main(verbosity=2)
