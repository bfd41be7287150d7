/* Small assertion helpers shared by the libdmnonce C tests. */
#ifndef DMNONCE_TESTUTIL_H
#define DMNONCE_TESTUTIL_H

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "dmnonce.h"

static int tu_failures = 0;
static int tu_checks = 0;

static const char *tu_name(dmnonce_result r) {
    static char buf[128];
    size_t len = 0;
    if (dmnonce_result_message(r, buf, sizeof buf, &len) != DMNONCE_OK) {
        snprintf(buf, sizeof buf, "?");
    }
    return buf;
}

#define CHECK(cond)                                                                  \
    do {                                                                             \
        tu_checks++;                                                                 \
        if (!(cond)) {                                                               \
            fprintf(stderr, "%s:%d: check failed: %s\n", __FILE__, __LINE__, #cond); \
            tu_failures++;                                                           \
        }                                                                            \
    } while (0)

/* Expects `call` to return `want`; prints both codes with their messages. */
#define EXPECT_RC(call, want)                                                           \
    do {                                                                                \
        dmnonce_result tu_got = (call);                                                 \
        tu_checks++;                                                                    \
        if (tu_got != (want)) {                                                         \
            fprintf(stderr, "%s:%d: %s returned %u (%s), expected %u\n", __FILE__,      \
                    __LINE__, #call, (unsigned)tu_got, tu_name(tu_got), (unsigned)(want)); \
            tu_failures++;                                                              \
        }                                                                               \
    } while (0)

#define CHECK_STR(got, want)                                                            \
    do {                                                                                \
        tu_checks++;                                                                    \
        if (strcmp((got), (want)) != 0) {                                               \
            fprintf(stderr, "%s:%d: %s is \"%s\", expected \"%s\"\n", __FILE__, __LINE__, \
                    #got, (got), (want));                                               \
            tu_failures++;                                                              \
        }                                                                               \
    } while (0)

static int tu_finish(const char *name) {
    if (tu_failures) {
        fprintf(stderr, "%s: %d of %d checks FAILED\n", name, tu_failures, tu_checks);
        return 1;
    }
    printf("%s: %d checks passed\n", name, tu_checks);
    return 0;
}

#endif
