//! `passway groups …`: store groups from the command line, as the admin API changes them
//! (one commit each, with its log event; the actor is the command line).

use crate::engine::{AdminActor, EventType, LogEntry, LogOutcome, Target, Timestamp};
use crate::events::{ClientInfo, Context, Recorder};
use crate::store::{AccountChange, AccountQuery, AccountWrite, Commit, GroupWrite, Store, StoreError};

/// What the command line asks.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum GroupCommand {
    List,
    Create { name: String, description: String },
    Delete { name: String },
    Members { name: String },
    Add { name: String, email: String },
    Remove { name: String, email: String },
}

#[derive(Debug, thiserror::Error)]
pub enum GroupError {
    #[error("{0}")]
    Invalid(String),
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// Whether `name` can name a group (it appears in rules, tokens and URLs).
pub fn valid_name(name: &str) -> bool {
    (1..=64).contains(&name.len()) && name.bytes().all(|b| b.is_ascii_alphanumeric() || b"_-.".contains(&b))
}

fn cli() -> AdminActor {
    AdminActor { id: "passway-cli".into(), kind: "SystemPrincipal" }
}

/// Runs `command` and returns what to print.
pub async fn run(
    store: &dyn Store,
    recorder: &Recorder,
    command: GroupCommand,
    now: Timestamp,
) -> Result<String, GroupError> {
    let event =
        |entry: LogEntry| recorder.record(&entry.by_admin(cli()), &Context::request(&ClientInfo::default()), now);
    let account_of = |email: String| async move {
        let email = crate::engine::validate::email(&email)
            .map_err(|_| GroupError::Invalid(format!("{email:?} is not an email address")))?;
        store
            .user_by_email(&email)
            .await?
            .ok_or_else(|| GroupError::Invalid(format!("no account has the address {email}")))
    };
    match command {
        GroupCommand::List => {
            let groups = store.groups().await?;
            Ok(groups.iter().map(|g| format!("{}\t{} member(s)\t{}\n", g.name, g.members, g.description)).collect())
        }
        GroupCommand::Create { name, description } => {
            if !valid_name(&name) {
                return Err(GroupError::Invalid(format!(
                    "{name:?}: a group name is 1 to 64 letters, digits, _, - or ."
                )));
            }
            let entry = LogEntry::new(EventType::GroupLifecycleCreate, LogOutcome::Success, "Group created")
                .target(Target::Group { name: name.clone() });
            let groups = vec![GroupWrite::Create { name: name.clone(), description, at: now }];
            store.commit(Commit { groups, events: vec![event(entry)], ..Commit::default() }).await?;
            Ok(format!("group {name} created\n"))
        }
        GroupCommand::Delete { name } => {
            let entry = LogEntry::new(EventType::GroupLifecycleDelete, LogOutcome::Success, "Group deleted")
                .target(Target::Group { name: name.clone() });
            let groups = vec![GroupWrite::Delete { name: name.clone() }];
            store.commit(Commit { groups, events: vec![event(entry)], ..Commit::default() }).await?;
            Ok(format!("group {name} deleted\n"))
        }
        GroupCommand::Members { name } => {
            let mut out = String::new();
            let mut after: Option<String> = None;
            loop {
                let q = AccountQuery {
                    email_prefix: "",
                    status: None,
                    group: Some(&name),
                    after: after.as_deref(),
                    limit: 500,
                };
                let page = store.accounts(&q).await?;
                let Some(last) = page.last() else { break };
                after = Some(last.user.email.clone());
                for a in &page {
                    out.push_str(&format!("{}\t{}\n", a.user.email, a.status.as_str()));
                }
            }
            Ok(out)
        }
        GroupCommand::Add { name, email } => {
            let user = account_of(email).await?;
            let entry = LogEntry::new(EventType::GroupMembershipAdd, LogOutcome::Success, "Added to a group")
                .target(Target::User { id: user.id.clone(), email: user.email.clone() })
                .target(Target::Group { name: name.clone() });
            let change = AccountChange::JoinGroup { group: name.clone() };
            let accounts = vec![AccountWrite { user_id: user.id, version: None, at: now, change }];
            store.commit(Commit { accounts, events: vec![event(entry)], ..Commit::default() }).await?;
            Ok(format!("{} is in {name}\n", user.email))
        }
        GroupCommand::Remove { name, email } => {
            let user = account_of(email).await?;
            let entry = LogEntry::new(EventType::GroupMembershipRemove, LogOutcome::Success, "Removed from a group")
                .target(Target::User { id: user.id.clone(), email: user.email.clone() })
                .target(Target::Group { name: name.clone() });
            let change = AccountChange::LeaveGroup { group: name.clone() };
            let accounts = vec![AccountWrite { user_id: user.id, version: None, at: now, change }];
            store.commit(Commit { accounts, events: vec![event(entry)], ..Commit::default() }).await?;
            Ok(format!("{} is no longer in {name}\n", user.email))
        }
    }
}
