/* bench_answer.c - one answer's latency, as a client sees it (bench/serve/run.sh):
 * opens the run's event stream, waits until it says the run waits, answers
 * the approval (POST /v1/approvals/ID with its request_hash), and times from
 * just before the POST to the first event the stream sends after it: the
 * run resumed by a worker and recorded its next effect. Prints microseconds.
 *
 *   bench_answer PORT TOKEN RUN_ID REQUEST_ID REQUEST_HASH
 */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <time.h>
#include <unistd.h>

static long long now_us(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (long long)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}

static int dial(int port)
{
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons((unsigned short)port)};
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    struct timeval tv = {30, 0};
    setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
    if (fd < 0 || connect(fd, (struct sockaddr *)&a, sizeof a) != 0) {
        perror("bench_answer: connect");
        exit(2);
    }
    return fd;
}

static void send_all(int fd, const char *s)
{
    size_t n = strlen(s), off = 0;
    while (off < n) {
        ssize_t w = write(fd, s + off, n - off);
        if (w <= 0) {
            perror("bench_answer: write");
            exit(2);
        }
        off += (size_t)w;
    }
}

/* Reads the stream until `needle` has come (counting "event:" lines seen). */
static int read_until(int fd, char *buf, size_t cap, size_t *len, const char *needle)
{
    while (!strstr(buf, needle)) {
        if (*len + 1 >= cap) { /* keep the tail only */
            memmove(buf, buf + cap / 2, *len - cap / 2);
            *len -= cap / 2;
        }
        ssize_t r = read(fd, buf + *len, cap - 1 - *len);
        if (r <= 0) return -1;
        *len += (size_t)r;
        buf[*len] = '\0';
    }
    return 0;
}

int main(int argc, char **argv)
{
    if (argc != 6) {
        fprintf(stderr, "usage: bench_answer PORT TOKEN RUN_ID REQUEST_ID REQUEST_HASH\n");
        return 2;
    }
    int port = atoi(argv[1]);
    const char *token = argv[2], *run = argv[3], *req = argv[4], *hash = argv[5];
    char out[2048];
    static char buf[1 << 20];
    size_t len = 0;
    buf[0] = '\0';
    int sse = dial(port);
    snprintf(out, sizeof out, "GET /v1/runs/%s/events HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer %s\r\n\r\n",
             run, token);
    send_all(sse, out);
    if (read_until(sse, buf, sizeof buf, &len, "\"status\":\"waiting\"") != 0) {
        fprintf(stderr, "bench_answer: the stream never said the run waits\n");
        return 1;
    }
    /* whatever came with it is old news */
    len = 0;
    buf[0] = '\0';
    char body[256];
    snprintf(body, sizeof body, "{\"approved\": true, \"request_hash\": \"%s\"}", hash);
    snprintf(out, sizeof out,
             "POST /v1/approvals/%s HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer %s\r\nContent-Type: "
             "application/json\r\nContent-Length: %zu\r\nConnection: close\r\n\r\n%s",
             req, token, strlen(body), body);
    int post = dial(port);
    long long t0 = now_us();
    send_all(post, out);
    char reply[4096];
    ssize_t r = read(post, reply, sizeof reply - 1);
    close(post);
    if (r < 12 || strncmp(reply + 9, "200", 3) != 0) {
        fprintf(stderr, "bench_answer: the answer was refused: %.*s\n", (int)(r > 0 ? r : 0), reply);
        return 1;
    }
    if (read_until(sse, buf, sizeof buf, &len, "event: ") != 0) {
        fprintf(stderr, "bench_answer: no event after the answer\n");
        return 1;
    }
    long long t1 = now_us();
    close(sse);
    printf("%lld\n", t1 - t0);
    return 0;
}
