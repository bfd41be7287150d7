/*
 * libdmnonce against a scripted control-socket peer (no dmnonced):
 *   test_peer DIR
 * A forked child listens on DIR/peer.sock and answers each connection, in
 * order, with crafted lines (docs/protocol.md: one JSON object per line).
 * It provokes the result codes a well-behaved daemon never sends:
 *   0  a hello answered with text that is not JSON     -> DMNONCE_E_PROTOCOL
 *   1  a hello naming protocol version 2               -> DMNONCE_E_UNSUPPORTED_VERSION
 *   2  one error response per daemon error class name, then an unknown
 *      name                                            -> DMNONCE_E_BAD_REQUEST …
 *                                                         DMNONCE_E_INTERNAL,
 *                                                         DMNONCE_E_UNKNOWN_DAEMON_ERROR
 *   3  malformed answers on a live handle: a result of the wrong shape, a
 *      line that is not UTF-8, a line over the frame limit -> DMNONCE_E_PROTOCOL
 *   4  the peer hangs up in the middle of a response   -> DMNONCE_E_CONNECTION_CLOSED
 *   5  the agent's socket descriptor is replaced by /dev/null under the
 *      handle (as an agent that closes or reuses descriptors would do), so
 *      the socket calls fail                           -> DMNONCE_E_IO
 * Each connection's hello (sent by dmnonce_connect, and as the idle probe)
 * is answered normally except in scenarios 0 and 1.
 */
#define _POSIX_C_SOURCE 200809L
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

#include "dmnonce.h"
#include "testutil.h"

enum { S_GARBAGE, S_VERSION, S_ERROR_CLASSES, S_MALFORMED, S_HANGUP, S_IO, N_SCENARIOS };

/* The daemon's error class names (docs/protocol.md) and the codes the
 * header gives them, then a name from a newer daemon. */
static const struct {
    const char *name;
    dmnonce_result code;
} CLASSES[] = {
    {"bad_request", DMNONCE_E_BAD_REQUEST},
    {"unsupported_version", DMNONCE_E_UNSUPPORTED_VERSION},
    {"frame_too_large", DMNONCE_E_FRAME_TOO_LARGE},
    {"permission_denied", DMNONCE_E_PERMISSION_DENIED},
    {"unknown_account", DMNONCE_E_UNKNOWN_ACCOUNT},
    {"account_exists", DMNONCE_E_ACCOUNT_EXISTS},
    {"bad_push", DMNONCE_E_BAD_PUSH},
    {"push_refused", DMNONCE_E_PUSH_REFUSED},
    {"policy_denied", DMNONCE_E_POLICY_DENIED},
    {"wrong_state", DMNONCE_E_WRONG_STATE},
    {"store", DMNONCE_E_STORE},
    {"busy", DMNONCE_E_BUSY},
    {"internal", DMNONCE_E_INTERNAL},
    {"frobnicated_by_a_newer_daemon", DMNONCE_E_UNKNOWN_DAEMON_ERROR},
};
#define N_CLASSES (sizeof CLASSES / sizeof CLASSES[0])

/* ---- the scripted peer (child process) ---- */

static int peer_errors = 0;

/* One connection's read side: whole lines, however the bytes arrive. */
struct conn {
    int fd;
    char buf[65536];
    size_t len;
};

/* Reads the next line into `line` (without '\n'); 0 at end of stream. */
static int read_line(struct conn *c, char *line, size_t cap) {
    for (;;) {
        char *nl = memchr(c->buf, '\n', c->len);
        if (nl) {
            size_t n = (size_t)(nl - c->buf);
            size_t keep = n < cap - 1 ? n : cap - 1;
            memcpy(line, c->buf, keep);
            line[keep] = '\0';
            c->len -= n + 1;
            memmove(c->buf, nl + 1, c->len);
            return 1;
        }
        if (c->len == sizeof c->buf) c->len = 0; /* a runaway line: drop it */
        ssize_t got = read(c->fd, c->buf + c->len, sizeof c->buf - c->len);
        if (got < 0 && errno == EINTR) continue;
        if (got <= 0) return 0;
        c->len += (size_t)got;
    }
}

static void put(int fd, const char *data, size_t n) {
    while (n > 0) {
        ssize_t w = send(fd, data, n, MSG_NOSIGNAL);
        if (w < 0 && errno == EINTR) continue;
        if (w <= 0) return; /* the agent hung up: fine for the oversized line */
        data += w;
        n -= (size_t)w;
    }
}

static void put_line(int fd, const char *fmt, unsigned long long id, const char *arg) {
    char out[1024];
    int n = snprintf(out, sizeof out, fmt, id, arg);
    put(fd, out, (size_t)n);
}

static unsigned long long request_id(const char *line) {
    const char *p = strstr(line, "\"id\":");
    return p ? strtoull(p + 5, NULL, 10) : 0;
}

