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
} br_curl_api;

extern br_curl_api br_curl;

/* Loads libcurl once (thread-unsafe: the host calls it from one thread).
 * false with a message when libcurl cannot be loaded. */
bool br_curl_load(char *err, size_t cap);

/* One request to an address the host's configuration names (host HTTP
 * tools, MCP servers): METHOD to URL with HEADERS and BODY (may be NULL),
 * no signals, TIMEOUT_MS (0: none), http and https only, and no redirect followed (it
 * could leave the configured host). The caller has set its own callbacks.
 * Performs it, frees the handle, and returns curl's code; *status is the
 * HTTP status (0 when none came). */
CURLcode br_curl_perform(CURL *curl, const char *method, const char *url, const char *const *headers,
                         const char *body, long timeout_ms, long *status);

#endif
