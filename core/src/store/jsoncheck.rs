//! What serde_json lets through that an import must not: an object with the
//! same key twice (the last one would silently win), and input of any size.

use serde::de::{self, DeserializeSeed, MapAccess, SeqAccess, Visitor};

/// The largest export [`PracticeExport::from_reader`](super::PracticeExport::from_reader)
/// reads by default (project default 1 GiB: a 50,000-client export is about
/// 500 MiB; `[store] max_import_mib` sets it).
pub const DEFAULT_MAX_IMPORT_BYTES: u64 = 1024 * 1024 * 1024;

/// Fails on the first object that has a key twice, naming its path
/// (`clients[3].name`).
pub(crate) fn no_duplicate_keys(text: &str) -> Result<(), String> {
    let mut de = serde_json::Deserializer::from_str(text);
    Walk { path: String::new() }.deserialize(&mut de).map_err(|e| e.to_string())
}

struct Walk {
    path: String,
}

impl<'de> DeserializeSeed<'de> for Walk {
    type Value = ();
    fn deserialize<D: de::Deserializer<'de>>(self, d: D) -> Result<(), D::Error> {
        d.deserialize_any(self)
    }
}

impl<'de> Visitor<'de> for Walk {
    type Value = ();

    fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("JSON")
    }

    fn visit_bool<E>(self, _: bool) -> Result<(), E> {
        Ok(())
    }
    fn visit_i64<E>(self, _: i64) -> Result<(), E> {
        Ok(())
    }
    fn visit_u64<E>(self, _: u64) -> Result<(), E> {
        Ok(())
    }
    fn visit_f64<E>(self, _: f64) -> Result<(), E> {
        Ok(())
    }
    fn visit_str<E>(self, _: &str) -> Result<(), E> {
        Ok(())
    }
    fn visit_unit<E>(self) -> Result<(), E> {
        Ok(())
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<(), A::Error> {
        let mut i = 0usize;
        while seq.next_element_seed(Walk { path: format!("{}[{i}]", self.path) })?.is_some() {
            i += 1;
        }
        Ok(())
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<(), A::Error> {
        let mut seen = std::collections::HashSet::new();
        while let Some(key) = map.next_key::<String>()? {
            let path = if self.path.is_empty() { key.clone() } else { format!("{}.{key}", self.path) };
            if !seen.insert(key) {
                return Err(de::Error::custom(format!(
                    "`{}` appears twice in the same object: keep one (the file was edited by hand or is not a Praxis export)",
                    super::error::excerpt(&path)
                )));
            }
            map.next_value_seed(Walk { path })?;
        }
        Ok(())
    }
}
