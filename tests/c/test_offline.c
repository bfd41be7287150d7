/*
 * libdmnonce checks that need no daemon: version, result messages, buffer
 * sizing, NULL handles and arguments, daemon absent.
 */
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "dmnonce.h"
#include "testutil.h"

static const dmnonce_result ALL_CODES[] = {
    DMNONCE_OK,
    DMNONCE_E_NULL_PARAMETER,
    DMNONCE_E_INSUFFICIENT_SIZE,
    DMNONCE_E_INVALID_ARGUMENT,
    DMNONCE_E_DAEMON_UNAVAILABLE,
    DMNONCE_E_IO,
    DMNONCE_E_TIMEOUT,
    DMNONCE_E_CONNECTION_CLOSED,
    DMNONCE_E_PROTOCOL,
    DMNONCE_E_PANIC,
    DMNONCE_E_BAD_REQUEST,
    DMNONCE_E_UNSUPPORTED_VERSION,
    DMNONCE_E_FRAME_TOO_LARGE,
    DMNONCE_E_PERMISSION_DENIED,
    DMNONCE_E_UNKNOWN_ACCOUNT,
    DMNONCE_E_ACCOUNT_EXISTS,
    DMNONCE_E_BAD_PUSH,
    DMNONCE_E_PUSH_REFUSED,
    DMNONCE_E_POLICY_DENIED,
    DMNONCE_E_WRONG_STATE,
    DMNONCE_E_STORE,
    DMNONCE_E_BUSY,
    DMNONCE_E_INTERNAL,
    DMNONCE_E_UNKNOWN_DAEMON_ERROR,
};
#define N_CODES (sizeof ALL_CODES / sizeof ALL_CODES[0])

static void header_matches_library(void) {
    char want[64];
    snprintf(want, sizeof want, "%d.%d.%d", DMNONCE_VERSION_MAJOR, DMNONCE_VERSION_MINOR,
             DMNONCE_VERSION_PATCH);
    const char *got = dmnonce_version();
    CHECK(got != NULL);
    if (got) CHECK_STR(got, want);
}

static void every_code_has_a_distinct_message(void) {
    static char messages[N_CODES][160];
    for (size_t i = 0; i < N_CODES; i++) {
        size_t len = 0;
        EXPECT_RC(dmnonce_result_message(ALL_CODES[i], messages[i], sizeof messages[i], &len),
                  DMNONCE_OK);
        CHECK(len > 0 && len == strlen(messages[i]));
        for (size_t j = 0; j < i; j++) CHECK(strcmp(messages[i], messages[j]) != 0);
    }
    char buf[64];
    size_t len = 0;
    EXPECT_RC(dmnonce_result_message(4242, buf, sizeof buf, &len), DMNONCE_OK);
    CHECK_STR(buf, "unknown result code");
}

static void message_buffer_sizing(void) {
    size_t need = 0;
    /* Size query. */
    EXPECT_RC(dmnonce_result_message(DMNONCE_E_BAD_PUSH, NULL, 0, &need),
              DMNONCE_E_INSUFFICIENT_SIZE);
    CHECK(need > 0);
    /* One byte short: no room for the NUL; an empty string is left behind. */
    char *buf = malloc(need + 1);
    memset(buf, 'x', need + 1);
    size_t len = 0;
    EXPECT_RC(dmnonce_result_message(DMNONCE_E_BAD_PUSH, buf, need, &len),
              DMNONCE_E_INSUFFICIENT_SIZE);
    CHECK(len == need && buf[0] == '\0');
    EXPECT_RC(dmnonce_result_message(DMNONCE_E_BAD_PUSH, buf, need + 1, &len), DMNONCE_OK);
    CHECK(len == need && strlen(buf) == need);
    free(buf);
    /* NULL out_len, and NULL buf with a capacity. */
    char small[8];
    EXPECT_RC(dmnonce_result_message(DMNONCE_OK, small, sizeof small, NULL),
              DMNONCE_E_NULL_PARAMETER);
    EXPECT_RC(dmnonce_result_message(DMNONCE_OK, NULL, 8, &len), DMNONCE_E_NULL_PARAMETER);
}

static void absent_daemon(const char *dir) {
    char path[512];
    snprintf(path, sizeof path, "%s/no-daemon-here.sock", dir);
    dmnonce_client *client = (dmnonce_client *)&path; /* must be overwritten with NULL */
    EXPECT_RC(dmnonce_connect(path, &client), DMNONCE_E_DAEMON_UNAVAILABLE);
    CHECK(client == NULL);
    char msg[1024];
    size_t len = 0;
    EXPECT_RC(dmnonce_thread_last_error(msg, sizeof msg, &len), DMNONCE_OK);
    CHECK(strstr(msg, path) != NULL);

    dmnonce_events *events = NULL;
    EXPECT_RC(dmnonce_events_open(path, DMNONCE_EVENTS_ALL, &events),
              DMNONCE_E_DAEMON_UNAVAILABLE);
    CHECK(events == NULL);
    /* A stray mask bit is refused before any connection is tried. */
    EXPECT_RC(dmnonce_events_open(path, 1u << 0, &events), DMNONCE_E_INVALID_ARGUMENT);
    EXPECT_RC(dmnonce_thread_last_error(msg, sizeof msg, &len), DMNONCE_OK);
    CHECK(strstr(msg, "kinds_mask") != NULL);

    /* A successful size query leaves the thread message readable. */
    EXPECT_RC(dmnonce_thread_last_error(NULL, 0, &len), DMNONCE_E_INSUFFICIENT_SIZE);
    CHECK(len == strlen(msg));
}

