//! ABI v1: the C boundary between the host and a plugin library.
//!
//! A plugin library exports one symbol, `praxis_plugin_v1`, a function that
//! returns a pointer to a static [`PluginTableV1`]. Every function in the
//! table exchanges byte buffers of UTF-8 JSON (see `ARCHITECTURE.md` for why
//! JSON). The C header `include/praxis_plugin.h` declares the same layout.
//!
//! Plugin authors never touch this module: [`export_plugin!`](crate::export_plugin)
//! writes the plugin side, and the host (or the [`testing`](crate::testing)
//! harness) calls through [`PluginHandle`], the one safe wrapper around a
//! table. All of the SDK's `unsafe` code is in this module.

use std::ffi::{CStr, c_char, c_void};
use std::fmt;
use std::panic::{AssertUnwindSafe, catch_unwind};
use std::sync::OnceLock;
use std::sync::atomic::{AtomicU32, Ordering};

use serde::Serialize;
use serde::de::DeserializeOwned;

#[cfg(feature = "host")]
use crate::guidance::Guidance;
use crate::manifest::Manifest;
#[cfg(feature = "host")]
use crate::schedule::ScheduleProposal;
use crate::schedule::ScheduleRequest;
use crate::{PluginError, Protocol, ProtocolInput, Scheduler};

/// `PRAXISPL` as a little-endian `u64`: the first field of every table.
pub const MAGIC: u64 = u64::from_le_bytes(*b"PRAXISPL");
/// The ABI major version this SDK speaks. A change here is a new symbol.
pub const ABI_MAJOR: u16 = 1;
/// The ABI minor version: what this SDK added within major 1.
pub const ABI_MINOR: u16 = 1;
/// The name of the symbol every v1 plugin exports.
pub const SYMBOL_V1: &[u8] = b"praxis_plugin_v1";
/// The SDK's version, NUL-terminated, as tables carry it.
pub const SDK_VERSION_C: &CStr = match CStr::from_bytes_with_nul(concat!(env!("CARGO_PKG_VERSION"), "\0").as_bytes()) {
    Ok(s) => s,
    Err(_) => panic!("SDK version has an interior NUL"),
};

/// Status: success, the buffer holds the JSON answer.
pub const STATUS_OK: i32 = 0;
/// Status: the plugin reported an error; the buffer holds a UTF-8 message.
pub const STATUS_ERROR: i32 = 1;
/// Status: the plugin panicked; the buffer holds the panic message.
pub const STATUS_PANIC: i32 = 2;
/// Status: the plugin could not decode its input; the buffer holds why.
pub const STATUS_BAD_INPUT: i32 = 3;
/// Status: the plugin does not implement this entry point.
pub const STATUS_UNSUPPORTED: i32 = 4;

/// Log levels on the wire.
pub const LOG_ERROR: u32 = 1;
/// Warn.
pub const LOG_WARN: u32 = 2;
/// Info.
pub const LOG_INFO: u32 = 3;
/// Debug.
pub const LOG_DEBUG: u32 = 4;
/// Trace.
pub const LOG_TRACE: u32 = 5;

/// A byte buffer allocated by the plugin and released by the plugin's own
/// `free_buffer` (invariant: whoever allocates frees).
#[repr(C)]
#[derive(Debug)]
pub struct PraxisBuffer {
    /// Start of the bytes (null for an empty buffer).
    pub ptr: *mut u8,
    /// Number of bytes.
    pub len: usize,
    /// Allocation capacity, for the allocator that made it (C plugins may set it to `len`).
    pub cap: usize,
}

impl PraxisBuffer {
    /// An empty buffer.
    pub const EMPTY: PraxisBuffer = PraxisBuffer { ptr: std::ptr::null_mut(), len: 0, cap: 0 };

    fn from_vec(v: Vec<u8>) -> PraxisBuffer {
        let mut v = std::mem::ManuallyDrop::new(v);
        PraxisBuffer { ptr: v.as_mut_ptr(), len: v.len(), cap: v.capacity() }
    }
}

/// The host's log callback: `ctx` is what the host registered; target and
/// message are UTF-8, not NUL-terminated.
pub type LogFn = unsafe extern "C" fn(
    ctx: *mut c_void,
    level: u32,
    target: *const u8,
    target_len: usize,
    message: *const u8,
    message_len: usize,
);

