/* gsheet: one HTTP exchange over libcurl (no retries here; see gs_client.h). */
#include "gs_http.h"

#include <curl/curl.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#define PS_GS_MAX_BODY ((size_t)512 * 1024 * 1024)

struct ps_gs_http {
    CURL *curl;
    long timeout_s;
    int insecure;
};

static pthread_once_t g_once = PTHREAD_ONCE_INIT;
static CURLcode g_init_rc = CURLE_FAILED_INIT;

static void global_init(void)
{
    g_init_rc = curl_global_init(CURL_GLOBAL_DEFAULT);
}

ps_gs_http *ps_gs_http_new(long timeout_s, int insecure)
{
    pthread_once(&g_once, global_init);
    if (g_init_rc != CURLE_OK)
        return NULL;
    ps_gs_http *h = calloc(1, sizeof *h);
    if (!h)
        return NULL;
    h->curl = curl_easy_init();
    if (!h->curl) {
        free(h);
        return NULL;
    }
    h->timeout_s = timeout_s > 0 ? timeout_s : 120;
    h->insecure = insecure;
    return h;
}

void ps_gs_http_free(ps_gs_http *h)
{
    if (!h)
        return;
    curl_easy_cleanup(h->curl);
    free(h);
}

void ps_gs_response_free(ps_gs_response *resp)
{
    free(resp->body);
    memset(resp, 0, sizeof *resp);
    resp->retry_after_s = -1;
}

typedef struct sink {
    CURL *curl;
    FILE *file;
    char *buf;
    size_t len, cap;
    int too_big, file_error;
    long retry_after;
} sink;

static size_t on_write(char *data, size_t size, size_t nmemb, void *ud)
{
    sink *s = ud;
    size_t n = size * nmemb;
    long code = 0;
    if (s->file && curl_easy_getinfo(s->curl, CURLINFO_RESPONSE_CODE, &code) == CURLE_OK &&
        code == 200) {
        if (fwrite(data, 1, n, s->file) != n) {
            s->file_error = 1;
            return 0;
        }
        return n;
    }
    if (s->len + n + 1 > s->cap) {
        if (s->len + n + 1 > PS_GS_MAX_BODY) {
            s->too_big = 1;
            return 0;
        }
        size_t cap = s->cap ? s->cap : 16384;
        while (cap < s->len + n + 1)
            cap *= 2;
        char *nb = realloc(s->buf, cap);
        if (!nb)
            return 0;
        s->buf = nb;
        s->cap = cap;
    }
    memcpy(s->buf + s->len, data, n);
    s->len += n;
    s->buf[s->len] = '\0';
    return n;
}

static size_t on_header(char *data, size_t size, size_t nmemb, void *ud)
{
    sink *s = ud;
    size_t n = size * nmemb;
    /* A new status line (redirect, 100-continue) resets what we learnt. */
    if (n >= 5 && strncmp(data, "HTTP/", 5) == 0)
        s->retry_after = -1;
    if (n > 12 && strncasecmp(data, "retry-after:", 12) == 0) {
        size_t i = 12;
        while (i < n && (data[i] == ' ' || data[i] == '\t'))
            i++;
        long v = 0;
        int digits = 0;
        while (i < n && data[i] >= '0' && data[i] <= '9' && v < 100000) {
            v = v * 10 + (data[i] - '0');
            i++;
            digits++;
        }
        s->retry_after = digits ? v : -1;
    }
    return n;
}

ps_status ps_gs_http_exchange(ps_gs_http *h, const char *url, const char *bearer,
                              const char *post_body, int follow, FILE *file, ps_gs_response *resp,
                              ps_error *err)
{
    memset(resp, 0, sizeof *resp);
    resp->retry_after_s = -1;
    CURL *c = h->curl;
    curl_easy_reset(c);
    sink s = {.curl = c, .file = file, .retry_after = -1};
    struct curl_slist *hdrs = NULL;
    char auth[4096];
    hdrs = curl_slist_append(hdrs, "Accept: application/json, text/csv;q=0.9, */*;q=0.1");
    if (bearer) {
        snprintf(auth, sizeof auth, "Authorization: Bearer %s", bearer);
        hdrs = curl_slist_append(hdrs, auth);
    }
    curl_easy_setopt(c, CURLOPT_URL, url);
    curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(c, CURLOPT_TIMEOUT, h->timeout_s);
    curl_easy_setopt(c, CURLOPT_CONNECTTIMEOUT, h->timeout_s < 30 ? h->timeout_s : 30L);
    curl_easy_setopt(c, CURLOPT_USERAGENT, "paysync-gsheet/0.1");
    curl_easy_setopt(c, CURLOPT_ACCEPT_ENCODING, "");
    curl_easy_setopt(c, CURLOPT_HTTPHEADER, hdrs);
    curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, on_write);
    curl_easy_setopt(c, CURLOPT_WRITEDATA, &s);
    curl_easy_setopt(c, CURLOPT_HEADERFUNCTION, on_header);
    curl_easy_setopt(c, CURLOPT_HEADERDATA, &s);
    curl_easy_setopt(c, CURLOPT_PROTOCOLS_STR, "http,https");
    curl_easy_setopt(c, CURLOPT_REDIR_PROTOCOLS_STR, "http,https");
    if (follow) {
        curl_easy_setopt(c, CURLOPT_FOLLOWLOCATION, 1L);
        curl_easy_setopt(c, CURLOPT_MAXREDIRS, 5L);
    }
    if (h->insecure) {
        curl_easy_setopt(c, CURLOPT_SSL_VERIFYPEER, 0L);
        curl_easy_setopt(c, CURLOPT_SSL_VERIFYHOST, 0L);
    }
    if (post_body) {
        curl_easy_setopt(c, CURLOPT_POST, 1L);
        curl_easy_setopt(c, CURLOPT_POSTFIELDS, post_body);
        curl_easy_setopt(c, CURLOPT_POSTFIELDSIZE, (long)strlen(post_body));
    }
    CURLcode rc = curl_easy_perform(c);
    curl_slist_free_all(hdrs);
    memset(auth, 0, sizeof auth);
    if (rc != CURLE_OK) {
        free(s.buf);
        if (s.too_big)
            return ps_error_setf(err, PS_ERR_NETWORK,
                                 "response larger than %zu MiB: lower page_rows",
                                 PS_GS_MAX_BODY >> 20);
        if (s.file_error)
            return ps_error_setf(err, PS_ERR_IO,
                                 "cannot write the downloaded CSV to a temporary file");
        return ps_error_setf(err, PS_ERR_NETWORK, "transport error: %s", curl_easy_strerror(rc));
    }
    curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &resp->status);
    char *ct = NULL;
    if (curl_easy_getinfo(c, CURLINFO_CONTENT_TYPE, &ct) == CURLE_OK && ct)
        snprintf(resp->content_type, sizeof resp->content_type, "%s", ct);
    resp->retry_after_s = s.retry_after;
    if (!s.buf) {
        s.buf = malloc(1);
        if (!s.buf)
            return ps_error_setf(err, PS_ERR_NOMEM, "out of memory");
        s.buf[0] = '\0';
    }
    resp->body = s.buf;
    resp->len = s.len;
    return PS_OK;
}
