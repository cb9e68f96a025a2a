/*
 * br_mcp_http.c - the HTTP under the MCP client's Streamable HTTP transport
 * (mcp_http_ops, runtime/mcp/mcp.h), on the broker's libcurl (loaded on
 * first use, br_curl.c). One easy handle per request, so a request made
 * from inside another's callback (answering a server's ping) is safe.
 */
#include <string.h>

#include "br_curl.h"
#include "providers.h"

typedef struct {
    const mcp_http_sink *sink;
    long long deadline_ms;
} transfer;

static size_t on_header(char *data, size_t size, size_t nmemb, void *ud)
{
    transfer *t = ud;
    if (t->sink->on_header) t->sink->on_header(t->sink->ud, data, size * nmemb);
    return size * nmemb;
}

static size_t on_write(char *data, size_t size, size_t nmemb, void *ud)
{
    transfer *t = ud;
    size_t n = size * nmemb;
    return t->sink->on_body(t->sink->ud, data, n) ? n : 0; /* 0: abort */
}

static int on_progress(void *ud, curl_off_t dltotal, curl_off_t dlnow, curl_off_t ultotal, curl_off_t ulnow)
{
    (void)dltotal, (void)dlnow, (void)ultotal, (void)ulnow;
    transfer *t = ud;
    if (t->sink->aborted && t->sink->aborted(t->sink->ud)) return 1;
    return 0;
}

long br_mcp_http_request(void *ud, const char *method, const char *url, const char *const *headers,
                         const char *body, long timeout_ms, const mcp_http_sink *sink, char *err,
                         size_t cap)
{
    (void)ud;
    if (!br_curl_load(err, cap)) return -1;
    CURL *curl = br_curl.easy_init();
    if (!curl) {
        snprintf(err, cap, "out of memory");
        return -1;
    }
    transfer t = {sink, 0};
    br_curl.easy_setopt(curl, CURLOPT_HEADERFUNCTION, on_header);
    br_curl.easy_setopt(curl, CURLOPT_HEADERDATA, &t);
    br_curl.easy_setopt(curl, CURLOPT_WRITEFUNCTION, on_write);
    br_curl.easy_setopt(curl, CURLOPT_WRITEDATA, &t);
    br_curl.easy_setopt(curl, CURLOPT_NOPROGRESS, 0L);
    br_curl.easy_setopt(curl, CURLOPT_XFERINFOFUNCTION, on_progress);
    br_curl.easy_setopt(curl, CURLOPT_XFERINFODATA, &t);
    long status;
    /* A deadline already past is 1 ms, never curl's 0 (no timeout at all). */
    CURLcode rc = br_curl_perform(curl, method, url, headers, body, timeout_ms > 0 ? timeout_ms : 1L, NULL,
                                 &status);
    if (rc == CURLE_WRITE_ERROR && status > 0) return status; /* stopped by on_body: the answer is in */
    if (rc != CURLE_OK) {
        snprintf(err, cap, "%s", br_curl.easy_strerror(rc));
        return -1;
    }
    return status;
}
