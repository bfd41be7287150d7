/*
 * Programs built against another version of dmnonce.h keep working with
 * this library ("Structs that can grow" in the header), against a real
 * daemon. An older header is modelled by each struct as it would have been
 * declared before its last fields were appended (a prefix of today's
 * layout, with its own, smaller sizeof), followed by canary bytes the
 * library must neither write nor read; a newer header by today's struct
 * with a field appended.
 *
 * Usage: test_abi SOCKET PUSH_FILE   (a stored-nonce push: an alert)
 */
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "dmnonce.h"
#include "testutil.h"

#define CANARY 0xa5

/* dmnonce_push_result before `notification` was appended. */
struct old_push_result {
    size_t struct_size;
    dmnonce_outcome outcome;
    dmnonce_verdict verdict;
    bool has_notification;
};

/* dmnonce_event before `notification` and `reason_len` were appended. */
struct old_event {
    size_t struct_size;
    dmnonce_event_kind kind;
    dmnonce_verdict verdict;
    uint16_t session_id;
    bool has_server_id;
    size_t server_id_len;
    char server_id[DMNONCE_SERVER_ID_CAP];
};

/* dmnonce_account_spec before the initial client nonce was appended. */
struct old_account_spec {
    size_t struct_size;
    const char *server_id;
    const char *server_url;
    const char *client_name;
    uint32_t auth_scheme;
    uint32_t encoding;
    uint32_t policy;
    const char *server_password;
    const char *client_password;
    const uint8_t *server_nonce;
    size_t server_nonce_len;
};

static int untouched(const unsigned char *p, size_t n) {
    for (size_t i = 0; i < n; i++) {
        if (p[i] != CANARY) return 0;
    }
    return 1;
}

static uint8_t push[4096];
static size_t push_len;

static void outputs(const char *socket, dmnonce_client *c) {
    /* Newer caller: a field this library does not know reads as zero. */
    struct {
        dmnonce_push_result r;
        uint64_t appended;
    } newer;
    memset(&newer, CANARY, sizeof newer);
    newer.r.struct_size = sizeof newer;
    EXPECT_RC(dmnonce_push(c, DMNONCE_PUSH_AUTO, push, push_len, &newer.r), DMNONCE_OK);
    CHECK(newer.r.outcome == DMNONCE_OUTCOME_ALERT);
    CHECK(newer.r.has_notification);
    CHECK(newer.appended == 0);
    CHECK(newer.r.struct_size == sizeof(dmnonce_push_result));
    char server_id[DMNONCE_SERVER_ID_CAP];
    snprintf(server_id, sizeof server_id, "%s", newer.r.notification.server_id);
    CHECK(server_id[0] != '\0');

    /* Older caller: its fields, nothing after them. */
    struct {
        struct old_push_result r;
        unsigned char after[sizeof(dmnonce_push_result)];
    } older;
    memset(&older, CANARY, sizeof older);
    older.r.struct_size = sizeof older.r;
    EXPECT_RC(dmnonce_push(c, DMNONCE_PUSH_AUTO, push, push_len, (dmnonce_push_result *)&older.r),
              DMNONCE_OK);
    CHECK(older.r.outcome == DMNONCE_OUTCOME_ALERT);
    CHECK(older.r.verdict == DMNONCE_VERDICT_STORED_NONCE);
    CHECK(older.r.has_notification);
    CHECK(older.r.struct_size == sizeof older.r);
    CHECK(untouched(older.after, sizeof older.after));

    /* An older event, from a subscription opened before the push. */
    dmnonce_events *ev = NULL;
    EXPECT_RC(dmnonce_events_open(socket, 1u << DMNONCE_EVENT_ALERT, &ev), DMNONCE_OK);
    if (!ev) return;
    EXPECT_RC(dmnonce_push(c, DMNONCE_PUSH_AUTO, push, push_len, &newer.r), DMNONCE_OK);
    struct {
        struct old_event e;
        unsigned char after[sizeof(dmnonce_event)];
    } old_ev;
    memset(&old_ev, CANARY, sizeof old_ev);
    old_ev.e.struct_size = sizeof old_ev.e;
    EXPECT_RC(dmnonce_events_next(ev, 10000, (dmnonce_event *)&old_ev.e), DMNONCE_OK);
    CHECK(old_ev.e.kind == DMNONCE_EVENT_ALERT);
    CHECK(old_ev.e.has_server_id);
    CHECK_STR(old_ev.e.server_id, server_id);
    CHECK(old_ev.e.server_id_len == strlen(server_id));
    CHECK(old_ev.e.struct_size == sizeof old_ev.e);
    CHECK(untouched(old_ev.after, sizeof old_ev.after));
    dmnonce_events_close(ev);

    /* A caller that forgot struct_size: refused before the daemon is asked. */
    dmnonce_push_result unset;
    memset(&unset, 0, sizeof unset);
    EXPECT_RC(dmnonce_push(c, DMNONCE_PUSH_AUTO, push, push_len, &unset),
              DMNONCE_E_INVALID_ARGUMENT);
}

