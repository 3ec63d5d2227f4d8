/* paysync sink plugin "s3": uploads each committed dataset run's payments as one object to an
 * S3 bucket (or any S3-compatible store), signed with AWS Signature V4, through the host HTTP
 * client (docs/sinks.md, "s3"). The body is spooled to an unlinked temporary file while the
 * records arrive (memory stays bounded by one part), then uploaded at commit: one PUT up to
 * part_size bytes, a multipart upload above. A small state object per dataset remembers the
 * SHA-256 of the last upload, so a re-run with identical payments uploads nothing. */
#define _POSIX_C_SOURCE 200809L /* mkstemp, pread, gmtime_r, strdup */

#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <openssl/evp.h>

#include "paysync/plugin.h"
#include "paysync/timestamp.h"
#include "s3_format.h"
#include "s3_sigv4.h"
#include "s3_xml.h"

#define S3_KEY_MAX 1024    /* S3's limit on a key, in bytes */
#define S3_SPOOL_BUF 65536 /* bytes formatted before they go to the spool file */
#define S3_MAX_PARTS 10000 /* S3's limit on the parts of one upload */
#define S3_STATE_MAX 4096  /* longest state object read back */

typedef struct s3_sink {
    const ps_host *host;
    const ps_env *env;
    char *name; /* the sink's name in the config */
    ps_http_client *http;
    /* options */
    char *bucket, *prefix, *region, *key_tmpl, *state_tmpl; /* state_tmpl NULL = off */
    char *scheme, *authority; /* of the endpoint ("http", "127.0.0.1:4568") */
    int path_style;
    int jsonl;
    int64_t part_size;
    char *access_key, *secret_key, *token;
    /* the open dataset */
    int ds_open;
    int fd; /* unlinked spool file, -1 when none */
    char *buf;
    size_t buf_len, buf_cap;
    uint64_t bytes, records;
    EVP_MD_CTX *sha;
    char *dataset, *run_id;
    int64_t started_ms;
} s3_sink;

static char *dup_or_null(const char *s)
{
    return s ? strdup(s) : NULL;
}

/* ---- requests ------------------------------------------------------------------------- */

/* How one request's answers are judged (the check callback's context). */
typedef struct s3_op {
    s3_sink *s;
    const char *desc; /* "uploading s3://bucket/key", for messages */
    int ok_404;       /* a 404 NoSuchKey or 403 AccessDenied is an answer (state object
                       * absent, or unreadable without s3:ListBucket) */
    int error_in_200; /* CompleteMultipartUpload: a 200 may carry an <Error> */
} s3_op;

static ps_status s3_check(void *ctx, ps_http_response *resp, char *reason, size_t reason_cap,
                          ps_error *err)
{
    s3_op *op = ctx;
    long st = resp->status;
    char code[128], msg[512];
    s3_xml_text(resp->body, resp->len, "Code", code, sizeof code);
    s3_xml_text(resp->body, resp->len, "Message", msg, sizeof msg);
    if (st >= 200 && st < 300) {
        if (!op->error_in_200 || !resp->body || !strstr(resp->body, "<Error>"))
            return PS_OK;
        ps_error_setf(err, PS_ERR_SOURCE, "%s: S3 answered 200 with error %s: %s", op->desc,
                      code[0] ? code : "(no code)", msg);
        snprintf(reason, reason_cap, "S3 error %s", code);
        return PS_RETRY;
    }
    if (op->ok_404 && ((st == 404 && strcmp(code, "NoSuchKey") == 0) ||
                       (st == 403 && strcmp(code, "AccessDenied") == 0)))
        return PS_OK;
    const char *hint = "";
    if (strcmp(code, "SignatureDoesNotMatch") == 0 || strcmp(code, "InvalidAccessKeyId") == 0 ||
        strcmp(code, "AuthorizationHeaderMalformed") == 0)
        hint = " (check access_key_id, secret_access_key and region)";
    else if (strcmp(code, "NoSuchBucket") == 0)
        hint = " (check the bucket name, endpoint and region)";
    else if (strcmp(code, "AccessDenied") == 0)
        hint = " (the credentials may not write to this bucket)";
    ps_error_setf(err, PS_ERR_SOURCE, "%s: HTTP %ld %s%s%s%s", op->desc, st,
                  code[0] ? code : "(no S3 error code in the answer)", msg[0] ? ": " : "", msg,
                  hint);
    if (st == 408 || st == 429 || st >= 500) {
        snprintf(reason, reason_cap, "%s: HTTP %ld %s", op->desc, st, code);
        return PS_RETRY;
    }
    if (st == 401 || st == 403)
        err->code = PS_ERR_AUTH;
    return err->code;
}

/* "YYYYMMDDTHHMMSSZ" of ms since the epoch. */
static void amz_date(int64_t ms, char out[17])
{
    time_t t = (time_t)(ms / 1000);
    struct tm tm;
    gmtime_r(&t, &tm);
    strftime(out, 17, "%Y%m%dT%H%M%SZ", &tm);
}

static void b64(const unsigned char *d, int n, char *out)
{
    EVP_EncodeBlock((unsigned char *)out, d, n);
}

/* Sends one signed request for key (NULL = the bucket) with the canonical query (sorted,
 * encoded; "" for none) and body. On PS_OK, resp holds the answer (free it). */
