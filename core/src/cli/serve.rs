//! `praxis serve`, `praxis token`, `praxis config reload`.

use std::io::Write as _;
use std::net::SocketAddr;
use std::sync::Arc;

use anyhow::{Context as _, Result};
use clap::{Args, Subcommand};
use praxis_core::server::{self, socket};
use praxis_core::service::PracticeService;
use praxis_core::service::protocol::{Request, Response};

use super::{Backend, Locations, bad, print_json, service_error, table, unexpected};

#[derive(Debug, Args)]
pub struct ServeArgs {
    /// The address to listen on.
    #[arg(long, default_value = server::DEFAULT_LISTEN, value_name = "ADDR")]
    pub listen: SocketAddr,
    /// Listen on a non-loopback address without TLS. Health records then
    /// cross the network in clear text: only behind a TLS-terminating proxy.
    #[arg(long)]
    pub insecure_http: bool,
}

pub fn serve(loc: &Locations, args: &ServeArgs) -> Result<()> {
    if !args.listen.ip().is_loopback() && !args.insecure_http {
        return bad(format!(
            "{} is not a loopback address, and this server has no TLS: listen on 127.0.0.1, or put a TLS proxy in front and pass --insecure-http",
            args.listen
        ));
    }
    if !args.listen.ip().is_loopback() {
        tracing::warn!(listen = %args.listen, "serving health records over plain HTTP off loopback (--insecure-http)");
    }
    let config = loc.load_config()?;
    let data_dir = config.data_dir.clone();
    if socket::ServerClient::find(&data_dir).is_some() {
        return bad(format!("`praxis serve` already runs on {}: one server per practice", data_dir.display()));
    }
    let name = config.file.practice.name.clone();
    let started = std::time::Instant::now();
    let service = Arc::new(PracticeService::open_live(config).map_err(service_error)?);
    // Evaluate everyone now, so that the first request does not wait.
    let clients = service.all_guidance(None).map_err(service_error)?.len();
    tracing::info!(clients, elapsed_ms = started.elapsed().as_millis() as u64, "practice loaded");

    let runtime = tokio::runtime::Builder::new_multi_thread().enable_all().build().context("starting the runtime")?;
    runtime.block_on(async move {
        let listener = tokio::net::TcpListener::bind(args.listen)
            .await
            .map_err(|e| super::BadInput(format!("cannot listen on {}: {e}: choose another --listen", args.listen)))?;
        let socket_path = socket::socket_path(&data_dir);
        let unix = socket::bind(&socket_path)
            .with_context(|| format!("listening on the practice's socket {}", socket_path.display()))?;
        tokio::spawn(socket::serve(unix, service.clone()));
        tokio::spawn(reload_on_sighup(service.clone()));
        println!("Serving \"{name}\" ({clients} clients) on http://{}/", args.listen);
        println!(
            "  API:     http://{}/api/v1/ (OpenAPI: /api/v1/openapi.json; a token: `praxis token create NAME`)",
            args.listen
        );
        println!("  command line beside it: {}", socket_path.display());
        let _ = std::io::stdout().flush();
        axum::serve(listener, server::router(service.clone()))
            .with_graceful_shutdown(shutdown_signal())
            .await
            .context("serving HTTP")?;
        let _ = std::fs::remove_file(&socket_path);
        tracing::info!("server stopped; every acknowledged write was flushed when it was acknowledged");
        Ok::<(), anyhow::Error>(())
    })?;
    drop(runtime);
    Ok(())
}

async fn shutdown_signal() {
    use tokio::signal::unix::{SignalKind, signal};
    let mut term = signal(SignalKind::terminate()).expect("SIGTERM handler");
    tokio::select! {
        _ = tokio::signal::ctrl_c() => {}
        _ = term.recv() => {}
    }
    tracing::info!("shutting down: finishing requests in flight");
}

async fn reload_on_sighup(service: Arc<PracticeService>) {
    use tokio::signal::unix::{SignalKind, signal};
    let Ok(mut hup) = signal(SignalKind::hangup()) else { return };
    while hup.recv().await.is_some() {
        let service = service.clone();
        let result = tokio::task::spawn_blocking(move || {
            let actor = praxis_core::service::Actor::new("SIGHUP")?;
            service.execute(Request::ReloadConfig, &actor)
        })
        .await;
        match result {
            Ok(Ok(Response::Reloaded(r))) => {
                tracing::info!(plugins = ?r.plugins, rules = r.rules, clients = r.clients, "configuration reloaded")
            }
            Ok(Ok(_)) => {}
            Ok(Err(e)) => tracing::error!(error = %e, "configuration not reloaded"),
            Err(e) => tracing::error!(error = %e, "configuration reload failed"),
        }
    }
}

#[derive(Debug, Subcommand)]
pub enum TokenCommand {
    /// Make a new API token; its secret is printed once and stored only as a hash.
    Create {
        /// What the token is for (an integration, a script).
        name: String,
        /// Print JSON.
        #[arg(long)]
        json: bool,
    },
    /// List the tokens (never their secrets).
    List {
        /// Print JSON.
        #[arg(long)]
        json: bool,
    },
    /// Revoke a token, by id or name: it stops working at once.
    Revoke {
        /// The token's id or name.
        token: String,
    },
}

pub fn token(loc: &Locations, cmd: &TokenCommand) -> Result<()> {
    let backend = Backend::connect(loc)?;
    match cmd {
        TokenCommand::Create { name, json } => {
            let Response::Token(new) = backend.call(Request::CreateToken { name: name.clone() })? else {
                return unexpected();
            };
            if *json {
                return print_json(&new);
            }
            println!("{}", new.secret);
            eprintln!(
                "token `{}` ({}) made: send it as `Authorization: Bearer TOKEN`; it is shown only now",
                new.token.name, new.token.id
            );
        }
        TokenCommand::List { json } => {
            let Response::Tokens(tokens) = backend.call(Request::ListTokens)? else { return unexpected() };
            if *json {
                return print_json(&tokens);
            }
            let rows: Vec<Vec<String>> = tokens
                .iter()
                .map(|t| {
                    vec![
                        t.id.clone(),
                        t.name.clone(),
                        t.created.clone(),
                        t.created_by.clone(),
                        t.revoked.clone().unwrap_or_else(|| "-".into()),
                    ]
                })
                .collect();
            print!("{}", table(&["ID", "NAME", "CREATED", "BY", "REVOKED"], &rows));
        }
        TokenCommand::Revoke { token } => {
            let Response::Revoked(t) = backend.call(Request::RevokeToken { token: token.clone() })? else {
                return unexpected();
            };
            println!("revoked token `{}` ({})", t.name, t.id);
        }
    }
    Ok(())
}

#[derive(Debug, Subcommand)]
pub enum ConfigCommand {
    /// Make a running server re-read praxis.toml (a bad file keeps the old one in force).
    Reload,
}

pub fn config(loc: &Locations, cmd: &ConfigCommand) -> Result<()> {
    let ConfigCommand::Reload = cmd;
    let backend = Backend::connect(loc)?;
    if let Backend::Local { .. } = backend {
        println!("no server runs on this practice: nothing to reload (every command reads praxis.toml as it starts)");
        return Ok(());
    }
    let Response::Reloaded(r) = backend.call(Request::ReloadConfig)? else { return unexpected() };
    println!(
        "reloaded: {} plugin(s) with new settings{}, {} client(s) to re-evaluate",
        r.plugins.len(),
        if r.rules { ", new host rules" } else { "" },
        r.clients
    );
    Ok(())
}
