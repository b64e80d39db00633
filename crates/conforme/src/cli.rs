//! The command line: `serve`, `migrate`, `programme list`, `rem import|export|diff`,
//! `journal verify`. Exit codes: 0 success, 1 failure, 2 bad usage, 3 input refused
//! (malformed workbook, bad label), 4 conflict (version already imported), 5 journal damaged.

use crate::{
    ClockOptions, ImportRefused, app_state, default_database_url, import_rem, open_store, prepare,
    shutdown_signal,
};
use anyhow::{Context, anyhow};
use chrono::{DateTime, Utc};
use clap::{Args, Parser, Subcommand};
use conforme_domain::calendar::to_paris;
use conforme_domain::rem::Rem;
use conforme_store::{Store, StoreError};
use conforme_web::WebConfig;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

#[derive(Debug, Parser)]
#[command(name = "conforme", version, about = "Conforme : référencement des logiciels de santé, de la candidature au registre public.", long_about = None)]
pub struct Cli {
    #[command(flatten)]
    pub global: Global,
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, Args)]
pub struct Global {
    /// Directory for the default SQLite database (and, later, files).
    #[arg(long, global = true, env = "CONFORME_DATA_DIR", default_value = "data")]
    pub data_dir: PathBuf,
    /// Database URL: `sqlite://FILE` or `postgres://USER@HOST:PORT/DB`. Default: a SQLite file
    /// under the data directory.
    #[arg(
        long,
        global = true,
        env = "CONFORME_DATABASE_URL",
        hide_env_values = true
    )]
    pub database_url: Option<String>,
}

impl Global {
    pub fn database_url(&self) -> String {
        self.database_url
            .clone()
            .unwrap_or_else(|| default_database_url(&self.data_dir))
    }
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Serve the platform (pages, API, health checks) until Ctrl-C or SIGTERM. Creates the
    /// database on first run, applies migrations, loads the bundled programmes and REMs.
    Serve(ServeArgs),
    /// Apply pending database migrations and load the bundled programmes, then exit.
    Migrate,
    /// Programmes.
    #[command(subcommand)]
    Programme(ProgrammeCommand),
    /// Requirement repositories (REM): import, export, compare.
    #[command(subcommand)]
    Rem(RemCommand),
    /// The tamper-evident journal.
    #[command(subcommand)]
    Journal(JournalCommand),
    /// Serve a demonstration: its own database under DATA_DIR/demo with demo accounts (an
    /// editor, an instructor, an administrator) and candidatures at various stages; the clock
    /// starts on 12 September 2024 and can be moved (PUT /api/v1/_clock); emails are shown at
    /// /demo/courriels.
    Demo {
        /// Address to listen on.
        #[arg(long, env = "CONFORME_LISTEN", default_value = "127.0.0.1:8080")]
        listen: String,
    },
    /// Accounts (agency staff, operators, automation).
    #[command(subcommand)]
    User(UserCommand),
    /// API tokens for automation (`Authorization: Bearer <token>`).
    #[command(subcommand)]
    Token(TokenCommand),
}

#[derive(Debug, Subcommand)]
pub enum UserCommand {
    /// Create an account. It has no password: a link to choose one is emailed (and printed),
    /// valid 7 days. Roles: editor, instructor, committee-member, programme-admin,
    /// payment-agent, establishment, admin.
    Create {
        #[arg(long)]
        email: String,
        #[arg(long)]
        role: String,
        /// For an editor: the SIRET of an existing organisation to join.
        #[arg(long)]
        org: Option<String>,
        /// Display name (default: the email's local part).
        #[arg(long)]
        name: Option<String>,
        /// The editor may bind the organisation (charter, convention).
        #[arg(long)]
        legal_representative: bool,
    },
}

#[derive(Debug, Subcommand)]
pub enum TokenCommand {
    /// Create an API token for a user and print it (shown once; only its hash is kept).
    Create {
        /// The user's email.
        #[arg(long)]
        user: String,
        /// A name to recognise the token.
        #[arg(long, default_value = "automation")]
        name: String,
        /// Scopes, comma-separated: candidatures:read, candidatures:write.
        #[arg(long, default_value = "candidatures:read,candidatures:write")]
        scopes: String,
    },
}

