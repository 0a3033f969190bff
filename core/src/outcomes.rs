//! Outcomes: what happens to clients' pain over their sessions.
//!
//! Per client and per condition: pain before and after each session and its
//! trend, flares after treatment, sessions per week against the plan, and the
//! client's own reports of pain-medication use (the sources claim regular
//! massage can reduce reliance on pain medication; this report lets a
//! practice see whether that happens for its clients, it does not assume it).
//!
//! ```
//! use praxis_core::outcomes::{trend, Trend};
//! // Pain before the session falling by one point a session:
//! let t = trend(&[(0.0, 7.0), (1.0, 6.0), (2.0, 5.0)]).unwrap();
//! assert!((t.slope + 1.0).abs() < 1e-9);
//! assert_eq!(t.direction(), "improving");
//! ```

use std::collections::BTreeMap;
use std::fmt::Write as _;

use praxis_sdk::{ClientSnapshot, Date, Discipline, SessionRecord};
use serde::{Deserialize, Serialize};

/// A least-squares line through points.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct Trend {
    /// Change in pain per week (negative: improving).
    pub slope: f64,
    /// How many points it rests on.
    pub points: usize,
}

impl Trend {
    /// `improving`, `worsening` or `steady` (within a tenth of a point a week).
    pub fn direction(&self) -> &'static str {
        if self.slope < -0.1 {
            "improving"
        } else if self.slope > 0.1 {
            "worsening"
        } else {
            "steady"
        }
    }
}

/// The least-squares slope of `(x, y)` points; `None` under two distinct x.
pub fn trend(points: &[(f64, f64)]) -> Option<Trend> {
    let n = points.len() as f64;
    if points.len() < 2 {
        return None;
    }
    let mx = points.iter().map(|p| p.0).sum::<f64>() / n;
    let my = points.iter().map(|p| p.1).sum::<f64>() / n;
    let sxx: f64 = points.iter().map(|p| (p.0 - mx).powi(2)).sum();
    if sxx == 0.0 {
        return None;
    }
    let sxy: f64 = points.iter().map(|p| (p.0 - mx) * (p.1 - my)).sum();
    Some(Trend { slope: sxy / sxx, points: points.len() })
}

/// One session's pain figures, for the chart and the JSON.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PainPoint {
    /// The day.
    pub date: Date,
    /// The discipline.
    pub discipline: Discipline,
    /// Pain before.
    pub before: Option<u8>,
    /// Pain after.
    pub after: Option<u8>,
    /// Pain at follow-up.
    pub follow_up: Option<u8>,
    /// Whether it counts as a flare after treatment.
    pub flare: bool,
}

/// Counts of self-reported pain-medication use.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct MedicationCounts {
    /// No pain medication since the previous session.
    pub none: u32,
    /// Less than usual.
    pub less: u32,
    /// As usual.
    pub as_usual: u32,
    /// More than usual.
    pub more: u32,
}

/// One client's outcomes.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ClientOutcome {
    /// Client id.
    pub client: String,
    /// Client name.
    pub name: String,
    /// SNOMED CT codes of the client's conditions.
    pub conditions: Vec<String>,
    /// Sessions with a pain score.
    pub sessions: usize,
    /// Mean pain before.
    pub mean_before: Option<f64>,
    /// Mean pain after.
    pub mean_after: Option<f64>,
    /// Mean drop within a session (before minus after).
    pub mean_relief: Option<f64>,
    /// Trend of pain before the session, per week.
    pub trend: Option<Trend>,
    /// Flares after treatment.
    pub flares: usize,
    /// Massages a week over the report window.
    pub massages_per_week: f64,
    /// Massages a week the merged guidance plans, if known.
    pub planned_per_week: Option<f64>,
    /// Massage appointments in the report window the client did not come to.
    pub massage_no_shows: usize,
    /// Self-reported medication use.
    pub medication: MedicationCounts,
    /// The pain series.
    pub series: Vec<PainPoint>,
}

/// Outcomes of all clients with one condition.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ConditionOutcome {
    /// SNOMED CT code.
    pub condition: String,
    /// Clients with it.
    pub clients: usize,
    /// Mean pain before over their sessions.
    pub mean_before: Option<f64>,
    /// Mean pain after.
    pub mean_after: Option<f64>,
    /// Mean per-client trend, per week.
    pub mean_trend: Option<f64>,
    /// Flares.
    pub flares: usize,
    /// Medication use.
    pub medication: MedicationCounts,
}

