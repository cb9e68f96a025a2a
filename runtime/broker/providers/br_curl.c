/*
 * br_curl.c - libcurl, loaded when the first model call needs it.
 *
 * Why: linked normally, libcurl and the libraries under it (TLS, LDAP,
 * RTMP, Kerberos, ...) are ~30 shared objects that the dynamic linker loads
 * and relocates at every start of `tactus`, a quarter of the time of a
 * hello-world run. Most runs (mocked, tool-only, tests, check) never make an
 * HTTP request, so the host loads libcurl with dlopen on first use.
 */
#include <dlfcn.h>
#include <pthread.h>
#include <stdio.h>
#include <string.h>

#include "providers.h"
#include "br_curl.h"

br_curl_api br_curl;
static bool loaded;
/* `tactus eval -j N` and `tactus test -j N` make their first model calls
 * on several threads at once: one loads, the others wait for it
 * (curl_global_init is not thread-safe). */
static pthread_mutex_t load_lock = PTHREAD_MUTEX_INITIALIZER;

static bool load_locked(char *err, size_t cap);

bool br_curl_load(char *err, size_t cap)
{
    pthread_mutex_lock(&load_lock);
    bool ok = loaded || load_locked(err, cap);
    pthread_mutex_unlock(&load_lock);
    return ok;
}

static bool load_locked(char *err, size_t cap)
{
    void *h = dlopen("libcurl.so.4", RTLD_NOW | RTLD_LOCAL);
    if (!h) {
        snprintf(err, cap, "libcurl is not available (%s); install libcurl4", dlerror());
        return false;
    }
#define LOAD(field, sym)                                                                           \
    do {                                                                                           \
        *(void **)(&br_curl.field) = dlsym(h, sym);                                                \
        if (!br_curl.field) {                                                                      \
            snprintf(err, cap, "libcurl lacks %s", sym);                                           \
            dlclose(h);                                                                            \
            return false;                                                                          \
        }                                                                                          \
    } while (0)
    LOAD(global_init, "curl_global_init");
    LOAD(global_cleanup, "curl_global_cleanup");
    LOAD(easy_init, "curl_easy_init");
    LOAD(easy_setopt, "curl_easy_setopt");
    LOAD(easy_perform, "curl_easy_perform");
    LOAD(easy_getinfo, "curl_easy_getinfo");
    LOAD(easy_cleanup, "curl_easy_cleanup");
    LOAD(easy_strerror, "curl_easy_strerror");
    LOAD(slist_append, "curl_slist_append");
    LOAD(slist_free_all, "curl_slist_free_all");
    LOAD(multi_init, "curl_multi_init");
    LOAD(multi_add_handle, "curl_multi_add_handle");
    LOAD(multi_remove_handle, "curl_multi_remove_handle");
    LOAD(multi_perform, "curl_multi_perform");
    LOAD(multi_poll, "curl_multi_poll");
    LOAD(multi_info_read, "curl_multi_info_read");
    LOAD(multi_cleanup, "curl_multi_cleanup");
#undef LOAD
    if (br_curl.global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK) {
        snprintf(err, cap, "libcurl failed to initialise");
        return false;
    }
    loaded = true; /* kept for the life of the process */
    return true;
}

CURLcode br_curl_run(CURL *curl, const br_curl_stop *stop)
{
    if (!stop || !stop->fn) return br_curl.easy_perform(curl);
    if (stop->fn(stop->ud)) return CURLE_ABORTED_BY_CALLBACK;
    CURLM *m = br_curl.multi_init();
    if (!m) return CURLE_OUT_OF_MEMORY;
    if (br_curl.multi_add_handle(m, curl) != CURLM_OK) {
        br_curl.multi_cleanup(m);
        return CURLE_OUT_OF_MEMORY;
    }
    CURLcode rc = CURLE_OK;
    for (bool done = false; !done;) {
        int running = 0;
        if (br_curl.multi_perform(m, &running) != CURLM_OK) {
            rc = CURLE_RECV_ERROR;
            break;
        }
        CURLMsg *msg;
        int left;
        while ((msg = br_curl.multi_info_read(m, &left)))
            if (msg->msg == CURLMSG_DONE && msg->easy_handle == curl) {
                rc = msg->data.result;
                done = true;
            }
        if (done || !running) break;
        if (stop->fn(stop->ud)) {
            rc = CURLE_ABORTED_BY_CALLBACK;
            break;
        }
        br_curl.multi_poll(m, NULL, 0, 50, NULL);
    }
    br_curl.multi_remove_handle(m, curl);
    br_curl.multi_cleanup(m);
    return rc;
}

CURLcode br_curl_perform(CURL *curl, const char *method, const char *url, const char *const *headers,
                         const char *body, long timeout_ms, const br_curl_stop *stop, long *status)
{
    struct curl_slist *hdrs = NULL;
    for (size_t i = 0; headers && headers[i]; i++) hdrs = br_curl.slist_append(hdrs, headers[i]);
    br_curl.easy_setopt(curl, CURLOPT_URL, url);
    br_curl.easy_setopt(curl, CURLOPT_CUSTOMREQUEST, method);
    if (body) br_curl.easy_setopt(curl, CURLOPT_POSTFIELDS, body);
    br_curl.easy_setopt(curl, CURLOPT_HTTPHEADER, hdrs);
    br_curl.easy_setopt(curl, CURLOPT_NOSIGNAL, 1L);
    br_curl.easy_setopt(curl, CURLOPT_TIMEOUT_MS, timeout_ms);
    br_curl.easy_setopt(curl, CURLOPT_PROTOCOLS_STR, "http,https");
    br_curl.easy_setopt(curl, CURLOPT_FOLLOWLOCATION, 0L);
    CURLcode rc = br_curl_run(curl, stop);
    *status = 0;
    br_curl.easy_getinfo(curl, CURLINFO_RESPONSE_CODE, status);
    br_curl.slist_free_all(hdrs);
    br_curl.easy_cleanup(curl);
    return rc;
}
