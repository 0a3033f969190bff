//! The published contract (feature `schema`): JSON Schemas of the five plugin
//! messages, generated from this crate's types with `schemars`, and a checker
//! that finds the fields of an answer the host does not know.
//!
//! The same schemas are committed in the SDK's `schema/` folder (one file per
//! [`Message`]), for C authors and any JSON Schema validator; a test
//! regenerates them and fails when the committed copies differ.
//!
//! The schemas of the plugin's **answers** ([`Message::Manifest`],
//! [`Message::Guidance`], [`Message::ScheduleProposal`]) say
//! `"additionalProperties": false` on every object: the host reads exactly
//! those fields, and any other field is a slip that would be lost (a host
//! ignores unknown fields, see `WIRE.md`). The schemas of what the host
//! **sends** ([`Message::ProtocolInput`], [`Message::ScheduleRequest`]) stay
//! open: a newer host of the same ABI major may send more, and a plugin must
//! ignore what it does not know.
//!
//! ```
//! use praxis_sdk::schema::{Message, unknown_fields};
//!
//! let answer = serde_json::json!({
//!     "cards": [],
//!     "recommendation": { "pressureMax": "light", "focus_regions": ["neck"] }
//! });
//! let slips = unknown_fields(&Message::Guidance.schema(), &answer);
//! assert_eq!(slips.len(), 1);
//! assert_eq!(slips[0].path, "$.recommendation.pressureMax");
//! assert_eq!(slips[0].suggestion.as_deref(), Some("pressure_max"));
//! ```

use std::borrow::Cow;

use schemars::generate::SchemaSettings;
use schemars::{JsonSchema, Schema, SchemaGenerator, json_schema};
use serde_json::{Map, Value};

use crate::model::Discipline;
use crate::time::{Date, DateTime, TimeOfDay};

/// One of the messages that cross the ABI.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Message {
    /// What `manifest()` writes.
    Manifest,
    /// What `evaluate()` reads.
    ProtocolInput,
    /// What `evaluate()` writes.
    Guidance,
    /// What `schedule()` reads.
    ScheduleRequest,
    /// What `schedule()` writes.
    ScheduleProposal,
}

impl Message {
    /// Every message, in the order of the header's table.
    pub const ALL: [Message; 5] = [
        Message::Manifest,
        Message::ProtocolInput,
        Message::Guidance,
        Message::ScheduleRequest,
        Message::ScheduleProposal,
    ];

    /// The file the schema is committed as in the SDK's `schema/` folder.
    pub fn file_name(self) -> &'static str {
        match self {
            Message::Manifest => "manifest.json",
            Message::ProtocolInput => "protocol_input.json",
            Message::Guidance => "guidance.json",
            Message::ScheduleRequest => "schedule_request.json",
            Message::ScheduleProposal => "schedule_proposal.json",
        }
    }

    /// Whether the plugin writes it (and the host reads it).
    pub fn is_answer(self) -> bool {
        matches!(self, Message::Manifest | Message::Guidance | Message::ScheduleProposal)
    }

    /// The JSON Schema (draft 2020-12) of the message.
    pub fn schema(self) -> Value {
        let generator = SchemaSettings::draft2020_12().into_generator();
        let schema = match self {
            Message::Manifest => generator.into_root_schema_for::<crate::Manifest>(),
            Message::ProtocolInput => generator.into_root_schema_for::<crate::ProtocolInput>(),
            Message::Guidance => generator.into_root_schema_for::<crate::Guidance>(),
            Message::ScheduleRequest => generator.into_root_schema_for::<crate::ScheduleRequest>(),
            Message::ScheduleProposal => generator.into_root_schema_for::<crate::ScheduleProposal>(),
        };
        let mut value = schema.to_value();
        if let Value::Object(root) = &mut value {
            let direction = if self.is_answer() {
                "written by the plugin; every object is closed (additionalProperties: false): the host reads \
                 these fields only, so any other field is a slip"
            } else {
                "written by the host; objects are open: a newer host of ABI 1 may send more fields, which a \
                 plugin must ignore"
            };
            root.insert(
                "$comment".to_owned(),
                Value::String(format!(
                    "Praxis plugin ABI {}.{}: {direction}. Generated from praxis-sdk's types; do not edit \
                     (see sdk/WIRE.md).",
                    crate::abi::ABI_MAJOR,
                    crate::abi::ABI_MINOR
                )),
            );
        }
        if self.is_answer() {
            close_objects(&mut value);
        }
        value
    }

    /// The committed text of the schema: pretty JSON and a final newline.
    pub fn schema_text(self) -> String {
        let mut text = serde_json::to_string_pretty(&self.schema()).expect("a schema is JSON");
        text.push('\n');
        text
    }
}

