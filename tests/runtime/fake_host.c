/*
 * fake_host.c - a test fixture that plays the host for tactus-runtime over
 * pipes (not the product host, which is runtime/supervisor/).
 *
 *   fake_host RUNTIME FILE.tac [--input JSON] [--limits JSON] [--llm JSON]...
 *             [--human JSON]... [--workspace DIR] [--log]
 *       runs one procedure and prints run.finish's params as JSON;
 *   fake_host --cases FILE [--only NAME] RUNTIME
 *       runs a table of cases (tests as data, see escapes.txt / dsl.txt).
 *
 * The runtime is started with an EMPTY environment (execve with envp {NULL}),
 * its working directory outside the workspace. The fixture answers:
 * llm.chat from scripted turns; tool.call for host.ping and host.echo only
 * (anything else: ToolNotAllowed); clock.now (a fixed time); timer.sleep (at once); random.seed;
 * checkpoint (never cached); human.request from scripted answers, else
 * Suspended. Every frame the runtime sends is kept for the expectations.
 *
 * Case file format: a case starts with "### name", then directives, then a
 * line "---", then the .tac source up to the next "###".
 *   @input JSON          start.inputs
 *   @limits JSON         start.limits
 *   @procedure NAME      start.procedure.name
 *   @llm JSON            one scripted assistant turn {content, tool_calls, usage}
 *   @human JSON          one scripted human answer (the done data)
 *   @file PATH JSON      a workspace file (PATH relative to the workspace; JSON string)
 *   @symlink PATH TARGET a symbolic link in the workspace
 *   @scratch             a pooled run: start.scratch names a scratch folder
 *                        beside the workspace (the File layer's two roots),
 *                        and the workspace must be unchanged afterwards
 *   @expect status S | error SUB | line N | file F | output JSON | output~ SUB |
 *           frame~ SUB | noframe~ SUB | count METHOD N | pending~ SUB |
 *           traceback~ SUB | notraceback~ SUB | exit N
 * Every case also checks: exit status 0 (unless `exit`), only well-formed
 * frames, run.finish last and only once, the secret planted outside the
 * workspace never appears in any frame or on stderr, and the folder outside
 * the workspace is unchanged.
 */
#define _GNU_SOURCE
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <unistd.h>

#include "proto.h"

#define SECRET     "TOP-SECRET-7731"
#define MAX_SCRIPT 64
#define MAX_EXPECT 32
#define MAX_FILES  16

typedef struct {
    const char *name;
    char *source;
    const char *inputs, *limits, *procedure;
    const char *llm[MAX_SCRIPT];
    int n_llm;
    const char *human[MAX_SCRIPT];
    int n_human;
    const char *file_path[MAX_FILES], *file_json[MAX_FILES];
    int n_files;
    const char *link_path[MAX_FILES], *link_target[MAX_FILES];
    int n_links;
    bool scratch; /* @scratch */
    const char *expect[MAX_EXPECT];
    int n_expect;
} fh_case;

typedef struct {
    cJSON *frames; /* every frame the runtime sent, in order */
    cJSON *finish; /* run.finish params (owned by frames) */
    int finishes;
    int exit_status;
    char *stderr_text;
    char problem[512]; /* a protocol problem seen by the fixture */
} fh_result;

static void die(const char *what)
{
    perror(what);
    exit(2);
}

/* ---- the fixture's side of the protocol --------------------------------------------------------
 */

static cJSON *parse_or_die(const char *text, const char *what)
{
    cJSON *j = cJSON_Parse(text);
    if (!j) {
        fprintf(stderr, "fake_host: invalid JSON in %s: %s\n", what, text);
        exit(2);
    }
    return j;
}

