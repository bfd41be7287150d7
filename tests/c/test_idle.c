/*
 * A client handle outlives the daemon's idle timeout:
 *   test_idle SOCKET      (daemon started with [control] idle_timeout_ms = 1200)
 * The daemon closes the silent connection; the next calls must succeed
 * (probe, reconnect, then the request, sent once).
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
    dmnonce_client *c = NULL;
    EXPECT_RC(dmnonce_connect(argv[1], &c), DMNONCE_OK);
    if (!c) return tu_finish("test_idle");
    char buf[256];
    size_t len = 0;
    EXPECT_RC(dmnonce_client_set_timeout(c, 5000), DMNONCE_OK);
    for (int round = 0; round < 2; round++) {
        pause_ms(3000); /* two and a half idle timeouts */
        EXPECT_RC(dmnonce_account_list(c, buf, sizeof buf, &len), DMNONCE_OK);
        const uint8_t garbage[] = {0x01, 0x02, 0x03};
        dmnonce_push_result r = {.struct_size = sizeof r};
        EXPECT_RC(dmnonce_push(c, DMNONCE_PUSH_PACKAGE0, garbage, sizeof garbage, &r),
                  DMNONCE_E_BAD_PUSH);
    }
    dmnonce_close(c);
    return tu_finish("test_idle");
}
