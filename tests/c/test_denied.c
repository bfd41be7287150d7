/*
 * A daemon whose allow-list excludes this uid refuses the connection:
 *   test_denied SOCKET
 */
#include <stdio.h>
#include <string.h>

#include "dmnonce.h"
#include "testutil.h"

int main(int argc, char **argv) {
    if (argc != 2) {
        fprintf(stderr, "usage: %s SOCKET\n", argv[0]);
        return 2;
    }
    dmnonce_client *c = NULL;
    EXPECT_RC(dmnonce_connect(argv[1], &c), DMNONCE_E_PERMISSION_DENIED);
    CHECK(c == NULL);
    char msg[512];
    size_t len = 0;
    EXPECT_RC(dmnonce_thread_last_error(msg, sizeof msg, &len), DMNONCE_OK);
    CHECK(len > 0);
    dmnonce_events *ev = NULL;
    EXPECT_RC(dmnonce_events_open(argv[1], DMNONCE_EVENTS_ALL, &ev), DMNONCE_E_PERMISSION_DENIED);
    dmnonce_close(c);
    return tu_finish("test_denied");
}