#[derive(Debug, Args)]
pub struct ServeArgs {
    /// Address to listen on.
    #[arg(long, env = "CONFORME_LISTEN", default_value = "127.0.0.1:8080")]
    pub listen: String,
    /// Start the platform clock at this instant (RFC 3339, e.g. 2026-03-31T11:59:00+02:00)
    /// instead of the system time; it then runs normally. For demos and tests.
    #[arg(long, value_parser = parse_instant)]
    pub now: Option<DateTime<Utc>>,
    /// Allow moving the clock with `PUT /api/v1/_clock` {"now": "<RFC 3339>"}. Never in production.
    #[arg(long)]
    pub clock_control: bool,
}

#[derive(Debug, Subcommand)]
pub enum ProgrammeCommand {
    /// List the programmes with their current phase and next date.
    List {
        /// Compute phases at this instant (RFC 3339) instead of now.
        #[arg(long, value_parser = parse_instant)]
        at: Option<DateTime<Utc>>,
    },
}

#[derive(Debug, Subcommand)]
pub enum RemCommand {
    /// Import a REM workbook (Convergence layout, sheet "Exigences") as a new, immutable version.
    /// All or nothing: a malformed workbook is refused with its row and column, nothing stored.
    Import {
        /// Programme code, e.g. HOP-DPI-Va2.
        #[arg(long)]
        programme: String,
        /// Version label: letters, digits, ".", "_", "-" (e.g. v1.2).
        #[arg(long)]
        version: String,
        /// The .xlsx file.
        file: PathBuf,
    },
    /// Write a stored version back in the Convergence layout.
    Export {
        #[arg(long)]
        programme: String,
        #[arg(long)]
        version: String,
        /// Output file (default: REM-<programme>-<version>.xlsx in the current directory).
        #[arg(long, short)]
        output: Option<PathBuf>,
    },
    /// List requirements, scenarios and proofs added, removed and changed from A to B. Each side
    /// is an .xlsx file or a stored version written CODE@VERSION (e.g. HOP-DPI-Va2@v1).
    Diff {
        a: String,
        b: String,
        /// Print the comparison as JSON.
        #[arg(long)]
        json: bool,
    },
}

#[derive(Debug, Subcommand)]
pub enum JournalCommand {
    /// Walk the hash chain and report any modified, removed or reordered entry.
    Verify,
}

fn parse_instant(s: &str) -> Result<DateTime<Utc>, String> {
    DateTime::parse_from_rfc3339(s)
        .map(|t| t.with_timezone(&Utc))
        .map_err(|e| format!("instant RFC 3339 attendu (ex. 2026-03-31T11:59:00+02:00) : {e}"))
}

/// A failure with the exit code it maps to.
pub struct Failure {
    pub code: u8,
    pub error: anyhow::Error,
}

impl<E: Into<anyhow::Error>> From<E> for Failure {
    fn from(e: E) -> Self {
        Failure {
            code: 1,
            error: e.into(),
        }
    }
}

fn refused(e: ImportRefused) -> Failure {
    let code = match &e {
        ImportRefused::Label(_) | ImportRefused::Workbook(_) => 3,
        ImportRefused::Store(StoreError::RemVersionExists { .. } | StoreError::Conflict(_)) => 4,
        ImportRefused::Store(StoreError::UnknownProgramme(_)) => 3,
        ImportRefused::Store(_) => 1,
    };
    Failure {
        code,
        error: e.into(),
    }
}

pub async fn run(cli: Cli) -> ExitCode {
    match dispatch(cli).await {
        Ok(()) => ExitCode::SUCCESS,
        Err(f) => {
            eprintln!("erreur : {:#}", f.error);
            ExitCode::from(f.code)
        }
    }
}

