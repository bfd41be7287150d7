/*
 * libdmnonce against a real dmnonced and dmnonce-testserver:
 *   test_daemon SOCKET BASE_URL HELPER WORKDIR
 * SOCKET: the daemon's control socket; BASE_URL: http://127.0.0.1:PORT of
 * the test server (server id "dmnonce-test"); HELPER: scripts/hardening/dmn.py
 * (hashlib credentials, admin API); WORKDIR: scratch directory.
 *
 * Covers: provisioning, credentials checked against Python's hashlib, Chal
 * accept/issue, a full resync triggered through the C API, events, and the
 * error codes a daemon produces (unknown account, account exists, bad push,
 * push refused, wrong state, bad request, frame too large, timeout) and the
 * policy-denied push outcome, next to NULL/size/argument checks on live
 * handles.
 */
#define _POSIX_C_SOURCE 200809L
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "dmnonce.h"
#include "testutil.h"
#include "peer.h"

static const char *SOCK, *BASE, *DIR_;

#define RESYNC_ID "dmnonce-test"
#define RESYNC_CLIENT "c-agent"
#define MD5_ID "c-md5.example"
#define HMAC_ID "c-hmac.example"
#define SRV_PW "srv-secret-c"
#define CLI_PW "cli-secret-c"

static const uint8_t CLIENT_NONCE[] = {0x00, 'c', 'l', 0xff, 0x10, 0x00};
static const uint8_t SERVER_NONCE[] = {'s', 0x00, 'v', 0x80};

static void last_error(dmnonce_client *c, char *buf, size_t cap) {
    size_t len = 0;
    if (dmnonce_client_last_error(c, buf, cap, &len) != DMNONCE_OK) buf[0] = '\0';
}

static void add_account(dmnonce_client *c, const char *id, uint32_t scheme, uint32_t policy,
                        int with_nonces) {
    char url[512];
    snprintf(url, sizeof url, "%s/dm", BASE);
    dmnonce_account_spec spec = {.struct_size = sizeof spec,
        .server_id = id,
        .server_url = url,
        .client_name = RESYNC_CLIENT,
        .auth_scheme = scheme,
        .encoding = DMNONCE_ENCODING_XML,
        .policy = policy,
        .server_password = SRV_PW,
        .client_password = CLI_PW,
        .server_nonce = with_nonces ? SERVER_NONCE : NULL,
        .server_nonce_len = with_nonces ? sizeof SERVER_NONCE : 0,
        .client_nonce = with_nonces ? CLIENT_NONCE : NULL,
        .client_nonce_len = with_nonces ? sizeof CLIENT_NONCE : 0,
    };
    EXPECT_RC(dmnonce_account_add(c, &spec), DMNONCE_OK);
}

