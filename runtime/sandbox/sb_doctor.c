/*
 * sb_doctor.c - `tactus sandbox doctor`: tactus-probe run in the exact
 * container a run of the procedure would get, its report judged here for
 * what only the host can know (whose kernel it is; under gVisor, the
 * limits dockerd applied to the sandbox).
 */
#define _GNU_SOURCE
#include <stdlib.h>
#include <string.h>
#include <sys/utsname.h>

#include "sb_internal.h"

/* The kernel check: the probe reports the kernel it sees; only the host
 * knows whether that is its own. Under runsc it must not be (gVisor's
 * kernel answers instead); under runc it is, which is said, not failed. */
static void judge_kernel(cJSON *rep, bool runsc)
{
    cJSON *k = cJSON_GetObjectItemCaseSensitive(rep, "kernel");
    const char *seen = hl_json_str(k, "detail");
    struct utsname u;
    if (!k || !seen || uname(&u) != 0) return;
    char host[600], d[1400];
    snprintf(host, sizeof host, "%s %s", u.release, u.version);
    bool own = strcmp(seen, host) != 0;
    if (runsc)
        snprintf(d, sizeof d, "%s: %s (the host's is %s)",
                 own ? "gVisor (runsc), a kernel of its own" : "runsc was asked for, but this is the host's kernel",
                 seen, host);
    else
        snprintf(d, sizeof d, "the host's kernel, shared (runc): %s; sandbox.runtime: runsc puts gVisor's between them",
                 seen);
    cJSON_ReplaceItemInObjectCaseSensitive(k, "ok", cJSON_CreateBool(runsc ? own : true));
    cJSON_ReplaceItemInObjectCaseSensitive(k, "detail", cJSON_CreateString(d));
}

/* Under runsc the probe sees gVisor's view: no cgroup files, no
 * NoNewPrivs line. These limits are enforced by the host on the gVisor
 * sandbox itself, so they are read from what dockerd applied to the
 * container (docker inspect of the kept container). */
static void judge_runsc_limits(cJSON *rep, const char *container)
{
    char fmt[] = "{{json .HostConfig}}";
    char *argv[] = {"docker", "inspect", "--format", fmt, (char *)container, NULL};
    tx_buf out, errb;
    tx_buf_init(&out, 1u << 20);
    tx_buf_init(&errb, 4096);
    cJSON *hc = sb_docker_run(argv, "", &out, &errb, 20000) == 0 && out.data ? cJSON_Parse(out.data) : NULL;
    const cJSON *pids = cJSON_GetObjectItemCaseSensitive(hc, "PidsLimit");
    const cJSON *mem = cJSON_GetObjectItemCaseSensitive(hc, "Memory");
    const cJSON *rt = cJSON_GetObjectItemCaseSensitive(hc, "Runtime");
    bool nnp = false;
    const cJSON *o;
    cJSON_ArrayForEach(o, cJSON_GetObjectItemCaseSensitive(hc, "SecurityOpt"))
        if (cJSON_IsString(o) && strcmp(o->valuestring, "no-new-privileges") == 0) nnp = true;
    bool is_runsc = cJSON_IsString(rt) && strcmp(rt->valuestring, "runsc") == 0;
    char d[300];
    cJSON *c;
    double nproc = 0; /* RLIMIT_NPROC inside, which gVisor's kernel enforces */
    cJSON_ArrayForEach(o, cJSON_GetObjectItemCaseSensitive(hc, "Ulimits")) {
        const cJSON *hard = cJSON_GetObjectItemCaseSensitive(o, "Hard");
        if (!strcmp(hl_json_str(o, "Name") ? hl_json_str(o, "Name") : "", "nproc") && cJSON_IsNumber(hard))
            nproc = hard->valuedouble;
    }
    if ((c = cJSON_GetObjectItemCaseSensitive(rep, "pids"))) {
        bool ok = is_runsc && cJSON_IsNumber(pids) && pids->valuedouble > 0 && nproc > 0;
        snprintf(d, sizeof d,
                 "%.0f processes inside (RLIMIT_NPROC, enforced by gVisor); pids limit %.0f on the "
                 "gVisor sandbox, its kernel included (host side, docker inspect)",
                 nproc, cJSON_IsNumber(pids) ? pids->valuedouble : 0);
        cJSON_ReplaceItemInObjectCaseSensitive(c, "ok", cJSON_CreateBool(ok));
        cJSON_ReplaceItemInObjectCaseSensitive(c, "detail", cJSON_CreateString(d));
    }
    if ((c = cJSON_GetObjectItemCaseSensitive(rep, "memory"))) {
        bool ok = is_runsc && cJSON_IsNumber(mem) && mem->valuedouble > 0;
        snprintf(d, sizeof d, "memory limit %.0f bytes on the gVisor sandbox (host side, docker inspect)",
                 cJSON_IsNumber(mem) ? mem->valuedouble : 0);
        cJSON_ReplaceItemInObjectCaseSensitive(c, "ok", cJSON_CreateBool(ok));
        cJSON_ReplaceItemInObjectCaseSensitive(c, "detail", cJSON_CreateString(d));
    }
    if ((c = cJSON_GetObjectItemCaseSensitive(rep, "no_new_privileges"))) {
        snprintf(d, sizeof d, "no-new-privileges %s on the gVisor sandbox (host side, docker inspect)",
                 nnp ? "set" : "NOT set");
        cJSON_ReplaceItemInObjectCaseSensitive(c, "ok", cJSON_CreateBool(is_runsc && nnp));
        cJSON_ReplaceItemInObjectCaseSensitive(c, "detail", cJSON_CreateString(d));
    }
    cJSON_Delete(hc);
    tx_buf_free(&out);
    tx_buf_free(&errb);
}