async fn dispatch(cli: Cli) -> Result<(), Failure> {
    let url = cli.global.database_url();
    match cli.command {
        Command::Serve(args) => serve(&url, &cli.global.data_dir, args).await,
        Command::Demo { listen } => run_demo(&cli.global, &listen).await,
        Command::Migrate => {
            let store = open_store(&url).await?;
            let programmes = prepare(&store, Utc::now()).await?;
            println!("Base à jour : {} dispositifs.", programmes.len());
            Ok(())
        }
        Command::Programme(ProgrammeCommand::List { at }) => {
            let store = open_store(&url).await?;
            let programmes = prepare(&store, Utc::now()).await?;
            let now = at.unwrap_or_else(Utc::now);
            for p in &programmes {
                let phase = p.phase_at(now);
                let next = phase.next.as_ref().map_or_else(
                    || "—".to_string(),
                    |d| {
                        d.instant.map_or_else(
                            || d.label.clone(),
                            |i| format!("{} ({})", d.label, to_paris(i).format("%d/%m/%Y %H:%M")),
                        )
                    },
                );
                println!(
                    "{:<20} {:<16} {:<50} prochaine date : {}",
                    p.code,
                    if p.def.financing {
                        "avec financement"
                    } else {
                        "sans financement"
                    },
                    phase.current,
                    next
                );
            }
            Ok(())
        }
        Command::Rem(RemCommand::Import {
            programme,
            version,
            file,
        }) => {
            // The workbook is read and checked before the database is opened: a refused file
            // changes nothing.
            let bytes =
                std::fs::read(&file).with_context(|| format!("lecture de {}", file.display()))?;
            let name = file.file_name().map_or_else(
                || file.display().to_string(),
                |n| n.to_string_lossy().into_owned(),
            );
            conforme_rem::import_xlsx(&bytes, &name).map_err(|e| refused(e.into()))?;
            let store = open_store(&url).await?;
            prepare(&store, Utc::now()).await?;
            let outcome = import_rem(
                &store,
                &programme,
                &version,
                &name,
                &bytes,
                Utc::now(),
                &cli_actor(),
            )
            .await
            .map_err(refused)?;
            for w in &outcome.warnings {
                eprintln!("avertissement : {w}");
            }
            println!(
                "{} version {} importée : {} exigences, {} lignes de preuve, {} avertissement(s).",
                programme,
                version,
                outcome.version.requirement_count,
                outcome.version.proof_line_count,
                outcome.warnings.len()
            );
            Ok(())
        }
        Command::Rem(RemCommand::Export {
            programme,
            version,
            output,
        }) => {
            let store = open_store(&url).await?;
            prepare(&store, Utc::now()).await?;
            let rem = stored_rem(&store, &programme, &version).await?;
            let bytes = conforme_rem::export_xlsx(&rem).map_err(|e| anyhow!("export : {e}"))?;
            let output =
                output.unwrap_or_else(|| PathBuf::from(format!("REM-{programme}-{version}.xlsx")));
            std::fs::write(&output, bytes)
                .with_context(|| format!("écriture de {}", output.display()))?;
            println!(
                "{} exigences écrites dans {}.",
                rem.requirements.len(),
                output.display()
            );
            Ok(())
        }
        Command::Rem(RemCommand::Diff { a, b, json }) => {
            let mut store = None;
            let old = rem_side(&a, &url, &mut store).await?;
            let new = rem_side(&b, &url, &mut store).await?;
            let diff = conforme_domain::rem::diff::diff(&old, &new);
            if json {
                println!("{}", serde_json_string(&diff)?);
            } else {
                print!("{}", diff_report(&diff));
            }
            Ok(())
        }
        Command::User(UserCommand::Create {
            email,
            role,
            org,
            name,
            legal_representative,
        }) => {
            let store = open_store(&url).await?;
            prepare(&store, Utc::now()).await?;
            create_user(
                &store,
                &email,
                &role,
                org.as_deref(),
                name.as_deref(),
                legal_representative,
            )
            .await
        }
        Command::Token(TokenCommand::Create { user, name, scopes }) => {
            let store = open_store(&url).await?;
            prepare(&store, Utc::now()).await?;
            create_token(&store, &user, &name, &scopes).await
        }
        Command::Journal(JournalCommand::Verify) => {
            let store = open_store(&url).await?;
            store.migrate().await?;
            let (count, problems) = store.verify_journal().await?;
            if problems.is_empty() {
                println!("Journal intègre : {count} entrées vérifiées.");
                Ok(())
            } else {
                for p in &problems {
                    println!("entrée {} : {}", p.seq, p.message);
                }
                Err(Failure {
                    code: 5,
                    error: anyhow!(
                        "journal altéré : {} anomalie(s) sur {count} entrées",
                        problems.len()
                    ),
                })
            }
        }
    }
}

