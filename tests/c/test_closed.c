/*
 * The daemon goes away under a connected agent, and comes back:
 *   test_closed SOCKET DIR
 * Connects and subscribes, creates DIR/ready and waits; the suite stops the
 * daemon. Calls must then fail with result codes (no SIGPIPE), a reconnect
 * must report the daemon absent; the test creates DIR/down-checked, the
 * suite restarts the daemon and creates DIR/restarted, and the same client
 * handle must work again.
 */
#define _POSIX_C_SOURCE 200809L
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "dmnonce.h"
#include "testutil.h"

static void pause_ms(long ms) {
    struct timespec ts = {ms / 1000, (ms % 1000) * 1000000L};
    nanosleep(&ts, NULL);
}

static void touch(const char *dir, const char *name) {
    char path[512];
    snprintf(path, sizeof path, "%s/%s", dir, name);
    FILE *f = fopen(path, "w");
    CHECK(f != NULL);
    if (f) fclose(f);
}

static int wait_file(const char *dir, const char *name, int seconds) {
    char path[512];
    snprintf(path, sizeof path, "%s/%s", dir, name);
    for (int i = 0; i < seconds * 10; i++) {
        if (access(path, F_OK) == 0) return 1;
        pause_ms(100);
    }
    return 0;
}

int main(int argc, char **argv) {
    if (argc != 3) {
        fprintf(stderr, "usage: %s SOCKET DIR\n", argv[0]);
        return 2;
    }
    const char *sock = argv[1], *dir = argv[2];
    dmnonce_client *c = NULL;
    dmnonce_events *ev = NULL;
    EXPECT_RC(dmnonce_connect(sock, &c), DMNONCE_OK);
    EXPECT_RC(dmnonce_events_open(sock, DMNONCE_EVENTS_ALL, &ev), DMNONCE_OK);
    if (!c || !ev) return tu_finish("test_closed");
    touch(dir, "ready");

    dmnonce_event e = {.struct_size = sizeof e};
    EXPECT_RC(dmnonce_events_next(ev, 60000, &e), DMNONCE_E_CONNECTION_CLOSED);
    char msg[256];
    size_t len = 0;
    EXPECT_RC(dmnonce_events_last_error(ev, msg, sizeof msg, &len), DMNONCE_OK);
    CHECK(len > 0);
    /* Past the idle-probe delay, a request probes the dead connection (a
     * write into a closed socket), fails to reconnect, and says so. */
    pause_ms(1200);
    char version[32] = "";
    for (int i = 0; i < 3; i++) {
        EXPECT_RC(dmnonce_client_daemon_version(c, version, sizeof version, &len),
                  DMNONCE_E_DAEMON_UNAVAILABLE);
    }
    dmnonce_client *again = NULL;
    EXPECT_RC(dmnonce_connect(sock, &again), DMNONCE_E_DAEMON_UNAVAILABLE);

    /* The daemon comes back: the same handle recovers. */
    touch(dir, "down-checked");
    CHECK(wait_file(dir, "restarted", 60));
    EXPECT_RC(dmnonce_client_daemon_version(c, version, sizeof version, &len), DMNONCE_OK);
    CHECK(len > 0 && len == strlen(version));
    dmnonce_events_close(ev);
    dmnonce_close(c);
    return tu_finish("test_closed");
}