/// Sets `additionalProperties: false` on every object schema with named
/// properties that does not say otherwise.
fn close_objects(value: &mut Value) {
    match value {
        Value::Object(map) => {
            if map.contains_key("properties") && !map.contains_key("additionalProperties") {
                map.insert("additionalProperties".to_owned(), Value::Bool(false));
            }
            for v in map.values_mut() {
                close_objects(v);
            }
        }
        Value::Array(items) => items.iter_mut().for_each(close_objects),
        _ => {}
    }
}

/// A field in a message that its schema does not name.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UnknownField {
    /// Where, as a JSONPath such as `$.cards[0].override_reasons`.
    pub path: String,
    /// The field's name.
    pub field: String,
    /// A known field of the same object that differs only in case or
    /// underscores (such as `overrideReasons` for `override_reasons`).
    pub suggestion: Option<String>,
}

impl std::fmt::Display for UnknownField {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}: unknown field `{}`", self.path, self.field)?;
        match &self.suggestion {
            Some(s) => write!(f, " (did you mean `{s}`?)"),
            None => Ok(()),
        }
    }
}

/// Every field of `value` that `schema` (one of [`Message::schema`]) does not
/// name, where the object's schema says `additionalProperties: false` (as the
/// answers' schemas do everywhere), depth first. A map (such as `settings`)
/// accepts any key. Values of the wrong type are not reported
/// here: decoding them fails anyway, with serde's message.
pub fn unknown_fields(schema: &Value, value: &Value) -> Vec<UnknownField> {
    let mut out = Vec::new();
    walk(schema, schema, value, "$".to_owned(), &mut out);
    out
}

/// The schemas `schema` stands for: `$ref`s followed, `anyOf` / `oneOf` /
/// `allOf` flattened.
fn leaves<'a>(root: &'a Value, schema: &'a Value, depth: usize, out: &mut Vec<&'a Value>) {
    if depth > 32 {
        return;
    }
    if let Some(reference) = schema.get("$ref").and_then(Value::as_str)
        && let Some(name) = reference.strip_prefix("#/$defs/")
        && let Some(target) = root.get("$defs").and_then(|d| d.get(name))
    {
        leaves(root, target, depth + 1, out);
    }
    let mut combined = false;
    for key in ["anyOf", "oneOf", "allOf"] {
        if let Some(Value::Array(branches)) = schema.get(key) {
            combined = true;
            for b in branches {
                leaves(root, b, depth + 1, out);
            }
        }
    }
    if !combined && schema.get("$ref").is_none() {
        out.push(schema);
    }
}

fn normalise(name: &str) -> String {
    name.chars().filter(|c| *c != '_' && *c != '-').flat_map(char::to_lowercase).collect()
}

fn walk(root: &Value, schema: &Value, value: &Value, path: String, out: &mut Vec<UnknownField>) {
    let mut found = Vec::new();
    leaves(root, schema, 0, &mut found);
    match value {
        Value::Object(fields) => {
            // The branches that can be an object (not `{"type": "null"}` of an `Option`).
            let objects: Vec<&Map<String, Value>> = found
                .iter()
                .filter_map(|s| s.as_object())
                .filter(|s| match s.get("type") {
                    None => true,
                    Some(Value::String(t)) => t == "object",
                    Some(Value::Array(ts)) => ts.iter().any(|t| t == "object"),
                    Some(_) => false,
                })
                .collect();
            let named: Vec<&Map<String, Value>> =
                objects.iter().filter_map(|s| s.get("properties").and_then(Value::as_object)).collect();
            // As in JSON Schema, a key no branch names is allowed unless every
            // branch says `additionalProperties: false`.
            let open =
                named.is_empty() || objects.iter().any(|s| s.get("additionalProperties") != Some(&Value::Bool(false)));
            for (key, inner) in fields {
                let child = format!("{path}.{key}");
                match named.iter().find_map(|props| props.get(key)) {
                    Some(sub) => walk(root, sub, inner, child, out),
                    None if open => {}
                    None => {
                        let wanted = normalise(key);
                        let suggestion = named
                            .iter()
                            .flat_map(|props| props.keys())
                            .find(|known| normalise(known) == wanted && !fields.contains_key(known.as_str()))
                            .cloned();
                        out.push(UnknownField { path: child, field: key.clone(), suggestion });
                    }
                }
            }
        }
        Value::Array(items) => {
            if let Some(item_schema) = found.iter().find_map(|s| s.get("items")) {
                for (i, item) in items.iter().enumerate() {
                    walk(root, item_schema, item, format!("{path}[{i}]"), out);
                }
            }
        }
        _ => {}
    }
}

// ---------------------------------------------------------------------------
// The types with hand-written serde forms.
// ---------------------------------------------------------------------------