/// The comparison as text: a summary line, then `+` added, `-` removed, `~` changed.
fn diff_report(diff: &conforme_domain::rem::diff::RemDiff) -> String {
    use std::fmt::Write;
    let mut out = String::new();
    let _ = writeln!(out, "{}", diff.summary());
    let opt = |v: &Option<String>| v.clone().unwrap_or_else(|| "∅".into());
    for r in &diff.added {
        let _ = writeln!(out, "+ {} — {}", r.id, r.fonction);
    }
    for r in &diff.removed {
        let _ = writeln!(out, "- {} — {}", r.id, r.fonction);
    }
    for c in &diff.changed {
        let _ = writeln!(out, "~ {}", c.id);
        for f in &c.fields {
            let _ = writeln!(
                out,
                "    {} : « {} » → « {} »",
                f.field.label(),
                opt(&f.old),
                opt(&f.new)
            );
        }
        if let Some(k) = &c.kind {
            let _ = writeln!(out, "    nature : {} → {}", k.old.label(), k.new.label());
        }
        for s in &c.scenarios_added {
            let _ = writeln!(out, "    + scénario {}", opt(&s.number));
        }
        for s in &c.scenarios_removed {
            let _ = writeln!(out, "    - scénario {}", opt(&s.number));
        }
        for s in &c.scenarios_changed {
            let _ = writeln!(out, "    ~ scénario {} (texte modifié)", opt(&s.number));
        }
        for p in &c.proofs_added {
            let _ = writeln!(out, "    + preuve {} : {}", opt(&p.number), opt(&p.text));
        }
        for p in &c.proofs_removed {
            let _ = writeln!(out, "    - preuve {}", opt(&p.number));
        }
        for p in &c.proofs_changed {
            let _ = writeln!(
                out,
                "    ~ preuve {} : « {} » → « {} »",
                opt(&p.number),
                opt(&p.old_text),
                opt(&p.new_text)
            );
        }
    }
    out
}

fn invalid(message: String) -> Failure {
    Failure {
        code: 3,
        error: anyhow!(message),
    }
}

async fn create_user(
    store: &Store,
    email: &str,
    role: &str,
    org: Option<&str>,
    name: Option<&str>,
    legal_representative: bool,
) -> Result<(), Failure> {
    use conforme_domain::account::Role;
    let email =
        conforme_domain::identifiers::Email::parse(email).map_err(|e| invalid(e.to_string()))?;
    let role = Role::parse(role).ok_or_else(|| {
        invalid(format!(
            "rôle inconnu « {role} » ; rôles : {}",
            Role::ALL
                .iter()
                .map(|r| r.as_str())
                .collect::<Vec<_>>()
                .join(", ")
        ))
    })?;
    let organisation_id = match org {
        None => None,
        Some(_) if role != Role::Editor => {
            return Err(invalid("--org ne concerne que le rôle editor".into()));
        }
        Some(siret) => {
            let siret = conforme_domain::identifiers::Siret::parse(siret)
                .map_err(|e| invalid(e.to_string()))?;
            let found = store
                .organisation_by_siret(siret.as_str())
                .await?
                .ok_or_else(|| invalid(format!("aucune organisation de SIRET {siret}")))?;
            Some(found.id)
        }
    };
    let now = Utc::now();
    let display = name
        .map(str::to_string)
        .unwrap_or_else(|| email.local_part().to_string());
    let user = store
        .create_user(
            &conforme_store::NewUser {
                email: email.as_str(),
                display_name: &display,
                role,
                organisation_id: organisation_id.as_deref(),
                legal_representative,
                password_hash: None,
                email_verified: true,
            },
            now,
            &cli_actor(),
        )
        .await
        .map_err(|e| match e {
            StoreError::Conflict(m) => Failure {
                code: 4,
                error: anyhow!(m),
            },
            other => other.into(),
        })?;
    let token = conforme_web::secrets::random_token().map_err(|e| anyhow!("random: {e}"))?;
    store
        .issue_email_token(
            &conforme_web::secrets::sha256_hex(&token),
            &conforme_store::EmailToken {
                purpose: conforme_web::accounts::PURPOSE_RESET.to_string(),
                email: user.email.clone(),
                user_id: Some(user.id.clone()),
                organisation_id: None,
                created_by: None,
                expires_at: now + chrono::Duration::days(7),
                used_at: None,
            },
            now,
        )
        .await?;
    let link = format!(
        "{}/mot-de-passe/nouveau?token={token}",
        crate::public_url("127.0.0.1:8080")
    );
    store
        .queue_email(
            &user.email,
            serde_json::json!({ "to": user.email, "template": "password_reset", "link": link }),
            now,
        )
        .await?;
    println!("Compte créé : {} ({}).", user.email, role.label());
    println!(
        "Lien pour choisir le mot de passe (valable 7 jours, aussi envoyé par courriel) :\n{link}"
    );
    Ok(())
}

