//! `conduit-admin`: operator commands that no API endpoint offers, above all
//! making the first admin. It talks to DynamoDB directly, so only someone
//! with access to the table (locally, anyone; in AWS, IAM) can run it.
//!
//!     conduit-admin grant <username> <user|moderator|admin>
//!     conduit-admin migrate     (the data migrations not yet finished; the
//!                                deploy runs it after every deploy)
//!     conduit-admin repair [RATE]   (recount every counter and fix drift,
//!                                reading at most RATE units a second: 100)
//!     conduit-admin rotate-keys [--force]
//!                               (rotate the token signing keys one step: in
//!                                AWS the set in JWT_SECRET_PARAM, which the
//!                                scheduled job rotates every 31 days; locally
//!                                DATA_DIR/dev-jwt-secret, default .data/;
//!                                refused within 30 days of the last unless
//!                                forced, which signs out the tokens of the
//!                                key it retires: for a leaked key)
//!     conduit-admin ensure-jwt-secret NAME
//!     conduit-admin origin-secret NAME [--rotate] [--also VERSION]
//!                               (the deploy's secrets in SSM: src/admin/secrets.rs)
//!
//! Environment: `TABLE_NAME` (default `conduit`), `DYNAMODB_ENDPOINT` (for a
//! local database, e.g. `http://127.0.0.1:8000` while `make dev` runs, or
//! the SDK's `AWS_ENDPOINT_URL_DYNAMODB` / `AWS_ENDPOINT_URL`; unset for
//! AWS, which then uses the usual AWS credentials and region); for SSM,
//! `AWS_ENDPOINT_URL_SSM` or `AWS_ENDPOINT_URL`.

#[path = "admin/secrets.rs"]
mod secrets;

use conduit_common::auth::key_store::KeyStore;
use conduit_common::aws;
use conduit_common::config::Budget;
use conduit_common::db::Db;
use conduit_common::db::admin::AuditEntry;
use conduit_common::db::migrations::MIGRATIONS;
use conduit_common::db::repair::RepairSettings;
use conduit_common::domain::Role;
use conduit_common::state::dynamodb_client_from;

pub(crate) type Error = Box<dyn std::error::Error + Send + Sync>;

const USAGE: &str = "usage: conduit-admin grant <username> <user|moderator|admin> \
     | conduit-admin migrate | conduit-admin repair [read units a second] \
     | conduit-admin rotate-keys [--force] | conduit-admin ensure-jwt-secret NAME \
     | conduit-admin origin-secret NAME [--rotate] [--also VERSION]";

#[tokio::main]
async fn main() -> Result<(), Error> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    match args.as_slice() {
        [command] if command == "rotate-keys" => return rotate_keys(false).await,
        [command, force] if command == "rotate-keys" && force == "--force" => {
            return rotate_keys(true).await;
        }
        [command, name] if command == "ensure-jwt-secret" => {
            return secrets::ensure_jwt_secret(&ssm().await?, name).await;
        }
        [command, name, options @ ..] if command == "origin-secret" => {
            let (rotate, also) = secrets::origin_options(options)?;
            let line = secrets::origin_secret(&ssm().await?, name, rotate, also).await;
            println!("{}", line?);
            return Ok(());
        }
        _ => {}
    }
    let table = std::env::var("TABLE_NAME").unwrap_or_else(|_| "conduit".into());
    // Ours, or the SDK's own variables (the deploy rehearsal's emulated
    // account sets AWS_ENDPOINT_URL for every tool).
    let endpoint = [
        "DYNAMODB_ENDPOINT",
        "AWS_ENDPOINT_URL_DYNAMODB",
        "AWS_ENDPOINT_URL",
    ]
    .into_iter()
    .find_map(|name| std::env::var(name).ok().filter(|e| !e.is_empty()));
    let sdk = operator_sdk_config(endpoint.as_deref()).await?;
    let db = Db::new(dynamodb_client_from(&sdk, &Budget::PRODUCTION), table);
    match args.as_slice() {
        [command] if command == "migrate" => migrate(&db).await,
        [command] if command == "repair" => repair(&db, 100.0).await,
        [command, rate] if command == "repair" => match rate.parse::<f64>() {
            Ok(rate) if rate > 0.0 => repair(&db, rate).await,
            _ => Err(format!("not a rate: {rate:?}\n{USAGE}").into()),
        },
        [command, username, role] if command == "grant" => grant(&db, username, role).await,
        _ => Err(USAGE.into()),
    }
}