static void provisioning(dmnonce_client *c) {
    CHECK(helper(NULL, 0, "add-device '%s' %s %s %s", BASE, RESYNC_CLIENT, SRV_PW, CLI_PW) == 0);
    /* No bootstrap nonces: the first notification falls back to the default
     * nonce. Policy deny first (policy_deny_then_allow() re-adds it with allow). */
    add_account(c, RESYNC_ID, DMNONCE_AUTH_MD5, DMNONCE_POLICY_DENY, 0);
    add_account(c, MD5_ID, DMNONCE_AUTH_MD5, DMNONCE_POLICY_ALLOW, 1);
    add_account(c, HMAC_ID, DMNONCE_AUTH_HMAC, DMNONCE_POLICY_DENY, 1);

    char msg[512];
    dmnonce_account_spec spec = {.struct_size = sizeof spec, .server_id = MD5_ID, .server_url = "http://127.0.0.1:1/dm",
                                 .client_name = "x", .auth_scheme = DMNONCE_AUTH_MD5,
                                 .encoding = DMNONCE_ENCODING_XML, .policy = DMNONCE_POLICY_ALLOW,
                                 .server_password = "a", .client_password = "b"};
    EXPECT_RC(dmnonce_account_add(c, &spec), DMNONCE_E_ACCOUNT_EXISTS);
    last_error(c, msg, sizeof msg);
    CHECK(msg[0] != '\0');
    spec.encoding = DMNONCE_ENCODING_ACCOUNT;
    EXPECT_RC(dmnonce_account_add(c, &spec), DMNONCE_E_INVALID_ARGUMENT);
    spec.encoding = 77;
    EXPECT_RC(dmnonce_account_add(c, &spec), DMNONCE_E_INVALID_ARGUMENT);
    spec.encoding = DMNONCE_ENCODING_XML;
    spec.client_password = NULL;
    EXPECT_RC(dmnonce_account_add(c, &spec), DMNONCE_E_NULL_PARAMETER);
    last_error(c, msg, sizeof msg);
    CHECK(strstr(msg, "client_password") != NULL);
    EXPECT_RC(dmnonce_account_add(c, NULL), DMNONCE_E_NULL_PARAMETER);

    size_t need = 0;
    EXPECT_RC(dmnonce_account_list(c, NULL, 0, &need), DMNONCE_E_INSUFFICIENT_SIZE);
    char *list = malloc(need + 1);
    size_t len = 0;
    EXPECT_RC(dmnonce_account_list(c, list, need + 1, &len), DMNONCE_OK);
    CHECK(len == need);
    CHECK(strstr(list, RESYNC_ID "\n") && strstr(list, MD5_ID "\n") && strstr(list, HMAC_ID "\n"));
    free(list);
    /* Success clears the handle's message. */
    last_error(c, msg, sizeof msg);
    CHECK_STR(msg, "");
}

static void md5_credentials(dmnonce_client *c) {
    char nonce_b64[64], want[256], got[256];
    size_t len = 0;
    dmnonce_auth_scheme scheme = 0;

    b64(CLIENT_NONCE, sizeof CLIENT_NONCE, nonce_b64);
    CHECK(helper(want, sizeof want, "md5 %s %s %s", RESYNC_CLIENT, CLI_PW, nonce_b64) == 0);
    EXPECT_RC(dmnonce_client_cred(c, MD5_ID, NULL, 0, &scheme, got, sizeof got, &len), DMNONCE_OK);
    CHECK(scheme == DMNONCE_AUTH_MD5);
    CHECK_STR(got, want);
    CHECK(len == strlen(want));

    /* Buffer one byte short of the NUL: sized retry. */
    char tiny[8];
    EXPECT_RC(dmnonce_client_cred(c, MD5_ID, NULL, 0, &scheme, tiny, sizeof tiny, &len),
              DMNONCE_E_INSUFFICIENT_SIZE);
    CHECK(len == strlen(want) && tiny[0] == '\0');
    EXPECT_RC(dmnonce_client_cred(c, MD5_ID, NULL, 0, &scheme, got, strlen(want), &len),
              DMNONCE_E_INSUFFICIENT_SIZE);
    EXPECT_RC(dmnonce_client_cred(c, MD5_ID, NULL, 0, &scheme, got, strlen(want) + 1, &len),
              DMNONCE_OK);

    /* The server's credential: username = server id, SRVCRED secret, server nonce. */
    b64(SERVER_NONCE, sizeof SERVER_NONCE, nonce_b64);
    CHECK(helper(want, sizeof want, "md5 %s %s %s", MD5_ID, SRV_PW, nonce_b64) == 0);
    bool valid = false;
    EXPECT_RC(dmnonce_check_server_cred(c, MD5_ID, NULL, 0, want, NULL, &valid), DMNONCE_OK);
    CHECK(valid);
    CHECK(helper(want, sizeof want, "md5 %s %s %s", MD5_ID, "wrong-pw", nonce_b64) == 0);
    EXPECT_RC(dmnonce_check_server_cred(c, MD5_ID, NULL, 0, want, NULL, &valid), DMNONCE_OK);
    CHECK(!valid);
    EXPECT_RC(dmnonce_check_server_cred(c, MD5_ID, NULL, 0, NULL, NULL, &valid),
              DMNONCE_E_NULL_PARAMETER);
    EXPECT_RC(dmnonce_check_server_cred(c, MD5_ID, NULL, 0, want, NULL, NULL),
              DMNONCE_E_NULL_PARAMETER);

    /* NULL arguments on a live handle. */
    EXPECT_RC(dmnonce_client_cred(c, NULL, NULL, 0, &scheme, got, sizeof got, &len),
              DMNONCE_E_NULL_PARAMETER);
    EXPECT_RC(dmnonce_client_cred(c, MD5_ID, NULL, 0, NULL, got, sizeof got, &len),
              DMNONCE_E_NULL_PARAMETER);
    EXPECT_RC(dmnonce_client_cred(c, MD5_ID, NULL, 0, &scheme, got, sizeof got, NULL),
              DMNONCE_E_NULL_PARAMETER);
    EXPECT_RC(dmnonce_client_cred(c, MD5_ID, NULL, 5, &scheme, got, sizeof got, &len),
              DMNONCE_E_NULL_PARAMETER);
    EXPECT_RC(dmnonce_client_cred(c, "no.such.server", NULL, 0, &scheme, got, sizeof got, &len),
              DMNONCE_E_UNKNOWN_ACCOUNT);
}