static cJSON *answer(const fh_case *c, int *llm_used, int *human_used, const cJSON *req)
{
    long id = (long)cJSON_GetObjectItemCaseSensitive(req, "id")->valuedouble;
    const cJSON *m = cJSON_GetObjectItemCaseSensitive(req, "method");
    const cJSON *params = cJSON_GetObjectItemCaseSensitive(req, "params");
    const char *method = cJSON_IsString(m) ? m->valuestring : "";
    cJSON *data = cJSON_CreateObject();
    if (strcmp(method, "llm.chat") == 0) {
        if (*llm_used >= c->n_llm) {
            cJSON_Delete(data);
            return tp_error(id, "ProviderError", "fake_host: no scripted turn left");
        }
        cJSON *turn = parse_or_die(c->llm[(*llm_used)++], "@llm");
        cJSON *msg = cJSON_AddObjectToObject(data, "message");
        cJSON_AddStringToObject(msg, "role", "assistant");
        cJSON *content = cJSON_DetachItemFromObject(turn, "content");
        cJSON_AddItemToObject(msg, "content", content ? content : cJSON_CreateString(""));
        cJSON *calls = cJSON_DetachItemFromObject(turn, "tool_calls");
        cJSON_AddItemToObject(msg, "tool_calls", calls ? calls : cJSON_CreateArray());
        cJSON *usage = cJSON_DetachItemFromObject(turn, "usage");
        if (!usage) {
            usage = cJSON_CreateObject();
            cJSON_AddNumberToObject(usage, "prompt_tokens", 10);
            cJSON_AddNumberToObject(usage, "completion_tokens", 5);
            cJSON_AddNumberToObject(usage, "total_tokens", 15);
        }
        cJSON_AddItemToObject(data, "usage", usage);
        cJSON_AddStringToObject(data, "finish_reason", "stop");
        cJSON_Delete(turn);
    } else if (strcmp(method, "tool.call") == 0) {
        const cJSON *name = cJSON_GetObjectItemCaseSensitive(params, "name");
        const cJSON *args = cJSON_GetObjectItemCaseSensitive(params, "args");
        const char *n = cJSON_IsString(name) ? name->valuestring : "";
        cJSON *result = cJSON_CreateObject();
        if (strcmp(n, "host.ping") == 0) {
            cJSON_AddBoolToObject(result, "ok", 1);
            cJSON_AddItemToObject(result, "echo", cJSON_Duplicate(args, 1));
        } else if (strcmp(n, "host.echo") == 0) {
            cJSON_AddItemToObject(result, "echo", cJSON_Duplicate(args, 1));
        } else {
            char msg[300];
            snprintf(msg, sizeof msg, "Tool not allowlisted: %.200s", n);
            cJSON_Delete(result);
            cJSON_Delete(data);
            return tp_error(id, "ToolNotAllowed", msg);
        }
        cJSON_AddItemToObject(data, "result", result);
    } else if (strcmp(method, "clock.now") == 0) {
        cJSON_AddNumberToObject(data, "epoch_ms", 1764000000000.0);
    } else if (strcmp(method, "timer.sleep") == 0) {
        /* the fixture does not wait: it answers at once, as a test clock would */
        cJSON_AddNumberToObject(data, "slept", cJSON_GetNumberValue(cJSON_GetObjectItem(params, "seconds")));
    } else if (strcmp(method, "random.seed") == 0) {
        cJSON_AddNumberToObject(data, "seed", 42);
    } else if (strcmp(method, "checkpoint") == 0) {
        cJSON_AddBoolToObject(data, "cached", 0);
    } else if (strcmp(method, "checkpoint.commit") == 0) {
        cJSON_AddBoolToObject(data, "ok", 1);
    } else if (strcmp(method, "human.request") == 0) {
        if (*human_used >= c->n_human) {
            cJSON_Delete(data);
            return tp_error(id, "Suspended", "no answer recorded: the run waits for a person");
        }
        cJSON_Delete(data);
        data = parse_or_die(c->human[(*human_used)++], "@human");
    } else {
        char msg[200];
        snprintf(msg, sizeof msg, "Unknown method: %.100s", method);
        cJSON_Delete(data);
        return tp_error(id, "MethodNotFound", msg);
    }
    return tp_event(id, "done", data);
}

