/*
 * fake_server.c - runs fake_openai.py for the integration tests and the
 * broker benchmark (see fake_server.h).
 */
#include "fake_server.h"

#include <curl/curl.h>
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "base.h"

#ifndef FAKE_PYTHON
#define FAKE_PYTHON "python3"
#endif

double fake_now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec * 1e3 + (double)ts.tv_nsec / 1e6;
}

static void cloexec(int fd)
{
    fcntl(fd, F_SETFD, fcntl(fd, F_GETFD) | FD_CLOEXEC);
}

bool fake_server_start(fake_server *fs, const char *script, const char *const *extra_args)
{
    memset(fs, 0, sizeof *fs);
    fs->pid = -1;
    fs->stdin_fd = -1;
    int in[2], out[2];
    if (pipe(in) != 0) return false;
    if (pipe(out) != 0) {
        close(in[0]), close(in[1]);
        return false;
    }
    const char *argv[32];
    int argc = 0;
    argv[argc++] = FAKE_PYTHON;
    argv[argc++] = script;
    for (int i = 0; extra_args && extra_args[i] && argc < 31; i++) argv[argc++] = extra_args[i];
    argv[argc] = NULL;
    pid_t pid = fork();
    if (pid < 0) {
        close(in[0]), close(in[1]), close(out[0]), close(out[1]);
        return false;
    }
    if (pid == 0) {
        dup2(in[0], STDIN_FILENO);
        dup2(out[1], STDOUT_FILENO);
        close(in[0]), close(in[1]), close(out[0]), close(out[1]);
        execvp(argv[0], (char *const *)argv);
        fprintf(stderr, "fake_server: cannot run %s: %s\n", argv[0], strerror(errno));
        _exit(127);
    }
    close(in[0]);
    close(out[1]);
    cloexec(in[1]);
    cloexec(out[0]);
    fs->pid = pid;
    fs->stdin_fd = in[1];

    /* The first line is "PORT n". */
    char line[128];
    size_t len = 0;
    double deadline = fake_now_ms() + 15000;
    while (len < sizeof line - 1 && (len == 0 || line[len - 1] != '\n')) {
        int left = (int)(deadline - fake_now_ms());
        if (left <= 0) break;
        struct pollfd p = {out[0], POLLIN, 0};
        int r = poll(&p, 1, left);
        if (r < 0 && errno == EINTR) continue;
        if (r <= 0) break;
        ssize_t n = read(out[0], line + len, sizeof line - 1 - len);
        if (n < 0 && errno == EINTR) continue;
        if (n <= 0) break;
        len += (size_t)n;
    }
    line[len] = '\0';
    close(out[0]);
    if (sscanf(line, "PORT %d", &fs->port) != 1 || fs->port <= 0 || fs->port > 65535) {
        fprintf(stderr, "fake_server: %s did not announce a port (got \"%s\")\n", script, line);
        fake_server_stop(fs);
        return false;
    }
    snprintf(fs->base_url, sizeof fs->base_url, "http://127.0.0.1:%d/v1", fs->port);
    return true;
}

void fake_server_stop(fake_server *fs)
{
    if (fs->stdin_fd >= 0) close(fs->stdin_fd);
    fs->stdin_fd = -1;
    if (fs->pid <= 0) return;
    double deadline = fake_now_ms() + 5000;
    for (;;) {
        int status;
        pid_t r = waitpid(fs->pid, &status, WNOHANG);
        if (r == fs->pid || (r < 0 && errno != EINTR)) break;
        if (fake_now_ms() > deadline) {
            kill(fs->pid, SIGKILL);
            waitpid(fs->pid, &status, 0);
            break;
        }
        struct timespec ts = {0, 10 * 1000 * 1000};
        nanosleep(&ts, NULL);
    }
    fs->pid = -1;
}

static size_t collect(char *data, size_t size, size_t nmemb, void *ud)
{
    return tx_buf_append(ud, data, size * nmemb) == TX_OK ? size * nmemb : 0;
}

/* One admin call; returns the body (caller frees with tx_free) or NULL. */
static char *admin(const fake_server *fs, const char *method, const char *path)
{
    char url[128];
    snprintf(url, sizeof url, "http://127.0.0.1:%d%s", fs->port, path);
    CURL *c = curl_easy_init();
    if (!c) return NULL;
    tx_buf b;
    tx_buf_init(&b, 256u * 1024u * 1024u);
    curl_easy_setopt(c, CURLOPT_URL, url);
    curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(c, CURLOPT_TIMEOUT, 30L);
    curl_easy_setopt(c, CURLOPT_PROXY, "");
    curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, collect);
    curl_easy_setopt(c, CURLOPT_WRITEDATA, &b);
    if (strcmp(method, "POST") == 0) curl_easy_setopt(c, CURLOPT_POSTFIELDS, "{}");
    CURLcode rc = curl_easy_perform(c);
    long status = 0;
    curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &status);
    curl_easy_cleanup(c);
    if (rc != CURLE_OK || status != 200) {
        tx_buf_free(&b);
        return NULL;
    }
    char *text = tx_buf_steal(&b);
    return text ? text : tx_strdup("");
}

bool fake_server_reset(const fake_server *fs)
{
    char *r = admin(fs, "POST", "/_reset");
    bool ok = r != NULL;
    tx_free(r);
    return ok;
}

cJSON *fake_server_requests(const fake_server *fs)
{
    char *r = admin(fs, "GET", "/_requests");
    if (!r) return NULL;
    cJSON *j = cJSON_Parse(r);
    tx_free(r);
    return j;
}

cJSON *fake_server_requests_to(const fake_server *fs, const char *path)
{
    cJSON *all = fake_server_requests(fs);
    if (!all) return NULL;
    cJSON *out = cJSON_CreateArray();
    const cJSON *r;
    cJSON_ArrayForEach(r, all)
    {
        const cJSON *p = cJSON_GetObjectItemCaseSensitive(r, "path");
        if (cJSON_IsString(p) && strcmp(p->valuestring, path) == 0)
            cJSON_AddItemToArray(out, cJSON_Duplicate(r, 1));
    }
    cJSON_Delete(all);
    return out;
}