static ps_status s3_request(s3_sink *s, const char *method, const char *key, const char *query,
                            const char *body, size_t len, const char *content_type, s3_op *op,
                            ps_http_response *resp, ps_error *err)
{
    char path[3 * S3_KEY_MAX + 80];
    size_t k = 0;
    path[k++] = '/';
    if (s->path_style) {
        k += (size_t)snprintf(path + k, sizeof path - k, "%s/", s->bucket);
    }
    if (key && s3_uri_encode(key, 1, path + k, sizeof path - k) == (size_t)-1)
        return ps_error_setf(err, PS_ERR_CONFIG, "%s: key too long", op->desc);
    char host[320];
    if (s->path_style)
        snprintf(host, sizeof host, "%s", s->authority);
    else
        snprintf(host, sizeof host, "%s.%s", s->bucket, s->authority);
    size_t ulen = strlen(s->scheme) + strlen(host) + strlen(path) + strlen(query) + 8;
    char *url = malloc(ulen);
    if (!url)
        return ps_error_setf(err, PS_ERR_NOMEM, "out of memory");
    snprintf(url, ulen, "%s://%s%s%s%s", s->scheme, host, path, query[0] ? "?" : "", query);

    char date[17], phash[65], md5b64[32] = "";
    amz_date(s->host->now_ms(), date);
    s3_sha256_hex(body ? body : "", body ? len : 0, phash);
    if (body) {
        unsigned char md[EVP_MAX_MD_SIZE];
        unsigned int mdlen = 0;
        if (EVP_Digest(body, len, md, &mdlen, EVP_md5(), NULL) != 1) {
            free(url);
            return ps_error_setf(err, PS_ERR_INTERNAL, "%s: MD5 failed", op->desc);
        }
        b64(md, (int)mdlen, md5b64);
    }
    s3_sig_header sh[5];
    size_t nh = 0;
    if (md5b64[0])
        sh[nh++] = (s3_sig_header){"content-md5", md5b64};
    sh[nh++] = (s3_sig_header){"host", host};
    sh[nh++] = (s3_sig_header){"x-amz-content-sha256", phash};
    sh[nh++] = (s3_sig_header){"x-amz-date", date};
    if (s->token)
        sh[nh++] = (s3_sig_header){"x-amz-security-token", s->token};
    s3_sig_request sr = {.method = method,
                         .uri = path,
                         .query = query,
                         .headers = sh,
                         .nheaders = nh,
                         .payload_hash = phash,
                         .amz_date = date,
                         .region = s->region,
                         .service = "s3",
                         .access_key = s->access_key,
                         .secret_key = s->secret_key};
    char auth[512];
    if (s3_sigv4_authorization(&sr, auth, sizeof auth, NULL) != 0) {
        free(url);
        return ps_error_setf(err, PS_ERR_INTERNAL, "%s: cannot sign the request", op->desc);
    }
    /* The header lines; the token may be long, so they are built in one allocation. */
    size_t tl = s->token ? strlen(s->token) : 0;
    size_t hcap = 1024 + tl + strlen(host) + strlen(auth);
    char *hb = malloc(hcap);
    if (!hb) {
        free(url);
        return ps_error_setf(err, PS_ERR_NOMEM, "out of memory");
    }
    const char *hdrs[10];
    size_t nhd = 0, off = 0;
#define S3_HDR(...)                                                                                \
    do {                                                                                           \
        hdrs[nhd++] = hb + off;                                                                    \
        off += (size_t)snprintf(hb + off, hcap - off, __VA_ARGS__) + 1;                            \
    } while (0)
    S3_HDR("Host: %s", host);
    S3_HDR("x-amz-date: %s", date);
    S3_HDR("x-amz-content-sha256: %s", phash);
    S3_HDR("Authorization: %s", auth);
    if (md5b64[0])
        S3_HDR("Content-MD5: %s", md5b64);
    if (s->token)
        S3_HDR("x-amz-security-token: %s", s->token);
    if (body)
        S3_HDR("Content-Type: %s", content_type ? content_type : "application/octet-stream");
    S3_HDR("Expect:");
#undef S3_HDR
    hdrs[nhd] = NULL;
    ps_http_request req = {.struct_size = sizeof req,
                           .method = method,
                           .url = url,
                           .headers = hdrs,
                           .body = body ? body : (strcmp(method, "GET") ? "" : NULL),
                           .body_len = body ? len : 0,
                           .what = op->desc,
                           .check = s3_check,
                           .ctx = op};
    ps_status st = s->host->http_request(s->http, &req, resp, err);
    free(hb);
    free(url);
    if (st != PS_OK)
        s->host->http_redact(s->http, err->message);
    return st;
}

/* ---- key templates -------------------------------------------------------------------- */

/* Expands {prefix}, {dataset}, {date} and {run_id} into out (S3_KEY_MAX + 1 bytes). Returns 0,
 * -1 when too long, -2 on an unknown placeholder (its name in bad, 32 bytes). */