static void inputs(dmnonce_client *c) {
    static const uint8_t server_nonce[] = {1, 2, 3, 4};
    /* Older caller: the fields after its struct are not read (the canary
     * would be a wild client_nonce pointer and length). */
    struct {
        struct old_account_spec s;
        unsigned char after[sizeof(dmnonce_account_spec)];
    } older;
    memset(&older, CANARY, sizeof older);
    older.s = (struct old_account_spec){
        .struct_size = sizeof older.s,
        .server_id = "abi-old.example",
        .server_url = "http://127.0.0.1:1/dm",
        .client_name = "abi-agent",
        .auth_scheme = DMNONCE_AUTH_MD5,
        .encoding = DMNONCE_ENCODING_XML,
        .policy = DMNONCE_POLICY_ALLOW,
        .server_password = "abi-srv-secret",
        .client_password = "abi-cli-secret",
        .server_nonce = server_nonce,
        .server_nonce_len = sizeof server_nonce,
    };
    EXPECT_RC(dmnonce_account_add(c, (const dmnonce_account_spec *)&older.s), DMNONCE_OK);
    dmnonce_account_state state = 0;
    EXPECT_RC(dmnonce_account_get_state(c, "abi-old.example", &state), DMNONCE_OK);
    CHECK(state == DMNONCE_ACCOUNT_IN_SYNC || state == DMNONCE_ACCOUNT_NEEDS_RESYNC);
    EXPECT_RC(dmnonce_account_remove(c, "abi-old.example"), DMNONCE_OK);

    /* Newer caller: an appended field left zero is fine, a set one is not
     * silently ignored. */
    struct {
        dmnonce_account_spec s;
        uint64_t appended;
    } newer;
    memset(&newer, 0, sizeof newer);
    newer.s = (dmnonce_account_spec){
        .struct_size = sizeof newer,
        .server_id = "abi-new.example",
        .server_url = "http://127.0.0.1:1/dm",
        .client_name = "abi-agent",
        .auth_scheme = DMNONCE_AUTH_MD5,
        .encoding = DMNONCE_ENCODING_XML,
        .policy = DMNONCE_POLICY_ALLOW,
        .server_password = "abi-srv-secret",
        .client_password = "abi-cli-secret",
    };
    newer.appended = 1;
    EXPECT_RC(dmnonce_account_add(c, &newer.s), DMNONCE_E_INVALID_ARGUMENT);
    EXPECT_RC(dmnonce_account_get_state(c, "abi-new.example", &state), DMNONCE_E_UNKNOWN_ACCOUNT);
    newer.appended = 0;
    EXPECT_RC(dmnonce_account_add(c, &newer.s), DMNONCE_OK);
    EXPECT_RC(dmnonce_account_remove(c, "abi-new.example"), DMNONCE_OK);
}

int main(int argc, char **argv) {
    if (argc < 3) {
        fprintf(stderr, "usage: %s SOCKET PUSH_FILE\n", argv[0]);
        return 2;
    }
    FILE *f = fopen(argv[2], "rb");
    if (!f) return perror(argv[2]), 1;
    push_len = fread(push, 1, sizeof push, f);
    fclose(f);
    dmnonce_client *c = NULL;
    EXPECT_RC(dmnonce_connect(argv[1], &c), DMNONCE_OK);
    if (!c) return tu_finish("test_abi");
    outputs(argv[1], c);
    inputs(c);
    dmnonce_close(c);
    return tu_finish("test_abi");
}