/// Returns the manifest as JSON.
pub type ManifestFn = unsafe extern "C" fn(out: *mut PraxisBuffer) -> i32;
/// Takes a JSON request, writes a JSON answer (or an error message) to `out`.
pub type CallFn = unsafe extern "C" fn(input: *const u8, input_len: usize, out: *mut PraxisBuffer) -> i32;
/// Releases a buffer this plugin wrote.
pub type FreeFn = unsafe extern "C" fn(buffer: PraxisBuffer);
/// Registers the host's log callback and the most verbose level it wants.
pub type SetLoggerFn = unsafe extern "C" fn(log: Option<LogFn>, ctx: *mut c_void, max_level: u32);

/// The table `praxis_plugin_v1` returns. Layout is frozen for ABI major 1:
/// minor versions may only append fields, and the host reads appended fields
/// only when the plugin's `abi_minor` says they exist.
///
/// The fields, in order (as `include/praxis_plugin.h` declares them, offsets
/// in [`FIELD_OFFSETS`](Self::FIELD_OFFSETS)): `magic: u64`, `abi_major:
/// u16`, `abi_minor: u16`, `sdk_version: *const c_char` (NUL-terminated,
/// static, may be null), `manifest: Option<ManifestFn>` (required),
/// `evaluate: Option<CallFn>` (protocols), `schedule: Option<CallFn>`
/// (schedulers), `free_buffer: Option<FreeFn>` (required), `set_logger:
/// Option<SetLoggerFn>`.
// Outside this crate only [`PluginTableV1::new`] (unsafe) makes a table, and
// the fields are private (the ABI minor says which fields exist; the
// pointers must be valid), so safe code can neither make nor change one: a
// `&'static PluginTableV1` reached by safe code always came from code that
// promised its pointers are valid.
#[non_exhaustive]
#[repr(C)]
#[derive(Debug)]
pub struct PluginTableV1 {
    /// Must be [`MAGIC`].
    magic: u64,
    /// Must be [`ABI_MAJOR`].
    abi_major: u16,
    /// At most the host's [`ABI_MINOR`]: which appended fields exist.
    abi_minor: u16,
    /// The SDK version the plugin was built with, NUL-terminated.
    sdk_version: *const c_char,
    /// Writes the manifest (JSON [`Manifest`]). Required: a table with a null
    /// `manifest` is refused before anything is called. (An `Option` so that
    /// a null pointer from a C plugin is a value the host can check, never
    /// undefined behaviour.)
    manifest: Option<ManifestFn>,
    /// Protocol entry: JSON [`ProtocolInput`] in, JSON [`Guidance`] out. Null if not a protocol.
    evaluate: Option<CallFn>,
    /// Scheduler entry: JSON [`ScheduleRequest`] in, JSON [`ScheduleProposal`] out. Null if not a scheduler.
    schedule: Option<CallFn>,
    /// Releases buffers written by the functions above. Required: a table
    /// with a null `free_buffer` is refused before anything is called.
    free_buffer: Option<FreeFn>,
    /// Registers the host's log callback. May be null.
    set_logger: Option<SetLoggerFn>,
}