static int expand(const char *tmpl, const char *prefix, const char *dataset, const char *date,
                  const char *run_id, char *out, char *bad)
{
    size_t k = 0;
    for (const char *p = tmpl; *p;) {
        const char *v = NULL;
        size_t skip = 0;
        if (*p == '{') {
            static const char *const names[] = {"{prefix}", "{dataset}", "{date}", "{run_id}"};
            const char *vals[] = {prefix, dataset, date, run_id};
            for (int i = 0; i < 4 && !v; i++)
                if (strncmp(p, names[i], strlen(names[i])) == 0) {
                    v = vals[i];
                    skip = strlen(names[i]);
                }
            if (!v) {
                const char *e = strchr(p, '}');
                size_t n = e ? (size_t)(e - p) + 1 : strlen(p);
                snprintf(bad, 32, "%.*s", (int)(n < 31 ? n : 31), p);
                return -2;
            }
        }
        if (!v) {
            if (k >= S3_KEY_MAX)
                return -1;
            out[k++] = *p++;
            continue;
        }
        size_t n = strlen(v);
        if (k + n > S3_KEY_MAX)
            return -1;
        memcpy(out + k, v, n);
        k += n;
        p += skip;
    }
    out[k] = '\0';
    return k == 0 ? -1 : 0;
}

/* ---- lifecycle ------------------------------------------------------------------------ */

static const char *const s3_formats[] = {"csv", "jsonl", NULL};

static void s3_destroy(void *inst);

/* Splits endpoint "http[s]://authority[/]" into scheme and authority. */
static int parse_endpoint(s3_sink *s, const char *ep)
{
    const char *rest;
    if (strncmp(ep, "http://", 7) == 0) {
        s->scheme = strdup("http");
        rest = ep + 7;
    } else if (strncmp(ep, "https://", 8) == 0) {
        s->scheme = strdup("https");
        rest = ep + 8;
    } else {
        return -1;
    }
    size_t n = strcspn(rest, "/?#");
    if (n == 0 || n > 255 || (rest[n] && strcmp(rest + n, "/") != 0))
        return -1;
    for (size_t i = 0; i < n; i++)
        if ((unsigned char)rest[i] <= ' ' || rest[i] == '@')
            return -1;
    s->authority = strndup(rest, n);
    return s->scheme && s->authority ? 0 : -2;
}

static int bucket_ok(const char *b)
{
    size_t n = strlen(b);
    if (n < 3 || n > 63)
        return 0;
    for (size_t i = 0; i < n; i++) {
        char c = b[i];
        if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' || c == '.'))
            return 0;
    }
    return b[0] != '-' && b[0] != '.' && b[n - 1] != '-' && b[n - 1] != '.';
}