static cJSON *start_frame(const fh_case *c, const char *workspace, const char *scratch)
{
    cJSON *s = cJSON_CreateObject();
    cJSON_AddStringToObject(s, "type", "start");
    cJSON_AddNumberToObject(s, "protocol", 1);
    cJSON_AddStringToObject(s, "run_id", "r-test");
    cJSON *p = cJSON_AddObjectToObject(s, "procedure");
    cJSON_AddStringToObject(p, "path", "main.tac");
    cJSON_AddStringToObject(p, "source", c->source);
    cJSON_AddStringToObject(p, "name", c->procedure ? c->procedure : "main");
    cJSON_AddItemToObject(s, "inputs",
                          c->inputs ? parse_or_die(c->inputs, "@input") : cJSON_CreateObject());
    cJSON_AddStringToObject(s, "workspace", workspace);
    if (scratch) cJSON_AddStringToObject(s, "scratch", scratch);
    cJSON *lim = c->limits ? parse_or_die(c->limits, "@limits") : cJSON_CreateObject();
    if (!cJSON_HasObjectItem(lim, "instructions"))
        cJSON_AddNumberToObject(lim, "instructions", 100000000);
    if (!cJSON_HasObjectItem(lim, "memory_bytes"))
        cJSON_AddNumberToObject(lim, "memory_bytes", 64.0 * 1024 * 1024);
    if (!cJSON_HasObjectItem(lim, "wall_ms")) cJSON_AddNumberToObject(lim, "wall_ms", 10000);
    cJSON_AddItemToObject(s, "limits", lim);
    cJSON_AddNumberToObject(s, "seed", 12345);
    cJSON_AddNumberToObject(s, "now_ms", 1764000000000.0);
    return s;
}

static char *read_all_file(const char *path)
{
    FILE *f = fopen(path, "rb");
    if (!f) return strdup("");
    fseek(f, 0, SEEK_END);
    long n = ftell(f);
    fseek(f, 0, SEEK_SET);
    char *buf = malloc((size_t)n + 1);
    size_t got = fread(buf, 1, (size_t)n, f);
    buf[got] = '\0';
    fclose(f);
    return buf;
}

static pid_t child_pid;

static void on_timeout(int sig)
{
    (void)sig;
    if (child_pid > 0) kill(child_pid, SIGKILL);
}

/* Runs the runtime on one case in `dir` (holding ws/ and outside/). */
static void run_case(const char *runtime, const fh_case *c, const char *dir, fh_result *r)
{
    memset(r, 0, sizeof *r);
    r->frames = cJSON_CreateArray();
    char ws[PATH_MAX], scratch[PATH_MAX], err_path[PATH_MAX];
    snprintf(ws, sizeof ws, "%s/ws", dir);
    snprintf(scratch, sizeof scratch, "%s/scratch", dir);
    snprintf(err_path, sizeof err_path, "%s/stderr.txt", dir);
    int to_rt[2], from_rt[2];
    if (pipe(to_rt) || pipe(from_rt)) die("pipe");
    child_pid = fork();
    if (child_pid < 0) die("fork");
    if (child_pid == 0) {
        int err = open(err_path, O_WRONLY | O_CREAT | O_TRUNC, 0644);
        dup2(to_rt[0], 0);
        dup2(from_rt[1], 1);
        if (err >= 0) dup2(err, 2);
        close(to_rt[1]);
        close(from_rt[0]);
        if (chdir(dir) != 0) _exit(126);
        char *argv[] = {(char *)runtime, NULL};
        char *envp[] = {NULL}; /* the runtime inherits no environment */
        execve(runtime, argv, envp);
        _exit(127);
    }
    close(to_rt[0]);
    close(from_rt[1]);
    signal(SIGPIPE, SIG_IGN);
    signal(SIGALRM, on_timeout);
    alarm(30);

    cJSON *start = start_frame(c, ws, c->scratch ? scratch : NULL);
    if (tp_write_frame(to_rt[1], start) != TX_OK)
        snprintf(r->problem, sizeof r->problem, "cannot write the start frame");
    cJSON_Delete(start);
    int llm_used = 0, human_used = 0;
    for (;;) {
        cJSON *msg = NULL;
        tx_status st = tp_read_frame(from_rt[0], TP_MAX_FRAME, &msg);
        if (st == TX_ENOENT) break;
        if (st != TX_OK) {
            snprintf(r->problem, sizeof r->problem, "bad frame from the runtime: %s",
                     tx_status_str(st));
            break;
        }
        cJSON_AddItemToArray(r->frames, msg);
        const cJSON *method = cJSON_GetObjectItemCaseSensitive(msg, "method");
        const cJSON *id = cJSON_GetObjectItemCaseSensitive(msg, "id");
        if (!cJSON_IsString(method)) {
            snprintf(r->problem, sizeof r->problem, "a frame without a method");
            break;
        }
        if (r->finishes > 0)
            snprintf(r->problem, sizeof r->problem, "a frame after run.finish: %s",
                     method->valuestring);
        if (!id) {
            if (strcmp(method->valuestring, "run.finish") == 0) {
                r->finishes++;
                r->finish = cJSON_GetObjectItemCaseSensitive(msg, "params");
            }
            continue;
        }
        if (strcmp(method->valuestring, "llm.chat") == 0) {
            /* a streaming delta first: the runtime must skip it */
            cJSON *d = cJSON_CreateObject();
            cJSON_AddStringToObject(d, "text", "...");
            cJSON *ev = tp_event((long)id->valuedouble, "delta", d);
            tp_write_frame(to_rt[1], ev);
            cJSON_Delete(ev);
        }
        cJSON *reply = answer(c, &llm_used, &human_used, msg);
        if (tp_write_frame(to_rt[1], reply) != TX_OK) {
            cJSON_Delete(reply);
            break;
        }
        cJSON_Delete(reply);
    }
    close(to_rt[1]);
    close(from_rt[0]);
    int status = 0;
    waitpid(child_pid, &status, 0);
    alarm(0);
    child_pid = 0;
    r->exit_status = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
    r->stderr_text = read_all_file(err_path);
}

