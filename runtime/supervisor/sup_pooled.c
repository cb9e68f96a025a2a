/*
 * sup_pooled.c - the end of a run in a pooled container (sandbox.h,
 * "pooled containers"): the container's server, tactus-pool, reports how
 * the run's process ended with a run.exit frame on the run's own stream.
 */
#include <errno.h>
#include <poll.h>
#include <string.h>
#include <openssl/crypto.h>
#include <unistd.h>

#include "sup_internal.h"

/* run.exit's {code, signal} in waitpid's encoding (low 7 bits a signal,
 * else the code shifted by 8), so the end of a run reads the same for a
 * process of our own and a pooled one. */
int sup_exit_status_of(const cJSON *params)
{
    const cJSON *code = cJSON_GetObjectItemCaseSensitive(params, "code");
    const cJSON *sig = cJSON_GetObjectItemCaseSensitive(params, "signal");
    int sg = cJSON_IsNumber(sig) ? sig->valueint : 0;
    int cd = cJSON_IsNumber(code) ? code->valueint : 0;
    return sg > 0 ? (sg & 0x7f) : ((cd & 0xff) << 8);
}

bool sup_run_exit_is_pools(const cJSON *params, const char *nonce)
{
    const char *got = hl_json_str(params, "nonce");
    return nonce[0] && got && strlen(got) == strlen(nonce) && CRYPTO_memcmp(got, nonce, strlen(nonce)) == 0;
}

/* After a pooled run: reads frames (what the decoder holds first) until
 * the server's run.exit, at most 5 s (the pool kills what is left and
 * empties the folders first; a loaded machine took over 2 s). Its status into *wstatus, in
 * waitpid's encoding; true only for the pool's own run.exit (the run's
 * nonce) reporting a clean container: everything else of the run killed,
 * its folders emptied. */
bool sup_await_run_exit(tp_decoder *dec, int fd, const char *nonce, int *wstatus)
{
    long long until = hl_now_ms() + 5000;
    for (;;) {
        cJSON *msg = NULL;
        tx_status ds;
        while ((ds = tp_decoder_next(dec, &msg)) == TX_OK && msg) {
            const char *method = hl_json_str(msg, "method");
            if (method && strcmp(method, "run.exit") == 0) {
                const cJSON *params = cJSON_GetObjectItemCaseSensitive(msg, "params");
                bool ours = sup_run_exit_is_pools(params, nonce);
                bool clean = cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(params, "clean"));
                if (ours) *wstatus = sup_exit_status_of(params);
                cJSON_Delete(msg);
                return ours && clean; /* a forged one: the container is retired */
            }
            cJSON_Delete(msg); /* anything after run.finish is ignored */
        }
        if (ds != TX_OK) return false;
        long long left = until - hl_now_ms();
        if (left <= 0) return false;
        struct pollfd p = {fd, POLLIN, 0};
        int n = poll(&p, 1, (int)left);
        if (n < 0 && errno == EINTR) continue;
        if (n <= 0) return false;
        char buf[4096];
        ssize_t k = read(fd, buf, sizeof buf);
        if (k <= 0 || tp_decoder_feed(dec, buf, (size_t)k) != TX_OK) return false;
    }
}
