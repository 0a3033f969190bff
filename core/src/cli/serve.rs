//! `praxis serve`, `praxis token`, `praxis config reload`.

use std::io::Write as _;
use std::net::SocketAddr;
use std::sync::Arc;

use anyhow::{Context as _, Result};
use clap::{Args, Subcommand};
use praxis_core::server::{self, socket};
use praxis_core::service::protocol::{Request, Response};
use praxis_core::service::users::NewUser;
use praxis_core::service::{Actor, PracticeService};
use praxis_core::store::Role;

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
    /// Serve HTTPS with this certificate chain (PEM).
    #[arg(long, value_name = "FILE", requires = "tls_key")]
    pub tls_cert: Option<std::path::PathBuf>,
    /// The certificate's private key (PEM).
    #[arg(long, value_name = "FILE", requires = "tls_cert")]
    pub tls_key: Option<std::path::PathBuf>,
}

pub fn serve(loc: &Locations, args: &ServeArgs) -> Result<()> {
    let tls = args.tls_cert.is_some();
    if !args.listen.ip().is_loopback() && !args.insecure_http && !tls {
        return bad(format!(
            "{} is not a loopback address: give --tls-cert FILE --tls-key FILE, or listen on 127.0.0.1, or put a TLS proxy in front and pass --insecure-http",
            args.listen
        ));
    }
    if !args.listen.ip().is_loopback() && !tls {
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
    if !service.has_owner().map_err(service_error)? {
        return bad(format!(
            "the practice has no owner account, and a server needs one: add one with `praxis --data {} user add LOGIN --name \"FULL NAME\" --role owner`",
            data_dir.display()
        ));
    }
    // On PostgreSQL, other servers may share the database: follow their changes.
    praxis_core::service::follow_other_servers(&service).map_err(service_error)?;
    // Evaluate everyone now, so that the first request does not wait.
    let clients =
        service.all_guidance(None, &Actor::new("praxis serve").map_err(service_error)?).map_err(service_error)?.len();
    tracing::info!(clients, elapsed_ms = started.elapsed().as_millis() as u64, "practice loaded");
    service.check_audit_in_background();

    let runtime = tokio::runtime::Builder::new_multi_thread().enable_all().build().context("starting the runtime")?;
    let tls_config = match (&args.tls_cert, &args.tls_key) {
        (Some(cert), Some(key)) => {
            let _ = rustls::crypto::ring::default_provider().install_default();
            let config =
                runtime.block_on(axum_server::tls_rustls::RustlsConfig::from_pem_file(cert, key)).map_err(|e| {
                    super::BadInput(format!(
                        "cannot use {} and {} for TLS: {e}: give a PEM certificate chain and its private key",
                        cert.display(),
                        key.display()
                    ))
                })?;
            Some(config)
        }
        _ => None,
    };
    runtime.block_on(async move {
        let listener = std::net::TcpListener::bind(args.listen)
            .map_err(|e| super::BadInput(format!("cannot listen on {}: {e}: choose another --listen", args.listen)))?;
        listener.set_nonblocking(true).context("configuring the listener")?;
        let socket_path = socket::socket_path(&data_dir);
        let unix = socket::bind(&socket_path)
            .with_context(|| format!("listening on the practice's socket {}", socket_path.display()))?;
        tokio::spawn(socket::serve(unix, service.clone()));
        tokio::spawn(reload_on_sighup(service.clone()));
        let scheme = if tls { "https" } else { "http" };
        let banner = format!(
            "Serving \"{name}\" ({clients} clients) on {scheme}://{listen}/\n  workspace: {scheme}://{listen}/ (log in as a staff account: `praxis user add`)\n  API:       {scheme}://{listen}/api/v1/ (OpenAPI: /api/v1/openapi.json; `praxis token create NAME --user LOGIN`)\n  command line beside it: {}\n",
            socket_path.display(),
            listen = args.listen
        );
        // A server keeps serving when whoever started it stops reading its
        // output, so this write's failure is ignored (no `outln!`, which
        // ends the process on a closed pipe).
        let _ = std::io::Write::write_all(&mut praxis_core::plugin_host::stdout::host_stdout(), banner.as_bytes());
        let _ = std::io::stdout().flush();
        let app = server::router(service.clone(), tls);
        match tls_config {
            Some(config) => {
                let handle = axum_server::Handle::new();
                let stopper = handle.clone();
                tokio::spawn(async move {
                    shutdown_signal().await;
                    stopper.graceful_shutdown(Some(std::time::Duration::from_secs(30)));
                });
                axum_server::from_tcp_rustls(listener, config)
                    .handle(handle)
                    .serve(app.into_make_service())
                    .await
                    .context("serving HTTPS")?;
            }
            None => {
                let listener = tokio::net::TcpListener::from_std(listener).context("configuring the listener")?;
                axum::serve(listener, app).with_graceful_shutdown(shutdown_signal()).await.context("serving HTTP")?;
            }
        }
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
        /// The staff account the token acts for (its role decides what the token may do).
        #[arg(long, value_name = "LOGIN")]
        user: String,
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
        TokenCommand::Create { name, user, json } => {
            let Response::Token(new) = backend.call(Request::CreateToken { name: name.clone(), user: user.clone() })?
            else {
                return unexpected();
            };
            if *json {
                return print_json(&new);
            }
            outln!("{}", new.secret);
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
                        t.user.clone(),
                        t.created.clone(),
                        t.created_by.clone(),
                        t.revoked.clone().unwrap_or_else(|| "-".into()),
                    ]
                })
                .collect();
            out!("{}", table(&["ID", "NAME", "USER", "CREATED", "BY", "REVOKED"], &rows));
        }
        TokenCommand::Revoke { token } => {
            let Response::Revoked(t) = backend.call(Request::RevokeToken { token: token.clone() })? else {
                return unexpected();
            };
            outln!("revoked token `{}` ({})", t.name, t.id);
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
        outln!("no server runs on this practice: nothing to reload (every command reads praxis.toml as it starts)");
        return Ok(());
    }
    let Response::Reloaded(r) = backend.call(Request::ReloadConfig)? else { return unexpected() };
    outln!(
        "reloaded: {} plugin(s) with new settings{}, {} client(s) to re-evaluate",
        r.plugins.len(),
        if r.rules { ", new host rules" } else { "" },
        r.clients
    );
    Ok(())
}

