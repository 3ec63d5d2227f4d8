/* Unit tests: core/src/http/http_client.c against a real local server with faults
 * (tests/tools/http_fault_server.py, 127.0.0.1 only, started here with fork/exec). Backoff,
 * Retry-After and pacing run on the fake clock (util/clock.h): the tests assert the time
 * slept, never wall time. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "http/http_client.h"
#include "util/clock.h"

/* ---- the server ------------------------------------------------------------------------ */

static pid_t g_pid = -1;
static int g_stdin = -1;
static int g_port;

static int server_start(void **state)
{
    (void)state;
    const char *src = getenv("PS_SOURCE_DIR");
    char script[1024];
    snprintf(script, sizeof script, "%s/tests/tools/http_fault_server.py", src ? src : "../..");
    int in[2], out[2];
    if (pipe(in) != 0 || pipe(out) != 0)
        return -1;
    g_pid = fork();
    if (g_pid < 0)
        return -1;
    if (g_pid == 0) {
        dup2(in[0], 0);
        dup2(out[1], 1);
        close(in[1]);
        close(out[0]);
        execlp("python3", "python3", script, (char *)NULL);
        _exit(127);
    }
    close(in[0]);
    close(out[1]);
    g_stdin = in[1];
    FILE *f = fdopen(out[0], "r");
    char line[64] = "";
    if (!f || !fgets(line, sizeof line, f) || sscanf(line, "PORT %d", &g_port) != 1) {
        fprintf(stderr, "the fault server did not start (%s)\n", script);
        return -1;
    }
    fclose(f);
    return 0;
}

static int server_stop(void **state)
{
    (void)state;
    if (g_stdin >= 0)
        close(g_stdin); /* the server exits when its stdin closes */
    if (g_pid > 0) {
        int st;
        waitpid(g_pid, &st, 0);
    }
    return 0;
}

static char g_url[512];
static const char *url(const char *path)
{
    snprintf(g_url, sizeof g_url, "http://127.0.0.1:%d%s", g_port, path);
    return g_url;
}

/* ---- a host that captures log lines ----------------------------------------------------- */

static char g_log[65536];
static size_t g_log_len;