impl PluginTableV1 {
    /// Each field's name and byte offset, in order, for checking a C
    /// declaration of the table (such as `praxis_plugin.h`) against this one.
    pub const FIELD_OFFSETS: [(&'static str, usize); 9] = [
        ("magic", std::mem::offset_of!(PluginTableV1, magic)),
        ("abi_major", std::mem::offset_of!(PluginTableV1, abi_major)),
        ("abi_minor", std::mem::offset_of!(PluginTableV1, abi_minor)),
        ("sdk_version", std::mem::offset_of!(PluginTableV1, sdk_version)),
        ("manifest", std::mem::offset_of!(PluginTableV1, manifest)),
        ("evaluate", std::mem::offset_of!(PluginTableV1, evaluate)),
        ("schedule", std::mem::offset_of!(PluginTableV1, schedule)),
        ("free_buffer", std::mem::offset_of!(PluginTableV1, free_buffer)),
        ("set_logger", std::mem::offset_of!(PluginTableV1, set_logger)),
    ];

    /// A table (what [`export_plugin!`](crate::export_plugin) writes).
    ///
    /// # Safety
    /// `sdk_version` must be null or point to a NUL-terminated string that
    /// lives for the process, and each function must follow the ABI v1
    /// contract documented on its type.
    #[allow(clippy::too_many_arguments)]
    pub const unsafe fn new(
        magic: u64,
        abi_major: u16,
        abi_minor: u16,
        sdk_version: *const c_char,
        manifest: Option<ManifestFn>,
        evaluate: Option<CallFn>,
        schedule: Option<CallFn>,
        free_buffer: Option<FreeFn>,
        set_logger: Option<SetLoggerFn>,
    ) -> PluginTableV1 {
        PluginTableV1 {
            magic,
            abi_major,
            abi_minor,
            sdk_version,
            manifest,
            evaluate,
            schedule,
            free_buffer,
            set_logger,
        }
    }
}

// SAFETY: the table is immutable static data: plain integers, a pointer to a
// static NUL-terminated string, and function pointers. Sharing it between
// threads reads it only.
unsafe impl Sync for PluginTableV1 {}
// SAFETY: as above; nothing in the table is tied to a thread.
unsafe impl Send for PluginTableV1 {}

// ---------------------------------------------------------------------------
// Plugin side: what `export_plugin!` expands to calls these.
// ---------------------------------------------------------------------------

fn panic_message(payload: &(dyn std::any::Any + Send)) -> String {
    if let Some(s) = payload.downcast_ref::<&str>() {
        (*s).to_owned()
    } else if let Some(s) = payload.downcast_ref::<String>() {
        s.clone()
    } else {
        "panic with a non-string payload".to_owned()
    }
}

fn write_out(out: *mut PraxisBuffer, bytes: Vec<u8>) {
    if out.is_null() {
        return;
    }
    // SAFETY: `out` is non-null and, by the ABI contract, points to a
    // writable `PraxisBuffer` owned by the caller for the duration of the call.
    unsafe { out.write(PraxisBuffer::from_vec(bytes)) };
}

/// Runs `f` with panics caught, writing its answer or error to `out`.
fn guarded(out: *mut PraxisBuffer, f: impl FnOnce() -> Result<Vec<u8>, (i32, String)>) -> i32 {
    match catch_unwind(AssertUnwindSafe(f)) {
        Ok(Ok(bytes)) => {
            write_out(out, bytes);
            STATUS_OK
        }
        Ok(Err((code, msg))) => {
            write_out(out, msg.into_bytes());
            code
        }
        Err(payload) => {
            let msg = panic_message(&*payload);
            // Formatting the message cannot panic again in practice, but a
            // second panic here must not escape either.
            let _ = catch_unwind(AssertUnwindSafe(|| write_out(out, format!("plugin panicked: {msg}").into_bytes())));
            STATUS_PANIC
        }
    }
}

fn encode<T: Serialize>(value: &T) -> Result<Vec<u8>, (i32, String)> {
    serde_json::to_vec(value).map_err(|e| (STATUS_ERROR, format!("could not encode the answer: {e}")))
}

fn input_slice<'a>(input: *const u8, len: usize) -> &'a [u8] {
    if input.is_null() || len == 0 {
        return &[];
    }
    // SAFETY: the caller passes `len` readable bytes at `input`, alive for the call.
    unsafe { std::slice::from_raw_parts(input, len) }
}

fn decode<T: DeserializeOwned>(input: &[u8]) -> Result<T, (i32, String)> {
    serde_json::from_slice(input).map_err(|e| (STATUS_BAD_INPUT, format!("could not decode the request: {e}")))
}

fn plugin_err(e: PluginError) -> (i32, String) {
    (STATUS_ERROR, e.to_string())
}

#[doc(hidden)]
/// # Safety
/// `out` must be null or point to a writable `PraxisBuffer` for the call.
pub unsafe fn __manifest(out: *mut PraxisBuffer, manifest: impl FnOnce() -> Manifest) -> i32 {
    guarded(out, || encode(&manifest()))
}

#[doc(hidden)]
/// # Safety
/// `input` must be null or point to `len` readable bytes for the call; `out`
/// must be null or point to a writable `PraxisBuffer` for the call.
pub unsafe fn __evaluate<P: Protocol>(plugin: &P, input: *const u8, len: usize, out: *mut PraxisBuffer) -> i32 {
    guarded(out, || {
        let request: ProtocolInput = decode(input_slice(input, len))?;
        encode(&plugin.evaluate(&request).map_err(plugin_err)?)
    })
}

#[doc(hidden)]
/// # Safety
/// As [`__evaluate`].
pub unsafe fn __schedule<S: Scheduler>(plugin: &S, input: *const u8, len: usize, out: *mut PraxisBuffer) -> i32 {
    guarded(out, || {
        let request: ScheduleRequest = decode(input_slice(input, len))?;
        encode(&plugin.schedule(&request).map_err(plugin_err)?)
    })
}

#[doc(hidden)]
/// # Safety
/// `buffer` must have been written by this library's entry points and not freed before.
pub unsafe fn __free_buffer(buffer: PraxisBuffer) {
    if buffer.ptr.is_null() {
        return;
    }
    // SAFETY: per the contract, the buffer came from `PraxisBuffer::from_vec`
    // in this library, so ptr/len/cap describe a live `Vec<u8>` allocation.
    drop(unsafe { Vec::from_raw_parts(buffer.ptr, buffer.len, buffer.cap) });
}

struct HostLogger {
    log: LogFn,
    ctx: usize,
}

static HOST_LOGGER: OnceLock<HostLogger> = OnceLock::new();
static HOST_MAX_LEVEL: AtomicU32 = AtomicU32::new(LOG_INFO);

#[doc(hidden)]
/// # Safety
/// `log`, if given, must be callable with `ctx` from any thread for the rest
/// of the process, as the ABI v1 contract of `set_logger` says.
pub unsafe fn __set_logger(log: Option<LogFn>, ctx: *mut c_void, max_level: u32) {
    let _ = catch_unwind(|| {
        HOST_MAX_LEVEL.store(max_level, Ordering::Relaxed);
        let Some(log) = log else { return };
        if HOST_LOGGER.set(HostLogger { log, ctx: ctx as usize }).is_ok() {
            // This library has its own copy of `tracing`; route its events to the host.
            let _ = tracing::subscriber::set_global_default(Forwarder);
        }
    });
}

fn level_number(level: &tracing::Level) -> u32 {
    match *level {
        tracing::Level::ERROR => LOG_ERROR,
        tracing::Level::WARN => LOG_WARN,
        tracing::Level::INFO => LOG_INFO,
        tracing::Level::DEBUG => LOG_DEBUG,
        tracing::Level::TRACE => LOG_TRACE,
    }
}

/// A `tracing` subscriber, installed inside a plugin library, that sends each
/// event to the host's log callback.
struct Forwarder;

struct MessageVisitor(String);

impl tracing::field::Visit for MessageVisitor {
    fn record_debug(&mut self, field: &tracing::field::Field, value: &dyn fmt::Debug) {
        use fmt::Write;
        if field.name() == "message" {
            let _ = write!(self.0, "{value:?}");
        } else {
            let _ = write!(self.0, " {}={value:?}", field.name());
        }
    }
    fn record_str(&mut self, field: &tracing::field::Field, value: &str) {
        if field.name() == "message" {
            self.0.push_str(value);
        } else {
            self.record_debug(field, &value);
        }
    }
}

impl tracing::Subscriber for Forwarder {
    fn register_callsite(&self, _: &'static tracing::Metadata<'static>) -> tracing::subscriber::Interest {
        // The host's level can change with a later `set_logger`: never let
        // `tracing` cache a call site as off, ask `enabled` every time.
        tracing::subscriber::Interest::sometimes()
    }
    fn enabled(&self, metadata: &tracing::Metadata<'_>) -> bool {
        level_number(metadata.level()) <= HOST_MAX_LEVEL.load(Ordering::Relaxed)
    }
    fn new_span(&self, _: &tracing::span::Attributes<'_>) -> tracing::span::Id {
        tracing::span::Id::from_u64(1)
    }
    fn record(&self, _: &tracing::span::Id, _: &tracing::span::Record<'_>) {}
    fn record_follows_from(&self, _: &tracing::span::Id, _: &tracing::span::Id) {}
    fn event(&self, event: &tracing::Event<'_>) {
        let Some(host) = HOST_LOGGER.get() else { return };
        let mut visitor = MessageVisitor(String::new());
        event.record(&mut visitor);
        let target = event.metadata().target();
        // SAFETY: the host registered `log` for this process's lifetime and
        // promised it may be called from any thread with these arguments: two
        // UTF-8 byte ranges that stay alive for the call.
        unsafe {
            (host.log)(
                host.ctx as *mut c_void,
                level_number(event.metadata().level()),
                target.as_ptr(),
                target.len(),
                visitor.0.as_ptr(),
                visitor.0.len(),
            )
        }
    }
    fn enter(&self, _: &tracing::span::Id) {}
    fn exit(&self, _: &tracing::span::Id) {}
}

/// Writes the table and the `praxis_plugin_v1` symbol for a plugin type.
///
/// ```ignore
/// praxis_sdk::export_plugin!(protocol = MyProtocol);
/// praxis_sdk::export_plugin!(scheduler = MyScheduler);
/// ```
///
/// The type must implement [`Default`] and the named trait. The macro also
/// defines `pub fn praxis_plugin_table() -> &'static PluginTableV1` so that
/// tests can call the library through the real ABI without loading it.
#[macro_export]
macro_rules! export_plugin {
    (protocol = $ty:ty) => {
        $crate::export_plugin!(@table $ty, Some(__praxis_evaluate), None);
        #[doc(hidden)]
        unsafe extern "C" fn __praxis_evaluate(
            input: *const u8,
            len: usize,
            out: *mut $crate::abi::PraxisBuffer,
        ) -> i32 {
            // SAFETY: the host passes `len` readable bytes at `input` and a writable `out`, per ABI v1.
            unsafe { $crate::abi::__evaluate(__praxis_instance(), input, len, out) }
        }
    };
    (scheduler = $ty:ty) => {
        $crate::export_plugin!(@table $ty, None, Some(__praxis_schedule));
        #[doc(hidden)]
        unsafe extern "C" fn __praxis_schedule(
            input: *const u8,
            len: usize,
            out: *mut $crate::abi::PraxisBuffer,
        ) -> i32 {
            // SAFETY: the host passes `len` readable bytes at `input` and a writable `out`, per ABI v1.
            unsafe { $crate::abi::__schedule(__praxis_instance(), input, len, out) }
        }
    };
    (@table $ty:ty, $evaluate:expr, $schedule:expr) => {
        #[doc(hidden)]
        fn __praxis_instance() -> &'static $ty {
            static INSTANCE: ::std::sync::OnceLock<$ty> = ::std::sync::OnceLock::new();
            INSTANCE.get_or_init(<$ty as ::core::default::Default>::default)
        }
        #[doc(hidden)]
        unsafe extern "C" fn __praxis_manifest(out: *mut $crate::abi::PraxisBuffer) -> i32 {
            // SAFETY: the host passes a writable `out`, per ABI v1.
            unsafe { $crate::abi::__manifest(out, || $crate::Plugin::manifest(__praxis_instance())) }
        }
        #[doc(hidden)]
        unsafe extern "C" fn __praxis_free(buffer: $crate::abi::PraxisBuffer) {
            // SAFETY: the host hands back only buffers this library wrote.
            unsafe { $crate::abi::__free_buffer(buffer) }
        }
        #[doc(hidden)]
        unsafe extern "C" fn __praxis_set_logger(
            log: ::core::option::Option<$crate::abi::LogFn>,
            ctx: *mut ::std::ffi::c_void,
            max_level: u32,
        ) {
            // SAFETY: the host passes a callback and context valid for the
            // process, per ABI v1.
            unsafe { $crate::abi::__set_logger(log, ctx, max_level) }
        }
        #[doc(hidden)]
        // SAFETY: a static NUL-terminated version string and functions
        // generated above, each following the ABI v1 contract.
        static __PRAXIS_TABLE: $crate::abi::PluginTableV1 = unsafe {
            $crate::abi::PluginTableV1::new(
                $crate::abi::MAGIC,
                $crate::abi::ABI_MAJOR,
                $crate::abi::ABI_MINOR,
                $crate::abi::SDK_VERSION_C.as_ptr(),
                ::core::option::Option::Some(__praxis_manifest),
                $evaluate,
                $schedule,
                ::core::option::Option::Some(__praxis_free),
                ::core::option::Option::Some(__praxis_set_logger),
            )
        };
        /// This plugin's ABI table, for calling it through the real ABI in tests.
        pub fn praxis_plugin_table() -> &'static $crate::abi::PluginTableV1 {
            &__PRAXIS_TABLE
        }
        /// The exported ABI v1 entry point.
        #[unsafe(no_mangle)]
        pub extern "C" fn praxis_plugin_v1() -> *const $crate::abi::PluginTableV1 {
            &__PRAXIS_TABLE
        }
    };
}