#[derive(Debug, Subcommand)]
pub enum UserCommand {
    /// Add a staff account (the password is asked for, or read from standard input).
    Add {
        /// The login: lower-case letters, digits, `.`, `_`, `-`.
        login: String,
        /// The person's full name.
        #[arg(long)]
        name: String,
        /// owner, therapist, front-desk or auditor.
        #[arg(long)]
        role: Role,
        /// The practitioner id (from praxis.toml) this person is.
        #[arg(long, value_name = "ID")]
        practitioner: Option<String>,
        /// Read the password from standard input (one line) instead of asking.
        #[arg(long)]
        password_stdin: bool,
    },
    /// List the accounts.
    List {
        /// Print JSON.
        #[arg(long)]
        json: bool,
    },
    /// Disable an account: its tokens and sessions stop working at once.
    Disable {
        /// The login.
        login: String,
    },
    /// Set a new password (and lift a lockout).
    Passwd {
        /// The login.
        login: String,
        /// Read the password from standard input (one line) instead of asking.
        #[arg(long)]
        password_stdin: bool,
    },
}

fn read_password(from_stdin: bool) -> Result<String> {
    if from_stdin {
        let mut line = String::new();
        std::io::stdin().read_line(&mut line).context("reading the password from standard input")?;
        return Ok(line.trim_end_matches(['\n', '\r']).to_owned());
    }
    let first =
        rpassword::prompt_password("Password: ").context("asking for the password (or pass --password-stdin)")?;
    let again = rpassword::prompt_password("Again: ").context("asking for the password")?;
    if first != again {
        return bad("the two passwords differ: nothing was changed");
    }
    Ok(first)
}

pub fn user(loc: &Locations, cmd: &UserCommand) -> Result<()> {
    let backend = Backend::connect(loc)?;
    match cmd {
        UserCommand::Add { login, name, role, practitioner, password_stdin } => {
            let password = read_password(*password_stdin)?;
            let user = NewUser {
                login: login.clone(),
                name: name.clone(),
                role: *role,
                practitioner: practitioner.clone(),
                password,
            };
            let Response::User(u) = backend.call(Request::AddUser { user: Box::new(user) })? else {
                return unexpected();
            };
            outln!("added {} ({}, {})", u.login, u.name, u.role);
        }
        UserCommand::List { json } => {
            let Response::Users(users) = backend.call(Request::ListUsers)? else { return unexpected() };
            if *json {
                return print_json(&users);
            }
            let rows: Vec<Vec<String>> = users
                .iter()
                .map(|u| {
                    vec![
                        u.login.clone(),
                        u.name.clone(),
                        u.role.to_string(),
                        u.practitioner.clone().unwrap_or_else(|| "-".into()),
                        if u.disabled {
                            "disabled".into()
                        } else {
                            u.locked_until.clone().map_or("active".into(), |t| format!("locked until {t}"))
                        },
                    ]
                })
                .collect();
            out!("{}", table(&["LOGIN", "NAME", "ROLE", "PRACTITIONER", "STATE"], &rows));
        }
        UserCommand::Disable { login } => {
            let Response::User(u) = backend.call(Request::DisableUser { login: login.clone() })? else {
                return unexpected();
            };
            outln!("disabled {}: its tokens and sessions no longer work", u.login);
        }
        UserCommand::Passwd { login, password_stdin } => {
            let password = read_password(*password_stdin)?;
            let Response::User(u) = backend.call(Request::SetPassword { login: login.clone(), password })? else {
                return unexpected();
            };
            outln!("new password for {}; its web sessions were ended", u.login);
        }
    }
    Ok(())
}
