/*
 * example_agent: how a C DM agent hands nonce work to dmnonced.
 *
 *   cc example_agent.c $(pkg-config --cflags --libs dmnonce) -o example_agent
 *   ./example_agent PUSH_FILE [SOCKET]
 *
 * PUSH_FILE holds a received WAP push (WSP PDU) or bare Package #0. The
 * agent hands it to the daemon; on an alert (or once a resync the daemon
 * ran has finished) it would run its management session, asking the
 * daemon for each message's credential. It never sees a secret or a nonce.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <dmnonce.h>

static int fail(const char *what, dmnonce_result rc, dmnonce_client *c) {
    char msg[512] = "";
    size_t len = 0;
    if (c) dmnonce_client_last_error(c, msg, sizeof msg, &len);
    else dmnonce_thread_last_error(msg, sizeof msg, &len);
    fprintf(stderr, "%s failed: error %u: %s\n", what, (unsigned)rc, msg);
    return 1;
}

/* One message of the management session: the credential for its body. */
static int sign_message(dmnonce_client *c, const char *server_id, const char *body) {
    char cred[512];
    size_t len = 0;
    dmnonce_auth_scheme scheme;
    dmnonce_result rc = dmnonce_client_cred(c, server_id, (const uint8_t *)body, strlen(body),
                                            &scheme, cred, sizeof cred, &len);
    if (rc != DMNONCE_OK) return fail("dmnonce_client_cred", rc, c);
    /* MD5/basic: put `cred` into SyncHdr/Cred/Data; HMAC: send it as x-syncml-hmac. */
    printf("session with %s: %s credential ready (%zu bytes)\n", server_id,
           scheme == DMNONCE_AUTH_HMAC ? "x-syncml-hmac" : "Cred", len);
    return 0;
}

int main(int argc, char **argv) {
    if (argc < 2) {
        fprintf(stderr, "usage: %s PUSH_FILE [SOCKET]\n", argv[0]);
        return 2;
    }
    uint8_t push[4096];
    FILE *f = fopen(argv[1], "rb");
    if (!f) return perror(argv[1]), 1;
    size_t n = fread(push, 1, sizeof push, f);
    fclose(f);

    const char *socket = argc > 2 ? argv[2] : NULL; /* NULL: the default socket */
    dmnonce_client *c = NULL;
    dmnonce_result rc = dmnonce_connect(socket, &c);
    if (rc != DMNONCE_OK) return fail("dmnonce_connect", rc, NULL);
    /* Subscribe before pushing, so that no event can be missed. */
    dmnonce_events *ev = NULL;
    rc = dmnonce_events_open(socket, DMNONCE_EVENTS_ALL, &ev);
    if (rc != DMNONCE_OK) return dmnonce_close(c), fail("dmnonce_events_open", rc, NULL);

    int status = 1;
    dmnonce_push_result r = {.struct_size = sizeof r};
    rc = dmnonce_push(c, DMNONCE_PUSH_AUTO, push, n, &r);
    if (rc != DMNONCE_OK) {
        status = fail("dmnonce_push", rc, c);
    } else if (r.outcome == DMNONCE_OUTCOME_ALERT) {
        printf("alert from %s, session %u\n", r.notification.server_id, r.notification.session_id);
        status = sign_message(c, r.notification.server_id, "<SyncML>...</SyncML>");
    } else if (r.outcome == DMNONCE_OUTCOME_RESYNC_STARTED) {
        printf("nonces out of step: dmnonced resynchronises with %s\n", r.notification.server_id);
        dmnonce_event e = {.struct_size = sizeof e};
        while ((rc = dmnonce_events_next(ev, 60000, &e)) == DMNONCE_OK) {
            if (e.kind == DMNONCE_EVENT_RESYNC_FINISHED) {
                printf("resync finished; running the session\n");
                status = sign_message(c, e.server_id, "<SyncML>...</SyncML>");
                break;
            }
            if (e.kind == DMNONCE_EVENT_RESYNC_FAILED) {
                char reason[256];
                size_t len = 0;
                dmnonce_events_reason(ev, reason, sizeof reason, &len);
                fprintf(stderr, "resync failed: %s\n", reason);
                break;
            }
        }
        if (rc != DMNONCE_OK) fprintf(stderr, "no resync result: error %u\n", (unsigned)rc);
    } else {
        printf("push dropped (outcome %u)\n", (unsigned)r.outcome);
    }
    dmnonce_events_close(ev);
    dmnonce_close(c);
    return status;
}