// ---------------------------------------------------------------------------
// Host side: the one safe wrapper around a table.
// ---------------------------------------------------------------------------

#[cfg(feature = "host")]
pub use host::*;

/// The caller's side (feature `host`).
#[cfg(feature = "host")]
mod host {
    use super::*;

    /// Why a table was refused.
    #[derive(Debug, Clone, PartialEq, Eq)]
    pub enum TableError {
        /// The symbol returned a null pointer.
        Null,
        /// The first field is not [`MAGIC`].
        BadMagic(u64),
        /// The ABI major differs from this host's.
        MajorMismatch {
            /// The plugin's.
            plugin: u16,
            /// This host's.
            host: u16,
        },
        /// A required function pointer of the table is null.
        NullEntry(&'static str),
        /// The plugin needs a newer minor than this host knows.
        MinorTooNew {
            /// The plugin's.
            plugin: u16,
            /// This host's.
            host: u16,
        },
    }

    impl fmt::Display for TableError {
        fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
            match self {
                TableError::Null => write!(f, "`praxis_plugin_v1` returned a null table"),
                TableError::BadMagic(m) => write!(
                    f,
                    "wrong magic number {m:#018x} (expected {MAGIC:#018x}): not a Praxis plugin table, or a corrupt build"
                ),
                TableError::MajorMismatch { plugin, host } => write!(
                    f,
                    "plugin speaks ABI major {plugin}, this host speaks {host}: rebuild the plugin against a praxis-sdk of ABI major {host}"
                ),
                TableError::NullEntry(field) => write!(
                    f,
                    "the table's required function `{field}` is NULL: not a usable Praxis plugin (fill in `{field}`; see praxis_plugin.h)"
                ),
                TableError::MinorTooNew { plugin, host } => write!(
                    f,
                    "plugin needs ABI 1.{plugin} but this host knows only up to 1.{host}: upgrade Praxis, or build the plugin against an older praxis-sdk"
                ),
            }
        }
    }