static ps_status s3_create(const ps_plugin_ctx *ctx, void **inst, ps_error *err)
{
    const ps_host *h = ctx->host;
    const ps_options *o = ctx->options;
    const char *nm = ctx->instance_name;
    s3_sink *s = calloc(1, sizeof *s);
    if (!s)
        return ps_error_setf(err, PS_ERR_NOMEM, "out of memory");
    s->host = h;
    s->env = ctx->env;
    s->fd = -1;
    s->name = strdup(nm);
    const char *bucket = h->opt_string(o, "bucket");
    if (!bucket || !bucket_ok(bucket)) {
        ps_error_setf(err, PS_ERR_CONFIG,
                      "sink '%s': option 'bucket' must be an S3 bucket name (3-63 characters "
                      "a-z, 0-9, '-' and '.'), got '%s'",
                      nm, bucket ? bucket : "");
        goto fail;
    }
    const char *region = h->opt_string(o, "region");
    if (!region || !*region)
        region = getenv("AWS_REGION");
    if (!region || !*region)
        region = getenv("AWS_DEFAULT_REGION");
    if (!region || !*region)
        region = "us-east-1";
    if (strlen(region) > 40 ||
        strspn(region, "abcdefghijklmnopqrstuvwxyz0123456789-") != strlen(region)) {
        ps_error_setf(err, PS_ERR_CONFIG,
                      "sink '%s': region '%s' is not a region name such as eu-west-1", nm, region);
        goto fail;
    }
    const char *ep = h->opt_string(o, "endpoint");
    char aws_ep[96];
    int custom = ep && *ep;
    if (!custom) {
        snprintf(aws_ep, sizeof aws_ep, "https://s3.%s.amazonaws.com", region);
        ep = aws_ep;
    }
    int r = parse_endpoint(s, ep);
    if (r == -2) {
        ps_error_setf(err, PS_ERR_NOMEM, "out of memory");
        goto fail;
    }
    if (r == -1) {
        ps_error_setf(err, PS_ERR_CONFIG,
                      "sink '%s': option 'endpoint' must be http://HOST[:PORT] or "
                      "https://HOST[:PORT] without a path, got '%s'",
                      nm, ep);
        goto fail;
    }
    s->path_style = h->opt_is_set(o, "path_style") ? h->opt_bool(o, "path_style") : custom;
    if (!s->path_style && strchr(bucket, '.') && strcmp(s->scheme, "https") == 0)
        h->log(ctx->env, PS_LOG_WARN,
               "bucket '%s' has a '.': virtual-hosted HTTPS names do not match AWS's "
               "certificate; set path_style: true",
               bucket);
    const char *ak = h->opt_string(o, "access_key_id");
    const char *sk = h->opt_string(o, "secret_access_key");
    const char *tok = h->opt_string(o, "session_token");
    if (!ak || !*ak)
        ak = getenv("AWS_ACCESS_KEY_ID");
    if (!sk || !*sk)
        sk = getenv("AWS_SECRET_ACCESS_KEY");
    if (!tok || !*tok)
        tok = getenv("AWS_SESSION_TOKEN");
    if (!ak || !*ak || !sk || !*sk) {
        ps_error_setf(err, PS_ERR_CONFIG,
                      "sink '%s': no S3 credentials: set access_key_id and secret_access_key "
                      "(e.g. ${AWS_ACCESS_KEY_ID}) or the environment variables "
                      "AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY",
                      nm);
        goto fail;
    }
    if (strlen(ak) > 128 || strlen(sk) > 128 || strchr(ak, '/') || (tok && strlen(tok) > 8192)) {
        ps_error_setf(err, PS_ERR_CONFIG,
                      "sink '%s': access_key_id or secret_access_key is not an S3 key (too "
                      "long or holds '/')",
                      nm);
        goto fail;
    }
    s->jsonl = (int)h->opt_int(o, "format") == 1;
    const char *prefix = h->opt_string(o, "prefix");
    const char *key = h->opt_string(o, "key");
    if (!key || !*key)
        key = s->jsonl ? "{prefix}{dataset}/{date}/{run_id}.jsonl"
                       : "{prefix}{dataset}/{date}/{run_id}.csv";
    const char *state = h->opt_string(o, "state_key");
    s->bucket = strdup(bucket);
    s->region = strdup(region);
    s->prefix = strdup(prefix ? prefix : "");
    s->key_tmpl = strdup(key);
    s->state_tmpl = state && *state ? strdup(state) : NULL;
    s->access_key = strdup(ak);
    s->secret_key = strdup(sk);
    s->token = dup_or_null(tok && *tok ? tok : NULL);
    s->part_size = h->opt_int(o, "part_size");
    if (!s->bucket || !s->region || !s->prefix || !s->key_tmpl || !s->access_key ||
        !s->secret_key || (state && *state && !s->state_tmpl)) {
        ps_error_setf(err, PS_ERR_NOMEM, "out of memory");
        goto fail;
    }
    /* Templates are checked now, with sample values, so that a typo fails at load time. */
    const char *tmpls[] = {"key", s->key_tmpl, "state_key", s->state_tmpl};
    for (int i = 0; i < 4; i += 2) {
        char out[S3_KEY_MAX + 1], bad[32];
        if (!tmpls[i + 1])
            continue;
        int e = expand(tmpls[i + 1], s->prefix, "dataset", "2024-01-31", "20240131T120000Z-0000",
                       out, bad);
        if (e == -2) {
            ps_error_setf(err, PS_ERR_CONFIG,
                          "sink '%s': option '%s' has an unknown placeholder '%s' (known: "
                          "{prefix}, {dataset}, {date}, {run_id})",
                          nm, tmpls[i], bad);
            goto fail;
        }
        if (e == -1) {
            ps_error_setf(err, PS_ERR_CONFIG,
                          "sink '%s': option '%s' gives an empty key or one longer than %d "
                          "bytes",
                          nm, tmpls[i], S3_KEY_MAX);
            goto fail;
        }
    }
    ps_http_config hc = {.struct_size = sizeof hc,
                         .timeout_ms = h->opt_int(o, "timeout"),
                         .max_attempts = (int)h->opt_int(o, "max_attempts"),
                         .max_body_bytes = 1024 * 1024};
    if (hc.max_attempts == 1)
        hc.max_attempts = -1;
    s->http = h->http_new(ctx, &hc, err);
    if (!s->http)
        goto fail;
    h->http_add_secret(s->http, s->secret_key);
    if (s->token)
        h->http_add_secret(s->http, s->token);
    *inst = s;
    return PS_OK;
fail:
    s3_destroy(s);
    return err->code != PS_OK ? err->code : PS_ERR_NOMEM;
}

static void spool_close(s3_sink *s)
{
    if (s->fd >= 0)
        close(s->fd);
    s->fd = -1;
    EVP_MD_CTX_free(s->sha);
    s->sha = NULL;
    free(s->buf);
    s->buf = NULL;
    s->buf_len = s->buf_cap = 0;
    free(s->dataset);
    free(s->run_id);
    s->dataset = s->run_id = NULL;
    s->ds_open = 0;
}

static void s3_destroy(void *inst)
{
    s3_sink *s = inst;
    if (!s)
        return;
    spool_close(s);
    if (s->http)
        s->host->http_free(s->http);
    if (s->secret_key)
        memset(s->secret_key, 0, strlen(s->secret_key));
    free(s->name);
    free(s->bucket);
    free(s->prefix);
    free(s->region);
    free(s->key_tmpl);
    free(s->state_tmpl);
    free(s->scheme);
    free(s->authority);
    free(s->access_key);
    free(s->secret_key);
    free(s->token);
    free(s);
}

/* Writes the formatted bytes to the spool file. */
static ps_status spool_flush(s3_sink *s, ps_error *err)
{
    size_t done = 0;
    while (done < s->buf_len) {
        ssize_t w = write(s->fd, s->buf + done, s->buf_len - done);
        if (w < 0 && errno == EINTR)
            continue;
        if (w <= 0)
            return ps_error_setf(err, PS_ERR_IO, "sink '%s': cannot write the spool file: %s",
                                 s->name, strerror(errno));
        done += (size_t)w;
    }
    if (EVP_DigestUpdate(s->sha, s->buf, s->buf_len) != 1)
        return ps_error_setf(err, PS_ERR_INTERNAL, "sink '%s': SHA-256 failed", s->name);
    s->bytes += s->buf_len;
    s->buf_len = 0;
    return PS_OK;
}