static const char HELLO_OK[] =
    "{\"v\":1,\"id\":%llu,\"ok\":true,\"result\":{\"protocol\":1,\"daemon_version\":\"%s\"}}\n";
static const char ERROR_LINE[] =
    "{\"v\":1,\"id\":%llu,\"ok\":false,\"error\":{\"code\":\"%s\",\"message\":\"scripted\"}}\n";

/* Answers the k-th non-hello request of a connection in `scenario`. */
static void answer(int scenario, int fd, unsigned long long id, int k) {
    static char big[300 * 1024];
    switch (scenario) {
    case S_ERROR_CLASSES:
        if ((size_t)k < N_CLASSES) {
            put_line(fd, ERROR_LINE, id, CLASSES[k].name);
        } else {
            peer_errors++;
            fprintf(stderr, "peer: more requests than error classes\n");
        }
        break;
    case S_MALFORMED:
        if (k == 0) {
            /* account_list answered with a result of the wrong shape. */
            put_line(fd, "{\"v\":1,\"id\":%llu,\"ok\":true,\"result\":{\"accounts\":%s}}\n", id,
                     "5");
        } else if (k == 1) {
            static const char not_utf8[] = "{\"v\":1,\"id\":\xff\xfe}\n";
            put(fd, not_utf8, sizeof not_utf8 - 1);
        } else {
            /* Over the library's frame limit (256 KiB), no newline. */
            memset(big, 'x', sizeof big);
            put(fd, big, sizeof big);
        }
        break;
    case S_HANGUP: {
        char half[64];
        int n = snprintf(half, sizeof half, "{\"v\":1,\"id\":%llu,\"ok\":tr", id);
        put(fd, half, (size_t)n);
        shutdown(fd, SHUT_RDWR);
        break;
    }
    default:
        /* S_IO: the agent's socket is gone before it sends anything. */
        peer_errors++;
        fprintf(stderr, "peer: unexpected request in scenario %d\n", scenario);
        break;
    }
}

static void serve(int listener) {
    static struct conn c;
    char line[8192];
    for (int scenario = 0; scenario < N_SCENARIOS; scenario++) {
        int fd = accept(listener, NULL, NULL);
        if (fd < 0) {
            if (errno == EINTR) {
                scenario--;
                continue;
            }
            peer_errors++;
            break;
        }
        c.fd = fd;
        c.len = 0;
        int k = 0;
        while (read_line(&c, line, sizeof line)) {
            if (strstr(line, "\"v\":1") == NULL) {
                peer_errors++;
                fprintf(stderr, "peer: request without \"v\":1\n");
            }
            unsigned long long id = request_id(line);
            int hello = strstr(line, "\"op\":\"hello\"") != NULL;
            if (scenario == S_GARBAGE && hello) {
                put(fd, "this is not JSON\n", 17);
            } else if (scenario == S_VERSION && hello) {
                put_line(fd,
                         "{\"v\":1,\"id\":%llu,\"ok\":true,\"result\":"
                         "{\"protocol\":2,\"daemon_version\":\"%s\"}}\n",
                         id, "9.0.0");
            } else if (hello) {
                put_line(fd, HELLO_OK, id, "0.0.0-peer");
            } else {
                answer(scenario, fd, id, k++);
            }
        }
        close(fd);
    }
}

/* ---- the agent (parent process) ---- */

static void thread_error(char *msg, size_t cap) {
    size_t len = 0;
    if (dmnonce_thread_last_error(msg, cap, &len) != DMNONCE_OK) msg[0] = '\0';
}

static void handle_error(dmnonce_client *c, char *msg, size_t cap) {
    size_t len = 0;
    if (dmnonce_client_last_error(c, msg, cap, &len) != DMNONCE_OK) msg[0] = '\0';
}

/* Descriptors open now, as a bitmap over 0..1023. */
static void open_fds(unsigned char *set) {
    memset(set, 0, 1024);
    for (int fd = 0; fd < 1024; fd++) set[fd] = fcntl(fd, F_GETFD) != -1;
}

static void garbage_and_version(const char *sock) {
    char msg[512];
    dmnonce_client *c = (dmnonce_client *)msg; /* must be overwritten with NULL */
    EXPECT_RC(dmnonce_connect(sock, &c), DMNONCE_E_PROTOCOL);
    CHECK(c == NULL);
    thread_error(msg, sizeof msg);
    CHECK(strstr(msg, "non-JSON") != NULL);

    c = (dmnonce_client *)msg;
    EXPECT_RC(dmnonce_connect(sock, &c), DMNONCE_E_UNSUPPORTED_VERSION);
    CHECK(c == NULL);
    thread_error(msg, sizeof msg);
    CHECK(strstr(msg, "protocol 2") != NULL);
}