    impl std::error::Error for TableError {}

    /// Why a call through the ABI failed.
    #[derive(Debug, Clone, PartialEq, Eq)]
    pub enum CallError {
        /// The plugin returned an error status with this message.
        Plugin {
            /// The status code.
            status: i32,
            /// The plugin's message.
            message: String,
        },
        /// The plugin does not implement this entry point.
        Unsupported(&'static str),
        /// The request could not be encoded.
        Encode(String),
        /// The plugin's answer is not valid for the expected type.
        Malformed(String),
        /// The plugin's answer is longer than the host accepts.
        TooLarge {
            /// The entry point.
            entry: &'static str,
            /// The answer's length in bytes.
            len: usize,
            /// The limit.
            max: usize,
        },
    }

    impl fmt::Display for CallError {
        fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
            match self {
                CallError::Plugin { status: STATUS_PANIC, message } => write!(f, "{message}"),
                CallError::Plugin { status: STATUS_BAD_INPUT, message } => {
                    write!(f, "plugin could not read the host's request: {message}")
                }
                CallError::Plugin { status, message } => write!(f, "plugin failed (status {status}): {message}"),
                CallError::Unsupported(what) => write!(f, "plugin does not implement `{what}`"),
                CallError::Encode(e) => write!(f, "could not encode the request: {e}"),
                CallError::Malformed(e) => write!(f, "plugin returned malformed output: {e}"),
                CallError::TooLarge { entry, len, max } => write!(
                    f,
                    "the plugin's `{entry}` answer is {len} bytes, over the practice's limit of {max} bytes \
                 (`[plugins] max_answer_bytes` in praxis.toml); the answer was dropped unread"
                ),
            }
        }
    }

