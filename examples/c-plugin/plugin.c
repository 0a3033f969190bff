/*
 * Neck care: a Praxis protocol plugin written in C, against
 * sdk/include/praxis_plugin.h alone (no Rust, no JSON library).
 *
 * For a client with neck pain on record (SNOMED CT 81680005) it returns one
 * `info` card, rule NECK-1, and a session recommendation that prefers trigger
 * point therapy with Swedish massage, focused on the neck and shoulders.
 * NECK-1 is this plugin's own rule id: it quotes the one sentence the
 * project's source [B] ("relaxing-massage-for-chronic-pain") gives for neck
 * and shoulder issues, and claims nothing beyond it.
 *
 * Build: see README.md (make, or one cc line).
 */
#include "praxis_plugin.h"

#include <stdarg.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define PLUGIN_ID "neck-care-c"
#define PLUGIN_NAME "Neck care (C example)"
#define PLUGIN_VERSION "0.1.0"
#define NECK_PAIN_CODE "81680005"

/* Deeper nesting than this in a request is refused rather than recursed into. */
#define MAX_DEPTH 64

/* ---- Logging ----------------------------------------------------------- */

typedef struct Logger {
    PraxisLogFn log;
    void *ctx;
    uint32_t max_level;
} Logger;

/* The newest logger the host registered. Replaced atomically; an old one is
 * never freed, since another thread may still be using it (a few bytes, at
 * most once per registration). */
static _Atomic(const Logger *) current_logger = NULL;

static void set_logger(PraxisLogFn log, void *ctx, uint32_t max_level) {
    Logger *logger = NULL;
    if (log != NULL) {
        logger = malloc(sizeof *logger);
        if (logger == NULL) {
            return; /* keep the previous logger rather than lose logging silently */
        }
        logger->log = log;
        logger->ctx = ctx;
        logger->max_level = max_level;
    }
    atomic_store(&current_logger, logger);
}

static void log_line(uint32_t level, const char *format, ...) {
    const Logger *logger = atomic_load(&current_logger);
    if (logger == NULL || level > logger->max_level) {
        return;
    }
    char message[256];
    va_list args;
    va_start(args, format);
    int n = vsnprintf(message, sizeof message, format, args);
    va_end(args);
    if (n < 0) {
        return;
    }
    size_t len = (size_t)n < sizeof message ? (size_t)n : sizeof message - 1;
    static const char target[] = "neck_care_c";
    logger->log(logger->ctx, level, (const uint8_t *)target, sizeof target - 1, (const uint8_t *)message, len);
}

/* ---- Buffers ----------------------------------------------------------- */

/* Copies `len` bytes into a new malloc'ed buffer in *out. */
static bool write_bytes(PraxisBuffer *out, const char *bytes, size_t len) {
    if (out == NULL) {
        return false;
    }
    out->ptr = NULL;
    out->len = 0;
    out->cap = 0;
    if (len == 0) {
        return true;
    }
    uint8_t *ptr = malloc(len);
    if (ptr == NULL) {
        return false;
    }
    memcpy(ptr, bytes, len);
    out->ptr = ptr;
    out->len = len;
    out->cap = len;
    return true;
}

/* Writes an error message and returns `status` (or PRAXIS_STATUS_ERROR with an
 * empty message if even that allocation fails). */
static int32_t fail(PraxisBuffer *out, int32_t status, const char *message) {
    if (!write_bytes(out, message, strlen(message))) {
        return PRAXIS_STATUS_ERROR;
    }
    return status;
}

static void free_buffer(PraxisBuffer buffer) {
    free(buffer.ptr);
}

/* ---- A minimal JSON reader ----------------------------------------------
 *
 * Enough of RFC 8259 to walk a request, check that it is well-formed, and
 * pick out the few ASCII strings this plugin needs. Strings are decoded into
 * a fixed buffer; characters outside ASCII become '?', which is harmless
 * because the values compared are ASCII codes and dates.
 */

typedef struct Cursor {
    const uint8_t *p;
    const uint8_t *end;
    const char *error; /* the first problem found, for the host's message */
} Cursor;

static bool failed(Cursor *c, const char *error) {
    if (c->error == NULL) {
        c->error = error;
    }
    return false;
}

static void skip_ws(Cursor *c) {
    while (c->p < c->end && (*c->p == ' ' || *c->p == '\t' || *c->p == '\n' || *c->p == '\r')) {
        c->p++;
    }
}