static void chal_accept_and_issue(dmnonce_client *c) {
    char want[256], got[256];
    size_t len = 0;
    dmnonce_auth_scheme scheme;

    /* Accept a Chal given as NextNonce text, then as raw bytes. */
    const char *next_b64 = "bmV3LWNsaWVudC1ub25jZQ=="; /* "new-client-nonce" */
    EXPECT_RC(dmnonce_accept_chal(c, MD5_ID, next_b64), DMNONCE_OK);
    CHECK(helper(want, sizeof want, "md5 %s %s %s", RESYNC_CLIENT, CLI_PW, next_b64) == 0);
    EXPECT_RC(dmnonce_client_cred(c, MD5_ID, NULL, 0, &scheme, got, sizeof got, &len), DMNONCE_OK);
    CHECK_STR(got, want);
    const uint8_t raw[] = {0x00, 0x01, 0x02, 0xfe, 0x00};
    char raw_b64[16];
    b64(raw, sizeof raw, raw_b64);
    EXPECT_RC(dmnonce_accept_chal_bytes(c, MD5_ID, raw, sizeof raw), DMNONCE_OK);
    CHECK(helper(want, sizeof want, "md5 %s %s %s", RESYNC_CLIENT, CLI_PW, raw_b64) == 0);
    EXPECT_RC(dmnonce_client_cred(c, MD5_ID, NULL, 0, &scheme, got, sizeof got, &len), DMNONCE_OK);
    CHECK_STR(got, want);
    EXPECT_RC(dmnonce_accept_chal(c, MD5_ID, NULL), DMNONCE_E_NULL_PARAMETER);
    EXPECT_RC(dmnonce_accept_chal_bytes(c, MD5_ID, raw, 0), DMNONCE_E_INVALID_ARGUMENT);
    /* NextNonce text that is not Base64: the daemon refuses the request
     * (bad_request) and keeps the client nonce it had. */
    char msg[512];
    EXPECT_RC(dmnonce_accept_chal(c, MD5_ID, "*** not base64 ***"), DMNONCE_E_BAD_REQUEST);
    last_error(c, msg, sizeof msg);
    CHECK(strstr(msg, "next_nonce_b64") != NULL);
    EXPECT_RC(dmnonce_client_cred(c, MD5_ID, NULL, 0, &scheme, got, sizeof got, &len), DMNONCE_OK);
    CHECK_STR(got, want);

    /* Issue a Chal: too small a buffer is refused before a nonce is made. */
    uint8_t chal[DMNONCE_CHAL_MIN_CAP + 1];
    dmnonce_encoding enc = 0;
    EXPECT_RC(dmnonce_issue_chal(c, MD5_ID, DMNONCE_ENCODING_ACCOUNT, &enc, chal, 16, &len),
              DMNONCE_E_INSUFFICIENT_SIZE);
    CHECK(len == DMNONCE_CHAL_MIN_CAP);
    EXPECT_RC(dmnonce_issue_chal(c, MD5_ID, 9, &enc, chal, DMNONCE_CHAL_MIN_CAP, &len),
              DMNONCE_E_INVALID_ARGUMENT);
    EXPECT_RC(dmnonce_issue_chal(c, MD5_ID, DMNONCE_ENCODING_XML, &enc, chal, DMNONCE_CHAL_MIN_CAP,
                                 &len),
              DMNONCE_OK);
    CHECK(enc == DMNONCE_ENCODING_XML && len > 0 && len <= DMNONCE_CHAL_MIN_CAP);
    chal[len] = '\0';
    const char *text = (const char *)chal;
    CHECK(strncmp(text, "<Chal", 5) == 0 && strstr(text, "</Chal>") != NULL);
    CHECK(strstr(text, "syncml:auth-md5") != NULL);
    /* The server answers with the new nonce: its credential must now verify. */
    const char *nn = strstr(text, "NextNonce");
    nn = nn ? strchr(nn, '>') : NULL;
    char next[128] = "";
    if (nn) {
        size_t n = strcspn(nn + 1, "<");
        if (n < sizeof next) {
            memcpy(next, nn + 1, n);
            next[n] = '\0';
        }
    }
    CHECK(next[0] != '\0');
    CHECK(helper(want, sizeof want, "md5 %s %s %s", MD5_ID, SRV_PW, next) == 0);
    bool valid = false;
    EXPECT_RC(dmnonce_check_server_cred(c, MD5_ID, NULL, 0, want, NULL, &valid), DMNONCE_OK);
    CHECK(valid);

    EXPECT_RC(dmnonce_issue_chal(c, MD5_ID, DMNONCE_ENCODING_WBXML, &enc, chal,
                                 DMNONCE_CHAL_MIN_CAP, &len),
              DMNONCE_OK);
    CHECK(enc == DMNONCE_ENCODING_WBXML && len > 0 && memchr(chal, '<', len) == NULL);
}

