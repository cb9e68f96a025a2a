/*
 * hostlib.c - hashing, the clock, run ids, JSON field access and loopback
 * hosts for the trusted side (hostlib.h).
 */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/random.h>
#include <time.h>
#include <unistd.h>

#include "hostlib.h"

void hl_sha256_hex(const void *data, size_t n, char hex[65])
{
    /* Hashing needs nothing from openssl.cnf; reading it cost milliseconds. */
    OPENSSL_init_crypto(OPENSSL_INIT_NO_LOAD_CONFIG, NULL);
    unsigned char md[32];
    unsigned int mdlen = 0;
    EVP_Digest(data, n, md, &mdlen, EVP_sha256(), NULL);
    for (int i = 0; i < 32; i++) snprintf(hex + 2 * i, 3, "%02x", md[i]);
}

tx_status hl_sha256_file(const char *path, char hex[65])
{
    char *data;
    size_t len;
    int e;
    tx_status st = tx_read_file(path, 512u << 20, &data, &len, &e);
    if (st != TX_OK) return st;
    hl_sha256_hex(data, len, hex);
    tx_free(data);
    return TX_OK;
}

long long hl_now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

long long hl_wall_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

bool hl_random_hex(char *hex, size_t bytes)
{
    unsigned char r[64];
    hex[0] = '\0';
    if (bytes > sizeof r || getrandom(r, bytes, 0) != (ssize_t)bytes) return false;
    for (size_t i = 0; i < bytes; i++) snprintf(hex + 2 * i, 3, "%02x", r[i]);
    OPENSSL_cleanse(r, sizeof r);
    return true;
}

void hl_new_run_id(char out[40])
{
    unsigned char r[8] = {0};
    bool ok = getrandom(r, sizeof r, 0) == (ssize_t)sizeof r;
    if (!ok) {
        /* Never fails in practice; a time-based id is still unique enough. */
        struct timespec ts;
        clock_gettime(CLOCK_REALTIME, &ts);
        unsigned long long v = (unsigned long long)ts.tv_sec * 1000000000ULL + (unsigned long long)ts.tv_nsec;
        for (int i = 0; i < 8; i++) r[i] = (unsigned char)(v >> (8 * i)) ^ (unsigned char)getpid();
    }
    snprintf(out, 40, "run-%02x%02x%02x%02x%02x%02x%02x%02x", r[0], r[1], r[2], r[3], r[4], r[5],
             r[6], r[7]);
}

const char *hl_json_str(const cJSON *obj, const char *key)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(obj, key);
    return cJSON_IsString(v) ? v->valuestring : NULL;
}

bool hl_xdg_path(const char *var, const char *home_dir, const char *no_home, const char *rel,
                 char *out, size_t cap)
{
    const char *xdg = getenv(var), *home = getenv("HOME");
    const char *sep = rel && *rel ? "/" : "";
    if (xdg && *xdg) {
        snprintf(out, cap, "%s/tactus%s%s", xdg, sep, rel ? rel : "");
        return true;
    }
    if (home && *home) {
        snprintf(out, cap, "%s/%s/tactus%s%s", home, home_dir, sep, rel ? rel : "");
        return true;
    }
    snprintf(out, cap, "%s/tactus%s%s", no_home, sep, rel ? rel : "");
    return false;
}

bool hl_make_dirs(const char *path)
{
    char p[4096];
    if (snprintf(p, sizeof p, "%s", path) >= (int)sizeof p) return false;
    for (char *c = p + 1; *c; c++) {
        if (*c != '/') continue;
        *c = '\0';
        if (mkdir(p, 0700) != 0 && errno != EEXIST) return false;
        *c = '/';
    }
    return mkdir(p, 0700) == 0 || errno == EEXIST;
}

int hl_private_dir(const char *path)
{
    hl_make_dirs(path); /* a failure shows in the open or the checks below */
    int fd = open(path, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
    if (fd < 0) return -1;
    struct stat sb;
    if (fstat(fd, &sb) != 0 || !S_ISDIR(sb.st_mode) || sb.st_uid != getuid() ||
        (sb.st_mode & 077) != 0) {
        close(fd);
        return -1;
    }
    return fd;
}

bool hl_host_is_loopback(const char *host)
{
    char h[256];
    size_t n = strlen(host);
    if (n >= 2 && host[0] == '[' && host[n - 1] == ']') {
        host++;
        n -= 2;
    }
    if (n == 0 || n >= sizeof h) return false;
    memcpy(h, host, n);
    h[n] = '\0';
    if (strcmp(h, "localhost") == 0) return true;
    struct in_addr a4;
    if (inet_pton(AF_INET, h, &a4) == 1) return (ntohl(a4.s_addr) >> 24) == 127;
    struct in6_addr a6;
    return inet_pton(AF_INET6, h, &a6) == 1 && IN6_IS_ADDR_LOOPBACK(&a6);
}