/* Room for n more bytes in the buffer (flushing first, growing for one huge record). */
static ps_status spool_room(s3_sink *s, size_t n, ps_error *err)
{
    if (s->buf_len + n <= s->buf_cap)
        return PS_OK;
    ps_status st = spool_flush(s, err);
    if (st != PS_OK)
        return st;
    if (n <= s->buf_cap)
        return PS_OK;
    char *nb = realloc(s->buf, n);
    if (!nb)
        return ps_error_setf(err, PS_ERR_NOMEM, "out of memory");
    s->buf = nb;
    s->buf_cap = n;
    return PS_OK;
}

static ps_status s3_open(void *inst, const ps_sink_open_args *args, ps_error *err)
{
    s3_sink *s = inst;
    spool_close(s);
    const char *tmp = getenv("TMPDIR");
    char path[4096];
    snprintf(path, sizeof path, "%s/paysync-s3-XXXXXX", tmp && *tmp ? tmp : "/tmp");
    s->fd = mkstemp(path); /* O_CREAT|O_EXCL, mode 0600 */
    if (s->fd < 0)
        return ps_error_setf(err, PS_ERR_IO, "sink '%s': cannot create a spool file in %s: %s",
                             s->name, tmp && *tmp ? tmp : "/tmp", strerror(errno));
    unlink(path); /* nobody else sees it; it vanishes with the descriptor */
    s->buf = malloc(S3_SPOOL_BUF);
    s->buf_cap = S3_SPOOL_BUF;
    s->sha = EVP_MD_CTX_new();
    s->dataset = strdup(args->dataset);
    s->run_id = strdup(args->run_id ? args->run_id : "run");
    s->started_ms = args->started_ms;
    s->bytes = s->records = 0;
    if (!s->buf || !s->sha || !s->dataset || !s->run_id ||
        EVP_DigestInit_ex(s->sha, EVP_sha256(), NULL) != 1) {
        spool_close(s);
        return ps_error_setf(err, PS_ERR_NOMEM, "out of memory");
    }
    if (!s->jsonl)
        s->buf_len = s3_format_csv_header(s->host, s->buf);
    s->ds_open = 1;
    return PS_OK;
}

static ps_status s3_write_batch(void *inst, const ps_record_batch *batch, ps_error *err)
{
    s3_sink *s = inst;
    if (!s->ds_open)
        return ps_error_setf(err, PS_ERR_INTERNAL, "s3 sink: write_batch without open");
    size_t dl = strlen(s->dataset);
    for (size_t i = 0; i < batch->count; i++) {
        const ps_record *rec = &batch->records[i];
        ps_status st = spool_room(s, s3_format_bound(rec, dl), err);
        if (st != PS_OK)
            return st;
        s->buf_len += s3_format_record(s->host, rec, s->jsonl, s->dataset, s->buf + s->buf_len);
        s->records++;
    }
    return PS_OK;
}

/* Reads n bytes at off from the spool file into buf. */
static ps_status spool_read(s3_sink *s, char *buf, size_t n, uint64_t off, ps_error *err)
{
    size_t done = 0;
    while (done < n) {
        ssize_t r = pread(s->fd, buf + done, n - done, (off_t)(off + done));
        if (r < 0 && errno == EINTR)
            continue;
        if (r <= 0)
            return ps_error_setf(err, PS_ERR_IO, "sink '%s': cannot read the spool file: %s",
                                 s->name, r < 0 ? strerror(errno) : "short file");
        done += (size_t)r;
    }
    return PS_OK;
}

/* Uploads the spool as key in one PUT. target is "s3://bucket/key", for messages. */
static ps_status put_single(s3_sink *s, const char *key, const char *target, ps_error *err)
{
    char desc[S3_KEY_MAX + 200];
    snprintf(desc, sizeof desc, "uploading %s", target);
    char *body = malloc(s->bytes ? (size_t)s->bytes : 1);
    if (!body)
        return ps_error_setf(err, PS_ERR_NOMEM, "out of memory");
    ps_status st = spool_read(s, body, (size_t)s->bytes, 0, err);
    if (st == PS_OK) {
        s3_op op = {.s = s, .desc = desc};
        ps_http_response resp;
        st = s3_request(s, "PUT", key, "", body, (size_t)s->bytes,
                        s->jsonl ? "application/x-ndjson" : "text/csv", &op, &resp, err);
        if (st == PS_OK)
            s->host->http_response_free(&resp);
    }
    free(body);
    return st;
}

/* Aborts a multipart upload after a failure; S3-compatible servers that refuse it are
 * logged (the parts stay invisible: no object appears without completion). */
static void abort_upload(s3_sink *s, const char *key, const char *query, const char *target)
{
    char d[S3_KEY_MAX + 400];
    snprintf(d, sizeof d, "aborting the multipart upload of %s", target);
    s3_op op = {.s = s, .desc = d};
    ps_http_response resp;
    ps_error e = {0};
    if (s3_request(s, "DELETE", key, query, NULL, 0, NULL, &op, &resp, &e) == PS_OK)
        s->host->http_response_free(&resp);
    else
        s->host->log(s->env, PS_LOG_WARN,
                     "%s (the parts stay invisible; a bucket lifecycle rule for incomplete "
                     "multipart uploads removes them)",
                     e.message);
}