    impl std::error::Error for CallError {}

    /// A checked, callable plugin table: its required function pointers were
    /// read once, as `Option`s, and found non-null.
    #[derive(Debug, Clone, Copy)]
    pub struct PluginHandle {
        table: &'static PluginTableV1,
        manifest: ManifestFn,
        free_buffer: FreeFn,
    }

    /// The kind of log callback context the host hands a plugin: its id, leaked once.
    fn log_to_tracing(ctx: *mut c_void, level: u32, target: &[u8], message: &[u8]) {
        let plugin = if ctx.is_null() {
            "?"
        } else {
            // SAFETY: the host registers a pointer to a leaked `String` (see
            // `PluginHandle::install_logger`), which lives for the process.
            unsafe { (*(ctx as *const String)).as_str() }
        };
        let target = String::from_utf8_lossy(target);
        let message = String::from_utf8_lossy(message);
        match level {
            LOG_ERROR => tracing::error!(target: "praxis::plugin", plugin, plugin_target = %target, "{message}"),
            LOG_WARN => tracing::warn!(target: "praxis::plugin", plugin, plugin_target = %target, "{message}"),
            LOG_INFO => tracing::info!(target: "praxis::plugin", plugin, plugin_target = %target, "{message}"),
            LOG_DEBUG => tracing::debug!(target: "praxis::plugin", plugin, plugin_target = %target, "{message}"),
            _ => tracing::trace!(target: "praxis::plugin", plugin, plugin_target = %target, "{message}"),
        }
    }

    unsafe extern "C" fn host_log_callback(
        ctx: *mut c_void,
        level: u32,
        target: *const u8,
        target_len: usize,
        message: *const u8,
        message_len: usize,
    ) {
        let _ = catch_unwind(|| {
            let target = input_slice(target, target_len);
            let message = input_slice(message, message_len);
            log_to_tracing(ctx, level, target, message);
        });
    }

