#!/usr/bin/env python3
"""Generates config/sample/payments.csv: a few hundred realistic rows of a mini-grid
operator's CRM export, including the messy cases real sheets have. Deterministic: the
committed file is this script's output (python3 config/sample/generate.py)."""
import csv
import os
import random

rnd = random.Random(20240305)
here = os.path.dirname(os.path.abspath(__file__))
names = ["Amina Bello", "Chinedu Okafor", "Fatima Musa", "Emeka Eze", "Grace Adeyemi",
         "Ibrahim Sani", "Ngozi Nwosu", "Tunde Bakare", "Halima Abubakar", "Joy Etim",
         "Musa Danjuma", "Blessing Obi", "Yusuf Lawal", "Kemi Ogun", "Sadiq Umar"]
categories = ["Residential", "Commercial", "Business", "Public", "Prepaid"]
types = ["FULL_PAYMENT", "INSTALLMENT_PAYMENT", "Installment payment", "PAY",
         "energy-credit", "NON_CONTRACT_PAYMENT", "DISCOUNT"]
header = ["Payment ID", "Timestamp", "Amount (NGN)", "Currency", "Transaction Type",
          "Transaction Charges", "Reference ID", "Customer ID", "Meter ID", "Customer Name",
          "Customer Phone", "Customer Category", "Agent ID", "Latitude", "Longitude", "Region"]

customers = []
for i in range(60):
    customers.append({
        "id": "C%05d" % (i + 1),
        "meter": "0%09d" % (4712000 + i * 7),  # leading zero must survive
        "name": names[i % len(names)] + ("" if i < len(names) else " %d" % i),
        "phone": "0803 %03d %04d" % (rnd.randint(100, 999), rnd.randint(0, 9999)),
        "cat": categories[i % len(categories)],
        "lat": "%.5f" % (9.05 + rnd.random() / 10),
        "lon": "%.5f" % (7.45 + rnd.random() / 10),
    })

rows = []
for n in range(1, 321):
    c = customers[rnd.randrange(len(customers))]
    day = 1 + (n * 7) % 28
    hour, minute, sec = rnd.randrange(24), rnd.randrange(60), rnd.randrange(60)
    style = n % 5
    if style == 0:
        ts = "2024-03-%02dT%02d:%02d:%02d.%03dZ" % (day, hour, minute, sec, rnd.randrange(1000))
    elif style == 1:
        ts = "2024-03-%02d %02d:%02d:%02d" % (day, hour, minute, sec)
    elif style == 2:
        ts = "%02d/03/2024 %02d:%02d" % (day, hour, minute)
    elif style == 3:
        ts = "2024-03-%02dT%02d:%02d:%02d+01:00" % (day, hour, minute, sec)
    else:
        ts = "2024-03-%02dT%02d:%02d:%02dZ" % (day, hour, minute, sec)
    units = rnd.choice([500, 1000, 1500, 2000, 2500, 5000, 12500])
    cents = rnd.choice([0, 0, 0, 50, 25])
    amount = "%d.%02d" % (units, cents) if cents else str(units)
    if n % 11 == 0:
        amount = "{:,}.50".format(units)          # thousands separator
    if n % 13 == 0:
        amount = "₦" + amount                      # symbol agreeing with NGN
    cur = rnd.choice(["NGN", "NGN", "ngn", "Naira"])
    rows.append([
        "PAY-%06d" % (100000 + n), ts, amount, cur, rnd.choice(types),
        rnd.choice(["", "", "10", "25.50"]), "MM%010d" % rnd.randrange(10**10),
        c["id"], c["meter"], c["name"], c["phone"], c["cat"],
        rnd.choice(["", "AG-01", "AG-02", "AG-07"]), c["lat"], c["lon"],
        rnd.choice(["North", "Central"]),
    ])

# The messy cases, placed among the good rows.
bad = {
    17: lambda r: r.__setitem__(1, "2024-02-30 10:00:00"),          # impossible date
    29: lambda r: r.__setitem__(2, "one thousand"),                 # text amount
    41: lambda r: r.__setitem__(3, "XYZ"),                          # unknown currency
    53: lambda r: r.__setitem__(4, "REFUND?"),                      # unknown type
    67: lambda r: r.__setitem__(8, ""),                             # missing meter
    79: lambda r: r.__setitem__(13, "191.2"),                       # bad latitude: warning
    97: lambda r: r.__setitem__(10, "0805 123 45"),                 # too short for NG: warning
    109: lambda r: r.__setitem__(10, "8031239999"),                 # lost its leading 0: valid
    113: lambda r: r.__setitem__(1, "2024-03-05 25:10:00"),         # hour 25
    131: lambda r: r.__setitem__(3, "Shilling"),                    # ambiguous currency name
    149: lambda r: r.__setitem__(2, "100.12345"),                   # too many decimals
}
for idx, f in bad.items():
    f(rows[idx])
rows[200] = list(rows[199])                  # exact duplicate: counted, written once
rows[250] = list(rows[249])
rows[250][2] = "999"                         # same ID, different content: conflict
rows.insert(60, [""] * len(header))          # blank rows are skipped and counted
rows.insert(180, ["", " ", "", "", "", "", "", "", "", "", "", "", "", "", "", ""])

with open(os.path.join(here, "payments.csv"), "w", newline="", encoding="utf-8") as f:
    f.write("Acme Mini-grid Ltd - payments export,,,\n")
    f.write("Site: Kuje (site-001),,,\n")
    w = csv.writer(f, lineterminator="\r\n")
    w.writerow(header)
    w.writerows(rows)