/* Drops --rm from a launch plan: the container stays for docker inspect. */
static void keep_container(sb_launch *l)
{
    for (size_t i = 0; i < l->argc; i++) {
        if (l->argv[i] && strcmp(l->argv[i], "--rm") == 0) {
            tx_free(l->argv[i]);
            memmove(&l->argv[i], &l->argv[i + 1], (l->argc - i) * sizeof *l->argv); /* with the NULL */
            l->argc--;
            return;
        }
    }
}

static void remove_container(const char *container)
{
    char *argv[] = {"docker", "rm", "-f", (char *)container, NULL};
    tx_buf out, errb;
    tx_buf_init(&out, 4096);
    tx_buf_init(&errb, 4096);
    sb_docker_run(argv, "", &out, &errb, 20000);
    tx_buf_free(&out);
    tx_buf_free(&errb);
}

tx_status sb_doctor(const cJSON *config, const char *image, const char *dir,
                            const char *probe_exe, const char *const *probe_args, bool pooled,
                            sb_doctor_result *r, FILE *warn, char *err, size_t errlen)
{
    memset(r, 0, sizeof *r);
    tx_buf_init(&r->output, 1 << 20);
    tx_buf_init(&r->errors, 1 << 16);
    static const char *const report[] = {"report", NULL};
    char run_id[40];
    hl_new_run_id(run_id);
    sb_launch l;
    if (sb_launch_docker_probe(config, image, dir, run_id, probe_exe, probe_args ? probe_args : report,
                               pooled, &l, warn, err, errlen) != TX_OK)
        return TX_EINVAL;
    snprintf(r->memory, sizeof r->memory, "%s", l.memory);
    const char *oci = hl_json_str(cf_get(config, "sandbox"), "runtime");
    bool runsc = oci && strcmp(oci, "runsc") == 0;
    if (runsc && !probe_args) keep_container(&l);
    const cJSON *timeout = cf_get(config, "sandbox.timeout");
    int timeout_ms = cJSON_IsNumber(timeout) ? (int)(timeout->valuedouble * 1000) : 60000;
    if (timeout_ms > 600000) timeout_ms = 600000;
    r->exit_status = sb_launch_capture(&l, &r->output, &r->errors, timeout_ms);
    if (!probe_args) {
        r->report = r->output.data ? cJSON_Parse(r->output.data) : NULL;
        judge_kernel(r->report, runsc);
        if (runsc) {
            judge_runsc_limits(r->report, l.container);
            remove_container(l.container);
        }
    }
    sb_launch_free(&l);
    return TX_OK;
}

void sb_doctor_result_free(sb_doctor_result *r)
{
    cJSON_Delete(r->report);
    tx_buf_free(&r->output);
    tx_buf_free(&r->errors);
    r->report = NULL;
}