    impl PluginHandle {
        /// Checks a table a plugin returned: not null, magic, ABI major and minor.
        ///
        /// # Safety
        /// `table` must be null or point to a `PluginTableV1`-shaped value that
        /// stays valid and unchanged for the rest of the process (the host never
        /// unloads a plugin library), whose function pointers follow the ABI v1
        /// contract.
        pub unsafe fn from_raw(table: *const PluginTableV1) -> Result<PluginHandle, TableError> {
            if table.is_null() {
                return Err(TableError::Null);
            }
            // Read the fixed header first: a table from a different major may be
            // shorter than ours, so nothing past the versions is read before they
            // are checked.
            // SAFETY: non-null, and the caller guarantees it points to a table
            // whose first three fields have the v1 header layout.
            let (magic, major, minor) = unsafe { ((*table).magic, (*table).abi_major, (*table).abi_minor) };
            if magic != MAGIC {
                return Err(TableError::BadMagic(magic));
            }
            if major != ABI_MAJOR {
                return Err(TableError::MajorMismatch { plugin: major, host: ABI_MAJOR });
            }
            if minor > ABI_MINOR {
                return Err(TableError::MinorTooNew { plugin: minor, host: ABI_MINOR });
            }
            // SAFETY: checked to be a v1 table of a minor this host knows; valid for 'static per the contract.
            let table: &'static PluginTableV1 = unsafe { &*table };
            // The function pointers are `Option`s, so a NULL from C is `None`
            // here, read and checked before anything is called.
            let manifest = table.manifest.ok_or(TableError::NullEntry("manifest"))?;
            let free_buffer = table.free_buffer.ok_or(TableError::NullEntry("free_buffer"))?;
            Ok(PluginHandle { table, manifest, free_buffer })
        }

        /// For diagnostics only: the manifest of a table that
        /// [`from_raw`](Self::from_raw) refused because its `free_buffer` is
        /// NULL, so that the host can name the plugin it refuses. The manifest's
        /// buffer cannot be handed back and is leaked (once per refused file).
        /// `None` if the header is not a v1 table this host knows, `manifest` is
        /// NULL, or the answer is not a valid manifest.
        ///
        /// # Safety
        /// As [`from_raw`](Self::from_raw).
        pub unsafe fn peek_manifest(table: *const PluginTableV1) -> Option<Manifest> {
            if table.is_null() {
                return None;
            }
            // SAFETY: non-null; the caller guarantees the v1 header layout.
            let (magic, major, minor) = unsafe { ((*table).magic, (*table).abi_major, (*table).abi_minor) };
            if magic != MAGIC || major != ABI_MAJOR || minor > ABI_MINOR {
                return None;
            }
            // SAFETY: a v1 table of a minor this host knows, valid per the contract.
            let table: &PluginTableV1 = unsafe { &*table };
            let manifest = table.manifest?;
            let mut out = PraxisBuffer::EMPTY;
            // SAFETY: per the v1 contract `manifest` writes one buffer to `out`.
            let status = unsafe { manifest(&mut out) };
            let bytes = input_slice(out.ptr, out.len).to_vec();
            if let Some(free) = table.free_buffer {
                // SAFETY: written by this table's `manifest`, released once, here.
                unsafe { free(out) };
            }
            if status != STATUS_OK {
                return None;
            }
            let manifest: Manifest = serde_json::from_slice(&bytes).ok()?;
            manifest.validate().ok()?;
            Some(manifest)
        }

        /// The handle of a table compiled into this program (such as a plugin's
        /// `praxis_plugin_table()`), for calling it through the ABI in tests.
        pub fn from_static(table: &'static PluginTableV1) -> Result<PluginHandle, TableError> {
            // SAFETY: a `&'static` reference is non-null and valid for the process.
            unsafe { PluginHandle::from_raw(table) }
        }

        /// The ABI minor the plugin was built for.
        pub fn abi_minor(&self) -> u16 {
            self.table.abi_minor
        }

        /// The SDK version the plugin says it was built with.
        pub fn sdk_version(&self) -> String {
            if self.table.sdk_version.is_null() {
                return "unknown".to_owned();
            }
            // SAFETY: a v1 table's `sdk_version` is null or a static NUL-terminated string.
            unsafe { CStr::from_ptr(self.table.sdk_version) }.to_string_lossy().into_owned()
        }

        /// Routes the plugin's log records to this process's `tracing`
        /// subscriber, tagged with `plugin_id`. Call once per loaded library, and
        /// never for a table compiled into this program (it shares our `tracing`).
        pub fn install_logger(&self, plugin_id: &str, max_level: tracing::Level) {
            let Some(set_logger) = self.table.set_logger else { return };
            let ctx = Box::into_raw(Box::new(plugin_id.to_owned())) as *mut c_void;
            // SAFETY: `host_log_callback` is a valid `LogFn` for the process's
            // lifetime and `ctx` is a leaked `String` that is never freed.
            unsafe { set_logger(Some(host_log_callback), ctx, level_number(&max_level)) };
        }

        fn take(&self, entry: &'static str, status: i32, out: PraxisBuffer) -> Result<Vec<u8>, CallError> {
            self.take_limited(entry, status, out, usize::MAX)
        }

