/*
 * The daemon's store cannot write: DMNONCE_E_STORE, and nothing changed.
 *   test_store SOCKET STATE_DIR
 * Another process (this test) holds the write lock of the daemon's SQLite
 * store, as a backup tool or an `sqlite3` shell in a transaction would. The
 * store runs in WAL mode, whose write lock is byte 120 of `dmnonce.db-shm`
 * (SQLite's WAL-index lock area, `UNIX_SHM_BASE`); a POSIX record lock on
 * it from another process makes the daemon's write wait out its 5 s busy
 * timeout and fail with "database is locked". Once the lock is released,
 * the same request succeeds.
 */
#define _POSIX_C_SOURCE 200809L
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "dmnonce.h"
#include "testutil.h"

#define WAL_WRITE_LOCK_BYTE 120

static int set_lock(int fd, short type) {
    struct flock fl = {.l_type = type, .l_whence = SEEK_SET, .l_start = WAL_WRITE_LOCK_BYTE,
                       .l_len = 1};
    return fcntl(fd, F_SETLK, &fl);
}

static dmnonce_result add(dmnonce_client *c) {
    dmnonce_account_spec spec = {.struct_size = sizeof spec, .server_id = "c-store.example",
                                 .server_url = "http://127.0.0.1:1/dm",
                                 .client_name = "c-agent",
                                 .auth_scheme = DMNONCE_AUTH_MD5,
                                 .encoding = DMNONCE_ENCODING_XML,
                                 .policy = DMNONCE_POLICY_ALLOW,
                                 .server_password = "srv-secret-store",
                                 .client_password = "cli-secret-store"};
    return dmnonce_account_add(c, &spec);
}

int main(int argc, char **argv) {
    if (argc != 3) {
        fprintf(stderr, "usage: %s SOCKET STATE_DIR\n", argv[0]);
        return 2;
    }
    dmnonce_client *c = NULL;
    EXPECT_RC(dmnonce_connect(argv[1], &c), DMNONCE_OK);
    if (!c) return tu_finish("test_store");
    /* The daemon waits 5 s for the lock; valgrind makes us slow. */
    EXPECT_RC(dmnonce_client_set_timeout(c, 30000), DMNONCE_OK);

    char shm[512];
    snprintf(shm, sizeof shm, "%s/dmnonce.db-shm", argv[2]);
    int fd = open(shm, O_RDWR);
    CHECK(fd >= 0);
    if (fd < 0) {
        dmnonce_close(c);
        return tu_finish("test_store");
    }
    CHECK(set_lock(fd, F_WRLCK) == 0);
    EXPECT_RC(add(c), DMNONCE_E_STORE);
    char msg[512];
    size_t len = 0;
    EXPECT_RC(dmnonce_client_last_error(c, msg, sizeof msg, &len), DMNONCE_OK);
    CHECK(strstr(msg, "locked") != NULL);
    CHECK(set_lock(fd, F_UNLCK) == 0);
    close(fd);

    /* Nothing changed: the account is absent, and adding it now works. */
    char list[1024];
    EXPECT_RC(dmnonce_account_list(c, list, sizeof list, &len), DMNONCE_OK);
    CHECK(strstr(list, "c-store.example") == NULL);
    EXPECT_RC(add(c), DMNONCE_OK);
    EXPECT_RC(dmnonce_account_list(c, list, sizeof list, &len), DMNONCE_OK);
    CHECK(strstr(list, "c-store.example\n") != NULL);
    dmnonce_close(c);
    return tu_finish("test_store");
}