async fn create_token(store: &Store, user: &str, name: &str, scopes: &str) -> Result<(), Failure> {
    let email =
        conforme_domain::identifiers::Email::parse(user).map_err(|e| invalid(e.to_string()))?;
    let user = store
        .user_by_email(email.as_str())
        .await?
        .ok_or_else(|| invalid(format!("aucun compte {email}")))?;
    let mut parsed = vec![];
    for s in scopes.split(',').map(str::trim).filter(|s| !s.is_empty()) {
        let scope = conforme_domain::policy::Scope::parse(s).ok_or_else(|| {
            invalid(format!(
                "portée inconnue « {s} » (candidatures:read, candidatures:write)"
            ))
        })?;
        parsed.push(scope.as_str());
    }
    if parsed.is_empty() {
        return Err(invalid("au moins une portée est nécessaire".into()));
    }
    let token = conforme_web::secrets::random_token().map_err(|e| anyhow!("random: {e}"))?;
    store
        .create_api_token(
            &user.id,
            name,
            &conforme_web::secrets::sha256_hex(&token),
            &parsed,
            Utc::now(),
            &cli_actor(),
        )
        .await?;
    eprintln!(
        "Jeton « {name} » créé pour {} ({}). Il ne sera plus affiché :",
        user.email,
        parsed.join(", ")
    );
    println!("{token}");
    Ok(())
}

fn serde_json_string<T: serde::Serialize>(v: &T) -> anyhow::Result<String> {
    Ok(serde_json::to_string_pretty(v)?)
}

fn cli_actor() -> String {
    format!(
        "cli:{}",
        std::env::var("USER").unwrap_or_else(|_| "operator".into())
    )
}

async fn stored_rem(store: &Store, programme: &str, version: &str) -> Result<Rem, Failure> {
    let info = store
        .rem_version(programme, version)
        .await?
        .ok_or_else(|| Failure {
            code: 3,
            error: anyhow!("aucune version « {version} » du REM de {programme}"),
        })?;
    Ok(store.load_rem(&info.id).await?)
}

/// One side of a comparison: a workbook path, or CODE@VERSION in the database.
async fn rem_side(arg: &str, url: &str, store: &mut Option<Store>) -> Result<Rem, Failure> {
    let path = Path::new(arg);
    if path.exists() {
        let bytes = std::fs::read(path).with_context(|| format!("lecture de {arg}"))?;
        let imported = conforme_rem::import_xlsx(&bytes, arg).map_err(|e| refused(e.into()))?;
        return Ok(imported.rem);
    }
    let Some((programme, version)) = arg.split_once('@') else {
        return Err(Failure {
            code: 3,
            error: anyhow!(
                "« {arg} » n'est ni un fichier existant ni une version stockée CODE@VERSION"
            ),
        });
    };
    if store.is_none() {
        let opened = open_store(url).await?;
        prepare(&opened, Utc::now()).await?;
        *store = Some(opened);
    }
    match store {
        Some(s) => stored_rem(s, programme, version).await,
        None => Err(anyhow!("base de données indisponible").into()),
    }
}