static void hmac_credentials(dmnonce_client *c) {
    const char *body = "<SyncML><SyncHdr>hmac body</SyncHdr></SyncML>";
    char body_b64[128], nonce_b64[64], want[256], got[256];
    size_t len = 0;
    dmnonce_auth_scheme scheme = 0;
    b64((const uint8_t *)body, strlen(body), body_b64);

    b64(CLIENT_NONCE, sizeof CLIENT_NONCE, nonce_b64);
    CHECK(helper(want, sizeof want, "hmac %s %s %s %s", RESYNC_CLIENT, CLI_PW, nonce_b64,
                 body_b64) == 0);
    EXPECT_RC(dmnonce_client_cred(c, HMAC_ID, (const uint8_t *)body, strlen(body), &scheme, got,
                                  sizeof got, &len),
              DMNONCE_OK);
    CHECK(scheme == DMNONCE_AUTH_HMAC);
    CHECK_STR(got, want);

    b64(SERVER_NONCE, sizeof SERVER_NONCE, nonce_b64);
    CHECK(helper(want, sizeof want, "hmac %s %s %s %s", HMAC_ID, SRV_PW, nonce_b64, body_b64) ==
          0);
    bool valid = false;
    EXPECT_RC(dmnonce_check_server_cred(c, HMAC_ID, (const uint8_t *)body, strlen(body), NULL, want,
                                        &valid),
              DMNONCE_OK);
    CHECK(valid);
    const char *other = "<SyncML>tampered</SyncML>";
    EXPECT_RC(dmnonce_check_server_cred(c, HMAC_ID, (const uint8_t *)other, strlen(other), NULL,
                                        want, &valid),
              DMNONCE_OK);
    CHECK(!valid);
}

/* A request line over the daemon's frame limit (MAX_FRAME_LEN, 256 KiB):
 * the daemon answers frame_too_large and drops that connection, so it is
 * tried on a handle of its own; the daemon keeps serving the others. */