/* Uploads the spool as key in parts of part_size bytes. */
static ps_status put_multipart(s3_sink *s, const char *key, const char *target, ps_error *err)
{
    uint64_t ps = (uint64_t)s->part_size;
    uint64_t nparts = (s->bytes + ps - 1) / ps;
    if (nparts > S3_MAX_PARTS)
        return ps_error_setf(err, PS_ERR_DATA,
                             "%s: %" PRIu64 " bytes need more than %d parts of %" PRIu64
                             " bytes; raise part_size",
                             target, s->bytes, S3_MAX_PARTS, ps);
    char d[S3_KEY_MAX + 400];
    snprintf(d, sizeof d, "starting the multipart upload of %s", target);
    s3_op op = {.s = s, .desc = d};
    ps_http_response resp;
    ps_status st = s3_request(s, "POST", key, "uploads=", "", 0,
                              s->jsonl ? "application/x-ndjson" : "text/csv", &op, &resp, err);
    if (st != PS_OK)
        return st;
    char id[1024], id_enc[3 * 1024 + 1];
    int found = s3_xml_text(resp.body, resp.len, "UploadId", id, sizeof id);
    s->host->http_response_free(&resp);
    if (!found || !id[0] || s3_uri_encode(id, 0, id_enc, sizeof id_enc) == (size_t)-1)
        return ps_error_setf(err, PS_ERR_SOURCE, "%s: the answer holds no usable UploadId", d);
    char q_upload[sizeof id_enc + 16];
    snprintf(q_upload, sizeof q_upload, "uploadId=%s", id_enc);

    char *buf = malloc((size_t)ps);
    unsigned char(*md5s)[16] = calloc((size_t)nparts, 16);
    /* <Part><PartNumber>10000</PartNumber><ETag>"32 hex"</ETag></Part> = 82 bytes */
    size_t xcap = 128 + (size_t)nparts * 96;
    char *xml = malloc(xcap);
    if (!buf || !md5s || !xml) {
        st = ps_error_setf(err, PS_ERR_NOMEM, "out of memory");
        goto out;
    }
    for (uint64_t i = 0; i < nparts && st == PS_OK; i++) {
        uint64_t off = i * ps;
        size_t n = (size_t)(s->bytes - off < ps ? s->bytes - off : ps);
        st = spool_read(s, buf, n, off, err);
        if (st != PS_OK)
            break;
        unsigned int ml = 0;
        EVP_Digest(buf, n, md5s[i], &ml, EVP_md5(), NULL);
        char q[sizeof q_upload + 32];
        snprintf(q, sizeof q, "partNumber=%" PRIu64 "&%s", i + 1, q_upload);
        snprintf(d, sizeof d, "uploading part %" PRIu64 " of %" PRIu64 " of %s", i + 1, nparts,
                 target);
        s3_op pop = {.s = s, .desc = d};
        st = s3_request(s, "PUT", key, q, buf, n, "application/octet-stream", &pop, &resp, err);
        if (st == PS_OK)
            s->host->http_response_free(&resp);
    }
    if (st == PS_OK) {
        size_t k = (size_t)snprintf(xml, xcap, "<CompleteMultipartUpload>");
        for (uint64_t i = 0; i < nparts; i++) {
            k += (size_t)snprintf(xml + k, xcap - k,
                                  "<Part><PartNumber>%" PRIu64 "</PartNumber><ETag>\"", i + 1);
            for (int j = 0; j < 16; j++)
                k += (size_t)snprintf(xml + k, xcap - k, "%02x", md5s[i][j]);
            k += (size_t)snprintf(xml + k, xcap - k, "\"</ETag></Part>");
        }
        k += (size_t)snprintf(xml + k, xcap - k, "</CompleteMultipartUpload>");
        snprintf(d, sizeof d, "completing the multipart upload of %s", target);
        s3_op cop = {.s = s, .desc = d, .error_in_200 = 1};
        st = s3_request(s, "POST", key, q_upload, xml, k, "application/xml", &cop, &resp, err);
        if (st == PS_OK)
            s->host->http_response_free(&resp);
    }
out:
    if (st != PS_OK)
        abort_upload(s, key, q_upload, target);
    free(buf);
    free(md5s);
    free(xml);
    return st;
}

/* The state object: {"sha256":"HEX","bytes":N,"key":"KEY","run_id":"RUN"}. 1 when the state
 * at state_key says an object with this SHA-256 was uploaded (its key in prev_key). */
static ps_status state_matches(s3_sink *s, const char *state_key, const char *sha, int *match,
                               char *prev_key, size_t cap, ps_error *err)
{
    char d[S3_KEY_MAX + 200];
    snprintf(d, sizeof d, "reading the state object s3://%s/%s", s->bucket, state_key);
    s3_op op = {.s = s, .desc = d, .ok_404 = 1};
    ps_http_response resp;
    *match = 0;
    ps_status st = s3_request(s, "GET", state_key, "", NULL, 0, NULL, &op, &resp, err);
    if (st != PS_OK)
        return st;
    if (resp.status == 403)
        s->host->log(s->env, PS_LOG_WARN,
                     "%s: HTTP 403 AccessDenied; taken as absent (S3 answers so for a missing "
                     "key without s3:ListBucket; grant s3:GetObject and s3:ListBucket, or "
                     "every run uploads its payments again)",
                     d);
    if (resp.status == 200 && resp.len < S3_STATE_MAX) {
        char want[80];
        snprintf(want, sizeof want, "{\"sha256\":\"%s\"", sha);
        *match = strncmp(resp.body, want, strlen(want)) == 0;
        const char *k = strstr(resp.body, "\"key\":\"");
        prev_key[0] = '\0';
        if (k) {
            k += 7;
            size_t n = strcspn(k, "\"");
            snprintf(prev_key, cap, "%.*s", (int)(n < cap ? n : cap - 1), k);
        }
    }
    s->host->http_response_free(&resp);
    return PS_OK;
}

