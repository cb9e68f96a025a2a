/*
 * br_curl.h - libcurl's functions, resolved at first use (br_curl.c).
 * Internal to runtime/broker (not a public header of the module).
 */
#ifndef TACTUS_BR_CURL_H
#define TACTUS_BR_CURL_H

#include <curl/curl.h>
#include <stdbool.h>
#include <stddef.h>

typedef struct {
    CURLcode (*global_init)(long flags);
    void (*global_cleanup)(void);
    CURL *(*easy_init)(void);
    CURLcode (*easy_setopt)(CURL *curl, CURLoption option, ...);
    CURLcode (*easy_perform)(CURL *curl);
    CURLcode (*easy_getinfo)(CURL *curl, CURLINFO info, ...);
    void (*easy_cleanup)(CURL *curl);
    const char *(*easy_strerror)(CURLcode code);
    struct curl_slist *(*slist_append)(struct curl_slist *list, const char *s);
    void (*slist_free_all)(struct curl_slist *list);
    CURLM *(*multi_init)(void);
    CURLMcode (*multi_add_handle)(CURLM *m, CURL *curl);
    CURLMcode (*multi_remove_handle)(CURLM *m, CURL *curl);
    CURLMcode (*multi_perform)(CURLM *m, int *running);
    CURLMcode (*multi_poll)(CURLM *m, struct curl_waitfd *extra, unsigned n, int timeout_ms, int *numfds);
    CURLMsg *(*multi_info_read)(CURLM *m, int *left);
    CURLMcode (*multi_cleanup)(CURLM *m);
} br_curl_api;

extern br_curl_api br_curl;

/* Loads libcurl once (thread-unsafe: the host calls it from one thread).
 * false with a message when libcurl cannot be loaded. */
bool br_curl_load(char *err, size_t cap);

/* A stop asked of while a transfer runs (the broker's interrupt): NULL fn,
 * never. */
typedef struct {
    bool (*fn)(void *ud);
    void *ud;
} br_curl_stop;

/* curl_easy_perform that `stop` can cut: the transfer runs on a multi
 * handle woken at least every 50 ms, and stop->fn true aborts it
 * (CURLE_ABORTED_BY_CALLBACK). curl's own progress callback runs only
 * about once a second while nothing arrives, too late for a drain. */
CURLcode br_curl_run(CURL *curl, const br_curl_stop *stop);

/* One request to an address the host's configuration names (host HTTP
 * tools, MCP servers): METHOD to URL with HEADERS and BODY (may be NULL),
 * no signals, TIMEOUT_MS (0: none), http and https only, and no redirect followed (it
 * could leave the configured host), cut by STOP (may be NULL). The caller has set its
 * own callbacks.
 * Performs it, frees the handle, and returns curl's code; *status is the
 * HTTP status (0 when none came). */
CURLcode br_curl_perform(CURL *curl, const char *method, const char *url, const char *const *headers,
                         const char *body, long timeout_ms, const br_curl_stop *stop, long *status);

#endif