async fn run_demo(global: &Global, listen: &str) -> Result<(), Failure> {
    let dir = global.data_dir.join("demo");
    let url = global
        .database_url
        .clone()
        .unwrap_or_else(|| default_database_url(&dir));
    let store = open_store(&url).await?;
    let listener = tokio::net::TcpListener::bind(listen)
        .await
        .with_context(|| format!("écoute sur {listen}"))?;
    let addr = listener.local_addr()?;
    let mut config = WebConfig::new(&crate::public_url(&addr.to_string()));
    let mail_dir = dir.join("mail");
    config.demo_mail_dir = Some(mail_dir.clone());
    let files = conforme_files::FileStore::open(&conforme_files::FileStoreConfig::Local {
        root: dir.join("files"),
    })
    .map_err(|e| anyhow!("stockage des fichiers : {e}"))?;
    let state = app_state(
        store.clone(),
        ClockOptions {
            now: Some(crate::demo::start()?),
            control: true,
        },
        config,
        files,
    )
    .await?;
    let seeded = crate::demo::seed(&state).await?;
    let mailer = conforme_mail::Mailer::new(
        conforme_mail::MailConfig::Files { dir: mail_dir },
        conforme_mail::DEFAULT_FROM,
    )
    .map_err(|e| anyhow!("{e}"))?;
    let (stop_worker, worker) =
        crate::start_worker(&state, mailer, std::time::Duration::from_secs(1));
    println!(
        "Démonstration Conforme : http://{addr}{}",
        if seeded { " (données créées)" } else { "" }
    );
    println!("  Comptes (mot de passe {}) :", crate::demo::PASSWORD);
    println!(
        "    {}  éditeur, représentant légal d'« Éditions Démo Santé SAS »",
        crate::demo::EDITOR
    );
    println!("    {}  instructeur de l'ANS", crate::demo::INSTRUCTOR);
    println!("    {}  administrateur", crate::demo::ADMIN);
    println!("{}", crate::demo::committee_accounts());
    println!(
        "  Les codes de connexion et les liens envoyés par courriel s'affichent sur http://{addr}/demo/courriels"
    );
    println!(
        "  Horloge de démonstration : {} ; la déplacer : PUT /api/v1/_clock {{\"now\": \"<RFC 3339>\"}}",
        state.clock.now()
    );
    conforme_web::serve(listener, state, shutdown_signal()).await?;
    stop_worker.send(true).ok();
    worker.await.ok();
    store.close().await;
    Ok(())
}

async fn serve(url: &str, data_dir: &Path, args: ServeArgs) -> Result<(), Failure> {
    let store = open_store(url).await?;
    let listener = tokio::net::TcpListener::bind(&args.listen)
        .await
        .with_context(|| format!("écoute sur {}", args.listen))?;
    let addr = listener.local_addr()?;
    let oidc = conforme_web::oidc::OidcSettings::from_env()
        .map_err(|e| anyhow!("configuration OpenID Connect : {e}"))?;
    if let Some(o) = &oidc {
        tracing::info!(issuer = %o.issuer, label = %o.label, "OpenID Connect login offered");
    }
    let config = WebConfig::new(&crate::public_url(&addr.to_string())).with_oidc(oidc);
    let files_config = conforme_files::FileStoreConfig::from_env(&data_dir.join("files"))
        .map_err(|e| anyhow!("configuration du stockage des fichiers : {e}"))?;
    let files = conforme_files::FileStore::open(&files_config)
        .map_err(|e| anyhow!("stockage des fichiers : {e}"))?;
    tracing::info!(files = %files_config, "file store");
    let state = app_state(
        store.clone(),
        ClockOptions {
            now: args.now,
            control: args.clock_control,
        },
        config,
        files,
    )
    .await?;
    tracing::info!(%addr, database = %conforme_store::redact(url), now = %state.clock.now(), clock_control = args.clock_control, "Conforme listening");
    println!("Conforme écoute sur http://{addr}");
    let mailer = conforme_mail::Mailer::from_env(&data_dir.join("mail"))
        .context("configuration de l'envoi des courriels")?;
    let (stop_worker, worker) =
        crate::start_worker(&state, mailer, std::time::Duration::from_secs(1));
    conforme_web::serve(listener, state, shutdown_signal()).await?;
    stop_worker.send(true).ok();
    worker.await.ok();
    store.close().await;
    tracing::info!("stopped");
    Ok(())
}
