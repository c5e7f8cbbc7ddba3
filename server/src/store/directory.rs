//! What operators read and change about accounts and groups (the admin API, `passway
//! groups`): an account's standing (status, version, groups), the changes an admin makes
//! (each one guarded by the account's version, written in a [`super::Commit`] with its
//! log events), and groups kept in the store.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use crate::engine::{Timestamp, User};

/// Whether an account may sign in.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum AccountStatus {
    Active,
    /// Signs in nowhere (its sessions and tokens ended when it was deactivated).
    Deactivated,
}

impl AccountStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            AccountStatus::Active => "active",
            AccountStatus::Deactivated => "deactivated",
        }
    }

    pub fn parse(s: &str) -> Option<AccountStatus> {
        match s {
            "active" => Some(AccountStatus::Active),
            "deactivated" => Some(AccountStatus::Deactivated),
            _ => None,
        }
    }
}

/// An account as an operator sees it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Account {
    pub user: User,
    pub status: AccountStatus,
    /// Bumped by every admin change (the API's ETag).
    pub version: i64,
    pub created_at: Timestamp,
    pub updated_at: Timestamp,
}

/// Which accounts to list: by email prefix, status and store group, in email order
/// after the cursor.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct AccountQuery<'a> {
    pub email_prefix: &'a str,
    pub status: Option<AccountStatus>,
    pub group: Option<&'a str>,
    /// The last email of the previous page.
    pub after: Option<&'a str>,
    pub limit: u32,
}

/// An admin's change to one account.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AccountWrite {
    pub user_id: String,
    /// The version the admin saw: the write fails with [`super::StoreError::Conflict`]
    /// when the account changed since (`None`: whatever its version).
    pub version: Option<i64>,
    pub at: Timestamp,
    pub change: AccountChange,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum AccountChange {
    Status(AccountStatus),
    /// The whole profile, already checked against the schema.
    Profile(BTreeMap<String, String>),
    RenamePasskey {
        cred_id: String,
        name: String,
    },
    RemovePasskey {
        cred_id: String,
    },
    RemoveTotp,
    RemovePassword,
    RevokeSession {
        id: String,
    },
    /// Every passkey but `keep` goes (after a recovery made it).
    RemovePasskeysBut {
        keep: String,
    },
    /// Every live session but `keep` ends ("sign out everywhere else").
    RevokeOtherSessions {
        keep: Option<String>,
    },
    RevokeFamily {
        id: String,
    },
    JoinGroup {
        group: String,
    },
    LeaveGroup {
        group: String,
    },
    /// Nothing but the version (a change written elsewhere in the commit, such as
    /// [`super::Commit::revocations`]).
    Touch,
    /// Erasure (GDPR): the account and everything kept about it go; its token families
    /// stay revoked without it, and the system log keeps its id but not its address.
    Erase {
        email: String,
    },
}

/// What a commit does to the store's groups.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum GroupWrite {
    /// A group that exists fails the commit ([`super::StoreError::Duplicate`]).
    Create { name: String, description: String, at: Timestamp },
    /// Its memberships go with it; a group that does not exist fails the commit
    /// ([`super::StoreError::NotFound`]).
    Delete { name: String },
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoredGroup {
    pub name: String,
    pub description: String,
    pub created_at: Timestamp,
    pub members: u64,
}

/// A token family of an account, as listed for an operator.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FamilyRecord {
    pub id: String,
    pub client_id: String,
    pub created_at: Timestamp,
}