static void frame_too_large(dmnonce_client *c) {
    dmnonce_client *big = NULL;
    EXPECT_RC(dmnonce_connect(SOCK, &big), DMNONCE_OK);
    if (!big) return;
    size_t n = 256 * 1024; /* 256 KiB of data is ~342 KiB of Base64 */
    uint8_t *data = malloc(n);
    memset(data, 0x42, n);
    dmnonce_push_result r = {.struct_size = sizeof r};
    EXPECT_RC(dmnonce_push(big, DMNONCE_PUSH_PACKAGE0, data, n, &r), DMNONCE_E_FRAME_TOO_LARGE);
    char msg[512];
    last_error(big, msg, sizeof msg);
    CHECK(strstr(msg, "frame_too_large") != NULL);
    free(data);
    dmnonce_close(big);
    char list[1024];
    size_t len = 0;
    EXPECT_RC(dmnonce_account_list(c, list, sizeof list, &len), DMNONCE_OK);
}

static uint8_t *notify(const char *nonce, const char *wsp, size_t *len);

/* Before any resync RESYNC_ID has no nonces and policy deny: no client
 * credential (wrong_state), and a default-nonce Package #0 is dropped with
 * the push outcome POLICY_DENIED (the header documents policy as an
 * outcome of dmnonce_push, not as a result code). Then it is re-added with
 * policy allow for full_resync(). */
static void policy_deny_then_allow(dmnonce_client *c) {
    char got[256], msg[512];
    size_t len = 0;
    dmnonce_auth_scheme scheme;
    EXPECT_RC(dmnonce_client_cred(c, RESYNC_ID, NULL, 0, &scheme, got, sizeof got, &len),
              DMNONCE_E_WRONG_STATE);
    last_error(c, msg, sizeof msg);
    CHECK(strstr(msg, "wrong_state") != NULL);

    dmnonce_account_state before = 0, after = 0;
    EXPECT_RC(dmnonce_account_get_state(c, RESYNC_ID, &before), DMNONCE_OK);
    uint8_t *pkg0 = notify("text", "bare", &len);
    CHECK(pkg0 != NULL);
    if (pkg0) {
        dmnonce_push_result r = {.struct_size = sizeof r};
        memset(&r, 0xa5, sizeof r);
        r.struct_size = sizeof r;
        EXPECT_RC(dmnonce_push(c, DMNONCE_PUSH_PACKAGE0, pkg0, len, &r), DMNONCE_OK);
        CHECK(r.outcome == DMNONCE_OUTCOME_POLICY_DENIED);
        /* Deny: only the (absent) stored nonces are tried, and they fail. */
        CHECK(r.verdict == DMNONCE_VERDICT_REJECTED);
        CHECK(r.has_notification);
        CHECK_STR(r.notification.server_id, RESYNC_ID);
        free(pkg0);
    }
    /* Nothing started: still no credential, the state unchanged. */
    EXPECT_RC(dmnonce_client_cred(c, RESYNC_ID, NULL, 0, &scheme, got, sizeof got, &len),
              DMNONCE_E_WRONG_STATE);
    EXPECT_RC(dmnonce_account_get_state(c, RESYNC_ID, &after), DMNONCE_OK);
    CHECK(after == before && after != DMNONCE_ACCOUNT_RESYNCING);

    EXPECT_RC(dmnonce_account_remove(c, RESYNC_ID), DMNONCE_OK);
    add_account(c, RESYNC_ID, DMNONCE_AUTH_MD5, DMNONCE_POLICY_ALLOW, 0);
}

