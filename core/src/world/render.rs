//! The human page of `praxis guidance`: what the therapist reads before a session.

use std::fmt::Write as _;

use praxis_sdk::{Adjunct, Card, Indicator};

use super::merge::ClientGuidance;

fn adjunct(a: &Adjunct) -> &'static str {
    match a {
        Adjunct::HeatBefore => "heat",
        Adjunct::ColdAfter => "cold",
    }
}

fn source(card: &Card) -> String {
    let plugin = card.source.plugin.as_deref().unwrap_or("");
    match (&card.source.version, plugin) {
        (_, "") => card.source.label.clone(),
        (Some(v), p) if p != "host" => format!("{}, {p} {v}", card.source.label),
        (_, p) => format!("{}, {p}", card.source.label),
    }
}

impl ClientGuidance {
    /// A short page for the therapist: the hold first, then the session
    /// recommendation, then the cards grouped critical, warning, info, each
    /// with its rule id and source (and, for critical cards, the override
    /// reasons on offer).
    pub fn render_text(&self) -> String {
        let mut out = String::new();
        let _ = writeln!(out, "Guidance for {} on {}", self.client, self.as_of);
        let _ = writeln!(out);
        match &self.hold {
            Some(h) => {
                let _ = writeln!(out, "ON HOLD [{}, {}]: {}", h.rule, h.source, h.reason);
                let _ = writeln!(out, "  Do not book without an override reason.");
            }
            None if self.blocks_booking() => {
                let _ = writeln!(out, "Do not book or treat without an override reason (see the critical cards).");
            }
            None => {}
        }
        let r = &self.recommendation;
        let mut session = Vec::new();
        if let Some(m) = r.minutes {
            session.push(format!("{m} minutes"));
        }
        if let Some(p) = r.pressure_max {
            session.push(format!("pressure at most {p}"));
        }
        let lines: [(&str, String); 7] = [
            ("Session", session.join(", ")),
            ("Prefer", r.prefer.join(", ")),
            ("Avoid", r.avoid.join(", ")),
            ("Focus", r.focus_regions.join(", ")),
            ("Before", r.before.iter().map(adjunct).collect::<Vec<_>>().join(", ")),
            ("After", r.after.iter().map(adjunct).collect::<Vec<_>>().join(", ")),
            (
                "Next",
                match (r.interval_days, r.next_due) {
                    (Some(i), Some(d)) => format!("every {i} days; next due {d}"),
                    (Some(i), None) => format!("every {i} days"),
                    (None, _) => String::new(),
                },
            ),
        ];
        let mut any = false;
        for (name, value) in lines.iter().filter(|(_, v)| !v.is_empty()) {
            let _ = writeln!(out, "{name:<8}{value}");
            any = true;
        }
        if !any {
            let _ = writeln!(out, "No session recommendation from the modules.");
        }
        for (indicator, title) in
            [(Indicator::Critical, "Critical"), (Indicator::Warning, "Warning"), (Indicator::Info, "Info")]
        {
            let cards: Vec<&Card> = self.cards.iter().filter(|c| c.indicator == indicator).collect();
            if cards.is_empty() {
                continue;
            }
            let _ = writeln!(out);
            let _ = writeln!(out, "{title}:");
            for card in cards {
                let _ = writeln!(out, "  [{}] {} ({})", card.rule, card.summary, source(card));
                if indicator == Indicator::Critical && !card.override_reasons.is_empty() {
                    let reasons: Vec<&str> = card.override_reasons.iter().map(|c| c.display.as_str()).collect();
                    let _ = writeln!(out, "      override: {}", reasons.join("; "));
                }
            }
        }
        out
    }
}