/* Consumes `ch` after optional whitespace. */
static bool eat(Cursor *c, uint8_t ch) {
    skip_ws(c);
    if (c->p < c->end && *c->p == ch) {
        c->p++;
        return true;
    }
    return false;
}

static int hex_value(uint8_t ch) {
    if (ch >= '0' && ch <= '9') return ch - '0';
    if (ch >= 'a' && ch <= 'f') return ch - 'a' + 10;
    if (ch >= 'A' && ch <= 'F') return ch - 'A' + 10;
    return -1;
}

/* Reads a string into `out` (NUL-terminated, at most cap - 1 bytes kept; the
 * rest is checked and dropped). `out` may be NULL to skip the string. */
static bool read_string(Cursor *c, char *out, size_t cap) {
    size_t n = 0;
    if (!eat(c, '"')) {
        return failed(c, "expected a string");
    }
    for (;;) {
        if (c->p >= c->end) {
            return failed(c, "unterminated string");
        }
        uint8_t ch = *c->p++;
        if (ch == '"') {
            break;
        }
        if (ch < 0x20) {
            return failed(c, "control character in a string");
        }
        if (ch == '\\') {
            if (c->p >= c->end) {
                return failed(c, "unterminated escape");
            }
            uint8_t esc = *c->p++;
            switch (esc) {
            case '"': ch = '"'; break;
            case '\\': ch = '\\'; break;
            case '/': ch = '/'; break;
            case 'b': ch = '\b'; break;
            case 'f': ch = '\f'; break;
            case 'n': ch = '\n'; break;
            case 'r': ch = '\r'; break;
            case 't': ch = '\t'; break;
            case 'u': {
                unsigned code = 0;
                for (int i = 0; i < 4; i++) {
                    int h = c->p < c->end ? hex_value(*c->p) : -1;
                    if (h < 0) {
                        return failed(c, "bad \\u escape");
                    }
                    code = code * 16 + (unsigned)h;
                    c->p++;
                }
                ch = code < 0x80 ? (uint8_t)code : '?';
                break;
            }
            default:
                return failed(c, "bad escape in a string");
            }
        } else if (ch >= 0x80) {
            ch = '?';
        }
        if (out != NULL && n + 1 < cap) {
            out[n++] = (char)ch;
        }
    }
    if (out != NULL && cap > 0) {
        out[n] = '\0';
    }
    return true;
}

static bool skip_value(Cursor *c, int depth);

static bool skip_digits(Cursor *c) {
    const uint8_t *start = c->p;
    while (c->p < c->end && *c->p >= '0' && *c->p <= '9') {
        c->p++;
    }
    return c->p > start;
}

static bool skip_number(Cursor *c) {
    if (c->p < c->end && *c->p == '-') {
        c->p++;
    }
    if (!skip_digits(c)) {
        return failed(c, "bad number");
    }
    if (c->p < c->end && *c->p == '.') {
        c->p++;
        if (!skip_digits(c)) {
            return failed(c, "bad number");
        }
    }
    if (c->p < c->end && (*c->p == 'e' || *c->p == 'E')) {
        c->p++;
        if (c->p < c->end && (*c->p == '+' || *c->p == '-')) {
            c->p++;
        }
        if (!skip_digits(c)) {
            return failed(c, "bad number");
        }
    }
    return true;
}

static bool skip_literal(Cursor *c, const char *word) {
    size_t n = strlen(word);
    if ((size_t)(c->end - c->p) < n || memcmp(c->p, word, n) != 0) {
        return failed(c, "unexpected character");
    }
    c->p += n;
    return true;
}

/* Walks the members of an object whose '{' is next. For each key, calls
 * `member(c, key, state, depth)`, which must consume the value. */
typedef bool (*MemberFn)(Cursor *c, const char *key, void *state, int depth);

static bool walk_object(Cursor *c, MemberFn member, void *state, int depth) {
    if (depth > MAX_DEPTH) {
        return failed(c, "nested too deeply");
    }
    if (!eat(c, '{')) {
        return failed(c, "expected an object");
    }
    if (eat(c, '}')) {
        return true;
    }
    do {
        char key[32];
        if (!read_string(c, key, sizeof key)) {
            return false;
        }
        if (!eat(c, ':')) {
            return failed(c, "expected ':' after a key");
        }
        if (!member(c, key, state, depth)) {
            return false;
        }
    } while (eat(c, ','));
    if (!eat(c, '}')) {
        return failed(c, "expected ',' or '}' in an object");
    }
    return true;
}

/* Walks the items of an array whose '[' is next; `item` must consume each. */
typedef bool (*ItemFn)(Cursor *c, void *state, int depth);