static void error_classes(const char *sock) {
    dmnonce_client *c = NULL;
    EXPECT_RC(dmnonce_connect(sock, &c), DMNONCE_OK);
    if (!c) return;
    char buf[256], msg[512];
    size_t len = 0;
    for (size_t i = 0; i < N_CLASSES; i++) {
        EXPECT_RC(dmnonce_account_list(c, buf, sizeof buf, &len), CLASSES[i].code);
        handle_error(c, msg, sizeof msg);
        CHECK(strstr(msg, "scripted") != NULL);
    }
    dmnonce_close(c);
}

static void malformed_answers(const char *sock) {
    dmnonce_client *c = NULL;
    EXPECT_RC(dmnonce_connect(sock, &c), DMNONCE_OK);
    if (!c) return;
    char buf[256], msg[512];
    size_t len = 0;
    EXPECT_RC(dmnonce_account_list(c, buf, sizeof buf, &len), DMNONCE_E_PROTOCOL);
    handle_error(c, msg, sizeof msg);
    CHECK(strstr(msg, "account_list") != NULL);
    EXPECT_RC(dmnonce_account_list(c, buf, sizeof buf, &len), DMNONCE_E_PROTOCOL);
    handle_error(c, msg, sizeof msg);
    CHECK(strstr(msg, "UTF-8") != NULL);
    EXPECT_RC(dmnonce_account_list(c, buf, sizeof buf, &len), DMNONCE_E_PROTOCOL);
    handle_error(c, msg, sizeof msg);
    CHECK(strstr(msg, "frame longer") != NULL);
    dmnonce_close(c);
}

static void hangup(const char *sock) {
    dmnonce_client *c = NULL;
    EXPECT_RC(dmnonce_connect(sock, &c), DMNONCE_OK);
    if (!c) return;
    char buf[256];
    size_t len = 0;
    EXPECT_RC(dmnonce_account_list(c, buf, sizeof buf, &len), DMNONCE_E_CONNECTION_CLOSED);
    dmnonce_close(c);
}

static void broken_descriptor(const char *sock) {
    static unsigned char before[1024], after[1024];
    open_fds(before);
    dmnonce_client *c = NULL;
    EXPECT_RC(dmnonce_connect(sock, &c), DMNONCE_OK);
    if (!c) return;
    open_fds(after);
    int fd = -1, found = 0;
    for (int i = 0; i < 1024; i++) {
        struct stat st;
        if (after[i] && !before[i] && fstat(i, &st) == 0 && S_ISSOCK(st.st_mode)) {
            fd = i;
            found++;
        }
    }
    CHECK(found == 1);
    int null_fd = open("/dev/null", O_RDWR);
    CHECK(null_fd >= 0);
    if (found == 1 && null_fd >= 0) {
        /* The next call comes well within the 1 s idle-probe threshold, so
         * it goes straight to the (now broken) descriptor. */
        CHECK(dup2(null_fd, fd) == fd);
        char buf[256], msg[512];
        size_t len = 0;
        EXPECT_RC(dmnonce_account_list(c, buf, sizeof buf, &len), DMNONCE_E_IO);
        handle_error(c, msg, sizeof msg);
        CHECK(strstr(msg, "I/O") != NULL);
    }
    if (null_fd >= 0) close(null_fd);
    dmnonce_close(c); /* closes the /dev/null duplicate in the socket's place */
}

int main(int argc, char **argv) {
    if (argc != 2) {
        fprintf(stderr, "usage: %s DIR\n", argv[0]);
        return 2;
    }
    char sock[256];
    struct sockaddr_un addr = {.sun_family = AF_UNIX};
    int n = snprintf(sock, sizeof sock, "%s/peer.sock", argv[1]);
    if (n < 0 || (size_t)n >= sizeof addr.sun_path) {
        fprintf(stderr, "socket path too long\n");
        return 2;
    }
    memcpy(addr.sun_path, sock, (size_t)n + 1);
    unlink(sock);
    int listener = socket(AF_UNIX, SOCK_STREAM, 0);
    if (listener < 0 || bind(listener, (struct sockaddr *)&addr, sizeof addr) != 0 ||
        listen(listener, 8) != 0) {
        perror("peer socket");
        return 2;
    }
    fflush(NULL);
    pid_t child = fork();
    if (child < 0) {
        perror("fork");
        return 2;
    }
    if (child == 0) {
        alarm(120); /* never outlive a stuck agent */
        serve(listener);
        close(listener);
        _exit(peer_errors ? 1 : 0);
    }
    close(listener);

    garbage_and_version(sock);
    error_classes(sock);
    malformed_answers(sock);
    hangup(sock);
    broken_descriptor(sock);

    int status = 0;
    CHECK(waitpid(child, &status, 0) == child);
    CHECK(WIFEXITED(status) && WEXITSTATUS(status) == 0);
    unlink(sock);
    return tu_finish("test_peer");
}