static void null_arguments_without_a_handle(void) {
    const char bad_utf8[] = {(char)0xff, (char)0xfe, 0};
    dmnonce_client *client = NULL;
    EXPECT_RC(dmnonce_connect(NULL, NULL), DMNONCE_E_NULL_PARAMETER);
    EXPECT_RC(dmnonce_connect(bad_utf8, &client), DMNONCE_E_INVALID_ARGUMENT);
    EXPECT_RC(dmnonce_events_open(NULL, 0, NULL), DMNONCE_E_NULL_PARAMETER);

    uint8_t data[4] = {1, 2, 3, 4};
    char buf[64];
    size_t len = 0;
    bool valid = false;
    dmnonce_push_result push = {.struct_size = sizeof push};
    dmnonce_auth_scheme scheme;
    dmnonce_encoding enc;
    dmnonce_verdict verdict;
    dmnonce_notification notification;
    dmnonce_account_state state;
    dmnonce_event event = {.struct_size = sizeof event};
    const uint8_t *pdus[1] = {data};
    size_t lens[1] = {sizeof data};
    EXPECT_RC(dmnonce_push(NULL, DMNONCE_PUSH_AUTO, data, sizeof data, &push),
              DMNONCE_E_NULL_PARAMETER);
    EXPECT_RC(dmnonce_push_sms(NULL, pdus, lens, 1, false, &push), DMNONCE_E_NULL_PARAMETER);
    EXPECT_RC(dmnonce_verify(NULL, data, sizeof data, &verdict, &notification),
              DMNONCE_E_NULL_PARAMETER);
    EXPECT_RC(dmnonce_client_cred(NULL, "s", NULL, 0, &scheme, buf, sizeof buf, &len),
              DMNONCE_E_NULL_PARAMETER);
    EXPECT_RC(dmnonce_check_server_cred(NULL, "s", NULL, 0, "x", NULL, &valid),
              DMNONCE_E_NULL_PARAMETER);
    EXPECT_RC(dmnonce_accept_chal(NULL, "s", "AAAA"), DMNONCE_E_NULL_PARAMETER);
    EXPECT_RC(dmnonce_accept_chal_bytes(NULL, "s", data, 4), DMNONCE_E_NULL_PARAMETER);
    EXPECT_RC(dmnonce_issue_chal(NULL, "s", 0, &enc, (uint8_t *)buf, sizeof buf, &len),
              DMNONCE_E_NULL_PARAMETER);
    EXPECT_RC(dmnonce_account_add(NULL, NULL), DMNONCE_E_NULL_PARAMETER);
    EXPECT_RC(dmnonce_account_remove(NULL, "s"), DMNONCE_E_NULL_PARAMETER);
    EXPECT_RC(dmnonce_account_get_state(NULL, "s", &state), DMNONCE_E_NULL_PARAMETER);
    EXPECT_RC(dmnonce_account_list(NULL, buf, sizeof buf, &len), DMNONCE_E_NULL_PARAMETER);
    EXPECT_RC(dmnonce_client_set_timeout(NULL, 100), DMNONCE_E_NULL_PARAMETER);
    EXPECT_RC(dmnonce_client_daemon_version(NULL, buf, sizeof buf, &len),
              DMNONCE_E_NULL_PARAMETER);
    EXPECT_RC(dmnonce_client_last_error(NULL, buf, sizeof buf, &len), DMNONCE_E_NULL_PARAMETER);
    EXPECT_RC(dmnonce_events_next(NULL, 0, &event), DMNONCE_E_NULL_PARAMETER);
    EXPECT_RC(dmnonce_events_reason(NULL, buf, sizeof buf, &len), DMNONCE_E_NULL_PARAMETER);
    EXPECT_RC(dmnonce_events_last_error(NULL, buf, sizeof buf, &len),
              DMNONCE_E_NULL_PARAMETER);
    /* Freeing NULL is a no-op, as with free(). */
    dmnonce_close(NULL);
    dmnonce_events_close(NULL);
}

int main(int argc, char **argv) {
    const char *dir = argc > 1 ? argv[1] : "/tmp";
    header_matches_library();
    every_code_has_a_distinct_message();
    message_buffer_sizing();
    absent_daemon(dir);
    null_arguments_without_a_handle();
    return tu_finish("test_offline");
}