/* Copies s into out as a JSON string body (no quotes), escaping " and \ and control bytes. */
static size_t json_plain(char *out, size_t cap, const char *s)
{
    size_t k = 0;
    for (; *s && k + 7 < cap; s++) {
        unsigned char c = (unsigned char)*s;
        if (c == '"' || c == '\\') {
            out[k++] = '\\';
            out[k++] = (char)c;
        } else if (c < 0x20) {
            k += (size_t)snprintf(out + k, cap - k, "\\u%04x", c);
        } else {
            out[k++] = (char)c;
        }
    }
    out[k] = '\0';
    return k;
}

static ps_status s3_commit(void *inst, const ps_commit_info *info, ps_change_counts *changes,
                           ps_error *err)
{
    s3_sink *s = inst;
    (void)info;
    if (changes)
        changes->valid = 0;
    if (!s->ds_open)
        return ps_error_setf(err, PS_ERR_INTERNAL, "s3 sink: commit without open");
    ps_status st = spool_flush(s, err);
    if (st != PS_OK)
        return st;
    if (s->records == 0) {
        s->host->log(s->env, PS_LOG_INFO,
                     "dataset '%s': no payments in this run; nothing "
                     "uploaded",
                     s->dataset);
        spool_close(s);
        return PS_OK;
    }
    unsigned char md[32];
    unsigned int ml = 0;
    if (EVP_DigestFinal_ex(s->sha, md, &ml) != 1)
        return ps_error_setf(err, PS_ERR_INTERNAL, "sink '%s': SHA-256 failed", s->name);
    char sha[65];
    for (int i = 0; i < 32; i++)
        snprintf(sha + 2 * i, 3, "%02x", md[i]);
    char tbuf[PS_TIME_TEXT_MAX], date[11];
    s->host->time_format(s->started_ms, tbuf, sizeof tbuf);
    snprintf(date, sizeof date, "%.10s", tbuf);
    char key[S3_KEY_MAX + 1], skey[S3_KEY_MAX + 1], bad[32];
    if (expand(s->key_tmpl, s->prefix, s->dataset, date, s->run_id, key, bad) != 0 ||
        (s->state_tmpl &&
         expand(s->state_tmpl, s->prefix, s->dataset, date, s->run_id, skey, bad) != 0))
        return ps_error_setf(err, PS_ERR_CONFIG,
                             "sink '%s': the object key for dataset '%s' is longer than %d "
                             "bytes",
                             s->name, s->dataset, S3_KEY_MAX);
    char target[S3_KEY_MAX + 80];
    snprintf(target, sizeof target, "s3://%s/%s", s->bucket, key);
    uint64_t req0 = 0, retries = 0, req1 = 0;
    s->host->http_stats(s->http, &req0, &retries);
    if (s->state_tmpl) {
        int match = 0;
        char prev[S3_KEY_MAX + 1];
        st = state_matches(s, skey, sha, &match, prev, sizeof prev, err);
        if (st != PS_OK)
            return st;
        if (match) {
            s->host->log(s->env, PS_LOG_INFO,
                         "dataset '%s': %" PRIu64 " payments unchanged since the upload of "
                         "s3://%s/%s (SHA-256 %.12s...); nothing uploaded",
                         s->dataset, s->records, s->bucket, prev, sha);
            spool_close(s);
            return PS_OK;
        }
    }
    st = (int64_t)s->bytes <= s->part_size ? put_single(s, key, target, err)
                                           : put_multipart(s, key, target, err);
    if (st != PS_OK)
        return st;
    if (s->state_tmpl) {
        char body[3 * S3_KEY_MAX + 400], ek[6 * S3_KEY_MAX + 8], er[512];
        json_plain(ek, sizeof ek, key);
        json_plain(er, sizeof er, s->run_id);
        int n = snprintf(body, sizeof body,
                         "{\"sha256\":\"%s\",\"bytes\":%" PRIu64 ",\"key\":\"%s\","
                         "\"run_id\":\"%s\"}\n",
                         sha, s->bytes, ek, er);
        char d[S3_KEY_MAX + 200];
        snprintf(d, sizeof d, "writing the state object s3://%s/%s", s->bucket, skey);
        s3_op op = {.s = s, .desc = d};
        ps_http_response resp;
        ps_error e2 = {0};
        if (n > 0 && (size_t)n < sizeof body &&
            s3_request(s, "PUT", skey, "", body, (size_t)n, "application/json", &op, &resp, &e2) ==
                PS_OK)
            s->host->http_response_free(&resp);
        else
            s->host->log(s->env, PS_LOG_WARN,
                         "%s; the object was uploaded, but the next run cannot tell that it "
                         "is unchanged and will upload it again",
                         e2.message[0] ? e2.message : d);
    }
    s->host->http_stats(s->http, &req1, &retries);
    s->host->log(s->env, PS_LOG_INFO,
                 "dataset '%s': uploaded %" PRIu64 " payments (%" PRIu64
                 " bytes) to s3://%s/%s in %" PRIu64 " requests",
                 s->dataset, s->records, s->bytes, s->bucket, key, req1 - req0);
    spool_close(s);
    return PS_OK;
}