/* ---- case set-up and checks -------------------------------------------------------------------
 */

static void write_file(const char *path, const char *data)
{
    char dirbuf[PATH_MAX];
    snprintf(dirbuf, sizeof dirbuf, "%s", path);
    for (char *p = dirbuf + 1; *p; p++) {
        if (*p == '/') {
            *p = '\0';
            mkdir(dirbuf, 0755);
            *p = '/';
        }
    }
    FILE *f = fopen(path, "wb");
    if (!f) die(path);
    fputs(data, f);
    fclose(f);
}

static void prepare_dir(const fh_case *c, char *dir, size_t cap)
{
    snprintf(dir, cap, "/tmp/tx-rt-XXXXXX");
    if (!mkdtemp(dir)) die("mkdtemp");
    char p[PATH_MAX];
    snprintf(p, sizeof p, "%s/ws", dir);
    mkdir(p, 0755);
    if (c->scratch) {
        snprintf(p, sizeof p, "%s/scratch", dir);
        mkdir(p, 0755);
    }
    snprintf(p, sizeof p, "%s/outside/secret.txt", dir);
    write_file(p, SECRET "\n");
    snprintf(p, sizeof p, "%s/outside.txt", dir);
    write_file(p, SECRET "\n");
    snprintf(p, sizeof p, "%s/ws/main.tac", dir);
    write_file(p, c->source);
    for (int i = 0; i < c->n_files; i++) {
        cJSON *content = parse_or_die(c->file_json[i], "@file");
        if (!cJSON_IsString(content)) {
            fprintf(stderr, "fake_host: @file content must be a JSON string\n");
            exit(2);
        }
        snprintf(p, sizeof p, "%s/ws/%s", dir, c->file_path[i]);
        write_file(p, content->valuestring);
        cJSON_Delete(content);
    }
    for (int i = 0; i < c->n_links; i++) {
        snprintf(p, sizeof p, "%s/ws/%s", dir, c->link_path[i]);
        if (symlink(c->link_target[i], p) != 0) die("symlink");
    }
}

/* "outside" must hold exactly secret.txt, unchanged; outside.txt unchanged. */
static const char *outside_changed(const char *dir)
{
    char p[PATH_MAX];
    snprintf(p, sizeof p, "%s/outside", dir);
    DIR *d = opendir(p);
    if (!d) return "the outside folder is gone";
    struct dirent *de;
    int n = 0;
    while ((de = readdir(d)) != NULL)
        if (de->d_name[0] != '.') n++;
    closedir(d);
    if (n != 1) return "a file appeared outside the workspace";
    for (int i = 0; i < 2; i++) {
        snprintf(p, sizeof p, i == 0 ? "%s/outside/secret.txt" : "%s/outside.txt", dir);
        char *text = read_all_file(p);
        bool same = strcmp(text, SECRET "\n") == 0;
        free(text);
        if (!same) return "a file outside the workspace changed";
    }
    return NULL;
}