static void bad_pushes(dmnonce_client *c) {
    dmnonce_push_result r = {.struct_size = sizeof r};
    char msg[512];
    const uint8_t garbage[] = {0x01, 0x02, 0x03};
    EXPECT_RC(dmnonce_push(c, DMNONCE_PUSH_PACKAGE0, garbage, sizeof garbage, &r),
              DMNONCE_E_BAD_PUSH);
    last_error(c, msg, sizeof msg);
    CHECK(msg[0] != '\0');
    /* A well-formed WSP push of text/plain: decodes, but is not for us. */
    const uint8_t text_push[] = {0x01, 0x06, 0x01, 0x83, 'h', 'e', 'l', 'l', 'o'};
    EXPECT_RC(dmnonce_push(c, DMNONCE_PUSH_WSP, text_push, sizeof text_push, &r),
              DMNONCE_E_PUSH_REFUSED);
    EXPECT_RC(dmnonce_push(c, 99, garbage, sizeof garbage, &r), DMNONCE_E_INVALID_ARGUMENT);
    EXPECT_RC(dmnonce_push(c, DMNONCE_PUSH_AUTO, NULL, 3, &r), DMNONCE_E_NULL_PARAMETER);
    EXPECT_RC(dmnonce_push(c, DMNONCE_PUSH_AUTO, garbage, sizeof garbage, NULL),
              DMNONCE_E_NULL_PARAMETER);
    EXPECT_RC(dmnonce_push(c, DMNONCE_PUSH_AUTO, garbage, 0, &r), DMNONCE_E_INVALID_ARGUMENT);
    const uint8_t *pdus[1] = {garbage};
    size_t lens[1] = {sizeof garbage};
    EXPECT_RC(dmnonce_push_sms(c, pdus, lens, 0, false, &r), DMNONCE_E_INVALID_ARGUMENT);
    EXPECT_RC(dmnonce_push_sms(c, pdus, NULL, 1, false, &r), DMNONCE_E_NULL_PARAMETER);
    EXPECT_RC(dmnonce_push_sms(c, pdus, lens, 1, false, &r), DMNONCE_E_BAD_PUSH);
}

/* Waits for an event of `kind`, skipping others; fails on resync-failed. */
static int wait_event(dmnonce_events *ev, dmnonce_event_kind kind, dmnonce_event *out) {
    for (int i = 0; i < 20; i++) {
        dmnonce_result r = dmnonce_events_next(ev, 30000, out);
        if (r != DMNONCE_OK) {
            fprintf(stderr, "events_next: %u (%s)\n", (unsigned)r, tu_name(r));
            return 0;
        }
        if (out->kind == kind) return 1;
        if (out->kind == DMNONCE_EVENT_RESYNC_FAILED) {
            char reason[512];
            size_t len = 0;
            dmnonce_events_reason(ev, reason, sizeof reason, &len);
            fprintf(stderr, "resync failed: %s\n", reason);
            return 0;
        }
    }
    return 0;
}

static uint8_t *notify(const char *nonce, const char *wsp, size_t *len) {
    char path[512];
    snprintf(path, sizeof path, "%s/notify-%s-%s.bin", DIR_, nonce, wsp);
    if (helper(NULL, 0, "notify '%s' %s %s %s '%s'", BASE, RESYNC_CLIENT, nonce, wsp, path) != 0)
        return NULL;
    return read_file(path, len);
}

