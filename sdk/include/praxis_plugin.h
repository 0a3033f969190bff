/*
 * praxis_plugin.h: the Praxis plugin ABI, version 1, for C (and C++).
 *
 * This header declares exactly the layout of `praxis_sdk::abi` in the Rust
 * SDK (sdk/src/abi.rs). A plugin written against this header alone is as good
 * as one written in Rust with `praxis_sdk::export_plugin!`; the test
 * `tests/tests/plugin_host.rs` checks, on every run, that the sizes, offsets
 * and constants below agree with the Rust definitions.
 *
 * A WHOLE PLUGIN
 *
 *   A plugin is a shared library that exports one symbol:
 *
 *       PRAXIS_EXPORT const PraxisPluginTableV1 *praxis_plugin_v1(void);
 *
 *   It returns a pointer to a table that lives as long as the library (a
 *   `static const` object). The host never unloads a plugin library, so the
 *   table, the strings it points to and its functions stay valid for the
 *   life of the process. See examples/c-plugin/plugin.c for a complete one.
 *
 * THE DATA: UTF-8 JSON
 *
 *   Every function exchanges byte buffers of UTF-8 JSON, without a trailing
 *   NUL. Each message has a JSON Schema (draft 2020-12) in the SDK's
 *   `schema/` folder, generated from the Rust SDK's types (a test keeps them
 *   in sync), and sdk/WIRE.md is the one-page guide: casing, every enum's
 *   values, what is optional.
 *
 *     manifest()  writes a `Manifest`         schema/manifest.json
 *     evaluate()  reads a  `ProtocolInput`    schema/protocol_input.json
 *                 writes a `Guidance`         schema/guidance.json
 *     schedule()  reads a  `ScheduleRequest`  schema/schedule_request.json
 *                 writes a `ScheduleProposal` schema/schedule_proposal.json
 *
 *   Field names are snake_case, except inside a guidance card (CDS Hooks
 *   camelCase: `overrideReasons`, `isRecommended`); enum values are
 *   snake_case strings. The casing is part of ABI 1 and never changes within
 *   it. Dates are strings "YYYY-MM-DD", times "HH:MM". Readers must ignore
 *   JSON fields they do not know: a newer host may send more (a minor
 *   version). The host ignores unknown fields in answers too, so a misspelt
 *   field is lost without a word: `praxis plugins verify --strict FILE`
 *   lists every one. The host validates everything a plugin returns before
 *   using it.
 *
 * OWNERSHIP: WHOEVER ALLOCATES FREES
 *
 *   - The request bytes (`input`, `input_len`) belong to the host and are
 *     valid only during the call. Copy what you keep.
 *   - The plugin writes its answer (or, on failure, a UTF-8 error message)
 *     into `*out`, with memory it allocated itself. The host copies the bytes
 *     and then hands the same `PraxisBuffer` back, exactly once, to the
 *     plugin's own `free_buffer`. A plugin that leaves `*out` empty
 *     ({NULL, 0, 0}) is fine: `free_buffer` must accept an empty buffer.
 *   - `cap` is for the plugin's allocator; the host never reads it. A C
 *     plugin that uses malloc may set it to `len`.
 *
 * STATUS CODES
 *
 *   Every function that writes a buffer returns a status. PRAXIS_STATUS_OK
 *   means `*out` holds the JSON answer; any other status means `*out` holds a
 *   UTF-8 message saying what went wrong, which the host shows to the
 *   practice inside a warning card naming the plugin. Other plugins'
 *   guidance is unaffected.
 *
 * THREADS
 *
 *   The host calls `manifest` first, then `set_logger` (if not NULL), then any
 *   number of `evaluate` / `schedule` calls. Those calls may come from several
 *   threads at once: they must not share mutable state without
 *   synchronisation. `set_logger` may be called again later (for example when
 *   a process loads the same file into a second registry), possibly while
 *   other calls run: store the logger atomically. The host keeps every
 *   callback and `ctx` it registers valid for the life of the process, so a
 *   plugin may keep the first one (as the Rust SDK does) or switch to the
 *   newest (as examples/c-plugin does). The callback may be called from any
 *   thread, at any time after registration.
 *
 * NO UNWINDING, NO EXIT
 *
 *   A plugin must return from every call. It must not let a C++ exception or
 *   a Rust panic escape, and must not call exit() or abort(): the host process
 *   is the clinic's application, shared by every other plugin.
 *
 * VERSIONS
 *
 *   A host loads a plugin whose `abi_major` equals its own and whose
 *   `abi_minor` is at most its own. A minor version may only append fields to
 *   the end of the table (read by the host only when `abi_minor` says they
 *   exist) and optional fields to the JSON types. A major version is a new
 *   symbol (`praxis_plugin_v2`).
 */
#ifndef PRAXIS_PLUGIN_H
#define PRAXIS_PLUGIN_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/* ---- Constants --------------------------------------------------------- */

/* The first field of every table: the bytes "PRAXISPL" read as a
 * little-endian 64-bit integer. */
#define PRAXIS_MAGIC UINT64_C(0x4C50534958415250)