/* Every entry under `path` with its type and size, sorted by name at each
 * level: a workspace that must not change between two snapshots. */
static void tree_snapshot(const char *path, const char *rel, char **out, size_t *len)
{
    struct stat st;
    if (lstat(path, &st) != 0) return;
    char line[PATH_MAX + 64];
    int n = snprintf(line, sizeof line, "%s %c %lld\n", rel,
                     S_ISDIR(st.st_mode)   ? 'd'
                     : S_ISLNK(st.st_mode) ? 'l'
                                           : 'f',
                     S_ISDIR(st.st_mode) ? 0LL : (long long)st.st_size);
    *out = realloc(*out, *len + (size_t)n + 1);
    memcpy(*out + *len, line, (size_t)n + 1);
    *len += (size_t)n;
    if (!S_ISDIR(st.st_mode)) return;
    struct dirent **names;
    int k = scandir(path, &names, NULL, alphasort);
    for (int i = 0; i < k; i++) {
        if (strcmp(names[i]->d_name, ".") && strcmp(names[i]->d_name, "..")) {
            char child[PATH_MAX], crel[PATH_MAX];
            snprintf(child, sizeof child, "%s/%s", path, names[i]->d_name);
            snprintf(crel, sizeof crel, "%s/%s", rel, names[i]->d_name);
            tree_snapshot(child, crel, out, len);
        }
        free(names[i]);
    }
    free(names);
}

static char *workspace_snapshot(const char *dir)
{
    char p[PATH_MAX];
    snprintf(p, sizeof p, "%s/ws", dir);
    char *out = NULL;
    size_t len = 0;
    tree_snapshot(p, ".", &out, &len);
    return out ? out : strdup("");
}

static void remove_tree(const char *path)
{
    struct stat st;
    if (lstat(path, &st) != 0) return;
    if (S_ISDIR(st.st_mode)) {
        DIR *d = opendir(path);
        if (d) {
            struct dirent *de;
            while ((de = readdir(d)) != NULL) {
                if (strcmp(de->d_name, ".") == 0 || strcmp(de->d_name, "..") == 0) continue;
                char child[PATH_MAX];
                snprintf(child, sizeof child, "%s/%s", path, de->d_name);
                remove_tree(child);
            }
            closedir(d);
        }
        rmdir(path);
    } else {
        unlink(path);
    }
}

static char *print_json(const cJSON *j)
{
    return j ? cJSON_PrintUnformatted(j) : strdup("null");
}

static bool contains(const char *hay, const char *needle)
{
    return hay && strstr(hay, needle) != NULL;
}

static const char *field_text(const cJSON *obj, const char *key)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(obj, key);
    return cJSON_IsString(v) ? v->valuestring : NULL;
}