static void full_resync(dmnonce_client *c) {
    dmnonce_events *ev = NULL;
    EXPECT_RC(dmnonce_events_open(SOCK, DMNONCE_EVENTS_ALL, &ev), DMNONCE_OK);
    if (!ev) return;
    dmnonce_event e = {.struct_size = sizeof e};
    EXPECT_RC(dmnonce_events_next(ev, 50, &e), DMNONCE_E_TIMEOUT);
    EXPECT_RC(dmnonce_events_next(ev, 0, NULL), DMNONCE_E_NULL_PARAMETER);

    /* The server lost its nonce (or we did): it notifies with the default nonce. */
    size_t len = 0;
    uint8_t *pkg0 = notify("text", "bare", &len);
    CHECK(pkg0 != NULL && len > 24);
    if (!pkg0) goto out;
    dmnonce_verdict verdict = DMNONCE_VERDICT_NONE;
    dmnonce_notification n;
    EXPECT_RC(dmnonce_verify(c, pkg0, len, &verdict, &n), DMNONCE_OK);
    CHECK(verdict == DMNONCE_VERDICT_DEFAULT_NONCE_TEXT);
    dmnonce_push_result r = {.struct_size = sizeof r};
    memset(&r, 0xa5, sizeof r);
    r.struct_size = sizeof r;
    EXPECT_RC(dmnonce_push(c, DMNONCE_PUSH_PACKAGE0, pkg0, len, &r), DMNONCE_OK);
    CHECK(r.outcome == DMNONCE_OUTCOME_RESYNC_STARTED);
    CHECK(r.verdict == DMNONCE_VERDICT_DEFAULT_NONCE_TEXT);
    CHECK(r.has_notification && r.notification.version == 11);
    CHECK_STR(r.notification.server_id, RESYNC_ID);
    CHECK(r.notification.server_id_len == strlen(RESYNC_ID));
    uint16_t session = r.notification.session_id;

    CHECK(wait_event(ev, DMNONCE_EVENT_RESYNC_FINISHED, &e));
    CHECK_STR(e.server_id, RESYNC_ID);
    CHECK(e.session_id == session);
    char done[32] = "";
    CHECK(helper(done, sizeof done, "device '%s' %s", BASE, RESYNC_CLIENT) == 0);
    CHECK_STR(done, "1");
    dmnonce_account_state state = 0;
    EXPECT_RC(dmnonce_account_get_state(c, RESYNC_ID, &state), DMNONCE_OK);
    CHECK(state == DMNONCE_ACCOUNT_IN_SYNC);

    /* The same default-nonce notification again is a replay. */
    EXPECT_RC(dmnonce_push(c, DMNONCE_PUSH_PACKAGE0, pkg0, len, &r), DMNONCE_OK);
    CHECK(r.outcome == DMNONCE_OUTCOME_REPLAY);
    free(pkg0);

    /* Nonces agree again: the next notification, as a WSP push, is an alert. */
    uint8_t *wsp = notify("stored", "wsp", &len);
    CHECK(wsp != NULL);
    if (!wsp) goto out;
    EXPECT_RC(dmnonce_push(c, DMNONCE_PUSH_WSP, wsp, len, &r), DMNONCE_OK);
    CHECK(r.outcome == DMNONCE_OUTCOME_ALERT);
    CHECK(r.verdict == DMNONCE_VERDICT_STORED_NONCE);
    CHECK(wait_event(ev, DMNONCE_EVENT_ALERT, &e));
    CHECK(e.verdict == DMNONCE_VERDICT_STORED_NONCE);
    CHECK(e.notification.session_id == r.notification.session_id);
    CHECK_STR(e.notification.server_id, RESYNC_ID);
    free(wsp);

    /* The same over SMS, in two concatenated parts handed in one by one. */
    char path[600], prefix[512];
    snprintf(path, sizeof path, "%s/notify-stored-wsp.bin", DIR_);
    snprintf(prefix, sizeof prefix, "%s/sms", DIR_);
    wsp = notify("stored", "wsp", &len);
    free(wsp);
    CHECK(helper(NULL, 0, "sms '%s' 2 '%s'", path, prefix) == 0);
    size_t lens[2] = {0, 0};
    uint8_t *parts[2];
    for (int i = 0; i < 2; i++) {
        snprintf(path, sizeof path, "%s.%d", prefix, i + 1);
        parts[i] = read_file(path, &lens[i]);
        CHECK(parts[i] != NULL && lens[i] > 0);
    }
    if (parts[0] && parts[1]) {
        const uint8_t *one[1] = {parts[0]};
        EXPECT_RC(dmnonce_push_sms(c, one, &lens[0], 1, false, &r), DMNONCE_OK);
        CHECK(r.outcome == DMNONCE_OUTCOME_FRAGMENT_PENDING && !r.has_notification);
        CHECK(r.verdict == DMNONCE_VERDICT_NONE);
        one[0] = parts[1];
        EXPECT_RC(dmnonce_push_sms(c, one, &lens[1], 1, false, &r), DMNONCE_OK);
        CHECK(r.outcome == DMNONCE_OUTCOME_ALERT && r.verdict == DMNONCE_VERDICT_STORED_NONCE);
        CHECK(wait_event(ev, DMNONCE_EVENT_ALERT, &e));
        CHECK(e.notification.session_id == r.notification.session_id);
    }
    free(parts[0]);
    free(parts[1]);
out:
    dmnonce_events_close(ev);
}

