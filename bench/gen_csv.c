/* bench/gen_csv: writes a realistic, deterministic payment CSV for the benchmarks.
 *
 *   gen_csv ROWS [SEED] > payments.csv      (expected counts go to stderr as JSON)
 *
 * 21 columns in the model's order with the canonical header. About 5 % of the fields are
 * quoted (names with commas, amounts with thousands separators, notes with quotes, exporter
 * style quoting of references), 250,000 customers each with its own meter, three currencies,
 * all six transaction types, ISO and space-separated timestamps, local and international
 * phones. Rows by position (i = 1..ROWS):
 *   i % 100 in {3, 31, 59}  invalid (rejected): bad amount, impossible date, unknown currency,
 *                           missing meter, unknown transaction type (cycling);
 *   i % 100 == 77           an optional field is bad (accepted with a warning, field cleared);
 *   i % 200 == 117          an exact repeat of row i - 7 (duplicate: counted, written once);
 *   i % 1000 == 517         row i - 3's ID with another amount (duplicate_id_conflict).
 * The expected counts are computed here and printed to stderr so that bench/run can check
 * every configuration against them. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static uint64_t mix(uint64_t x)
{
    x += 0x9e3779b97f4a7c15ULL;
    x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ULL;
    x = (x ^ (x >> 27)) * 0x94d049bb133111ebULL;
    return x ^ (x >> 31);
}

static const char *const FIRST[] = {"Ada",    "Chinedu", "Amina",  "Kwame",    "Wanjiru",
                                    "Tunde",  "Efua",    "Otieno", "Ngozi",    "Kofi",
                                    "Aisha",  "Musa",    "Akosua", "Njeri",    "Emeka",
                                    "Zainab", "Yaw",     "Halima", "Kipchoge", "Funmi"};
static const char *const LAST[] = {"Okafor",  "Mensah",  "Kamau",    "Adeyemi", "Owusu",
                                   "Mwangi",  "Bello",   "Boateng",  "Ochieng", "Eze",
                                   "Danjuma", "Asante",  "Wambui",   "Ibrahim", "Nwosu",
                                   "Appiah",  "Kariuki", "Abubakar", "Ofori",   "Chukwu"};
static const char *const CAT[] = {"Residential", "Commercial", "Business", "Public"};
static const char *const TX[] = {"FULL_PAYMENT",
                                 "INSTALLMENT_PAYMENT",
                                 "Installment payment",
                                 "NON_CONTRACT_PAYMENT",
                                 "ENERGY_CREDIT",
                                 "DISCOUNT",
                                 "REVERSAL"};
static const char *const CUR[] = {"NGN", "KES", "GHS"};
static const char *const CC[] = {"234", "254", "233"};
/* Mobile prefixes after the calling code: NG 3 digits + 7, KE 3 + 6, GH 3 + 6. */
static const char *const MOBILE[3][8] = {{"803", "806", "813", "816", "703", "905", "810", "802"},
                                         {"712", "722", "733", "710", "795", "701", "745", "768"},
                                         {"244", "544", "200", "554", "277", "501", "246", "240"}};
static const char *const NOTES[] = {"Paid at kiosk, cash", "Customer said \"thanks\"",
                                    "Top-up via agent", "Meter reset, see ticket", "Late payment"};

#define NCUST 250000u

static char *out_buf;
static size_t out_len;
#define OUT_CAP (1u << 20)

static void flush_out(void)
{
    fwrite(out_buf, 1, out_len, stdout);
    out_len = 0;
}

static void put(const char *s, size_t n)
{
    if (out_len + n > OUT_CAP)
        flush_out();
    memcpy(out_buf + out_len, s, n);
    out_len += n;
}

static void puts_(const char *s)
{
    put(s, strlen(s));
}

/* A field written RFC 4180 style: quoted when asked or when it needs it. */
static void field(const char *s, int quote, int last)
{
    if (!quote && strpbrk(s, ",\"\r\n"))
        quote = 1;
    if (quote) {
        put("\"", 1);
        for (const char *p = s; *p; p++) {
            if (*p == '"')
                put("\"", 1);
            put(p, 1);
        }
        put("\"", 1);
    } else {
        puts_(s);
    }
    put(last ? "\n" : ",", 1);
}

enum { ROW_OK = 0, ROW_INVALID = 1, ROW_WARN = 2 };

