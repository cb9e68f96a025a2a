/* Replays a fuzz target over every file under the given directories, so the
 * seed corpora (and every crash ever found, once added there) run in ctest
 * under the normal and the sanitizer builds. With -DTACTUS_FUZZ=ON the
 * targets link libFuzzer instead of this file. */
#include <dirent.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>

#include "base.h"
#include "fuzz.h"

static int replay(const char *path, size_t *count)
{
    struct stat sb;
    if (stat(path, &sb) != 0) {
        fprintf(stderr, "replay: cannot stat %s\n", path);
        return 1;
    }
    if (S_ISDIR(sb.st_mode)) {
        DIR *d = opendir(path);
        if (!d) return 1;
        struct dirent *e;
        int rc = 0;
        while ((e = readdir(d))) {
            if (e->d_name[0] == '.') continue;
            char sub[4096];
            snprintf(sub, sizeof sub, "%s/%s", path, e->d_name);
            rc |= replay(sub, count);
        }
        closedir(d);
        return rc;
    }
    char *buf;
    size_t len;
    int err;
    if (tx_read_file(path, 16u << 20, &buf, &len, &err) != TX_OK) return 1;
    LLVMFuzzerTestOneInput((const uint8_t *)buf, len);
    tx_free(buf);
    (*count)++;
    return 0;
}

int main(int argc, char **argv)
{
    size_t count = 0;
    int rc = 0;
    for (int i = 1; i < argc; i++) rc |= replay(argv[i], &count);
    printf("replayed %zu inputs\n", count);
    return rc || count == 0;
}