/// The whole report.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct OutcomesReport {
    /// Report date.
    pub as_of: Date,
    /// Weeks the per-week figures cover.
    pub window_weeks: u32,
    /// Per client.
    pub clients: Vec<ClientOutcome>,
    /// Per condition.
    pub conditions: Vec<ConditionOutcome>,
}

/// What the report needs to know of a client beyond its snapshot.
#[derive(Debug, Clone)]
pub struct ClientInput {
    /// The snapshot (sessions oldest first).
    pub snapshot: ClientSnapshot,
    /// The client's name.
    pub name: String,
    /// Medication use per session id.
    pub medication: BTreeMap<String, MedicationUseKind>,
    /// Planned massages a week, from the merged guidance's interval.
    pub planned_per_week: Option<f64>,
    /// Days of massage appointments recorded as a no-show.
    pub massage_no_shows: Vec<Date>,
}

/// A self-report of medication use, as the report counts it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MedicationUseKind {
    /// None.
    None,
    /// Less than usual.
    Less,
    /// As usual.
    AsUsual,
    /// More than usual.
    More,
}

fn mean(values: impl Iterator<Item = f64>) -> Option<f64> {
    let (sum, n) = values.fold((0.0, 0usize), |(s, n), v| (s + v, n + 1));
    (n > 0).then(|| sum / n as f64)
}

fn add_medication(counts: &mut MedicationCounts, kind: MedicationUseKind) {
    match kind {
        MedicationUseKind::None => counts.none += 1,
        MedicationUseKind::Less => counts.less += 1,
        MedicationUseKind::AsUsual => counts.as_usual += 1,
        MedicationUseKind::More => counts.more += 1,
    }
}

/// One client's outcomes over `window_weeks` weeks up to `as_of` (what
/// [`report`] computes for each client).
pub fn client_outcome(input: &ClientInput, as_of: Date, window_weeks: u32) -> ClientOutcome {
    let sessions: Vec<&SessionRecord> = input.snapshot.sessions.iter().filter(|s| s.date <= as_of).collect();
    let scored: Vec<&&SessionRecord> = sessions.iter().filter(|s| s.pain_before.is_some()).collect();
    let first = scored.first().map(|s| s.date);
    let points: Vec<(f64, f64)> = scored
        .iter()
        .filter_map(|s| Some((f64::from(s.date.days_since(first?)) / 7.0, f64::from(s.pain_before?))))
        .collect();
    let window_start = as_of.add_days(-(window_weeks as i32) * 7);
    let recent_massages = sessions.iter().filter(|s| s.is_massage() && s.date > window_start).count();
    let mut medication = MedicationCounts::default();
    for s in &sessions {
        if let Some(kind) = input.medication.get(&s.id) {
            add_medication(&mut medication, *kind);
        }
    }
    ClientOutcome {
        client: input.snapshot.id.clone(),
        name: input.name.clone(),
        conditions: input.snapshot.conditions.iter().map(|c| c.code.clone()).collect(),
        sessions: scored.len(),
        mean_before: mean(scored.iter().filter_map(|s| s.pain_before.map(f64::from))),
        mean_after: mean(scored.iter().filter_map(|s| s.pain_after.map(f64::from))),
        mean_relief: mean(scored.iter().filter_map(|s| Some(f64::from(s.pain_before?) - f64::from(s.pain_after?)))),
        trend: trend(&points),
        flares: sessions.iter().filter(|s| s.is_flare()).count(),
        massages_per_week: recent_massages as f64 / f64::from(window_weeks.max(1)),
        planned_per_week: input.planned_per_week,
        massage_no_shows: input.massage_no_shows.iter().filter(|d| **d > window_start && **d <= as_of).count(),
        medication,
        series: sessions
            .iter()
            .map(|s| PainPoint {
                date: s.date,
                discipline: s.discipline.clone(),
                before: s.pain_before,
                after: s.pain_after,
                follow_up: s.follow_up_pain,
                flare: s.is_flare(),
            })
            .collect(),
    }
}

/// Builds the report for these clients.
pub fn report(clients: &[ClientInput], as_of: Date, window_weeks: u32) -> OutcomesReport {
    let outcomes: Vec<ClientOutcome> = clients.iter().map(|c| client_outcome(c, as_of, window_weeks)).collect();
    summarise(outcomes, as_of, window_weeks)
}