/// The SDK's configuration ([`aws::sdk_config`]), and for AWS itself (no
/// `endpoint`) the credentials and region of aws-config's default chain:
/// an operator's environment, a profile or SSO, not only Lambda's
/// variables.
async fn operator_sdk_config(endpoint: Option<&str>) -> Result<aws_config::SdkConfig, Error> {
    let sdk = aws::sdk_config(endpoint)?;
    if endpoint.is_some() {
        return Ok(sdk);
    }
    let chain = aws_config::defaults(aws::behavior_version()).load().await;
    let mut sdk = sdk.into_builder();
    sdk.set_credentials_provider(chain.credentials_provider());
    sdk.set_region(chain.region().cloned());
    Ok(sdk.build())
}

/// An SSM client, at `AWS_ENDPOINT_URL_SSM` or `AWS_ENDPOINT_URL` if set
/// (the rehearsal's emulated account).
async fn ssm() -> Result<aws_sdk_ssm::Client, Error> {
    let endpoint = ["AWS_ENDPOINT_URL_SSM", "AWS_ENDPOINT_URL"]
        .into_iter()
        .find_map(|name| std::env::var(name).ok().filter(|e| !e.is_empty()));
    Ok(aws_sdk_ssm::Client::new(
        &operator_sdk_config(endpoint.as_deref()).await?,
    ))
}

/// Runs the data migrations not yet finished, to the end (an interrupted
/// run is resumed by the next).
async fn migrate(db: &Db) -> Result<(), Error> {
    let run = db
        .migrate(MIGRATIONS, &mut || false)
        .await
        .map_err(|e| format!("data migrations: {e}"))?;
    for migration in MIGRATIONS {
        let progress = db.progress(migration.id).await?;
        println!(
            "{}: {} items changed, finished {}",
            migration.id,
            progress.changed,
            progress.finished_at.as_deref().unwrap_or("not yet")
        );
    }
    println!("this run: {} items changed", run.changed);
    Ok(())
}

/// Recounts every counter from its items, fixing those that drifted.
async fn repair(db: &Db, rate: f64) -> Result<(), Error> {
    let run = db
        .repair_counters(RepairSettings::at_rate(rate))
        .await
        .map_err(|e| format!("repairing counters: {e}"))?;
    for drift in &run.fixed {
        println!(
            "fixed {}: {} -> {}",
            drift.counter, drift.recorded, drift.counted
        );
    }
    println!(
        "{} counters checked, {} fixed, {} changing meanwhile (left for the next run), {:.0} read units",
        run.checked,
        run.fixed.len(),
        run.unsettled,
        run.read_units
    );
    Ok(())
}

/// Rotates the signing keys one step, where the instances read them;
/// `force`: even within the minimum interval (a leaked key), which signs
/// out the holders of tokens signed with the key it retires.
async fn rotate_keys(force: bool) -> Result<(), Error> {
    let store = match std::env::var("JWT_SECRET_PARAM") {
        Ok(name) => KeyStore::Parameter {
            sdk: Box::new(operator_sdk_config(None).await?),
            name,
        },
        Err(_) => local::dev_keys::store(&local::dev_keys::data_dir()),
    };
    let set = store.rotate(std::time::SystemTime::now(), force).await?;
    println!("signing keys rotated: {set}");
    Ok(())
}

async fn grant(db: &Db, username: &str, role: &str) -> Result<(), Error> {
    let role: Role = serde_json::from_value(serde_json::Value::String(role.to_owned()))
        .map_err(|_| format!("unknown role {role:?}\n{USAGE}"))?;
    let user = db
        .user_by_username(username)
        .await
        .map_err(|e| format!("reading the user: {e}"))?
        .ok_or_else(|| format!("no user named {username:?}"))?;
    let operator = std::env::var("USER").unwrap_or_else(|_| "unknown".into());
    let audit = AuditEntry::by_operator(
        &operator,
        "user.role",
        format!("user:{}", user.username),
        Some(format!("{} -> {}", user.role.as_str(), role.as_str())),
    );
    db.set_role(&user, role, &audit)
        .await
        .map_err(|e| format!("changing the role: {e}"))?;
    println!("{} is now {}", user.username, role.as_str());
    Ok(())
}