macro_rules! string_schema {
    ($ty:ty, $name:literal, $pattern:literal, $description:literal, $example:literal) => {
        impl JsonSchema for $ty {
            fn schema_name() -> Cow<'static, str> {
                $name.into()
            }
            fn json_schema(_: &mut SchemaGenerator) -> Schema {
                json_schema!({
                    "type": "string",
                    "pattern": $pattern,
                    "description": $description,
                    "examples": [$example],
                })
            }
        }
    };
}

string_schema!(Date, "Date", "^[0-9]{4}-[0-9]{2}-[0-9]{2}$", "A calendar day, `YYYY-MM-DD`.", "2026-11-21");
string_schema!(TimeOfDay, "TimeOfDay", "^[0-9]{2}:[0-9]{2}$", "A local time of day, `HH:MM` (24 h).", "09:30");
string_schema!(
    DateTime,
    "DateTime",
    "^[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}$",
    "A local date and time, `YYYY-MM-DDTHH:MM` (the practice's time zone).",
    "2026-11-21T09:30"
);

impl JsonSchema for Discipline {
    fn schema_name() -> Cow<'static, str> {
        "Discipline".into()
    }
    fn json_schema(_: &mut SchemaGenerator) -> Schema {
        let known: Vec<Value> = Discipline::KNOWN.iter().map(|d| Value::String(d.as_str().to_owned())).collect();
        json_schema!({
            "type": "string",
            "minLength": 1,
            "description": "A therapy discipline: one of the known names (see `examples`), or any other \
                            non-empty name, which a reader keeps as an unknown discipline.",
            "examples": known,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn unknown_fields_are_found_with_their_paths_and_near_misses() {
        fn check(message: Message, answer: Value, expected: &[&str]) {
            let mut found: Vec<String> =
                unknown_fields(&message.schema(), &answer).iter().map(ToString::to_string).collect();
            // Key order depends on serde_json's `preserve_order` feature.
            found.sort();
            assert_eq!(found, expected, "{answer}");
        }
        let card = |extra: Value| {
            let mut c = serde_json::json!({
                "summary": "s", "indicator": "info", "source": {"label": "l"}, "rule": "F1"
            });
            c.as_object_mut().unwrap().extend(extra.as_object().unwrap().clone());
            c
        };
        check(Message::Guidance, serde_json::json!({"cards": [card(serde_json::json!({}))]}), &[]);
        check(
            Message::Guidance,
            serde_json::json!({"cards": [card(serde_json::json!({"override_reasons": []}))]}),
            &["$.cards[0].override_reasons: unknown field `override_reasons` (did you mean `overrideReasons`?)"],
        );
        check(
            Message::Guidance,
            serde_json::json!({"recommendation": {"focusRegions": ["neck"], "pressureMax": "light", "minutes": {"min": 1, "max": 2, "avg": 1}}}),
            &[
                "$.recommendation.focusRegions: unknown field `focusRegions` (did you mean `focus_regions`?)",
                "$.recommendation.minutes.avg: unknown field `avg`",
                "$.recommendation.pressureMax: unknown field `pressureMax` (did you mean `pressure_max`?)",
            ],
        );
        check(
            Message::Guidance,
            serde_json::json!({"hold": {"reason": "r", "rule": "F1", "until": "x"}, "extra": 1}),
            &["$.extra: unknown field `extra`", "$.hold.until: unknown field `until`"],
        );
        // A suggestion's actions, nested two levels down.
        check(
            Message::Guidance,
            serde_json::json!({"cards": [card(serde_json::json!({"suggestions": [{"label": "x", "isRecommended": true, "actions": [{"type": "create", "description": "d", "resource": {}}]}]}))]}),
            &["$.cards[0].suggestions[0].actions[0].resource: unknown field `resource`"],
        );
        // Settings are a free map; a setting spec's default is any value.
        check(
            Message::Manifest,
            serde_json::json!({"id": "x", "name": "x", "version": "1", "kinds": ["protocol"], "settings": [{"key": "k", "default": {"any": 1}, "description": "d"}], "historyDays": 9}),
            &["$.historyDays: unknown field `historyDays` (did you mean `history_days`?)"],
        );
        check(
            Message::ScheduleProposal,
            serde_json::json!({"appointments": [{"client": "c", "practitioner": "p", "room": "r", "discipline": "yoga", "start": "2026-11-21T09:00", "minutes": 60, "visitId": "v"}]}),
            &["$.appointments[0].visitId: unknown field `visitId`"],
        );
        // What the host sends is open: no field is unknown there.
        check(
            Message::ProtocolInput,
            serde_json::json!({"as_of": "2026-11-21", "client": {"id": "c", "new": 1}, "later": 2}),
            &[],
        );
    }

    #[test]
    fn answers_are_closed_and_requests_open() {
        for message in Message::ALL {
            let text = message.schema_text();
            assert_eq!(text.contains("\"additionalProperties\": false"), message.is_answer(), "{message:?}");
            assert!(text.contains("draft/2020-12"), "{message:?}");
        }
    }
}