/// The report of these clients' outcomes (from [`client_outcome`], in the
/// order the report lists them): the per-condition figures added.
pub fn summarise(outcomes: Vec<ClientOutcome>, as_of: Date, window_weeks: u32) -> OutcomesReport {
    let conditions = conditions(&outcomes);
    OutcomesReport { as_of, window_weeks, clients: outcomes, conditions }
}

/// The per-condition figures of these clients' outcomes.
pub fn conditions(outcomes: &[ClientOutcome]) -> Vec<ConditionOutcome> {
    let mut by_condition: BTreeMap<&str, Vec<&ClientOutcome>> = BTreeMap::new();
    for o in outcomes {
        for code in &o.conditions {
            by_condition.entry(code.as_str()).or_default().push(o);
        }
    }
    by_condition
        .into_iter()
        .map(|(code, list)| {
            let all_points = || list.iter().flat_map(|o| o.series.iter());
            let mut medication = MedicationCounts::default();
            for o in &list {
                medication.none += o.medication.none;
                medication.less += o.medication.less;
                medication.as_usual += o.medication.as_usual;
                medication.more += o.medication.more;
            }
            ConditionOutcome {
                condition: code.to_owned(),
                clients: list.len(),
                mean_before: mean(all_points().filter_map(|p| p.before.map(f64::from))),
                mean_after: mean(all_points().filter_map(|p| p.after.map(f64::from))),
                mean_trend: mean(list.iter().filter_map(|o| o.trend.map(|t| t.slope))),
                flares: list.iter().map(|o| o.flares).sum(),
                medication,
            }
        })
        .collect()
}

fn fmt_opt(v: Option<f64>) -> String {
    v.map_or("-".to_owned(), |v| format!("{v:.1}"))
}

impl OutcomesReport {
    /// A plain-text rendering.
    pub fn render_text(&self, condition_name: impl Fn(&str) -> String) -> String {
        let mut s = String::new();
        let _ =
            writeln!(s, "Outcomes as of {} (per-week figures over the last {} weeks)", self.as_of, self.window_weeks);
        let _ = writeln!(s);
        let _ = writeln!(
            s,
            "{:<24} {:>5} {:>7} {:>7} {:>7} {:>16} {:>6} {:>13} {:>16}",
            "CLIENT", "SESS", "BEFORE", "AFTER", "RELIEF", "TREND/WEEK", "FLARES", "MASSAGE/WK", "MEDS less/more"
        );
        for o in &self.clients {
            let trend = o.trend.map_or("-".to_owned(), |t| format!("{:+.2} {}", t.slope, t.direction()));
            let mut per_week = match o.planned_per_week {
                Some(p) => format!("{:.1} of {:.1}", o.massages_per_week, p),
                None => format!("{:.1}", o.massages_per_week),
            };
            if o.massage_no_shows > 0 {
                let _ = write!(per_week, ", {} no-show", o.massage_no_shows);
            }
            let name: String = o.name.chars().take(24).collect();
            let _ = writeln!(
                s,
                "{:<24} {:>5} {:>7} {:>7} {:>7} {:>16} {:>6} {:>13} {:>16}",
                name,
                o.sessions,
                fmt_opt(o.mean_before),
                fmt_opt(o.mean_after),
                fmt_opt(o.mean_relief),
                trend,
                o.flares,
                per_week,
                format!("{}/{}", o.medication.less + o.medication.none, o.medication.more)
            );
        }
        let _ = writeln!(s);
        let _ = writeln!(
            s,
            "{:<24} {:>7} {:>7} {:>7} {:>12} {:>6}",
            "CONDITION", "CLIENTS", "BEFORE", "AFTER", "TREND/WEEK", "FLARES"
        );
        for c in &self.conditions {
            let name: String = condition_name(&c.condition).chars().take(24).collect();
            let _ = writeln!(
                s,
                "{:<24} {:>7} {:>7} {:>7} {:>12} {:>6}",
                name,
                c.clients,
                fmt_opt(c.mean_before),
                fmt_opt(c.mean_after),
                c.mean_trend.map_or("-".to_owned(), |t| format!("{t:+.2}")),
                c.flares
            );
        }
        s
    }
}

fn escape(text: &str) -> String {
    text.replace('&', "&amp;").replace('<', "&lt;").replace('>', "&gt;").replace('"', "&quot;")
}