        fn take_limited(
            &self,
            entry: &'static str,
            status: i32,
            out: PraxisBuffer,
            max: usize,
        ) -> Result<Vec<u8>, CallError> {
            if out.len > max {
                let len = out.len;
                // SAFETY: `out` was written by this table's functions and is released once, here.
                unsafe { (self.free_buffer)(out) };
                return Err(CallError::TooLarge { entry, len, max });
            }
            let bytes = input_slice(out.ptr, out.len).to_vec();
            // SAFETY: `out` was written by this table's functions and is released once, here.
            unsafe { (self.free_buffer)(out) };
            if status == STATUS_OK {
                Ok(bytes)
            } else if status == STATUS_UNSUPPORTED {
                Err(CallError::Unsupported(entry))
            } else {
                Err(CallError::Plugin { status, message: String::from_utf8_lossy(&bytes).into_owned() })
            }
        }

        /// Whether the table has this entry point (a protocol must have
        /// `evaluate`, a scheduler `schedule`).
        pub fn has_entry(&self, entry: Entry) -> bool {
            match entry {
                Entry::Evaluate => self.table.evaluate.is_some(),
                Entry::Schedule => self.table.schedule.is_some(),
            }
        }

        /// Calls an entry point with raw request bytes; returns the raw answer.
        pub fn call_raw(&self, entry: Entry, input: &[u8]) -> Result<Vec<u8>, CallError> {
            self.call_limited(entry, input, usize::MAX)
        }

        /// As [`call_raw`](Self::call_raw), refusing (without copying it) an
        /// answer longer than `max` bytes.
        pub fn call_limited(&self, entry: Entry, input: &[u8], max: usize) -> Result<Vec<u8>, CallError> {
            let (name, f) = match entry {
                Entry::Evaluate => ("evaluate", self.table.evaluate.ok_or(CallError::Unsupported("evaluate"))?),
                Entry::Schedule => ("schedule", self.table.schedule.ok_or(CallError::Unsupported("schedule"))?),
            };
            let mut out = PraxisBuffer::EMPTY;
            // SAFETY: per the v1 contract `f` reads `input.len()` bytes at
            // `input.as_ptr()` during the call and writes one buffer to `out`.
            let status = unsafe { f(input.as_ptr(), input.len(), &mut out) };
            self.take_limited(name, status, out, max)
        }

        /// The plugin's manifest as the bytes it wrote (not decoded).
        pub fn manifest_raw(&self) -> Result<Vec<u8>, CallError> {
            let mut out = PraxisBuffer::EMPTY;
            // SAFETY: per the v1 contract `manifest` writes one buffer to `out`.
            let status = unsafe { (self.manifest)(&mut out) };
            self.take("manifest", status, out)
        }

        /// The plugin's manifest, decoded and checked.
        pub fn manifest(&self) -> Result<Manifest, CallError> {
            let bytes = self.manifest_raw()?;
            let manifest: Manifest = serde_json::from_slice(&bytes).map_err(|e| CallError::Malformed(e.to_string()))?;
            manifest.validate().map_err(CallError::Malformed)?;
            Ok(manifest)
        }

        /// Evaluates a client through the protocol entry point. The guidance is
        /// decoded but not yet validated: see [`Guidance::validate`].
        pub fn evaluate(&self, input: &ProtocolInput) -> Result<Guidance, CallError> {
            let request = serde_json::to_vec(input).map_err(|e| CallError::Encode(e.to_string()))?;
            self.evaluate_encoded(&request)
        }

        /// As [`evaluate`](Self::evaluate), with the request already encoded (so
        /// a host can encode a client once for several plugins).
        pub fn evaluate_encoded(&self, request: &[u8]) -> Result<Guidance, CallError> {
            let bytes = self.call_raw(Entry::Evaluate, request)?;
            serde_json::from_slice(&bytes).map_err(|e| CallError::Malformed(e.to_string()))
        }

        /// Asks the scheduler entry point for a proposal.
        pub fn schedule(&self, request: &ScheduleRequest) -> Result<ScheduleProposal, CallError> {
            let request = serde_json::to_vec(request).map_err(|e| CallError::Encode(e.to_string()))?;
            let bytes = self.call_raw(Entry::Schedule, &request)?;
            serde_json::from_slice(&bytes).map_err(|e| CallError::Malformed(e.to_string()))
        }
    }

    /// An entry point of the table.
    #[derive(Debug, Clone, Copy, PartialEq, Eq)]
    pub enum Entry {
        /// `evaluate`.
        Evaluate,
        /// `schedule`.
        Schedule,
    }
}
