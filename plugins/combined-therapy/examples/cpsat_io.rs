//! The Praxis side of the exact-solver comparison in `benches/cpsat/`:
//!
//! - `cargo run --release -p praxis-combined-therapy --example cpsat_io -- gen SEED CLIENTS DAYS` prints a
//!   generated request (the generator of the plugin's tests) as JSON, the shape `praxis schedule plan
//!   --request-out FILE` writes;
//! - `... -- plan FILE [IMPROVE_MS]` plans a request file with the plugin (statically, no ABI) and prints
//!   `{"millis": ..., "proposal": ...}`; IMPROVE_MS overrides the `improve_ms` setting (0: greedy only).

#[path = "../src/testgen.rs"]
mod testgen;

use std::time::Instant;

use praxis_combined_therapy::CombinedTherapy;
use praxis_sdk::{ScheduleRequest, Scheduler};

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let usage = "usage: cpsat_io gen SEED CLIENTS DAYS | cpsat_io plan FILE [IMPROVE_MS]";
    let num = |s: &str| -> u64 {
        s.parse().unwrap_or_else(|_| {
            eprintln!("`{s}` is not a whole number; {usage}");
            std::process::exit(2)
        })
    };
    match args.iter().map(String::as_str).collect::<Vec<_>>().as_slice() {
        ["gen", seed, clients, days] => {
            let mut req = testgen::request(num(seed), num(clients) as usize, num(days) as u32);
            // The class leader works whenever the practice is open (the host's calendar refuses a class outside it).
            req.practitioners[1].availability.clear();
            println!("{}", serde_json::to_string_pretty(&req).expect("a request encodes"));
        }
        ["plan", file, rest @ ..] if rest.len() <= 1 => {
            let text = std::fs::read_to_string(file).unwrap_or_else(|e| {
                eprintln!("cannot read {file}: {e}");
                std::process::exit(2)
            });
            let mut req: ScheduleRequest = serde_json::from_str(&text).unwrap_or_else(|e| {
                eprintln!("{file} is not a schedule request: {e}");
                std::process::exit(2)
            });
            if let [ms] = rest {
                req.settings.insert("improve_ms".into(), num(ms).into());
            }
            let t = Instant::now();
            let proposal = CombinedTherapy.schedule(&req).unwrap_or_else(|e| {
                eprintln!("{e}");
                std::process::exit(2)
            });
            let millis = t.elapsed().as_secs_f64() * 1000.0;
            let out = serde_json::json!({ "millis": millis, "proposal": proposal });
            println!("{out}");
        }
        _ => {
            eprintln!("{usage}");
            std::process::exit(2)
        }
    }
}