/* paysync check: one signed GET of a key that need not exist ({prefix}_paysync/check). A
 * 404 NoSuchKey (or 403 AccessDenied without s3:ListBucket) proves that the endpoint answers,
 * the bucket exists and the signature and keys are accepted; nothing is written. */
static ps_status s3_check_inst(void *inst, ps_error *err)
{
    s3_sink *s = inst;
    char key[S3_KEY_MAX + 1], d[S3_KEY_MAX + 200];
    snprintf(key, sizeof key, "%.*s_paysync/check", S3_KEY_MAX - 20, s->prefix);
    snprintf(d, sizeof d, "checking access to s3://%s/%s", s->bucket, key);
    s3_op op = {.s = s, .desc = d, .ok_404 = 1};
    ps_http_response resp;
    ps_status st = s3_request(s, "GET", key, "", NULL, 0, NULL, &op, &resp, err);
    if (st == PS_OK)
        s->host->http_response_free(&resp);
    return st;
}

static void s3_abort(void *inst, const char *reason)
{
    (void)reason;
    spool_close(inst);
}

static const ps_option_spec s3_options[] = {
    {.name = "bucket", .type = PS_OPT_STRING, .required = 1, .description = "S3 bucket name"},
    {.name = "prefix",
     .type = PS_OPT_STRING,
     .default_value = "",
     .description = "text put before keys by {prefix}, e.g. \"paysync/\""},
    {.name = "key",
     .type = PS_OPT_STRING,
     .default_value = "",
     .description = "object key template ({prefix}, {dataset}, {date}, {run_id}); default "
                    "{prefix}{dataset}/{date}/{run_id}.csv (.jsonl)"},
    {.name = "format",
     .type = PS_OPT_ENUM,
     .default_value = "csv",
     .choices = s3_formats,
     .description = "object format: csv (the 21 upload columns) or jsonl"},
    {.name = "region",
     .type = PS_OPT_STRING,
     .default_value = "",
     .description = "AWS region; default $AWS_REGION, $AWS_DEFAULT_REGION, else us-east-1"},
    {.name = "endpoint",
     .type = PS_OPT_STRING,
     .default_value = "",
     .description = "http(s)://HOST[:PORT] of an S3-compatible store; default AWS"},
    {.name = "path_style",
     .type = PS_OPT_BOOL,
     .default_value = "false",
     .description = "path-style URLs (HOST/BUCKET/KEY); default true with endpoint, else false"},
    {.name = "access_key_id",
     .type = PS_OPT_STRING,
     .secret = 1,
     .description = "access key id (use ${VAR}); default $AWS_ACCESS_KEY_ID"},
    {.name = "secret_access_key",
     .type = PS_OPT_STRING,
     .secret = 1,
     .description = "secret access key (use ${VAR}); default $AWS_SECRET_ACCESS_KEY"},
    {.name = "session_token",
     .type = PS_OPT_STRING,
     .secret = 1,
     .description = "session token of temporary credentials; default $AWS_SESSION_TOKEN"},
    {.name = "state_key",
     .type = PS_OPT_STRING,
     .default_value = "{prefix}_paysync/{dataset}.json",
     .description = "object remembering the last upload's SHA-256 (skips unchanged re-runs); "
                    "\"\" = off"},
    {.name = "part_size",
     .type = PS_OPT_SIZE,
     .default_value = "8MiB",
     .flags = PS_OPTF_RANGE,
     .min = 5 * 1024 * 1024,
     .max = 1024 * 1024 * 1024,
     .description = "bodies up to this size go in one PUT, larger ones in parts of this size"},
    {.name = "timeout",
     .type = PS_OPT_DURATION,
     .default_value = "5m",
     .flags = PS_OPTF_RANGE,
     .min = 1000,
     .max = 3600 * 1000,
     .description = "longest single request"},
    {.name = "max_attempts",
     .type = PS_OPT_INT,
     .default_value = "4",
     .flags = PS_OPTF_RANGE,
     .min = 1,
     .max = 10,
     .description = "tries per request (retries on 5xx, 429 and transport errors)"},
    {0},
};

static const ps_sink_ops s3_ops = {
    .struct_size = sizeof(ps_sink_ops),
    .open = s3_open,
    .write_batch = s3_write_batch,
    .commit = s3_commit,
    .abort = s3_abort,
};

static const ps_plugin_descriptor s3_descriptor = {
    .struct_size = sizeof(ps_plugin_descriptor),
    .abi_major = PS_ABI_MAJOR,
    .abi_minor = PS_ABI_MINOR,
    .name = "s3",
    .version = "1.0.0",
    .description = "uploads each dataset run's payments as an object to an S3 bucket",
    .kind = PS_PLUGIN_SINK,
    .options = s3_options,
    .option_spec_size = sizeof(ps_option_spec),
    .create = s3_create,
    .check = s3_check_inst,
    .destroy = s3_destroy,
    .sink = &s3_ops,
};

PS_PLUGIN_DEFINE(s3, s3_descriptor)