/* Writes logical row j (its content) under ID number id, amount bumped by `bump`. */
static void write_row(uint64_t seed, uint64_t j, uint64_t id, int bump, int kind, int defect)
{
    uint64_t h = mix(seed * 0x100000001b3ULL ^ j);
    uint64_t h2 = mix(h);
    uint32_t cust = (uint32_t)(h % NCUST);
    uint64_t ch = mix(cust + seed);
    int country = (int)(ch % 3);
    char f[21][96];
    memset(f, 0, sizeof f);
    int q[21] = {0};

    snprintf(f[0], sizeof f[0], "PAY-%08llu", (unsigned long long)id);
    /* 2024-01-01 + j * 1.9 s (monotonic), 80 % canonical ISO, 20 % "YYYY-MM-DD HH:MM:SS" */
    uint64_t secs = j * 19 / 10;
    unsigned day = (unsigned)(secs / 86400 % 360), sod = (unsigned)(secs % 86400);
    static const unsigned mdays[] = {31, 29, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
    unsigned m = 0, d = day;
    while (d >= mdays[m]) {
        d -= mdays[m];
        m++;
    }
    if (h2 % 5)
        snprintf(f[1], sizeof f[1], "2024-%02u-%02uT%02u:%02u:%02u.%03uZ", m + 1, d + 1, sod / 3600,
                 sod / 60 % 60, sod % 60, (unsigned)(h2 >> 20) % 1000);
    else
        snprintf(f[1], sizeof f[1], "2024-%02u-%02u %02u:%02u:%02u", m + 1, d + 1, sod / 3600,
                 sod / 60 % 60, sod % 60);
    /* amounts: NGN 500..50,000, KES 50..5,000, GHS 5..500; 30 % with cents */
    unsigned base = country == 0 ? 500 : country == 1 ? 50 : 5;
    unsigned units = base + (unsigned)(h >> 24) % (base * 99) + (unsigned)bump;
    unsigned cents = (h >> 40) % 10 < 3 ? (unsigned)(h >> 44) % 100 : 0;
    if (units >= 1000 && (h >> 50) % 10 == 0) {
        snprintf(f[2], sizeof f[2], "%u,%03u.%02u", units / 1000, units % 1000, cents);
    } else if (cents) {
        snprintf(f[2], sizeof f[2], "%u.%02u", units, cents);
    } else {
        snprintf(f[2], sizeof f[2], "%u", units);
    }
    strcpy(f[3], CUR[country]);
    unsigned tx = (unsigned)(h2 >> 8) % 100;
    int txi = tx < 30 ? 0 : tx < 62 ? 1 : tx < 70 ? 2 : tx < 80 ? 3 : tx < 92 ? 4 : tx < 97 ? 5 : 6;
    strcpy(f[4], TX[txi]);
    if ((h2 >> 16) & 1)
        snprintf(f[5], sizeof f[5], "%u.%02u", units / 100, (unsigned)(h2 >> 24) % 100);
    if (txi == 6 && j > 10)
        snprintf(f[6], sizeof f[6], "PAY-%08llu", (unsigned long long)(j - 10));
    else
        snprintf(f[6], sizeof f[6], "MM%010llu", (unsigned long long)(h2 >> 30) % 10000000000ULL);
    q[6] = (h2 >> 3) % 5 == 0;
    snprintf(f[7], sizeof f[7], "CUST-%06u", cust);
    snprintf(f[8], sizeof f[8], "%s-SM%08u",
             country == 0   ? "NG"
             : country == 1 ? "KE"
                            : "GH",
             cust * 7 + 10000);
    if ((ch >> 8) % 20 == 0)
        snprintf(f[9], sizeof f[9], "%s, %s", LAST[(ch >> 16) % 20], FIRST[(ch >> 24) % 20]);
    else
        snprintf(f[9], sizeof f[9], "%s %s", FIRST[(ch >> 24) % 20], LAST[(ch >> 16) % 20]);
    q[9] = (ch >> 32) % 10 < 7;
    /* Real mobile ranges (valid for libphonenumber): NG 10 digits after +234, KE and GH 9.
     * A quarter of the Nigerian customers' phones are written nationally ("0803 123 4567";
     * bench/run configures phone_country_code 234). */
    {
        const char *pre = MOBILE[country][(ch >> 40) % 8];
        unsigned sub = (unsigned)(ch >> 12) % (country == 0 ? 10000000u : 1000000u);
        if (country == 0 && (ch >> 36) % 4 == 0)
            snprintf(f[10], sizeof f[10], "0%s %03u %04u", pre, sub / 10000, sub % 10000);
        else
            snprintf(f[10], sizeof f[10], country == 0 ? "+%s%s%07u" : "+%s%s%06u", CC[country],
                     pre, sub);
    }
    strcpy(f[11], CAT[(ch >> 44) % 4]);
    if ((ch >> 46) % 10 < 3)
        snprintf(f[12], sizeof f[12], "FIN-%05u", cust % 50000);
    if ((h2 >> 40) % 10 < 4)
        snprintf(f[13], sizeof f[13], "AG-%04u", (unsigned)(h2 >> 44) % 2000);
    if ((ch >> 50) % 10 < 8) {
        snprintf(f[14], sizeof f[14], "%s%u.%04u", country == 1 ? "-" : "",
                 country == 0   ? 6
                 : country == 1 ? 1
                                : 5,
                 (unsigned)(ch >> 20) % 10000);
        snprintf(f[15], sizeof f[15], "%u.%04u",
                 country == 0   ? 3
                 : country == 1 ? 36
                                : 0,
                 (unsigned)(ch >> 30) % 10000);
    }
    snprintf(f[16], sizeof f[16], "UT-%02u", (unsigned)(ch % 7) + 1);
    if ((h2 >> 52) % 4 == 0)
        snprintf(f[17], sizeof f[17], "%u", (unsigned)(h2 >> 54) % 4);
    strcpy(f[18], (ch >> 54) % 3 ? "Prepaid" : "Postpaid");
    strcpy(f[19], "Completed");
    if ((h2 >> 56) % 10 == 0)
        strcpy(f[20], NOTES[(h2 >> 58) % 5]);

    if (kind == ROW_INVALID) {
        switch (defect % 5) {
        case 0:
            strcpy(f[2], "12.5.0");
            break;
        case 1:
            strcpy(f[1], "2024-02-30 10:00");
            break;
        case 2:
            strcpy(f[3], "XYZ");
            break;
        case 3:
            f[8][0] = '\0';
            break;
        default:
            strcpy(f[4], "PAYMENT");
            break;
        }
    } else if (kind == ROW_WARN) {
        switch (defect % 3) {
        case 0:
            strcpy(f[14], "north");
            strcpy(f[15], "3.1");
            break;
        case 1:
            strcpy(f[10], "call me");
            break;
        default:
            strcpy(f[17], "-2");
            break;
        }
    }
    for (int k = 0; k < 21; k++)
        field(f[k], q[k], k == 20);
}

static int row_kind(uint64_t i)
{
    unsigned r = (unsigned)(i % 100);
    if (r == 3 || r == 31 || r == 59)
        return ROW_INVALID;
    if (r == 77)
        return ROW_WARN;
    return ROW_OK;
}

int main(int argc, char **argv)
{
    if (argc < 2) {
        fprintf(stderr, "usage: gen_csv ROWS [SEED] > file.csv\n");
        return 2;
    }
    uint64_t rows = strtoull(argv[1], NULL, 10);
    uint64_t seed = argc > 2 ? strtoull(argv[2], NULL, 10) : 1;
    out_buf = malloc(OUT_CAP);
    if (!out_buf)
        return 1;
    static const char *const HDR[] = {"ID",
                                      "TIMESTAMP",
                                      "PAYMENT_AMOUNT",
                                      "PAYMENT_CURRENCY",
                                      "TRANSACTION_TYPE",
                                      "TRANSACTION_CHARGES",
                                      "REFERENCE_ID",
                                      "CUSTOMER_ID",
                                      "METER_ID",
                                      "CUSTOMER_NAME",
                                      "CUSTOMER_PHONE",
                                      "CUSTOMER_CATEGORY",
                                      "FINANCING_ID",
                                      "AGENT_ID",
                                      "LATITUDE",
                                      "LONGITUDE",
                                      "UTILITY_ID",
                                      "FAILED_BATTERY_CAPACITY_COUNT",
                                      "ACCOUNT_TYPE",
                                      "STATUS",
                                      "NOTES"};
    for (int k = 0; k < 21; k++)
        field(HDR[k], 0, k == 20);
    uint64_t accepted = 0, rejected = 0, duplicates = 0, warnings = 0;
    for (uint64_t i = 1; i <= rows; i++) {
        if (i % 200 == 117 && i > 7) {
            /* row i-7 has i-7 % 100 in {10, 110 % 100 = 10}: always a plain valid row */
            write_row(seed, i - 7, i - 7, 0, ROW_OK, 0);
            duplicates++;
        } else if (i % 1000 == 523) {
            /* i-3 % 100 == 20: a plain valid row; this one reuses its ID, other amount */
            write_row(seed, i - 3, i - 3, 1, ROW_OK, 0);
            rejected++;
        } else {
            int kind = row_kind(i);
            write_row(seed, i, i, 0, kind, (int)(i / 100));
            if (kind == ROW_INVALID) {
                rejected++;
            } else {
                accepted++;
                warnings += kind == ROW_WARN;
            }
        }
    }
    flush_out();
    fprintf(stderr,
            "{\"read\": %llu, \"accepted\": %llu, \"rejected\": %llu, \"duplicates\": %llu, "
            "\"warnings\": %llu}\n",
            (unsigned long long)rows, (unsigned long long)accepted, (unsigned long long)rejected,
            (unsigned long long)duplicates, (unsigned long long)warnings);
    free(out_buf);
    return fflush(stdout) == 0 ? 0 : 1;
}