/* Checks one expectation; writes the reason for a failure into why. */
static bool check(const char *exp, const fh_result *r, char *why, size_t cap)
{
    const cJSON *fin = r->finish;
    const cJSON *error = cJSON_GetObjectItemCaseSensitive(fin, "error");
    char key[32];
    int klen = 0;
    while (exp[klen] && exp[klen] != ' ' && klen < 31)
        klen++;
    memcpy(key, exp, (size_t)klen);
    key[klen] = '\0';
    const char *arg = exp[klen] ? exp + klen + 1 : "";

    if (strcmp(key, "status") == 0) {
        const char *s = field_text(fin, "status");
        if (s && strcmp(s, arg) == 0) return true;
        snprintf(why, cap, "status is %s, expected %s", s ? s : "(none)", arg);
        return false;
    }
    if (strcmp(key, "error") == 0) {
        const char *m = field_text(error, "message");
        if (contains(m, arg)) return true;
        snprintf(why, cap, "error message \"%s\" does not contain \"%s\"", m ? m : "(none)", arg);
        return false;
    }
    if (strcmp(key, "line") == 0) {
        const cJSON *l = cJSON_GetObjectItemCaseSensitive(error, "line");
        if (cJSON_IsNumber(l) && l->valueint == atoi(arg)) return true;
        snprintf(why, cap, "error line is %d, expected %s", cJSON_IsNumber(l) ? l->valueint : -1,
                 arg);
        return false;
    }
    if (strcmp(key, "file") == 0) {
        const char *f = field_text(error, "file");
        if (f && strcmp(f, arg) == 0) return true;
        snprintf(why, cap, "error file is %s, expected %s", f ? f : "(none)", arg);
        return false;
    }
    if (strcmp(key, "traceback~") == 0 || strcmp(key, "notraceback~") == 0) {
        bool has = contains(field_text(error, "traceback"), arg);
        if (has == (key[0] == 't')) return true;
        snprintf(why, cap, "traceback %s \"%s\"", has ? "contains" : "lacks", arg);
        return false;
    }
    if (strcmp(key, "output") == 0) {
        cJSON *want = parse_or_die(arg, "@expect output");
        bool same = cJSON_Compare(want, cJSON_GetObjectItemCaseSensitive(fin, "output"), 1);
        cJSON_Delete(want);
        if (same) return true;
        char *got = print_json(cJSON_GetObjectItemCaseSensitive(fin, "output"));
        snprintf(why, cap, "output is %.300s, expected %.150s", got, arg);
        cJSON_free(got);
        return false;
    }
    if (strcmp(key, "output~") == 0 || strcmp(key, "pending~") == 0) {
        char *got =
            print_json(cJSON_GetObjectItemCaseSensitive(fin, key[0] == 'o' ? "output" : "pending"));
        bool ok = contains(got, arg);
        if (!ok) snprintf(why, cap, "%.8s %.300s does not contain %s", key, got, arg);
        cJSON_free(got);
        return ok;
    }
    if (strcmp(key, "frame~") == 0 || strcmp(key, "noframe~") == 0) {
        bool found = false;
        const cJSON *f;
        cJSON_ArrayForEach(f, r->frames)
        {
            char *text = cJSON_PrintUnformatted(f);
            if (contains(text, arg)) found = true;
            cJSON_free(text);
        }
        if (found == (key[0] == 'f')) return true;
        snprintf(why, cap, "%s frame contains \"%s\"", found ? "a" : "no", arg);
        return false;
    }
    if (strcmp(key, "count") == 0) {
        char method[64];
        int want = 0, n = 0;
        if (sscanf(arg, "%63s %d", method, &want) != 2) {
            snprintf(why, cap, "bad count expectation");
            return false;
        }
        const cJSON *f;
        cJSON_ArrayForEach(f, r->frames)
        {
            const char *m = field_text(f, "method");
            if (m && strcmp(m, method) == 0) n++;
        }
        if (n == want) return true;
        snprintf(why, cap, "%d %s frames, expected %d", n, method, want);
        return false;
    }
    if (strcmp(key, "exit") == 0) return true; /* handled by the caller */
    snprintf(why, cap, "unknown expectation '%s'", key);
    return false;
}