/* Handles are independent: one thread blocks on events while another pushes. */
struct waiter {
    dmnonce_events *ev;
    dmnonce_result rc;
    dmnonce_event event;
};

static void *wait_for_alert(void *arg) {
    struct waiter *w = arg;
    w->event.struct_size = sizeof w->event;
    w->rc = dmnonce_events_next(w->ev, 30000, &w->event);
    return NULL;
}

static void events_on_another_thread(dmnonce_client *c) {
    struct waiter w = {.ev = NULL, .rc = DMNONCE_E_PANIC};
    uint32_t mask = 1u << DMNONCE_EVENT_ALERT;
    EXPECT_RC(dmnonce_events_open(SOCK, mask, &w.ev), DMNONCE_OK);
    if (!w.ev) return;
    pthread_t t;
    CHECK(pthread_create(&t, NULL, wait_for_alert, &w) == 0);
    size_t len = 0;
    uint8_t *wsp = notify("stored", "wsp", &len);
    dmnonce_push_result r = {.struct_size = sizeof r};
    memset(&r, 0, sizeof r);
    r.struct_size = sizeof r;
    CHECK(wsp != NULL);
    if (wsp) EXPECT_RC(dmnonce_push(c, DMNONCE_PUSH_WSP, wsp, len, &r), DMNONCE_OK);
    free(wsp);
    CHECK(pthread_join(t, NULL) == 0);
    EXPECT_RC(w.rc, DMNONCE_OK);
    CHECK(w.event.kind == DMNONCE_EVENT_ALERT);
    CHECK(w.event.session_id == r.notification.session_id);
    dmnonce_events_close(w.ev);
}

int main(int argc, char **argv) {
    if (argc != 5) {
        fprintf(stderr, "usage: %s SOCKET BASE_URL HELPER WORKDIR\n", argv[0]);
        return 2;
    }
    SOCK = argv[1];
    BASE = argv[2];
    HELPER = argv[3];
    DIR_ = argv[4];

    dmnonce_client *c = NULL;
    EXPECT_RC(dmnonce_connect(SOCK, &c), DMNONCE_OK);
    if (!c) {
        char msg[512];
        size_t len = 0;
        dmnonce_thread_last_error(msg, sizeof msg, &len);
        fprintf(stderr, "connect: %s\n", msg);
        return tu_finish("test_daemon");
    }
    char version[32];
    size_t len = 0;
    EXPECT_RC(dmnonce_client_daemon_version(c, version, 2, &len), DMNONCE_E_INSUFFICIENT_SIZE);
    EXPECT_RC(dmnonce_client_daemon_version(c, version, sizeof version, &len), DMNONCE_OK);
    CHECK(len > 0 && len == strlen(version));
    EXPECT_RC(dmnonce_client_set_timeout(c, 0), DMNONCE_E_INVALID_ARGUMENT);
    EXPECT_RC(dmnonce_client_set_timeout(c, 20000), DMNONCE_OK);

    provisioning(c);
    md5_credentials(c);
    chal_accept_and_issue(c);
    hmac_credentials(c);
    bad_pushes(c);
    frame_too_large(c);
    policy_deny_then_allow(c);
    full_resync(c);
    events_on_another_thread(c);

    EXPECT_RC(dmnonce_account_remove(c, MD5_ID), DMNONCE_OK);
    dmnonce_auth_scheme scheme;
    char got[128];
    EXPECT_RC(dmnonce_client_cred(c, MD5_ID, NULL, 0, &scheme, got, sizeof got, &len),
              DMNONCE_E_UNKNOWN_ACCOUNT);
    EXPECT_RC(dmnonce_account_remove(c, MD5_ID), DMNONCE_E_UNKNOWN_ACCOUNT);
    dmnonce_close(c);
    return tu_finish("test_daemon");
}
