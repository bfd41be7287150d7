/*
 * A daemon with one control connection slot refuses a second connection:
 *   test_busy SOCKET      (daemon started with [control] max_connections = 1)
 * While one handle holds the slot, dmnonce_connect and dmnonce_events_open
 * get DMNONCE_E_BUSY (the daemon answers one id-0 `busy` response and
 * closes); once the handle is closed, a new connection is served.
 */
#define _POSIX_C_SOURCE 200809L
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "dmnonce.h"
#include "testutil.h"

static void pause_ms(long ms) {
    struct timespec ts = {ms / 1000, (ms % 1000) * 1000000L};
    nanosleep(&ts, NULL);
}

int main(int argc, char **argv) {
    if (argc != 2) {
        fprintf(stderr, "usage: %s SOCKET\n", argv[0]);
        return 2;
    }
    const char *sock = argv[1];
    dmnonce_client *holder = NULL;
    EXPECT_RC(dmnonce_connect(sock, &holder), DMNONCE_OK);
    if (!holder) return tu_finish("test_busy");

    char msg[512];
    size_t len = 0;
    dmnonce_client *second = (dmnonce_client *)msg; /* must be overwritten with NULL */
    EXPECT_RC(dmnonce_connect(sock, &second), DMNONCE_E_BUSY);
    CHECK(second == NULL);
    EXPECT_RC(dmnonce_thread_last_error(msg, sizeof msg, &len), DMNONCE_OK);
    CHECK(strstr(msg, "busy") != NULL);
    dmnonce_events *ev = NULL;
    EXPECT_RC(dmnonce_events_open(sock, DMNONCE_EVENTS_ALL, &ev), DMNONCE_E_BUSY);
    CHECK(ev == NULL);

    /* The holder is still served. */
    char version[32];
    EXPECT_RC(dmnonce_client_daemon_version(holder, version, sizeof version, &len), DMNONCE_OK);
    dmnonce_close(holder);

    /* The daemon frees the slot when it sees the hang-up. */
    dmnonce_result rc = DMNONCE_E_BUSY;
    for (int i = 0; i < 100 && rc == DMNONCE_E_BUSY; i++) {
        rc = dmnonce_connect(sock, &second);
        if (rc == DMNONCE_E_BUSY) pause_ms(50);
    }
    EXPECT_RC(rc, DMNONCE_OK);
    if (second) {
        EXPECT_RC(dmnonce_client_daemon_version(second, version, sizeof version, &len),
                  DMNONCE_OK);
        dmnonce_close(second);
    }
    return tu_finish("test_busy");
}