static void cap_log(const ps_env *env, int level, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
static void cap_log(const ps_env *env, int level, const char *fmt, ...)
{
    (void)env;
    static const char *const names[] = {"ERROR", "WARN", "INFO", "DEBUG"};
    size_t room = sizeof g_log - g_log_len;
    int n = snprintf(g_log + g_log_len, room, "%s ", names[level & 3]);
    if (n < 0 || (size_t)n >= room)
        return;
    g_log_len += (size_t)n;
    va_list ap;
    va_start(ap, fmt);
    n = vsnprintf(g_log + g_log_len, sizeof g_log - g_log_len, fmt, ap);
    va_end(ap);
    if (n < 0 || (size_t)n >= sizeof g_log - g_log_len - 1)
        return;
    g_log_len += (size_t)n;
    g_log[g_log_len++] = '\n';
    g_log[g_log_len] = '\0';
}

static ps_host g_host;

static ps_http_client *client(ps_http_config *cfg)
{
    g_host.struct_size = sizeof g_host;
    g_host.log = cap_log;
    g_log_len = 0;
    g_log[0] = '\0';
    ps_error err;
    ps_error_clear(&err);
    if (cfg)
        cfg->struct_size = sizeof *cfg;
    ps_http_client *c = ps_http_client_new(&g_host, NULL, cfg, &err);
    if (!c)
        fail_msg("client: %s", err.message);
    return c;
}

static ps_status get(ps_http_client *c, const char *path, ps_http_response *r, ps_error *e)
{
    ps_http_request rq = {.struct_size = sizeof rq, .url = url(path), .what = "reading test"};
    ps_error_clear(e);
    return ps_http_client_request(c, &rq, r, e);
}

static uint64_t requests_of(ps_http_client *c)
{
    uint64_t n;
    ps_http_client_stats(c, &n, NULL);
    return n;
}

static int setup_fake(void **state)
{
    (void)state;
    ps_clock_set_fake(1, 1000000);
    return 0;
}

static int teardown_fake(void **state)
{
    (void)state;
    ps_clock_set_fake(0, 0);
    return 0;
}

/* ---- tests ------------------------------------------------------------------------------ */

static void test_ok_and_connection_reuse(void **state)
{
    (void)state;
    ps_http_client *c = client(NULL);
    ps_http_response r;
    ps_error e;
    for (int i = 0; i < 3; i++) {
        assert_int_equal(get(c, "/ok", &r, &e), PS_OK);
        assert_int_equal(r.status, 200);
        assert_string_equal(r.body, "hello");
        assert_int_equal(r.len, 5);
        assert_string_equal(r.content_type, "text/plain");
        assert_int_equal(r.retry_after_ms, -1);
        ps_http_response_free(&r);
        assert_null(r.body);
    }
    assert_int_equal(requests_of(c), 3);
    assert_int_equal(ps_clock_slept_ms(), 0);
    assert_non_null(strstr(g_log, "DEBUG GET http://127.0.0.1:"));
    ps_http_client_free(c);
}

static void test_503_then_ok(void **state)
{
    (void)state;
    ps_http_client *c = client(NULL);
    ps_http_response r;
    ps_error e;
    assert_int_equal(get(c, "/fail?key=a503&code=503&times=1", &r, &e), PS_OK);
    assert_string_equal(r.body, "ok after 1");
    ps_http_response_free(&r);
    uint64_t n, retries;
    ps_http_client_stats(c, &n, &retries);
    assert_int_equal(n, 2);
    assert_int_equal(retries, 1);
    /* first retry: 1 s + jitter 0..1 s, slept on the fake clock */
    assert_true(ps_clock_slept_ms() >= 1000 && ps_clock_slept_ms() <= 2000);
    /* the message names the delay actually slept (1.000 to 2.000 s with the jitter) */
    char want[160];
    long long slept = (long long)ps_clock_slept_ms();
    snprintf(want, sizeof want,
             "WARN reading test: HTTP 503 (server said: failure 1 of a503); retrying in "
             "%lld.%03lld s",
             slept / 1000, slept % 1000);
    assert_non_null(strstr(g_log, want));
    assert_non_null(strstr(g_log, "(retry 1 of 3)"));
    ps_http_client_free(c);
}

static void test_429_retry_after_seconds(void **state)
{
    (void)state;
    ps_http_client *c = client(NULL);
    ps_http_response r;
    ps_error e;
    assert_int_equal(get(c, "/fail?key=ra7&code=429&times=2&retry_after=7", &r, &e), PS_OK);
    ps_http_response_free(&r);
    assert_int_equal(ps_clock_slept_ms(), 14000); /* exactly Retry-After, twice */
    assert_non_null(strstr(g_log, "retrying in 7.000 s (retry 1 of 3)"));
    assert_non_null(strstr(g_log, "retrying in 7.000 s (retry 2 of 3)"));
    ps_http_client_free(c);
    /* a huge Retry-After is capped (default 64 s; here 5 s) */
    ps_http_config cfg = {.retry_after_cap_ms = 5000};
    c = client(&cfg);
    assert_int_equal(get(c, "/fail?key=ra600&code=503&times=1&retry_after=600", &r, &e), PS_OK);
    ps_http_response_free(&r);
    assert_int_equal(ps_clock_slept_ms(), 14000 + 5000);
    ps_http_client_free(c);
}

static void test_429_retry_after_date(void **state)
{
    (void)state;
    /* the fake clock reads 2015-10-21T07:27:53Z; the server asks to wait until 07:28:00 */
    ps_clock_set_fake(1, 1445412473000LL);
    ps_http_client *c = client(NULL);
    ps_http_response r;
    ps_error e;
    assert_int_equal(get(c,
                         "/fail?key=date&code=429&times=1&retry_after=Wed,%2021%20Oct%202015%20"
                         "07:28:00%20GMT",
                         &r, &e),
                     PS_OK);
    ps_http_response_free(&r);
    assert_int_equal(ps_clock_slept_ms(), 7000);
    ps_http_client_free(c);
}

static void test_429_forever_fails(void **state)
{
    (void)state;
    ps_http_config cfg = {.max_attempts = 3};
    ps_http_client *c = client(&cfg);
    ps_http_response r;
    ps_error e;
    assert_int_equal(get(c, "/fail?key=forever&code=429&times=-1&retry_after=2", &r, &e),
                     PS_ERR_NETWORK);
    assert_int_equal(e.code, PS_ERR_NETWORK);
    assert_string_equal(e.message, "reading test: HTTP 429 (server said: failure 3 of forever) "
                                   "[gave up after 3 attempts]");
    assert_int_equal(e.http_status, 429);
    assert_int_equal(e.retry_after_ms, 2000);
    assert_null(r.body);
    assert_int_equal(requests_of(c), 3);
    assert_int_equal(ps_clock_slept_ms(), 4000);
    ps_http_client_free(c);
}

static void test_4xx_never_retried(void **state)
{
    (void)state;
    ps_http_client *c = client(NULL);
    ps_http_response r;
    ps_error e;
    long codes[] = {400, 401, 403, 404, 409};
    ps_status want[] = {PS_ERR_SOURCE, PS_ERR_AUTH, PS_ERR_AUTH, PS_ERR_SOURCE, PS_ERR_SOURCE};
    for (size_t i = 0; i < 5; i++) {
        char path[128];
        snprintf(path, sizeof path, "/fail?key=c%ld&code=%ld&times=-1", codes[i], codes[i]);
        assert_int_equal(get(c, path, &r, &e), want[i]);
        char msg[128];
        snprintf(msg, sizeof msg, "reading test: HTTP %ld (server said: failure 1 of c%ld)",
                 codes[i], codes[i]);
        assert_string_equal(e.message, msg);
        assert_int_equal(e.http_status, codes[i]);
    }
    assert_int_equal(requests_of(c), 5);
    assert_int_equal(ps_clock_slept_ms(), 0);
    /* 408 is retried */
    assert_int_equal(get(c, "/fail?key=c408&code=408&times=1", &r, &e), PS_OK);
    ps_http_response_free(&r);
    assert_int_equal(requests_of(c), 7);
    ps_http_client_free(c);
}

static void test_reset_connection(void **state)
{
    (void)state;
    ps_http_config cfg = {.max_attempts = 2};
    ps_http_client *c = client(&cfg);
    ps_http_response r;
    ps_error e;
    assert_int_equal(get(c, "/reset?key=once&times=1", &r, &e), PS_OK);
    assert_string_equal(r.body, "ok after reset");
    ps_http_response_free(&r);
    assert_int_equal(get(c, "/reset?key=always&times=-1", &r, &e), PS_ERR_NETWORK);
    assert_non_null(strstr(e.message, "reading test: transport error: "));
    assert_non_null(strstr(e.message, " [gave up after 2 attempts]"));
    assert_int_equal(e.http_status, 0);
    ps_http_client_free(c);
}

static void test_slow_body_times_out(void **state)
{
    (void)state;
    ps_http_config cfg = {.timeout_ms = 400, .max_attempts = -1};
    ps_http_client *c = client(&cfg);
    ps_http_response r;
    ps_error e;
    assert_int_equal(get(c, "/slow?secs=3", &r, &e), PS_ERR_NETWORK);
    assert_string_equal(e.message, "reading test: transport error: Timeout was reached "
                                   "[gave up after 1 attempts]");
    ps_http_client_free(c);
    /* the low-speed abort: under 1000 B/s for 1 s, long before the 60 s total */
    ps_http_config slow = {.timeout_ms = 60000,
                           .low_speed_time_ms = 1000,
                           .low_speed_bytes = 1000,
                           .max_attempts = -1};
    c = client(&slow);
    assert_int_equal(get(c, "/slow?secs=4", &r, &e), PS_ERR_NETWORK);
    assert_non_null(strstr(e.message, "transport error: Timeout was reached"));
    ps_http_client_free(c);
}

static void test_oversized_body(void **state)
{
    (void)state;
    ps_http_config cfg = {.max_body_bytes = 1000};
    ps_http_client *c = client(&cfg);
    ps_http_response r;
    ps_error e;
    assert_int_equal(get(c, "/big?bytes=1000", &r, &e), PS_OK);
    assert_int_equal(r.len, 1000);
    ps_http_response_free(&r);
    assert_int_equal(get(c, "/big?bytes=5000", &r, &e), PS_ERR_SOURCE);
    assert_string_equal(e.message, "reading test: response larger than 1000 bytes");
    assert_int_equal(get(c, "/big?bytes=300000&chunked=1", &r, &e), PS_ERR_SOURCE);
    assert_string_equal(e.message, "reading test: response larger than 1000 bytes");
    assert_int_equal(requests_of(c), 3); /* never retried */
    ps_http_client_free(c);
    ps_http_config mib = {.max_body_bytes = 1 << 20};
    c = client(&mib);
    assert_int_equal(get(c, "/big?bytes=2000000&chunked=1", &r, &e), PS_ERR_SOURCE);
    assert_string_equal(e.message, "reading test: response larger than 1 MiB");
    ps_http_client_free(c);
}

static void test_tls(void **state)
{
    (void)state;
    /* https to a plain-HTTP server: the handshake fails, a transport error (retried) */
    ps_http_config cfg = {.max_attempts = 2};
    ps_http_client *c = client(&cfg);
    ps_http_request rq = {.struct_size = sizeof rq, .what = "tls"};
    char u[128];
    snprintf(u, sizeof u, "https://127.0.0.1:%d/ok", g_port);
    rq.url = u;
    ps_http_response r;
    ps_error e;
    ps_error_clear(&e);
    assert_int_equal(ps_http_client_request(c, &rq, &r, &e), PS_ERR_NETWORK);
    assert_non_null(strstr(e.message, "tls: transport error: "));
    ps_http_client_free(c);
    /* an unreadable CA file is a config error at creation */
    ps_http_config bad = {.struct_size = sizeof bad, .ca_file = "/nonexistent/ca.pem"};
    ps_error_clear(&e);
    assert_null(ps_http_client_new(&g_host, NULL, &bad, &e));
    assert_int_equal(e.code, PS_ERR_CONFIG);
    assert_string_equal(e.message, "HTTP client: cannot read the CA file '/nonexistent/ca.pem': "
                                   "No such file or directory");
    /* insecure says so in the log */
    ps_http_config ins = {.insecure = 1};
    c = client(&ins);
    assert_non_null(strstr(g_log, "WARN TLS verification is off (insecure)"));
    ps_http_client_free(c);
    /* bad settings */
    ps_http_config neg = {.struct_size = sizeof neg, .timeout_ms = -1};
    assert_null(ps_http_client_new(&g_host, NULL, &neg, &e));
    assert_int_equal(e.code, PS_ERR_CONFIG);
    ps_http_config zero = {0};
    assert_null(ps_http_client_new(&g_host, NULL, &zero, &e));
    assert_int_equal(e.code, PS_ERR_USAGE);
    assert_non_null(strstr(e.message, "struct_size is 0"));
}

static void test_secrets_redacted_everywhere(void **state)
{
    (void)state;
    ps_http_config cfg = {.max_attempts = 2};
    ps_http_client *c = client(&cfg);
    assert_int_equal(ps_http_client_add_secret(c, "s3cr/t+key"), PS_OK);
    assert_int_equal(ps_http_client_add_secret(c, "TOKEN-abc-123"), PS_OK);
    const char *hdrs[] = {"Authorization: Bearer TOKEN-abc-123", "X-Api: s3cr/t+key", NULL};
    /* the server echoes our request line and headers in a 500 body: the secrets come back in
     * the message, in the retry log line and in the logged URL */
    ps_http_request rq = {.struct_size = sizeof rq,
                          .url = url("/echo?code=500&api=s3cr%2Ft%2Bkey&x=TOKEN-abc-123"),
                          .headers = hdrs,
                          .what = "reading s3cr/t+key"};
    ps_http_response r;
    ps_error e;
    ps_error_clear(&e);
    assert_int_equal(ps_http_client_request(c, &rq, &r, &e), PS_ERR_NETWORK);
    assert_non_null(strstr(e.message, "reading ***: HTTP 500 (server said: GET /echo?code=500"));
    assert_non_null(strstr(g_log, "Bearer ***"));
    assert_non_null(strstr(g_log, "api=***&x=***"));
    assert_null(strstr(e.message, "s3cr"));
    assert_null(strstr(e.message, "TOKEN-abc"));
    assert_null(strstr(g_log, "s3cr"));
    assert_null(strstr(g_log, "TOKEN-abc"));
    /* transport errors too */
    rq.url = url("/reset?key=sec&times=-1&key2=s3cr%2Ft%2Bkey");
    assert_int_equal(ps_http_client_request(c, &rq, &r, &e), PS_ERR_NETWORK);
    assert_null(strstr(e.message, "s3cr"));
    assert_null(strstr(g_log, "s3cr"));
    char text[] = "a s3cr/t+key b";
    ps_http_client_redact(c, text);
    assert_string_equal(text, "a *** b");
    ps_http_client_free(c);
}

static void test_pacing(void **state)
{
    (void)state;
    ps_http_config cfg = {.min_interval_ms = 1000};
    ps_http_client *c = client(&cfg);
    ps_http_response r;
    ps_error e;
    for (int i = 0; i < 3; i++) {
        assert_int_equal(get(c, "/ok", &r, &e), PS_OK);
        ps_http_response_free(&r);
    }
    assert_int_equal(ps_clock_slept_ms(), 2000); /* the first request never waits */
    /* a request marked unpaced does not wait */
    ps_http_request rq = {.struct_size = sizeof rq, .url = url("/ok"), .unpaced = 1};
    assert_int_equal(ps_http_client_request(c, &rq, &r, &e), PS_OK);
    ps_http_response_free(&r);
    assert_int_equal(ps_clock_slept_ms(), 2000);
    ps_http_client_free(c);
    /* requests per minute; time that passed anyway counts */
    ps_http_config rpm = {.requests_per_minute = 120};
    c = client(&rpm);
    assert_int_equal(get(c, "/ok", &r, &e), PS_OK);
    ps_http_response_free(&r);
    ps_clock_sleep_ms(200);
    assert_int_equal(get(c, "/ok", &r, &e), PS_OK);
    ps_http_response_free(&r);
    assert_int_equal(ps_clock_slept_ms(), 2000 + 200 + 300);
    ps_http_client_free(c);
}

/* ---- request callbacks ----------------------------------------------------------------- */

typedef struct cb_state {
    int checks, sink_resets, retries_asked;
    char got[64];
    size_t got_len;
    const char *next_url;
    ps_status verdict_2xx;
} cb_state;

static ps_status check_cb(void *ctx, ps_http_response *resp, char *reason, size_t cap,
                          ps_error *err)
{
    cb_state *s = ctx;
    s->checks++;
    if (resp->status == 200 && s->verdict_2xx == PS_RETRY && s->checks == 1) {
        snprintf(reason, cap, "custom: body looks cut");
        return ps_error_setf(err, PS_ERR_SOURCE, "custom: the body stayed cut"), PS_RETRY;
    }
    if (resp->status == 404) { /* a check asking to retry a 404 is overruled */
        ps_error_setf(err, PS_ERR_SOURCE, "custom: 404");
        return PS_RETRY;
    }
    if (resp->status >= 500) {
        ps_error_setf(err, PS_ERR_NETWORK, "custom: server failed");
        return PS_RETRY;
    }
    return PS_OK;
}

static int sink_cb(void *ctx, const char *data, size_t n)
{
    cb_state *s = ctx;
    if (!data) {
        s->sink_resets++;
        s->got_len = 0;
        return 0;
    }
    if (s->got_len + n >= sizeof s->got)
        return -1;
    memcpy(s->got + s->got_len, data, n);
    s->got_len += n;
    s->got[s->got_len] = '\0';
    return 0;
}

static const char *before_retry_cb(void *ctx, int attempt)
{
    cb_state *s = ctx;
    s->retries_asked = attempt;
    return s->next_url;
}

static void test_callbacks(void **state)
{
    (void)state;
    ps_http_client *c = client(NULL);
    cb_state s = {.verdict_2xx = PS_RETRY};
    ps_http_request rq = {.struct_size = sizeof rq,
                          .url = url("/ok"),
                          .check = check_cb,
                          .body_sink = sink_cb,
                          .ctx = &s};
    ps_http_response r;
    ps_error e;
    ps_error_clear(&e);
    /* a 2xx the check rejects is retried; the body went to the sink, reset before each try */
    assert_int_equal(ps_http_client_request(c, &rq, &r, &e), PS_OK);
    assert_int_equal(s.checks, 2);
    assert_int_equal(s.sink_resets, 2);
    assert_string_equal(s.got, "hello");
    assert_string_equal(r.body, "");
    assert_non_null(strstr(g_log, "WARN custom: body looks cut; retrying in"));
    ps_http_response_free(&r);
    /* PS_RETRY for a 404 fails at once with the check's message */
    memset(&s, 0, sizeof s);
    rq.url = url("/fail?key=cb404&code=404&times=-1");
    assert_int_equal(ps_http_client_request(c, &rq, &r, &e), PS_ERR_SOURCE);
    assert_string_equal(e.message, "custom: 404");
    assert_int_equal(s.checks, 1);
    /* before_retry may move to another URL */
    memset(&s, 0, sizeof s);
    char ok_url[128];
    snprintf(ok_url, sizeof ok_url, "%s", url("/ok")); /* url() reuses one buffer */
    s.next_url = ok_url;
    rq.url = url("/fail?key=cbmove&code=500&times=-1");
    rq.body_sink = NULL;
    rq.before_retry = before_retry_cb;
    assert_int_equal(ps_http_client_request(c, &rq, &r, &e), PS_OK);
    assert_string_equal(r.body, "hello");
    assert_int_equal(s.retries_asked, 1);
    ps_http_response_free(&r);
    /* a failing sink stops the request */
    memset(&s, 0, sizeof s);
    rq.url = url("/big?bytes=100");
    rq.body_sink = sink_cb;
    rq.before_retry = NULL;
    assert_int_equal(ps_http_client_request(c, &rq, &r, &e), PS_ERR_IO);
    assert_string_equal(e.message, "HTTP request: cannot store the response body");
    ps_http_client_free(c);
}

static void test_bad_requests(void **state)
{
    (void)state;
    ps_http_client *c = client(NULL);
    ps_http_response r;
    ps_error e;
    ps_error_clear(&e);
    const char *bad[] = {"X-Evil: a\r\nInjected: b", NULL};
    ps_http_request rq = {.struct_size = sizeof rq, .url = url("/ok"), .headers = bad};
    assert_int_equal(ps_http_client_request(c, &rq, &r, &e), PS_ERR_USAGE);
    assert_string_equal(e.message, "HTTP request: header 1 is not one 'Name: value' line");
    ps_http_request ftp = {.struct_size = sizeof ftp, .url = "ftp://127.0.0.1/x"};
    assert_int_equal(ps_http_client_request(c, &ftp, &r, &e), PS_ERR_USAGE);
    assert_string_equal(e.message, "HTTP request: only http:// and https:// URLs");
    ps_http_request noss = {.url = url("/ok")};
    assert_int_equal(ps_http_client_request(c, &noss, &r, &e), PS_ERR_USAGE);
    ps_http_request meth = {.struct_size = sizeof meth, .url = url("/ok"), .method = "BREW"};
    assert_int_equal(ps_http_client_request(c, &meth, &r, &e), PS_ERR_USAGE);
    /* POST with a body */
    ps_http_request post = {.struct_size = sizeof post,
                            .url = url("/echo"),
                            .method = "POST",
                            .body = "a=1",
                            .body_len = 3};
    assert_int_equal(ps_http_client_request(c, &post, &r, &e), PS_OK);
    assert_non_null(strstr(r.body, "POST /echo HTTP/1.1"));
    assert_non_null(strstr(r.body, "Content-Length: 3"));
    ps_http_response_free(&r);
    /* nothing listens on port 1: refused, retried, then a clear message */
    ps_http_request refused = {
        .struct_size = sizeof refused, .url = "http://127.0.0.1:1/", .what = "probing"};
    assert_int_equal(ps_http_client_request(c, &refused, &r, &e), PS_ERR_NETWORK);
    assert_string_equal(e.message, "probing: transport error: Couldn't connect to server "
                                   "[gave up after 4 attempts]");
    ps_http_client_free(c);
}

/* cancelled (ABI 2.4): polled before the attempt, during the transfer and the backoff */
static int g_cancel_calls, g_cancel_at;
static int64_t g_cancel_after_slept;
static int cancel_cb(void *ctx)
{
    (void)ctx;
    g_cancel_calls++;
    if (g_cancel_at > 0 && g_cancel_calls >= g_cancel_at)
        return 1;
    return g_cancel_after_slept >= 0 && ps_clock_slept_ms() >= g_cancel_after_slept;
}

static ps_status get_cancellable(ps_http_client *c, const char *path, ps_http_response *r,
                                 ps_error *e, int at, int64_t after_slept)
{
    g_cancel_calls = 0;
    g_cancel_at = at;
    g_cancel_after_slept = after_slept;
    ps_http_request rq = {
        .struct_size = sizeof rq, .url = url(path), .what = "reading test", .cancelled = cancel_cb};
    ps_error_clear(e);
    return ps_http_client_request(c, &rq, r, e);
}

static void test_cancelled(void **state)
{
    (void)state;
    ps_http_client *c = client(NULL);
    ps_http_response r;
    ps_error e;
    /* not cancelled: an ordinary answer; the callback was polled */
    assert_int_equal(get_cancellable(c, "/ok", &r, &e, 0, -1), PS_OK);
    assert_string_equal(r.body, "hello");
    ps_http_response_free(&r);
    assert_true(g_cancel_calls >= 1);
    /* before the first attempt: nothing is sent */
    uint64_t before = requests_of(c);
    assert_int_equal(get_cancellable(c, "/ok", &r, &e, 1, -1), PS_ERR_NETWORK);
    assert_string_equal(e.message, "reading test: cancelled");
    assert_int_equal(requests_of(c), before);
    /* during a stalled transfer (1 byte, then 30 s of silence): the progress callback
     * aborts it, not retried although transport errors are */
    before = requests_of(c);
    assert_int_equal(get_cancellable(c, "/slow?secs=30", &r, &e, 3, -1), PS_ERR_NETWORK);
    assert_string_equal(e.message, "reading test: cancelled");
    assert_int_equal(requests_of(c), before + 1);
    ps_http_client_free(c);
    /* during the backoff after a 503 (1 s + jitter): stops after 300 ms slept, in steps */
    c = client(NULL);
    int64_t slept0 = ps_clock_slept_ms();
    assert_int_equal(
        get_cancellable(c, "/fail?key=cancel503&code=503&times=-1", &r, &e, 0, slept0 + 300),
        PS_ERR_NETWORK);
    assert_string_equal(e.message, "reading test: cancelled");
    assert_int_equal(requests_of(c), 1);
    assert_int_equal(ps_clock_slept_ms() - slept0, 300);
    assert_non_null(strstr(g_log, "retrying in"));
    ps_http_client_free(c);
    /* during the pacing wait: the second request waits 1.2 s for its turn, cancelled at
     * 200 ms in; the one after it is paced from the first's start */
    ps_http_config paced = {.requests_per_minute = 50};
    c = client(&paced);
    assert_int_equal(get_cancellable(c, "/ok", &r, &e, 0, -1), PS_OK);
    ps_http_response_free(&r);
    slept0 = ps_clock_slept_ms();
    assert_int_equal(get_cancellable(c, "/ok", &r, &e, 0, slept0 + 200), PS_ERR_NETWORK);
    assert_string_equal(e.message, "reading test: cancelled");
    assert_int_equal(requests_of(c), 1);
    assert_int_equal(ps_clock_slept_ms() - slept0, 200);
    ps_http_client_free(c);
}

/* ps_http_stop_all (paysync run's SIGTERM/SIGINT): every request of the process, with or
 * without a cancelled callback, fails as cancelled naming the signal, never retried */
static void *stop_later(void *arg)
{
    (void)arg;
    struct timespec ts = {0, 300 * 1000 * 1000};
    nanosleep(&ts, NULL);
    ps_http_stop_all(SIGTERM);
    return NULL;
}

/* A cancelled callback that never cancels itself: it stops the process (as a signal handler
 * would) once g_stop_at_slept ms were slept. */
static int64_t g_stop_at_slept;
static int stop_cb(void *ctx)
{
    (void)ctx;
    if (ps_clock_slept_ms() >= g_stop_at_slept)
        ps_http_stop_all(SIGTERM);
    return 0;
}

static void test_stop_all(void **state)
{
    (void)state;
    ps_http_client *c = client(NULL);
    ps_http_response r;
    ps_error e;
    ps_http_request rq = {.struct_size = sizeof rq, .url = url("/ok"), .what = "reading test"};
    /* before the attempt: nothing is sent */
    ps_http_stop_all(SIGINT);
    ps_error_clear(&e);
    assert_int_equal(ps_http_client_request(c, &rq, &r, &e), PS_ERR_NETWORK);
    assert_string_equal(e.message, "reading test: cancelled (stopped by SIGINT)");
    assert_int_equal(requests_of(c), 0);
    /* lifted: requests go through again */
    ps_http_stop_all(0);
    assert_int_equal(ps_http_client_request(c, &rq, &r, &e), PS_OK);
    ps_http_response_free(&r);
    /* during a stalled transfer (1 byte, then 30 s of silence), from another thread as from
     * a signal handler: the progress callback aborts it */
    pthread_t t;
    assert_int_equal(pthread_create(&t, NULL, stop_later, NULL), 0);
    ps_http_request slow = {
        .struct_size = sizeof slow, .url = url("/slow?secs=30"), .what = "reading test"};
    ps_error_clear(&e);
    assert_int_equal(ps_http_client_request(c, &slow, &r, &e), PS_ERR_NETWORK);
    assert_string_equal(e.message, "reading test: cancelled (stopped by SIGTERM)");
    assert_int_equal(requests_of(c), 2);
    pthread_join(t, NULL);
    /* during the backoff after a 503 (1 s + jitter): the stop comes 300 ms into it (set by
     * the poll itself: the clock is virtual), no retry is sent */
    ps_http_client_free(c);
    ps_http_stop_all(0);
    c = client(NULL);
    g_stop_at_slept = ps_clock_slept_ms() + 300;
    ps_http_request fail = {.struct_size = sizeof fail,
                            .url = url("/fail?key=stopall&code=503&times=-1"),
                            .what = "reading test",
                            .cancelled = stop_cb};
    int64_t slept0 = ps_clock_slept_ms();
    assert_int_equal(ps_http_client_request(c, &fail, &r, &e), PS_ERR_NETWORK);
    assert_string_equal(e.message, "reading test: cancelled (stopped by SIGTERM)");
    assert_int_equal(requests_of(c), 1);
    assert_int_equal(ps_clock_slept_ms() - slept0, 300);
    ps_http_stop_all(0);
    ps_http_client_free(c);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_ok_and_connection_reuse, setup_fake, teardown_fake),
        cmocka_unit_test_setup_teardown(test_503_then_ok, setup_fake, teardown_fake),
        cmocka_unit_test_setup_teardown(test_429_retry_after_seconds, setup_fake, teardown_fake),
        cmocka_unit_test_setup_teardown(test_429_retry_after_date, setup_fake, teardown_fake),
        cmocka_unit_test_setup_teardown(test_429_forever_fails, setup_fake, teardown_fake),
        cmocka_unit_test_setup_teardown(test_4xx_never_retried, setup_fake, teardown_fake),
        cmocka_unit_test_setup_teardown(test_reset_connection, setup_fake, teardown_fake),
        cmocka_unit_test_setup_teardown(test_slow_body_times_out, setup_fake, teardown_fake),
        cmocka_unit_test_setup_teardown(test_oversized_body, setup_fake, teardown_fake),
        cmocka_unit_test_setup_teardown(test_tls, setup_fake, teardown_fake),
        cmocka_unit_test_setup_teardown(test_secrets_redacted_everywhere, setup_fake,
                                        teardown_fake),
        cmocka_unit_test_setup_teardown(test_pacing, setup_fake, teardown_fake),
        cmocka_unit_test_setup_teardown(test_callbacks, setup_fake, teardown_fake),
        cmocka_unit_test_setup_teardown(test_bad_requests, setup_fake, teardown_fake),
        cmocka_unit_test_setup_teardown(test_cancelled, setup_fake, teardown_fake),
        cmocka_unit_test_setup_teardown(test_stop_all, setup_fake, teardown_fake),
    };
    signal(SIGPIPE, SIG_IGN);
    return cmocka_run_group_tests(tests, server_start, server_stop);
}