static bool run_and_check(const char *runtime, const fh_case *c, bool verbose)
{
    char dir[64];
    prepare_dir(c, dir, sizeof dir);
    char *ws_before = c->scratch ? workspace_snapshot(dir) : NULL;
    fh_result r;
    run_case(runtime, c, dir, &r);
    char why[1024] = "";
    bool ok = true;
    int want_exit = 0;
    for (int i = 0; i < c->n_expect; i++)
        if (strncmp(c->expect[i], "exit ", 5) == 0) want_exit = atoi(c->expect[i] + 5);
    if (r.problem[0]) {
        snprintf(why, sizeof why, "%s", r.problem);
        ok = false;
    } else if (r.exit_status != want_exit) {
        snprintf(why, sizeof why, "runtime exit status %d, expected %d", r.exit_status, want_exit);
        ok = false;
    } else if (want_exit == 0 && r.finishes != 1) {
        snprintf(why, sizeof why, "%d run.finish frames", r.finishes);
        ok = false;
    }
    char *frames_text = cJSON_PrintUnformatted(r.frames);
    if (ok && (contains(frames_text, SECRET) || contains(r.stderr_text, SECRET))) {
        snprintf(why, sizeof why, "the secret from outside the workspace leaked");
        ok = false;
    }
    const char *changed = outside_changed(dir);
    if (ok && changed) {
        snprintf(why, sizeof why, "%s", changed);
        ok = false;
    }
    if (ws_before) {
        /* Two roots: every write went to the scratch folder. */
        char *ws_after = workspace_snapshot(dir);
        if (ok && strcmp(ws_before, ws_after) != 0) {
            snprintf(why, sizeof why, "the workspace changed in a pooled run: %.300s -> %.300s",
                     ws_before, ws_after);
            ok = false;
        }
        free(ws_after);
        free(ws_before);
    }
    for (int i = 0; ok && i < c->n_expect; i++)
        ok = check(c->expect[i], &r, why, sizeof why);
    if (ok) {
        printf("ok   %s\n", c->name);
    } else {
        printf("FAIL %s: %s\n", c->name, why);
    }
    if (!ok || verbose) {
        char *fin = print_json(r.finish);
        printf("  run.finish: %s\n  frames: %.4000s\n  stderr: %.2000s\n", fin, frames_text,
               r.stderr_text);
        cJSON_free(fin);
    }
    cJSON_free(frames_text);
    free(r.stderr_text);
    cJSON_Delete(r.frames);
    remove_tree(dir);
    return ok;
}

/* ---- reading a table of cases ------------------------------------------------------------------
 */

static char *next_line(char **cursor)
{
    char *s = *cursor;
    if (!s || !*s) return NULL;
    char *nl = strchr(s, '\n');
    if (nl) {
        *nl = '\0';
        *cursor = nl + 1;
    } else {
        *cursor = s + strlen(s);
    }
    return s;
}

static char *after(char *s, const char *prefix)
{
    size_t n = strlen(prefix);
    return strncmp(s, prefix, n) == 0 ? s + n : NULL;
}

static int parse_cases(char *text, fh_case *cases, int max)
{
    int n = 0;
    char *cursor = text, *line;
    fh_case *c = NULL;
    bool in_source = false;
    size_t src_cap = 0, src_len = 0;
    while ((line = next_line(&cursor)) != NULL) {
        char *v;
        if ((v = after(line, "### ")) != NULL) {
            if (n == max) {
                fprintf(stderr, "fake_host: too many cases\n");
                exit(2);
            }
            c = &cases[n++];
            memset(c, 0, sizeof *c);
            while (*v == ' ')
                v++;
            c->name = v;
            in_source = false;
            src_cap = 4096;
            src_len = 0;
            c->source = calloc(1, src_cap);
            continue;
        }
        if (!c) continue;
        if (in_source) {
            size_t l = strlen(line);
            while (src_len + l + 2 > src_cap)
                c->source = realloc(c->source, src_cap *= 2);
            memcpy(c->source + src_len, line, l);
            src_len += l;
            c->source[src_len++] = '\n';
            c->source[src_len] = '\0';
            continue;
        }
        if (strcmp(line, "---") == 0) {
            in_source = true;
        } else if ((v = after(line, "@input ")) != NULL) {
            c->inputs = v;
        } else if ((v = after(line, "@limits ")) != NULL) {
            c->limits = v;
        } else if ((v = after(line, "@procedure ")) != NULL) {
            c->procedure = v;
        } else if ((v = after(line, "@llm ")) != NULL && c->n_llm < MAX_SCRIPT) {
            c->llm[c->n_llm++] = v;
        } else if ((v = after(line, "@human ")) != NULL && c->n_human < MAX_SCRIPT) {
            c->human[c->n_human++] = v;
        } else if ((v = after(line, "@file ")) != NULL && c->n_files < MAX_FILES) {
            char *sp = strchr(v, ' ');
            if (!sp) continue;
            *sp = '\0';
            c->file_path[c->n_files] = v;
            c->file_json[c->n_files++] = sp + 1;
        } else if ((v = after(line, "@symlink ")) != NULL && c->n_links < MAX_FILES) {
            char *sp = strchr(v, ' ');
            if (!sp) continue;
            *sp = '\0';
            c->link_path[c->n_links] = v;
            c->link_target[c->n_links++] = sp + 1;
        } else if (strcmp(line, "@scratch") == 0) {
            c->scratch = true;
        } else if ((v = after(line, "@expect ")) != NULL && c->n_expect < MAX_EXPECT) {
            c->expect[c->n_expect++] = v;
        } else if (line[0] == '@') {
            fprintf(stderr, "fake_host: case %s: unknown directive %s\n", c->name, line);
            exit(2);
        }
    }
    return n;
}