static bool walk_array(Cursor *c, ItemFn item, void *state, int depth) {
    if (depth > MAX_DEPTH) {
        return failed(c, "nested too deeply");
    }
    if (!eat(c, '[')) {
        return failed(c, "expected an array");
    }
    if (eat(c, ']')) {
        return true;
    }
    do {
        if (!item(c, state, depth)) {
            return false;
        }
    } while (eat(c, ','));
    if (!eat(c, ']')) {
        return failed(c, "expected ',' or ']' in an array");
    }
    return true;
}

static bool skip_member(Cursor *c, const char *key, void *state, int depth) {
    (void)key;
    (void)state;
    return skip_value(c, depth + 1);
}

static bool skip_item(Cursor *c, void *state, int depth) {
    (void)state;
    return skip_value(c, depth + 1);
}

static bool skip_value(Cursor *c, int depth) {
    skip_ws(c);
    if (c->p >= c->end) {
        return failed(c, "unexpected end of input");
    }
    switch (*c->p) {
    case '{': return walk_object(c, skip_member, NULL, depth);
    case '[': return walk_array(c, skip_item, NULL, depth);
    case '"': return read_string(c, NULL, 0);
    case 't': return skip_literal(c, "true");
    case 'f': return skip_literal(c, "false");
    case 'n': return skip_literal(c, "null");
    default: return skip_number(c);
    }
}

/* ---- The request ------------------------------------------------------- */

typedef struct Request {
    char as_of[16];
    bool has_as_of;
    bool neck_pain;
    char neck_status[16];
} Request;

typedef struct Condition {
    char code[32];
    char status[16];
} Condition;

static bool condition_member(Cursor *c, const char *key, void *state, int depth) {
    Condition *condition = state;
    if (strcmp(key, "code") == 0) {
        return read_string(c, condition->code, sizeof condition->code);
    }
    if (strcmp(key, "status") == 0) {
        return read_string(c, condition->status, sizeof condition->status);
    }
    return skip_value(c, depth + 1);
}

static bool condition_item(Cursor *c, void *state, int depth) {
    Request *request = state;
    Condition condition = {{0}, {0}};
    if (!walk_object(c, condition_member, &condition, depth + 1)) {
        return false;
    }
    if (strcmp(condition.code, NECK_PAIN_CODE) == 0) {
        request->neck_pain = true;
        memcpy(request->neck_status, condition.status, sizeof request->neck_status);
    }
    return true;
}

static bool client_member(Cursor *c, const char *key, void *state, int depth) {
    if (strcmp(key, "conditions") == 0) {
        return walk_array(c, condition_item, state, depth + 1);
    }
    return skip_value(c, depth + 1);
}

static bool request_member(Cursor *c, const char *key, void *state, int depth) {
    Request *request = state;
    if (strcmp(key, "as_of") == 0) {
        request->has_as_of = true;
        return read_string(c, request->as_of, sizeof request->as_of);
    }
    if (strcmp(key, "client") == 0) {
        return walk_object(c, client_member, state, depth + 1);
    }
    return skip_value(c, depth + 1);
}

/* "YYYY-MM-DD", digits and dashes only (the host sends checked dates; this
 * keeps anything else out of the JSON this plugin writes). */
static bool is_date(const char *s) {
    if (strlen(s) != 10) {
        return false;
    }
    for (int i = 0; i < 10; i++) {
        bool dash = i == 4 || i == 7;
        if (dash ? s[i] != '-' : (s[i] < '0' || s[i] > '9')) {
            return false;
        }
    }
    return true;
}

/* Lowercase letters and '_' only, as the SDK's condition statuses are. */
static const char *safe_status(const char *s) {
    if (*s == '\0') {
        return "unknown";
    }
    for (const char *p = s; *p != '\0'; p++) {
        if (!((*p >= 'a' && *p <= 'z') || *p == '_')) {
            return "unknown";
        }
    }
    return s;
}

/* ---- The entry points -------------------------------------------------- */

static const char MANIFEST_JSON[] =
    "{\"id\":\"" PLUGIN_ID "\",\"name\":\"" PLUGIN_NAME "\",\"version\":\"" PLUGIN_VERSION "\","
    "\"description\":\"Example plugin in C: the massage approach source [B] gives for neck and shoulder issues.\","
    "\"kinds\":[\"protocol\"],"
    "\"conditions\":[{\"code\":\"" NECK_PAIN_CODE "\",\"display\":\"Neck pain\"}],"
    "\"settings\":[],"
    "\"history_days\":0}";