/// Draws a client's pain series as an SVG line chart: pain before (solid),
/// after (dashed) and at follow-up (dots) on the 0-10 scale, flares marked.
pub fn pain_chart_svg(outcome: &ClientOutcome) -> String {
    let (w, h) = (720.0_f64, 360.0_f64);
    let (left, right, top, bottom) = (48.0, 16.0, 40.0, 48.0);
    let points: Vec<&PainPoint> = outcome.series.iter().filter(|p| p.before.is_some() || p.after.is_some()).collect();
    let mut s = String::new();
    let _ = writeln!(
        s,
        r#"<svg xmlns="http://www.w3.org/2000/svg" width="{w}" height="{h}" viewBox="0 0 {w} {h}" font-family="sans-serif" font-size="12">"#
    );
    let _ = writeln!(s, r#"<rect width="{w}" height="{h}" fill="white"/>"#);
    let _ = writeln!(
        s,
        r#"<text x="{left}" y="22" font-size="15" font-weight="bold">Pain (0-10, LOINC 72514-3): {}</text>"#,
        escape(&outcome.name)
    );
    let plot_w = w - left - right;
    let plot_h = h - top - bottom;
    let y_of = |pain: f64| top + plot_h * (1.0 - pain / 10.0);
    for tick in (0..=10).step_by(2) {
        let y = y_of(f64::from(tick));
        let _ = writeln!(s, r##"<line x1="{left}" y1="{y:.1}" x2="{:.1}" y2="{y:.1}" stroke="#e5e5e5"/>"##, w - right);
        let _ = writeln!(s, r#"<text x="{:.1}" y="{:.1}" text-anchor="end">{tick}</text>"#, left - 6.0, y + 4.0);
    }
    if points.is_empty() {
        let _ = writeln!(
            s,
            r#"<text x="{:.1}" y="{:.1}" text-anchor="middle">No pain scores recorded yet</text>"#,
            w / 2.0,
            h / 2.0
        );
        s.push_str("</svg>\n");
        return s;
    }
    let first = points[0].date;
    let span = f64::from(points[points.len() - 1].date.days_since(first)).max(1.0);
    let x_of = |d: Date| left + plot_w * f64::from(d.days_since(first)) / span;
    let series = |pick: &dyn Fn(&PainPoint) -> Option<u8>| -> String {
        points
            .iter()
            .filter_map(|p| pick(p).map(|v| format!("{:.1},{:.1}", x_of(p.date), y_of(f64::from(v)))))
            .collect::<Vec<_>>()
            .join(" ")
    };
    let _ = writeln!(
        s,
        r##"<polyline fill="none" stroke="#c0392b" stroke-width="2" points="{}"/>"##,
        series(&|p| p.before)
    );
    let _ = writeln!(
        s,
        r##"<polyline fill="none" stroke="#2471a3" stroke-width="2" stroke-dasharray="6 4" points="{}"/>"##,
        series(&|p| p.after)
    );
    for p in &points {
        if let Some(f) = p.follow_up {
            let _ = writeln!(
                s,
                r##"<circle cx="{:.1}" cy="{:.1}" r="3.5" fill="#7d3c98"/>"##,
                x_of(p.date),
                y_of(f64::from(f))
            );
        }
        if p.flare {
            let _ = writeln!(
                s,
                r##"<text x="{:.1}" y="{:.1}" text-anchor="middle" fill="#c0392b" font-weight="bold">flare</text>"##,
                x_of(p.date),
                top - 4.0
            );
        }
    }
    let _ = writeln!(s, r#"<text x="{left}" y="{:.1}">{first}</text>"#, h - bottom + 18.0);
    let _ = writeln!(
        s,
        r#"<text x="{:.1}" y="{:.1}" text-anchor="end">{}</text>"#,
        w - right,
        h - bottom + 18.0,
        points[points.len() - 1].date
    );
    let legend_y = h - 12.0;
    let _ = writeln!(
        s,
        r##"<line x1="{left}" y1="{:.1}" x2="{:.1}" y2="{:.1}" stroke="#c0392b" stroke-width="2"/><text x="{:.1}" y="{legend_y}">before</text>"##,
        legend_y - 4.0,
        left + 24.0,
        legend_y - 4.0,
        left + 28.0
    );
    let _ = writeln!(
        s,
        r##"<line x1="{:.1}" y1="{:.1}" x2="{:.1}" y2="{:.1}" stroke="#2471a3" stroke-width="2" stroke-dasharray="6 4"/><text x="{:.1}" y="{legend_y}">after</text>"##,
        left + 90.0,
        legend_y - 4.0,
        left + 114.0,
        legend_y - 4.0,
        left + 118.0
    );
    let _ = writeln!(
        s,
        r##"<circle cx="{:.1}" cy="{:.1}" r="3.5" fill="#7d3c98"/><text x="{:.1}" y="{legend_y}">follow-up (24-48 h)</text>"##,
        left + 176.0,
        legend_y - 4.0,
        left + 184.0
    );
    s.push_str("</svg>\n");
    s
}

#[cfg(test)]
mod tests {
    use super::*;
    use praxis_sdk::testing::{ClientBuilder, massage};
    use praxis_sdk::{ConditionStatus, snomed};

    fn check_trend(points: &[(f64, f64)], expected: Option<(f64, &str)>) {
        let got = trend(points).map(|t| ((t.slope * 100.0).round() / 100.0, t.direction()));
        assert_eq!(got, expected, "{points:?}");
    }

    #[test]
    fn trends() {
        check_trend(&[], None);
        check_trend(&[(0.0, 5.0)], None);
        check_trend(&[(1.0, 5.0), (1.0, 6.0)], None);
        check_trend(&[(0.0, 8.0), (1.0, 7.0), (2.0, 6.0)], Some((-1.0, "improving")));
        check_trend(&[(0.0, 4.0), (2.0, 5.0)], Some((0.5, "worsening")));
        check_trend(&[(0.0, 5.0), (1.0, 5.0), (2.0, 5.0)], Some((0.0, "steady")));
    }

    fn input(sessions: ClientBuilder) -> ClientInput {
        ClientInput {
            snapshot: sessions.build(),
            name: "Ana".into(),
            medication: BTreeMap::new(),
            planned_per_week: Some(0.5),
            massage_no_shows: Vec::new(),
        }
    }

    #[test]
    fn report_counts_flares_and_means() {
        let c = input(
            ClientBuilder::new("c1")
                .condition(snomed::FIBROMYALGIA, ConditionStatus::Active)
                .session(massage("2026-10-01").pain(8, 6))
                .session(massage("2026-10-15").pain(7, 8))
                .session(massage("2026-10-29").pain(6, 4).follow_up(7)),
        );
        let r = report(&[c], Date::from_ymd(2026, 11, 1).unwrap(), 8);
        let o = &r.clients[0];
        assert_eq!(o.sessions, 3);
        assert_eq!(o.flares, 2, "after > before once, follow-up > before once");
        assert_eq!(o.mean_before, Some(7.0));
        assert_eq!(o.mean_after, Some(6.0));
        assert_eq!(o.trend.map(|t| t.direction()), Some("improving"));
        assert!((o.massages_per_week - 3.0 / 8.0).abs() < 1e-9);
        assert_eq!(r.conditions.len(), 1);
        assert_eq!(r.conditions[0].flares, 2);
        let svg = pain_chart_svg(o);
        assert!(svg.starts_with("<svg") && svg.trim_end().ends_with("</svg>"));
        assert_eq!(svg.matches("<polyline").count(), 2);
        assert_eq!(svg.matches(">flare<").count(), 2);
        assert!(r.render_text(|c| c.to_owned()).contains("Ana"));
    }

    #[test]
    fn no_shows_count_against_the_plan() {
        let mut c = input(ClientBuilder::new("c1").session(massage("2026-10-15").pain(5, 4)));
        // One in the window, one before it, one after the report date.
        c.massage_no_shows = ["2026-10-22", "2026-08-01", "2026-11-05"].iter().map(|d| d.parse().unwrap()).collect();
        let r = report(&[c], Date::from_ymd(2026, 11, 1).unwrap(), 8);
        assert_eq!(r.clients[0].massage_no_shows, 1);
        assert!(
            r.render_text(|c| c.to_owned()).contains("0.1 of 0.5, 1 no-show"),
            "{}",
            r.render_text(|c| c.to_owned())
        );
    }

    #[test]
    fn empty_chart_says_so() {
        let c = input(ClientBuilder::new("c1"));
        let r = report(&[c], Date::from_ymd(2026, 11, 1).unwrap(), 8);
        assert!(pain_chart_svg(&r.clients[0]).contains("No pain scores recorded yet"));
    }
}