/* The ABI version this header describes. */
#define PRAXIS_ABI_MAJOR 1
#define PRAXIS_ABI_MINOR 1

/* The praxis-sdk release this header ships with; a C plugin may put it in
 * its table's `sdk_version`. */
#define PRAXIS_SDK_VERSION "0.2.0"

/* The name of the symbol every ABI v1 plugin exports. */
#define PRAXIS_SYMBOL_V1 "praxis_plugin_v1"

/* Status codes returned by the table's functions. */
#define PRAXIS_STATUS_OK 0          /* *out holds the JSON answer. */
#define PRAXIS_STATUS_ERROR 1       /* *out holds a UTF-8 error message. */
#define PRAXIS_STATUS_PANIC 2       /* the plugin caught a crash of its own; *out says what. */
#define PRAXIS_STATUS_BAD_INPUT 3   /* the plugin could not read the request; *out says why. */
#define PRAXIS_STATUS_UNSUPPORTED 4 /* the plugin does not implement this entry point. */

/* Log levels of the log callback, most severe first. The host passes the
 * most verbose level it wants to `set_logger`; records above it are
 * discarded, so a plugin may skip formatting them. */
#define PRAXIS_LOG_ERROR 1u
#define PRAXIS_LOG_WARN 2u
#define PRAXIS_LOG_INFO 3u
#define PRAXIS_LOG_DEBUG 4u
#define PRAXIS_LOG_TRACE 5u

/* Marks the entry point as exported, also when the library is compiled with
 * -fvisibility=hidden (recommended: export nothing else). */
#if defined(_WIN32)
#define PRAXIS_EXPORT __declspec(dllexport)
#elif defined(__GNUC__) || defined(__clang__)
#define PRAXIS_EXPORT __attribute__((visibility("default")))
#else
#define PRAXIS_EXPORT
#endif

/* ---- Types ------------------------------------------------------------- */

/* Bytes written by a plugin and released by the same plugin's
 * `free_buffer`. Rust: `praxis_sdk::abi::PraxisBuffer`. */
typedef struct PraxisBuffer {
    uint8_t *ptr; /* start of the bytes; NULL for an empty buffer */
    size_t len;   /* number of bytes */
    size_t cap;   /* allocation size, for the plugin's allocator only */
} PraxisBuffer;

/* The host's log callback. `ctx` is the value the host passed to
 * `set_logger`; pass it back unchanged. `target` (where the record comes
 * from, such as the plugin's module) and `message` are UTF-8 and not
 * NUL-terminated; the host copies them during the call. Thread-safe. */
typedef void (*PraxisLogFn)(void *ctx, uint32_t level, const uint8_t *target, size_t target_len,
                            const uint8_t *message, size_t message_len);

/* Writes the plugin's manifest (JSON `Manifest`) to `*out`. */
typedef int32_t (*PraxisManifestFn)(PraxisBuffer *out);

/* Reads `input_len` bytes of JSON request at `input`, writes the JSON answer
 * (or an error message) to `*out`, returns a status. */
typedef int32_t (*PraxisCallFn)(const uint8_t *input, size_t input_len, PraxisBuffer *out);

/* Releases a buffer one of this plugin's functions wrote. Passed by value. */
typedef void (*PraxisFreeFn)(PraxisBuffer buffer);

/* Registers the host's log callback (NULL: no logging) and the most verbose
 * level it wants (one of PRAXIS_LOG_*). */
typedef void (*PraxisSetLoggerFn)(PraxisLogFn log, void *ctx, uint32_t max_level);

/* The table `praxis_plugin_v1` returns. Rust: `praxis_sdk::abi::PluginTableV1`.
 * Frozen for ABI major 1: minor versions only append fields.
 *
 * The host checks the whole table before it calls anything: a NULL
 * `manifest` or `free_buffer`, or a NULL `evaluate` in a plugin whose
 * manifest declares kind "protocol" (`schedule` for "scheduler"), is refused
 * with a message naming the field. */
typedef struct PraxisPluginTableV1 {
    uint64_t magic;              /* PRAXIS_MAGIC */
    uint16_t abi_major;          /* PRAXIS_ABI_MAJOR */
    uint16_t abi_minor;          /* at most the host's PRAXIS_ABI_MINOR */
    const char *sdk_version;     /* NUL-terminated, static; may be NULL */
    PraxisManifestFn manifest;   /* required */
    PraxisCallFn evaluate;       /* protocol entry; NULL only if not a protocol */
    PraxisCallFn schedule;       /* scheduler entry; NULL only if not a scheduler */
    PraxisFreeFn free_buffer;    /* required */
    PraxisSetLoggerFn set_logger; /* may be NULL */
} PraxisPluginTableV1;

/* The one exported entry point of an ABI v1 plugin. Returns the same
 * pointer on every call; takes no locks and does no work. */
PRAXIS_EXPORT const PraxisPluginTableV1 *praxis_plugin_v1(void);

#ifdef __cplusplus
} /* extern "C" */
#endif

#endif /* PRAXIS_PLUGIN_H */
