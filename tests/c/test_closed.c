/*
 * The daemon goes away under a connected agent:
 *   test_closed SOCKET READY_FILE
 * Connects and subscribes, creates READY_FILE, then waits; the suite stops
 * the daemon. Every later call must fail with a result code (not crash the
 * process with SIGPIPE), and a reconnect must report the daemon absent.
 */
#include <stdio.h>
#include <string.h>

#include "dmnonce.h"
#include "testutil.h"

int main(int argc, char **argv) {
    if (argc != 3) {
        fprintf(stderr, "usage: %s SOCKET READY_FILE\n", argv[0]);
        return 2;
    }
    dmnonce_client *c = NULL;
    dmnonce_events *ev = NULL;
    EXPECT_RC(dmnonce_connect(argv[1], &c), DMNONCE_OK);
    EXPECT_RC(dmnonce_events_open(argv[1], DMNONCE_EVENTS_ALL, &ev), DMNONCE_OK);
    if (!c || !ev) return tu_finish("test_closed");
    FILE *ready = fopen(argv[2], "w");
    CHECK(ready != NULL);
    if (ready) fclose(ready);

    dmnonce_event e;
    EXPECT_RC(dmnonce_events_next(ev, 60000, &e), DMNONCE_E_CONNECTION_CLOSED);
    char msg[256];
    size_t len = 0;
    EXPECT_RC(dmnonce_events_last_error(ev, msg, sizeof msg, &len), DMNONCE_OK);
    CHECK(len > 0);
    /* Requests on the old connection: written into a closed socket. */
    char version[32];
    for (int i = 0; i < 3; i++) {
        EXPECT_RC(dmnonce_client_daemon_version(c, version, sizeof version, &len),
                  DMNONCE_E_CONNECTION_CLOSED);
    }
    dmnonce_client *again = NULL;
    EXPECT_RC(dmnonce_connect(argv[1], &again), DMNONCE_E_DAEMON_UNAVAILABLE);
    dmnonce_events_close(ev);
    dmnonce_close(c);
    return tu_finish("test_closed");
}
