/*
 * The C tests' independent peer: Base64, and scripts/hardening/dmn.py (Python
 * hashlib credentials, the test server's admin API) run through popen.
 * Needs _POSIX_C_SOURCE >= 2 for popen; HELPER is set by the test's main.
 */
#ifndef DMNONCE_PEER_H
#define DMNONCE_PEER_H

#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char *HELPER;

static inline void b64(const uint8_t *in, size_t n, char *out) {
    static const char T[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    size_t o = 0;
    for (size_t i = 0; i < n; i += 3) {
        uint32_t v = (uint32_t)in[i] << 16;
        if (i + 1 < n) v |= (uint32_t)in[i + 1] << 8;
        if (i + 2 < n) v |= in[i + 2];
        out[o++] = T[(v >> 18) & 63];
        out[o++] = T[(v >> 12) & 63];
        out[o++] = i + 1 < n ? T[(v >> 6) & 63] : '=';
        out[o++] = i + 2 < n ? T[v & 63] : '=';
    }
    out[o] = '\0';
}

/* Runs the Python helper; its first output line goes to `out`. */
static inline int helper(char *out, size_t cap, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
static inline int helper(char *out, size_t cap, const char *fmt, ...) {
    char args[2048], cmd[2400];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(args, sizeof args, fmt, ap);
    va_end(ap);
    snprintf(cmd, sizeof cmd, "python3 '%s' %s", HELPER, args);
    FILE *p = popen(cmd, "r");
    if (!p) return -1;
    char line[1024] = "";
    if (!fgets(line, sizeof line, p)) line[0] = '\0';
    int status = pclose(p);
    line[strcspn(line, "\n")] = '\0';
    if (out) snprintf(out, cap, "%s", line);
    /* Only the subcommand: the arguments hold (test) passwords and nonces. */
    if (status != 0) fprintf(stderr, "dmn.py %.*s failed\n", (int)strcspn(args, " "), args);
    return status;
}

static inline uint8_t *read_file(const char *path, size_t *len) {
    FILE *f = fopen(path, "rb");
    if (!f) return NULL;
    uint8_t *data = malloc(65536);
    *len = fread(data, 1, 65536, f);
    fclose(f);
    return data;
}

#endif