static int run_cases(const char *path, const char *only, const char *runtime)
{
    char *text = read_all_file(path);
    static fh_case cases[512];
    int n = parse_cases(text, cases, 512);
    int failed = 0, ran = 0;
    for (int i = 0; i < n; i++) {
        if (only && strcmp(cases[i].name, only) != 0) continue;
        ran++;
        if (!run_and_check(runtime, &cases[i], false)) failed++;
    }
    for (int i = 0; i < n; i++)
        free(cases[i].source);
    free(text);
    if (ran == 0) {
        fprintf(stderr, "fake_host: no case named %s\n", only ? only : "(any)");
        return 2;
    }
    printf("%d/%d cases passed\n", ran - failed, ran);
    return failed ? 1 : 0;
}

/* The runtime runs in the case's folder: make its path absolute first. */
static const char *absolute(const char *path)
{
    static char buf[PATH_MAX];
    if (!realpath(path, buf)) die(path);
    return buf;
}

/* ---- one procedure from the command line ------------------------------------------------------
 */

static int run_one(int argc, char **argv)
{
    fh_case c;
    memset(&c, 0, sizeof c);
    const char *runtime = absolute(argv[1]);
    c.name = argv[2];
    c.source = read_all_file(argv[2]);
    bool log = false;
    for (int i = 3; i < argc; i++) {
        const char *a = argv[i];
        const char *v = i + 1 < argc ? argv[i + 1] : NULL;
        if (strcmp(a, "--log") == 0) {
            log = true;
            continue;
        }
        if (!v) break;
        if (strcmp(a, "--input") == 0)
            c.inputs = v;
        else if (strcmp(a, "--limits") == 0)
            c.limits = v;
        else if (strcmp(a, "--procedure") == 0)
            c.procedure = v;
        else if (strcmp(a, "--llm") == 0 && c.n_llm < MAX_SCRIPT)
            c.llm[c.n_llm++] = v;
        else if (strcmp(a, "--human") == 0 && c.n_human < MAX_SCRIPT)
            c.human[c.n_human++] = v;
        i++;
    }
    char dir[64];
    prepare_dir(&c, dir, sizeof dir);
    fh_result r;
    run_case(runtime, &c, dir, &r);
    if (log) {
        const cJSON *f;
        cJSON_ArrayForEach(f, r.frames)
        {
            char *t = cJSON_PrintUnformatted(f);
            fprintf(stderr, "%s\n", t);
            cJSON_free(t);
        }
        fputs(r.stderr_text, stderr);
    }
    char *fin = r.finish ? cJSON_Print(r.finish) : strdup("null");
    printf("%s\n", fin);
    cJSON_free(fin);
    int rc = r.problem[0] || r.exit_status != 0 ? 1 : 0;
    if (r.problem[0]) fprintf(stderr, "fake_host: %s\n", r.problem);
    free(r.stderr_text);
    cJSON_Delete(r.frames);
    free(c.source);
    remove_tree(dir);
    return rc;
}

int main(int argc, char **argv)
{
    if (argc >= 4 && strcmp(argv[1], "--cases") == 0) {
        const char *path = argv[2], *only = NULL, *runtime;
        if (argc >= 6 && strcmp(argv[3], "--only") == 0) {
            only = argv[4];
            runtime = argv[5];
        } else {
            runtime = argv[3];
        }
        return run_cases(path, only, absolute(runtime));
    }
    if (argc < 3) {
        fputs("usage: fake_host RUNTIME FILE.tac [--input JSON] [--limits JSON] [--llm JSON]... "
              "[--human JSON]... [--log]\n       fake_host --cases FILE [--only NAME] RUNTIME\n",
              stderr);
        return 2;
    }
    return run_one(argc, argv);
}