static int32_t manifest(PraxisBuffer *out) {
    if (!write_bytes(out, MANIFEST_JSON, sizeof MANIFEST_JSON - 1)) {
        return PRAXIS_STATUS_ERROR;
    }
    return PRAXIS_STATUS_OK;
}

static const char GUIDANCE_FORMAT[] =
    "{\"cards\":[{"
    "\"summary\":\"Neck and shoulder issues: consider trigger point therapy combined with Swedish massage\","
    "\"detail\":\"Neck pain is on record (SNOMED CT " NECK_PAIN_CODE ", status %s). "
    "Source [B], *Relaxing massage for chronic pain*: \\\"Those with neck and shoulder issues might need a "
    "combination of trigger point therapy and Swedish massage.\\\" A suggestion for the practitioner to weigh "
    "against the client's intake, not a prescription. Evaluated for %s.\","
    "\"indicator\":\"info\","
    "\"source\":{\"label\":\"" PLUGIN_NAME "\","
    "\"topic\":{\"code\":\"" NECK_PAIN_CODE "\",\"system\":\"http://snomed.info/sct\",\"display\":\"Neck pain\"}},"
    "\"overrideReasons\":[],"
    "\"rule\":\"NECK-1\"}],"
    "\"recommendation\":{\"prefer\":[\"trigger point therapy\",\"swedish massage\"],"
    "\"focus_regions\":[\"neck\",\"shoulders\"]}}";

static const char NO_GUIDANCE[] = "{\"cards\":[]}";

static int32_t evaluate(const uint8_t *input, size_t input_len, PraxisBuffer *out) {
    if (out == NULL) {
        return PRAXIS_STATUS_BAD_INPUT;
    }
    if (input == NULL || input_len == 0) {
        return fail(out, PRAXIS_STATUS_BAD_INPUT, "empty request: expected a JSON ProtocolInput");
    }
    Request request;
    memset(&request, 0, sizeof request);
    Cursor c = {input, input + input_len, NULL};
    if (!walk_object(&c, request_member, &request, 0)) {
        char message[128];
        snprintf(message, sizeof message, "request is not valid JSON: %s at byte %zu", c.error,
                 (size_t)(c.p - input));
        return fail(out, PRAXIS_STATUS_BAD_INPUT, message);
    }
    skip_ws(&c);
    if (c.p != c.end) {
        return fail(out, PRAXIS_STATUS_BAD_INPUT, "request has bytes after its JSON object");
    }
    if (!request.has_as_of || !is_date(request.as_of)) {
        return fail(out, PRAXIS_STATUS_BAD_INPUT, "request has no `as_of` date of the form YYYY-MM-DD");
    }
    if (!request.neck_pain) {
        log_line(PRAXIS_LOG_DEBUG, "evaluated for %s: no neck pain on record, no guidance", request.as_of);
        return write_bytes(out, NO_GUIDANCE, sizeof NO_GUIDANCE - 1) ? PRAXIS_STATUS_OK : PRAXIS_STATUS_ERROR;
    }
    const char *status = safe_status(request.neck_status);
    int n = snprintf(NULL, 0, GUIDANCE_FORMAT, status, request.as_of);
    if (n < 0) {
        return fail(out, PRAXIS_STATUS_ERROR, "could not format the guidance");
    }
    char *json = malloc((size_t)n + 1);
    if (json == NULL) {
        return fail(out, PRAXIS_STATUS_ERROR, "out of memory");
    }
    snprintf(json, (size_t)n + 1, GUIDANCE_FORMAT, status, request.as_of);
    /* Hand over the allocation itself: free_buffer frees it. */
    out->ptr = (uint8_t *)json;
    out->len = (size_t)n;
    out->cap = (size_t)n + 1;
    log_line(PRAXIS_LOG_INFO, "evaluated for %s: neck pain on record (%s), card NECK-1", request.as_of, status);
    return PRAXIS_STATUS_OK;
}

static const PraxisPluginTableV1 TABLE = {
    .magic = PRAXIS_MAGIC,
    .abi_major = PRAXIS_ABI_MAJOR,
    .abi_minor = PRAXIS_ABI_MINOR,
    .sdk_version = PRAXIS_SDK_VERSION,
    .manifest = manifest,
    .evaluate = evaluate,
    .schedule = NULL, /* not a scheduler: the host reports `schedule` as unsupported */
    .free_buffer = free_buffer,
    .set_logger = set_logger,
};

PRAXIS_EXPORT const PraxisPluginTableV1 *praxis_plugin_v1(void) {
    return &TABLE;
}
